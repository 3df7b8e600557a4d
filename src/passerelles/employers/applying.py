"""Applying to an offer from its page (« Postuler »), with or without an account, with or without a
counsellor; the counsellor's validation of applications made through them; an employer's message to a
suggested candidate; and the closing of expired offers (their applicants are told).

How one applies depends on the offer:

- posted on Passerelles (source « employeur »): the application comes here (name, contact, message, a
  PDF CV) and reaches the employer's space;
- from a feed (France Travail, JobPosting): on the recruiter's own page or address, named on the offer page;
- generated for the demonstration: the form works and checks everything, but nothing is stored or sent
  (the employer does not exist) and the answer says so.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from passerelles.accounts.models import Account
from passerelles.accounts.services import AccessDenied, InvalidInput, now
from passerelles.caseloads import services as caseloads
from passerelles.caseloads.models import PersonFile
from passerelles.caseloads.schemas import StepIn
from passerelles.employers import notices, uploads
from passerelles.employers.applications import application_out, close_applications, follow_link
from passerelles.employers.memberships import require_structure
from passerelles.employers.models import Application
from passerelles.employers.schemas import ApplicationOut, ApplyIn
from passerelles.employers.services import own_offer
from passerelles.offers.models import JobOffer
from passerelles.offers.services import how_to_apply
from passerelles.settings import Settings

# A file name that tries to name a place (folders, parent folders, a drive) or hides characters.
BAD_FILENAME = re.compile(r"[/\\\x00-\x1f]|\.\.|^[A-Za-z]:")


def check_filename(name: str | None) -> None:
    """The uploaded file's name is never used, but a name that points at folders is refused outright."""
    if name and (BAD_FILENAME.search(name) or len(name) > 255):
        raise InvalidInput(
            "cv", "Nom de fichier refusé : il désigne un dossier. Renommez le fichier (par exemple cv.pdf)."
        )


@dataclass
class Applied:
    application: ApplicationOut | None  # None for a demonstration offer: nothing was stored
    demo: bool = False
    follow_url: str | None = None
    cv_name: str | None = None  # the stored CV (removed again should the commit fail)


def apply_online(
    session: Session,
    settings: Settings,
    actor: Account | None,
    offer_id: int,
    data: ApplyIn,
    cv: bytes | None,
    cv_filename: str | None,
) -> Applied | None:
    """An application from the offer's form. None: no such offer. Checks everything before writing
    anything; the CV is written only once the application is known to be acceptable."""
    offer = session.get(JobOffer, offer_id)
    if offer is None:
        return None
    if actor is not None and actor.role != "personne":
        raise AccessDenied(
            "Les conseillers enregistrent une candidature depuis le dossier de la personne ; "
            "les employeurs et administrateurs ne candidatent pas."
        )
    mode = how_to_apply(offer)
    if mode.mode == "closed":
        raise InvalidInput("offre", "Cette offre est close : elle ne reçoit plus de candidatures.")
    if mode.mode == "external":
        raise InvalidInput("offre", f"Cette offre se postule sur le site de {mode.source_name or 'sa source'}.")
    check_filename(cv_filename)
    if cv:
        uploads.check_pdf(cv, settings.max_upload_bytes)
    file = caseloads.current_file(session, actor.id) if actor is not None else None
    if file is not None and file.status != "actif":
        file = None
    if data.via_counsellor and (file is None or file.counsellor_id is None):
        raise InvalidInput("via_counsellor", "Vous n'avez pas de conseiller : envoyez la candidature vous-même.")
    if mode.mode == "demo":
        return Applied(None, demo=True)
    _refuse_duplicate(session, offer, actor, file, data)
    at = now()
    app = Application(
        offer_id=offer.id,
        file_id=file.id if file is not None else None,
        account_id=actor.id if actor is not None else None,
        applicant_name=data.name,
        applicant_email=data.email,
        applicant_phone=data.phone,
        message=data.message,
        via_counsellor=data.via_counsellor,
        validation="attente" if data.via_counsellor else None,
        counsellor_consent=file is not None and (data.counsellor_consent or data.via_counsellor),
        status="envoyee",
        created_by_id=actor.id if actor is not None else None,
        created_at=at,
        updated_at=at,
    )
    session.add(app)
    session.flush()
    if cv:
        app.cv_name, app.cv_size = uploads.store_cv(settings, cv), len(cv)
    if file is not None and actor is not None:
        caseloads.add_step_internal(
            session, actor, file, StepIn(kind="candidature_offre", on=at.date(), detail=offer.title)
        )
    _tell_applied(session, settings, offer, app, file)
    return Applied(application_out(session, app, actor), follow_url=follow_link(settings, app), cv_name=app.cv_name)


