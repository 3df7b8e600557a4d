"""Applications to offers: a counsellor applies for a file they may read, a person applies for themself, and
both see the status; an employer sees only the applications to their structure's offers, and a hire is
recorded as a step of the person's file."""

from __future__ import annotations

import datetime as dt
import typing
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, false, or_, select, update
from sqlalchemy.orm import Session

from passerelles.accounts.mail import send_mail
from passerelles.accounts.models import Account
from passerelles.accounts.services import AccessDenied, InvalidInput, aware, check_signature, now, sign
from passerelles.caseloads import privacy
from passerelles.caseloads import services as caseloads
from passerelles.caseloads.models import PersonFile
from passerelles.caseloads.schemas import StepIn
from passerelles.employers import notices, uploads
from passerelles.employers.memberships import active_structure_query, require_structure
from passerelles.employers.models import (
    APPLICATION_STATUSES,
    VALIDATIONS,
    Application,
    JobDatingRegistration,
)
from passerelles.employers.schemas import (
    ApplicationIn,
    ApplicationOut,
)
from passerelles.offers.models import JobOffer
from passerelles.settings import Settings


def short_name(file: PersonFile) -> str:
    """What an employer sees of a suggested candidate: first name and initial, no contact."""
    return f"{file.first_name} {file.last_name[:1]}."


def _person_email(session: Session, app: Application, file: PersonFile | None) -> str | None:
    """Where the person hears of their application: their account, their file, or the address they gave."""
    if app.account_id is not None:
        account = session.get(Account, app.account_id)
        if account is not None and account.is_active:
            return account.email
    if file is not None and file.account_id is not None:
        account = session.get(Account, file.account_id)
        if account is not None and account.is_active:
            return account.email
    return app.applicant_email or (file.email if file is not None else None)


def counsellor_of(session: Session, app: Application) -> Account | None:
    """The counsellor who follows this application: the file's, when the person consented (or applied
    through them, or the counsellor recorded it)."""
    if app.file_id is None or not (app.counsellor_consent or app.via_counsellor):
        return None
    file = session.get(PersonFile, app.file_id)
    if file is None or file.counsellor_id is None:
        return None
    counsellor = session.get(Account, file.counsellor_id)
    return counsellor if counsellor is not None and counsellor.is_active else None


def application_out(session: Session, app: Application, viewer: Account | None = None) -> ApplicationOut:
    """An application as ``viewer`` sees it: contact details only for the employer who received it (the
    counsellor's when the person applied through them) and for the person themself."""
    offer = session.get(JobOffer, app.offer_id)
    file = session.get(PersonFile, app.file_id) if app.file_id is not None else None
    assert offer is not None
    if file is not None:
        candidate = short_name(file)
        full_name = f"{file.first_name} {file.last_name}"
    else:
        full_name = app.applicant_name or "Candidat·e"
        parts = full_name.split()
        candidate = f"{parts[0]} {parts[-1][:1]}." if len(parts) > 1 else full_name
    out = ApplicationOut(
        id=app.id,
        offer_id=offer.id,
        offer_title=offer.title,
        employer_name=offer.employer_name,
        candidate=candidate,
        file_id=app.file_id,
        status=app.status,
        status_label=APPLICATION_STATUSES.get(app.status, app.status),
        created_at=aware(app.created_at),
        updated_at=aware(app.updated_at),
        offer_closed=offer.closed_at is not None,
        is_demo=offer.is_demo,
        via_counsellor=app.via_counsellor,
        counsellor_consent=app.counsellor_consent,
        validation=app.validation,
        validation_label=VALIDATIONS.get(app.validation) if app.validation else None,
        has_cv=app.cv_name is not None,
    )
    if viewer is None:
        return out
    # Only an application made through the counsellor reads the counsellor (the lists stay at one query
    # per kind of row); a counsellor viewer got here through the visibility rules (files and consent).
    # A counsellor's record (no applicant's own contact) has the counsellor as contact, as one made through them.
    through = app.via_counsellor or (app.file_id is not None and app.applicant_name is None)
    counsellor = counsellor_of(session, app) if viewer.role == "employeur" and through else None
    if counsellor is not None:
        out.contact_name = f"{full_name}, accompagné·e par {counsellor.display_name}"
        out.contact_email, out.contact_is_counsellor = counsellor.email, True
    elif viewer.role in ("employeur", "personne", "conseiller"):
        out.contact_name = full_name
        out.contact_email = app.applicant_email or (file.email if file is not None else None)
        out.contact_phone = app.applicant_phone or (file.phone if file is not None else None)
    out.message = app.message
    return out


