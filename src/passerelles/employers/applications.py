"""Applications to offers: a counsellor applies for a file they may read, a person applies for themself, and
both see the status; an employer sees only the applications to their structure's offers, and a hire is
recorded as a step of the person's file."""

from __future__ import annotations

import datetime as dt
import typing
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from passerelles.accounts.mail import send_mail
from passerelles.accounts.models import Account, EmployerMembership
from passerelles.accounts.services import AccessDenied, InvalidInput, aware, now
from passerelles.caseloads import services as caseloads
from passerelles.caseloads.models import PersonFile
from passerelles.caseloads.schemas import StepIn
from passerelles.employers.candidates import short_name
from passerelles.employers.memberships import active_structure_query, require_structure
from passerelles.employers.models import (
    APPLICATION_STATUSES,
    Application,
    JobDatingRegistration,
)
from passerelles.employers.schemas import (
    ApplicationIn,
    ApplicationOut,
)
from passerelles.offers.models import JobOffer
from passerelles.settings import Settings


def _application_out(session: Session, app: Application) -> ApplicationOut:
    offer = session.get(JobOffer, app.offer_id)
    file = session.get(PersonFile, app.file_id)
    assert offer is not None and file is not None
    return ApplicationOut(
        id=app.id,
        offer_id=offer.id,
        offer_title=offer.title,
        employer_name=offer.employer_name,
        candidate=short_name(file),
        file_id=file.id,
        status=app.status,
        status_label=APPLICATION_STATUSES[app.status],
        created_at=aware(app.created_at),
        updated_at=aware(app.updated_at),
    )


def apply(session: Session, actor: Account, data: ApplicationIn) -> ApplicationOut | None:
    """None when the counsellor may not read the file (reported as absent)."""
    if actor.role == "personne":
        file = caseloads.current_file(session, actor.id)
        if file is None:
            raise InvalidInput("file_id", "Il faut un dossier d'accompagnement pour candidater ici.")
    elif actor.role == "conseiller":
        file = caseloads.find_file(session, actor, data.file_id or 0)
        if file is None:
            return None
    else:
        raise AccessDenied("Réservé aux personnes et à leurs conseillers.")
    offer = session.get(JobOffer, data.offer_id)
    if offer is None or offer.closed_at is not None:
        raise InvalidInput("offer_id", "Offre introuvable ou fermée.")
    if session.scalar(select(Application).where(Application.offer_id == offer.id, Application.file_id == file.id)):
        raise InvalidInput("offer_id", "Candidature déjà envoyée pour cette offre.")
    at = now()
    app = Application(
        offer_id=offer.id,
        file_id=file.id,
        status="envoyee",
        message=data.message,
        created_by_id=actor.id,
        created_at=at,
        updated_at=at,
    )
    session.add(app)
    session.flush()
    caseloads.add_step_internal(
        session, actor, file, StepIn(kind="candidature_offre", on=at.date(), detail=offer.title)
    )
    return _application_out(session, app)


def visible_application(session: Session, actor: Account, application_id: int) -> Application | None:
    app = session.get(Application, application_id)
    if app is None:
        return None
    if actor.role == "employeur":
        offer = session.get(JobOffer, app.offer_id)
        return app if offer is not None and offer.employer_id == require_structure(session, actor) else None
    if actor.role in ("conseiller", "personne"):
        return app if caseloads.find_file(session, actor, app.file_id) is not None else None
    return None


def list_applications(
    session: Session, actor: Account, offer_id: int | None = None, file_id: int | None = None
) -> list[ApplicationOut]:
    query = select(Application).order_by(Application.created_at.desc(), Application.id.desc())
    if actor.role == "employeur":
        # The membership check inside the query (no extra round trip); an empty answer says why below.
        query = query.join(JobOffer, JobOffer.id == Application.offer_id).where(
            JobOffer.employer_id.in_(active_structure_query(actor.id))
        )
    elif actor.role in ("conseiller", "personne"):
        query = query.join(PersonFile, PersonFile.id == Application.file_id).where(
            caseloads.visible_files_clause(actor)
        )
    else:
        raise AccessDenied()
    if offer_id is not None:
        query = query.where(Application.offer_id == offer_id)
    if file_id is not None:
        query = query.where(Application.file_id == file_id)
    apps = list(session.scalars(query.limit(500)))
    if not apps and actor.role == "employeur":
        require_structure(session, actor)  # a claim not (yet) accepted is refused, not shown an empty list
    # One query each for their offers and files (kept referenced so that session.get finds them in the
    # session's identity map), instead of two per application.
    offers = list(session.scalars(select(JobOffer).where(JobOffer.id.in_({a.offer_id for a in apps})))) if apps else []
    files = (
        list(session.scalars(select(PersonFile).where(PersonFile.id.in_({a.file_id for a in apps})))) if apps else []
    )
    out = [_application_out(session, a) for a in apps]
    del offers, files
    return out