def _refuse_duplicate(
    session: Session, offer: JobOffer, actor: Account | None, file: PersonFile | None, data: ApplyIn
) -> None:
    same = []
    if actor is not None:
        same.append(Application.account_id == actor.id)
    if file is not None:
        same.append(Application.file_id == file.id)
    if data.email:
        same.append(Application.applicant_email == data.email)
    if session.scalar(select(Application.id).where(Application.offer_id == offer.id, or_(*same)).limit(1)):
        raise InvalidInput("offre", "Vous avez déjà candidaté à cette offre : suivez-la dans vos candidatures.")


def _tell_applied(
    session: Session, settings: Settings, offer: JobOffer, app: Application, file: PersonFile | None
) -> None:
    where = f" chez {offer.employer_name}" if offer.employer_name else ""
    to = app.applicant_email or (file.email if file is not None else None)
    if app.account_id is not None:
        account = session.get(Account, app.account_id)
        to = account.email if account is not None else to
    through = (
        "Votre conseiller la relit puis la transmet à l'employeur.\n"
        if app.via_counsellor
        else "L'employeur la reçoit dans son espace ; vous serez prévenu·e par courriel de chaque réponse.\n"
    )
    notices.notify(
        session,
        settings,
        to,
        f"Passerelles : candidature envoyée — {offer.title[:80]}",
        f"Bonjour {app.applicant_name},\n\nVotre candidature à l'offre « {offer.title} »{where} est enregistrée.\n"
        f"{through}\nSuivre votre candidature : {follow_link(settings, app)}\n"
        "Ce lien est personnel : ne le transmettez pas.\n",
    )
    if app.via_counsellor and file is not None and file.counsellor_id is not None:
        counsellor = session.get(Account, file.counsellor_id)
        notices.notify(
            session,
            settings,
            counsellor.email if counsellor is not None else None,
            "Passerelles : une candidature attend votre validation",
            f"Bonjour,\n\n{file.first_name} {file.last_name} candidate à l'offre « {offer.title} »{where} et vous "
            f"demande de la transmettre.\n\nLa relire et la transmettre : {settings.base_url}/candidatures\n",
        )
    else:
        _tell_employer(session, settings, offer, app)


def _tell_employer(session: Session, settings: Settings, offer: JobOffer, app: Application) -> None:
    for email in notices.employer_addresses(session, offer.employer_id):
        notices.notify(
            session,
            settings,
            email,
            f"Passerelles : nouvelle candidature — {offer.title[:80]}",
            f"Bonjour,\n\nUne nouvelle candidature est arrivée pour l'offre « {offer.title} ».\n\n"
            f"La lire : {settings.base_url}/candidatures/{app.id}\n",
        )


# ------------------------------------------------------------------------------- counsellor's validation


def pending_validations(session: Session, actor: Account) -> list[ApplicationOut]:
    """Applications made « through my counsellor » waiting for this counsellor (files they follow or that
    were shared with them)."""
    if actor.role != "conseiller":
        return []
    apps = session.scalars(
        select(Application)
        .join(PersonFile, PersonFile.id == Application.file_id)
        .where(Application.validation == "attente", caseloads.visible_files_clause(actor))
        .order_by(Application.created_at)
        .limit(200)
    ).all()
    return [application_out(session, a, actor) for a in apps]