def apply(session: Session, actor: Account, data: ApplicationIn) -> ApplicationOut | None:
    """The API's application (and a counsellor's record from a file). None when the counsellor may not read
    the file (reported as absent). A person without a file applies with their account alone."""
    file: PersonFile | None
    if actor.role == "personne":
        file = caseloads.current_file(session, actor.id)
    elif actor.role == "conseiller":
        file = caseloads.find_file(session, actor, data.file_id or 0)
        if file is None:
            return None
    else:
        raise AccessDenied("Réservé aux personnes et à leurs conseillers.")
    offer = session.get(JobOffer, data.offer_id)
    if offer is None or offer.closed_at is not None:
        raise InvalidInput("offer_id", "Offre introuvable ou fermée.")
    mine = Application.file_id == file.id if file is not None else Application.account_id == actor.id
    if session.scalar(select(Application.id).where(Application.offer_id == offer.id, mine)):
        raise InvalidInput("offer_id", "Candidature déjà envoyée pour cette offre.")
    at = now()
    app = Application(
        offer_id=offer.id,
        file_id=file.id if file is not None else None,
        account_id=actor.id if actor.role == "personne" else None,
        applicant_name=actor.display_name if actor.role == "personne" else None,
        applicant_email=actor.email if actor.role == "personne" else None,
        status="envoyee",
        message=data.message,
        # The counsellor who records it follows it; a person's file is followed by their counsellor.
        counsellor_consent=file is not None,
        created_by_id=actor.id,
        created_at=at,
        updated_at=at,
    )
    session.add(app)
    session.flush()
    if file is not None:
        caseloads.add_step_internal(
            session, actor, file, StepIn(kind="candidature_offre", on=at.date(), detail=offer.title)
        )
    return application_out(session, app, actor)


def _employer_sees(app: Application) -> bool:
    return app.validation in (None, "validee")


def visible_application(session: Session, actor: Account, application_id: int) -> Application | None:
    """The offer's employer (once a counsellor passed it on, when made through them), the person, and their
    counsellor when they consented; nobody else."""
    app = session.get(Application, application_id)
    if app is None:
        return None
    if actor.role == "employeur":
        offer = session.get(JobOffer, app.offer_id)
        mine = offer is not None and offer.employer_id == require_structure(session, actor)
        return app if mine and _employer_sees(app) else None
    if actor.role == "personne":
        if app.account_id == actor.id:
            return app
        file = session.get(PersonFile, app.file_id) if app.file_id is not None else None
        return app if file is not None and file.account_id == actor.id else None
    if actor.role == "conseiller" and app.file_id is not None and (app.counsellor_consent or app.via_counsellor):
        return app if caseloads.find_file(session, actor, app.file_id) is not None else None
    return None