def get_application(session: Session, actor: Account, application_id: int) -> ApplicationOut | None:
    app = visible_application(session, actor, application_id)
    if app is None:
        return None
    if actor.role == "employeur" and app.status == "envoyee":
        app.status, app.updated_at = "vue", now()
    return _application_out(session, app)


def set_status(session: Session, actor: Account, application_id: int, status: str) -> ApplicationOut | None:
    """The employer answers. A hire becomes one « embauche » step of the person's timeline (the dashboard
    counts it): recorded once per application, withdrawn if the status leaves « embauche », so toggling
    embauche → non retenue → embauche leaves one hire, not two."""
    employer_id = require_structure(session, actor)  # an employer's answer only; the membership read once
    app = session.get(Application, application_id)
    offer = session.get(JobOffer, app.offer_id) if app is not None else None
    if app is None or offer is None or offer.employer_id != employer_id:
        return None
    if status not in APPLICATION_STATUSES:
        raise InvalidInput("status", f"Statut inconnu : {status}")
    at = now()
    app.status, app.updated_at = status, at
    if status == "embauche":
        # Conditional update: of two simultaneous « embauche », one records the hire.
        if _mark_hire(session, app.id, Application.hired_at.is_(None), hired_at=at):
            file = session.get(PersonFile, app.file_id)
            assert file is not None
            step = caseloads.add_step_internal(
                session, actor, file, StepIn(kind="embauche", on=dt.date.today(), detail=offer.title)
            )
            app.hired_at, app.hire_step_id = at, step.id
    elif app.hired_at is not None:
        step_id = app.hire_step_id
        if _mark_hire(session, app.id, Application.hired_at.is_not(None), hired_at=None, hire_step_id=None):
            app.hired_at = app.hire_step_id = None
            file = session.get(PersonFile, app.file_id)
            if file is not None and step_id is not None:
                caseloads.remove_step_internal(session, file, step_id)
    session.flush()
    return _application_out(session, app)


def _mark_hire(session: Session, application_id: int, condition: Any, **values: Any) -> bool:
    session.flush()
    result = session.execute(
        update(Application)
        .where(Application.id == application_id, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return typing.cast(CursorResult[Any], result).rowcount == 1


def send_reminders(session: Session, settings: Settings, today: dt.datetime | None = None) -> int:
    """E-mail employers whose applications stay unanswered for ``reminder_days`` (run by cron)."""
    at = today or now()
    limit = at - dt.timedelta(days=settings.reminder_days)
    pending = session.execute(
        select(Application, JobOffer)
        .join(JobOffer, JobOffer.id == Application.offer_id)
        .where(Application.status == "envoyee", Application.created_at < limit, JobOffer.employer_id.is_not(None))
    ).all()
    by_employer: dict[int, list[tuple[Application, JobOffer]]] = {}
    for app, offer in pending:
        if app.reminded_at is None or aware(app.reminded_at) < limit:
            by_employer.setdefault(offer.employer_id or 0, []).append((app, offer))
    sent = 0
    for employer_id, items in by_employer.items():
        recipients = session.scalars(
            select(Account.email)
            .join(EmployerMembership, EmployerMembership.account_id == Account.id)
            .where(
                EmployerMembership.employer_id == employer_id,
                EmployerMembership.status == "active",
                Account.is_active.is_(True),
            )
        ).all()
        if not recipients:
            continue
        lines = "\n".join(f"- {offer.title} : candidature du {aware(app.created_at):%d/%m/%Y}" for app, offer in items)
        for email in recipients:
            send_mail(
                settings,
                email,
                f"Passerelles : {len(items)} candidature(s) attendent votre réponse",
                f"Bonjour,\n\nCes candidatures attendent une réponse depuis plus de {settings.reminder_days} jours :\n"
                f"{lines}\n\nRépondez depuis votre espace : {settings.base_url}/employeur/candidatures\n",
            )
            sent += 1
        for app, _offer in items:
            app.reminded_at = at
    return sent


def file_data(session: Session, file: PersonFile) -> dict[str, Any]:
    """What the employers' space holds about a person's file, for the person's copy of their data."""
    return {
        "candidatures": [
            {"offre": a.offer_id, "statut": a.status, "date": aware(a.created_at).isoformat()}
            for a in session.scalars(select(Application).where(Application.file_id == file.id))
        ],
        "job_datings": [
            r.event_id
            for r in session.scalars(select(JobDatingRegistration).where(JobDatingRegistration.file_id == file.id))
        ],
    }