def decide_validation(session: Session, actor: Account, application_id: int, forward: bool) -> ApplicationOut | None:
    if actor.role != "conseiller":
        raise AccessDenied("Réservé aux conseillers.")
    app = session.get(Application, application_id)
    if app is None or app.validation != "attente" or app.file_id is None:
        return None
    if caseloads.find_file(session, actor, app.file_id) is None:
        return None
    offer = session.get(JobOffer, app.offer_id)
    assert offer is not None
    settings = session.info.get("settings")
    app.validation, app.updated_at = ("validee" if forward else "refusee"), now()
    if isinstance(settings, Settings):
        if forward:
            _tell_employer(session, settings, offer, app)
        file = session.get(PersonFile, app.file_id)
        to = app.applicant_email or (file.email if file is not None else None)
        word = "transmise à l'employeur" if forward else "gardée par votre conseiller (non transmise)"
        notices.notify(
            session,
            settings,
            to,
            f"Passerelles : candidature {word.split(' (')[0]} — {offer.title[:80]}",
            f"Bonjour,\n\nVotre candidature à l'offre « {offer.title} » a été {word}.\n"
            f"Parlez-en avec votre conseiller.\n\nSuivre vos candidatures : {follow_link(settings, app)}\n",
        )
    session.flush()
    return application_out(session, app, actor)


# ------------------------------------------------------------------------- employers: contact, expiry


def contact_candidate(session: Session, actor: Account, offer_id: int, file_id: int, message: str) -> bool | None:
    """An employer writes to a suggested candidate through the platform: the person (and their counsellor)
    receive the message and the offer; the employer learns no contact detail. None: not theirs to reach
    (an offer of another structure, or a person who did not consent to be proposed)."""
    offer = own_offer(session, actor, offer_id)
    if offer is None:
        return None
    file = session.get(PersonFile, file_id)
    if file is None or file.status != "actif" or not caseloads.has_consent(session, file.id, "visible_employeurs"):
        return None
    settings = session.info.get("settings")
    if not isinstance(settings, Settings):
        return None
    employer = offer.employer_name or "Un employeur"
    body = (
        f"Bonjour,\n\n{employer} a vu votre profil sur Passerelles et vous invite à candidater à son offre "
        f"« {offer.title} »{f' ({offer.city})' if offer.city else ''}.\n\nSon message :\n{message}\n\n"
        f"L'offre, et le bouton « Postuler » : {settings.base_url}/emploi/offres/{offer.id}\n\n"
        "Vos coordonnées ne lui ont pas été communiquées : à vous de décider de répondre.\n"
    )
    person = session.get(Account, file.account_id) if file.account_id is not None else None
    notices.notify(
        session, settings, person.email if person else file.email, f"Passerelles : {employer} vous écrit", body
    )
    counsellor = session.get(Account, file.counsellor_id) if file.counsellor_id is not None else None
    if counsellor is not None:
        notices.notify(
            session,
            settings,
            counsellor.email,
            f"Passerelles : {employer} écrit à {file.first_name} {file.last_name}",
            f"Bonjour,\n\nCe message a été envoyé à {file.first_name} {file.last_name} (dossier "
            f"{settings.base_url}/conseil/dossiers/{file.id}) :\n\n{body}",
        )
    caseloads.log_access(session, actor, file, "contact employeur")
    require_structure(session, actor)
    return True


def close_expired_offers(session: Session, today: dt.datetime | None = None) -> int:
    """Offers posted on Passerelles whose closing date has passed are closed; their applicants are told."""
    at = today or now()
    expired = session.scalars(
        select(JobOffer).where(
            JobOffer.source == "employeur", JobOffer.closed_at.is_(None), JobOffer.valid_through < at
        )
    ).all()
    for offer in expired:
        offer.closed_at, offer.closed_reason = at, "expiree"
        close_applications(session, offer)
    session.flush()
    return len(expired)