def list_applications(
    session: Session, actor: Account, offer_id: int | None = None, file_id: int | None = None
) -> list[ApplicationOut]:
    query = select(Application).order_by(Application.created_at.desc(), Application.id.desc())
    if actor.role == "employeur":
        # The membership check inside the query (no extra round trip); an empty answer says why below.
        query = query.join(JobOffer, JobOffer.id == Application.offer_id).where(
            JobOffer.employer_id.in_(active_structure_query(actor.id)),
            or_(Application.validation.is_(None), Application.validation == "validee"),
        )
    elif actor.role == "conseiller":
        query = query.join(PersonFile, PersonFile.id == Application.file_id).where(
            caseloads.visible_files_clause(actor),
            or_(Application.counsellor_consent.is_(True), Application.via_counsellor.is_(True)),
        )
    elif actor.role == "personne":
        query = query.outerjoin(PersonFile, PersonFile.id == Application.file_id).where(
            or_(Application.account_id == actor.id, caseloads.visible_files_clause(actor))
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
    file_ids = {a.file_id for a in apps if a.file_id is not None}
    # Files with their counsellor (the contact of applications made through them), in the same query.
    files = (
        list(
            session.execute(
                select(PersonFile, Account)
                .outerjoin(Account, Account.id == PersonFile.counsellor_id)
                .where(PersonFile.id.in_(file_ids))
            )
        )
        if file_ids
        else []
    )
    out = [application_out(session, a, actor) for a in apps]
    del offers, files
    return out


def get_application(session: Session, actor: Account, application_id: int) -> ApplicationOut | None:
    app = visible_application(session, actor, application_id)
    if app is None:
        return None
    if actor.role == "employeur" and app.status == "envoyee":
        _change_status(session, app, "vue")
    return application_out(session, app, actor)


def _change_status(session: Session, app: Application, status: str) -> None:
    """Set a status and tell the person (and their counsellor, with consent) by e-mail after the commit."""
    app.status, app.updated_at = status, now()
    settings = _settings(session)
    offer = session.get(JobOffer, app.offer_id)
    file = session.get(PersonFile, app.file_id) if app.file_id is not None else None
    if settings is None or offer is None:
        return
    label = APPLICATION_STATUSES.get(status, status)
    where = f" chez {offer.employer_name}" if offer.employer_name else ""
    body = (
        f"Bonjour,\n\nVotre candidature à l'offre « {offer.title} »{where} a changé de statut : {label}.\n\n"
        f"Suivre vos candidatures : {follow_link(settings, app)}\n"
    )
    subject = f"Passerelles : candidature « {offer.title[:80]} » — {label}"
    notices.notify(session, settings, _person_email(session, app, file), subject, body)
    counsellor = counsellor_of(session, app)
    if counsellor is not None and file is not None:
        notices.notify(
            session,
            settings,
            counsellor.email,
            subject,
            f"Bonjour,\n\nLa candidature de {file.first_name} {file.last_name} à l'offre « {offer.title} »{where} "
            f"a changé de statut : {label}.\n\nLe dossier : {settings.base_url}/conseil/dossiers/{file.id}\n",
        )


def _settings(session: Session) -> Settings | None:
    settings = session.info.get("settings")
    return settings if isinstance(settings, Settings) else None


def follow_link(settings: Settings, app: Application) -> str:
    """The applicant's page: signed (works without an account), or their space when they have one."""
    if app.account_id is not None:
        return f"{settings.base_url}/candidatures"
    return f"{settings.base_url}/candidatures/suivi/{app.id}?cle={sign(settings, f'application:{app.id}')}"


def application_by_link(session: Session, settings: Settings, application_id: int, key: str) -> Application | None:
    if not check_signature(settings, f"application:{application_id}", key):
        return None
    return session.get(Application, application_id)


def set_status(session: Session, actor: Account, application_id: int, status: str) -> ApplicationOut | None:
    """The employer answers. A hire becomes one « embauche » step of the person's timeline (the dashboard
    counts it): recorded once per application, withdrawn if the status leaves « embauche », so toggling
    embauche → non retenue → embauche leaves one hire, not two."""
    employer_id = require_structure(session, actor)  # an employer's answer only; the membership read once
    app = session.get(Application, application_id)
    offer = session.get(JobOffer, app.offer_id) if app is not None else None
    if app is None or offer is None or offer.employer_id != employer_id or not _employer_sees(app):
        return None
    if status not in APPLICATION_STATUSES:
        raise InvalidInput("status", f"Statut inconnu : {status}")
    at = now()
    if status != app.status:
        _change_status(session, app, status)
    if status == "embauche" and app.file_id is not None:
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
            file = session.get(PersonFile, app.file_id) if app.file_id is not None else None
            if file is not None and step_id is not None:
                caseloads.remove_step_internal(session, file, step_id)
    session.flush()
    return application_out(session, app, actor)


def close_applications(session: Session, offer: JobOffer) -> int:
    """The offer closed (filled, withdrawn or expired): its applications still waiting are told."""
    waiting = session.scalars(
        select(Application).where(
            Application.offer_id == offer.id, Application.status.in_(("envoyee", "vue", "entretien"))
        )
    ).all()
    for app in waiting:
        _change_status(session, app, "cloturee")
    return len(waiting)


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
        recipients = notices.employer_addresses(session, employer_id)
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
            {"offre": a.offer_id, "statut": a.status, "date": aware(a.created_at).isoformat(), "message": a.message}
            for a in session.scalars(
                select(Application).where(
                    or_(
                        Application.file_id == file.id,
                        Application.account_id == file.account_id if file.account_id is not None else false(),
                    )
                )
            )
        ],
        "job_datings": [
            r.event_id
            for r in session.scalars(select(JobDatingRegistration).where(JobDatingRegistration.file_id == file.id))
        ],
    }


def stored_cvs(session: Session, settings: Settings, file: PersonFile) -> list[Path]:
    """The CVs on disk of the applications made from ``file`` (erased with it: see caseloads.privacy)."""
    names = session.scalars(select(Application.cv_name).where(Application.file_id == file.id))
    return [path for name in names if name and (path := uploads.cv_path(settings, name)) is not None]


privacy.STORED_FILES.append(stored_cvs)
