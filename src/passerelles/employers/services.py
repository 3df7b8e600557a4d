"""Employers' space. Access rules live here:

- an employer acts only for the structure of their ACTIVE membership (``memberships.require_structure``:
  a pending or refused claim gives nothing) — profile, needs, offers, events — and sees only the
  applications to their structure's offers;
- suggested candidates are people whose file carries an active « visible_employeurs » consent, shown
  without contact details; nobody else is ever listed;
- a counsellor applies for a file they may read; a person applies for themself; both see the status.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import typing
import uuid
from typing import Any

from sqlalchemy import CursorResult, Text, and_, case, cast, false, func, literal, or_, select, true, update
from sqlalchemy.orm import Session, load_only

from passerelles.accounts.mail import send_mail
from passerelles.accounts.models import Account
from passerelles.accounts.services import AccessDenied, InvalidInput, aware, now
from passerelles.caseloads import services as caseloads
from passerelles.caseloads.models import Consent, PersonFile
from passerelles.caseloads.schemas import StepIn
from passerelles.certifications.models import Certification, OccupationCertification
from passerelles.employers import memberships
from passerelles.employers.models import (
    APPLICATION_STATUSES,
    Application,
    EmployerMembership,
    EmployerProfile,
    JobDatingEvent,
    JobDatingRegistration,
    RecruitmentNeed,
)
from passerelles.employers.schemas import (
    ApplicationIn,
    ApplicationOut,
    CandidateOut,
    EventIn,
    EventOut,
    NeedIn,
    NeedOut,
    OfferIn,
    OfferOut,
    ProfileIn,
    Reason,
    StructureOut,
)
from passerelles.occupations.models import Occupation, OccupationRome
from passerelles.offers.models import Employer, JobOffer
from passerelles.places.geo import haversine_km
from passerelles.places.models import Commune
from passerelles.settings import Settings

NEAR_KM = 30.0


def _employer(session: Session, actor: Account) -> int:
    return memberships.require_structure(session, actor)


def short_name(file: PersonFile) -> str:
    """What an employer sees of a candidate: first name and initial, no contact."""
    return f"{file.first_name} {file.last_name[:1]}."


# ---------------------------------------------------------------------------------------------- structure


def structure(session: Session, actor: Account) -> StructureOut:
    employer = session.get(Employer, _employer(session, actor))
    assert employer is not None  # the foreign key guarantees it
    profile = session.get(EmployerProfile, employer.id)
    return StructureOut(
        id=employer.id,
        name=employer.name,
        siret=employer.siret,
        structure_type=employer.structure_type,
        commune_code=employer.commune_code,
        description=profile.description if profile else None,
        address=profile.address if profile else None,
        website=profile.website if profile else None,
    )


def update_structure(session: Session, actor: Account, data: ProfileIn) -> StructureOut:
    employer_id = _employer(session, actor)
    profile = session.get(EmployerProfile, employer_id) or EmployerProfile(employer_id=employer_id)
    profile.description, profile.address, profile.website = data.description, data.address, data.website
    profile.updated_at = now()
    session.add(profile)
    session.flush()
    return structure(session, actor)


# ------------------------------------------------------------------------------------------------- needs


def _occupation(session: Session, slug: str, field: str = "occupation_slug") -> Occupation:
    occupation = session.scalar(
        select(Occupation)
        .options(load_only(Occupation.id, Occupation.slug, Occupation.name))
        .where(Occupation.slug == slug)
    )
    if occupation is None:
        raise InvalidInput(field, f"Métier inconnu : {slug}")
    return occupation


def add_need(session: Session, actor: Account, data: NeedIn) -> NeedOut:
    employer_id = _employer(session, actor)
    _occupation(session, data.occupation_slug)
    need = RecruitmentNeed(employer_id=employer_id, created_at=now(), **data.model_dump())
    session.add(need)
    session.flush()
    return NeedOut(id=need.id, **data.model_dump())


def delete_need(session: Session, actor: Account, need_id: int) -> bool | None:
    """An employer removes one of their structure's needs (None when it is not theirs: reported as absent)."""
    employer_id = _employer(session, actor)
    need = session.get(RecruitmentNeed, need_id)
    if need is None or need.employer_id != employer_id:
        return None
    session.delete(need)
    session.flush()
    return True


def list_needs(session: Session, actor: Account) -> list[NeedOut]:
    employer_id = _employer(session, actor)
    rows = session.scalars(
        select(RecruitmentNeed).where(RecruitmentNeed.employer_id == employer_id).order_by(RecruitmentNeed.id)
    )
    return [
        NeedOut(
            id=n.id,
            occupation_slug=n.occupation_slug,
            positions=n.positions,
            contract_type=n.contract_type,
            start_on=n.start_on,
            nights=n.nights,
            weekends=n.weekends,
        )
        for n in rows
    ]


# ------------------------------------------------------------------------------------------------ offers


def _offer_occupation(session: Session, offer: JobOffer) -> Occupation | None:
    # Id, slug and name only: an occupation's profile column is several kilobytes of JSON, not needed here.
    light = load_only(Occupation.id, Occupation.slug, Occupation.name)
    if offer.appellation and offer.source == "employeur":
        found = session.scalar(select(Occupation).options(light).where(Occupation.slug == offer.appellation))
        if found is not None:
            return found
    if offer.code_rome:
        return session.scalar(
            select(Occupation)
            .options(light)
            .join(OccupationRome)
            .where(OccupationRome.code_rome == offer.code_rome)
            .limit(1)
        )
    return None


def post_offer(session: Session, actor: Account, data: OfferIn) -> JobOffer:
    """An offer posted from the space is a JobOffer row (source « employeur »): it joins the offer search."""
    employer = session.get(Employer, _employer(session, actor))
    assert employer is not None
    occupation = _occupation(session, data.occupation_slug)
    commune = session.get(Commune, data.commune_code)
    if commune is None:
        raise InvalidInput("commune_code", f"Commune inconnue : {data.commune_code}")
    code_rome = session.scalar(
        select(OccupationRome.code_rome)
        .where(OccupationRome.occupation_id == occupation.id)
        .order_by(OccupationRome.position)
    )
    published = now()
    payload = data.model_dump_json()
    offer = JobOffer(
        source="employeur",
        external_id=f"employeur-{employer.id}-{uuid.uuid4().hex[:12]}",
        title=data.title,
        description=data.description,
        code_rome=code_rome,
        appellation=occupation.slug,
        employer_id=employer.id,
        employer_name=employer.name,
        structure_type=employer.structure_type,
        contract_type=data.contract_type,
        night_work=data.night_work,
        weekend_work=data.weekend_work,
        commune_code=commune.code_insee,
        city=commune.name,
        latitude=commune.latitude,
        longitude=commune.longitude,
        positions=data.positions,
        published_at=published,
        updated_at=published,
        valid_through=dt.datetime.combine(data.start_on, dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=60)
        if data.start_on
        else None,
        is_demo=False,
        row_hash=hashlib.sha1(payload.encode(), usedforsecurity=False).hexdigest(),
    )
    session.add(offer)
    session.flush()
    return offer


def own_offer(session: Session, actor: Account, offer_id: int) -> JobOffer | None:
    offer = session.get(JobOffer, offer_id)
    if offer is None or offer.employer_id != _employer(session, actor) or offer.source != "employeur":
        return None
    return offer


def list_offers(session: Session, actor: Account) -> list[OfferOut]:
    employer_id = _employer(session, actor)
    offers = list(
        session.scalars(
            select(JobOffer)
            .where(JobOffer.employer_id == employer_id, JobOffer.source == "employeur")
            .order_by(JobOffer.id.desc())
        )
    )
    counts = dict(
        session.execute(
            select(Application.offer_id, func.count())
            .where(Application.offer_id.in_([o.id for o in offers]))
            .group_by(Application.offer_id)
        ).all()
    )
    return [offer_out(o, counts.get(o.id, 0)) for o in offers]


def offer_out(o: JobOffer, applications: int = 0) -> OfferOut:
    return OfferOut(
        id=o.id,
        title=o.title,
        code_rome=o.code_rome,
        contract_type=o.contract_type,
        commune_code=o.commune_code,
        city=o.city,
        positions=o.positions,
        published_at=aware(o.published_at) if o.published_at else None,
        closed=o.closed_at is not None,
        applications=applications,
    )


def close_offer(session: Session, actor: Account, offer_id: int) -> JobOffer | None:
    offer = own_offer(session, actor, offer_id)
    if offer is not None and offer.closed_at is None:
        offer.closed_at = now()
        offer.closed_reason = "pourvue"
    return offer


# -------------------------------------------------------------------------------------------- candidates


def consenting_files_query() -> Any:
    visible = select(Consent.file_id).where(Consent.purpose == "visible_employeurs", Consent.withdrawn_at.is_(None))
    return select(PersonFile).where(PersonFile.id.in_(visible), PersonFile.status == "actif")


def candidates(session: Session, actor: Account, offer_id: int, limit: int = 50) -> list[CandidateOut] | None:
    """People who consented to be visible, ranked with the reasons (métier, certification, distance,
    disponibilité). Only consenting people are ever read here.

    Called on every look at an offer, over possibly thousands of people, so the database ranks them by a
    bound on their score: the métier, distance and availability points from the columns, plus the diploma
    and experience points a profile could give (its text names the slug). Rows are then read best bound
    first, a page at a time, and scored exactly until no remaining bound can enter the list: only a few
    profiles are parsed and no ORM object is built."""
    offer = own_offer(session, actor, offer_id)
    if offer is None:
        return None
    occupation = _offer_occupation(session, offer)
    certs: dict[str, str] = {}
    if occupation is not None:
        certs = dict(
            session.execute(
                select(Certification.slug, Certification.name)
                .join(OccupationCertification, OccupationCertification.certification_id == Certification.id)
                .where(
                    OccupationCertification.occupation_id == occupation.id, OccupationCertification.role == "principale"
                )
            ).all()
        )
    start = aware(offer.valid_through).date() - dt.timedelta(days=60) if offer.valid_through else dt.date.today()
    # Worth showing: people aiming at this occupation, or living in the offer's département.
    slug = occupation.slug if occupation is not None else None
    near = [PersonFile.target == slug] if slug is not None else []
    if offer.commune_code:
        near.append(PersonFile.commune_code.like(offer.commune_code[:2] + "%"))
    if not near:
        return []
    visible = select(Consent.file_id).where(Consent.purpose == "visible_employeurs", Consent.withdrawn_at.is_(None))
    pool = [PersonFile.id.in_(visible), PersonFile.status == "actif", or_(*near)]
    distance: dict[str, tuple[str, str, int] | None] = {}

    def locate(codes: set[str]) -> None:
        wanted = codes - set(distance)
        if not wanted:
            return
        places = select(Commune.code_insee, Commune.latitude, Commune.longitude).where(Commune.code_insee.in_(wanted))
        for code, lat, lon in session.execute(places):
            if lat is not None and lon is not None and offer.latitude is not None and offer.longitude is not None:
                d = haversine_km(lat, lon, offer.latitude, offer.longitude)
                if d <= NEAR_KM:
                    distance[code] = ("distance", f"À {d:.0f} km du poste", 20 if d <= 10 else 10)
        for code in wanted:
            distance.setdefault(code, None)

    locate({c for c in session.scalars(select(PersonFile.commune_code).where(*pool).distinct()) if c})
    raw = cast(PersonFile.profile, Text)
    # Non-ASCII slugs may be escaped in the JSON text: then assume the profile may hold them.
    always = any(not n.isascii() for n in [*certs, *([slug] if slug is not None else [])])
    may_hold = (
        case((or_(true() if always else false(), *[raw.contains(c, autoescape=True) for c in certs]), 30), else_=0)
        if certs
        else literal(0)
    )
    may_have_done = (
        case(
            (
                and_(
                    or_(PersonFile.target.is_(None), PersonFile.target != slug),
                    true() if always else raw.contains(slug, autoescape=True),
                ),
                30,
            ),
            else_=0,
        )
        if slug is not None
        else literal(0)
    )
    by_place = [(code, place[2]) for code, place in distance.items() if place is not None]
    bound = (
        (case((PersonFile.target == slug, 40), else_=0) if slug is not None else literal(0))
        + case(
            (PersonFile.commune_code.is_(None), 20),  # the commune may be in the profile: assume the best
            (PersonFile.commune_code.in_([c for c, p in by_place if p == 20]), 20),
            (PersonFile.commune_code.in_([c for c, p in by_place if p == 10]), 10),
            else_=0,
        )
        + case((or_(PersonFile.available_from.is_(None), PersonFile.available_from <= start), 10), else_=0)
        + may_hold
        + may_have_done
    ).label("bound")
    query = (
        select(
            PersonFile.id,
            PersonFile.first_name,
            PersonFile.last_name,
            PersonFile.commune_code,
            PersonFile.target,
            PersonFile.available_from,
            raw,
            (may_hold + may_have_done).label("may_match"),
            bound,
        )
        .where(*pool)
        .order_by(bound.desc(), PersonFile.id)
    )
    aims = ("metier", f"Vise le métier : {occupation.name}", 40) if occupation is not None else None
    did = ("metier", f"A exercé le métier : {occupation.name}", 30) if occupation is not None else None
    available = ("disponibilite", "Disponible à la date de prise de poste", 10)
    scored: list[tuple[int, int, str, list[tuple[str, str, int]]]] = []  # (-score, file id, …), kept sorted
    page = max(2 * limit, 100)
    offset, done = 0, False
    while not done:
        rows = session.execute(query.limit(page).offset(offset)).all()
        offset += page
        done = len(rows) < page
        for file_id, first_name, last_name, commune_code, target, available_from, text, may_match, top in rows:
            if top <= 10 or (len(scored) >= limit and (-top, file_id) > scored[limit - 1][:2]):
                done = True  # nobody left can score more than 10, or enter the list
                break
            profile: dict[str, Any] = json.loads(text) or {} if text and (may_match or not commune_code) else {}
            if not commune_code and isinstance(profile.get("commune"), str):
                locate({profile["commune"]})
            why: list[tuple[str, str, int]] = []
            if slug is not None:
                if target == slug:
                    why.append(aims)  # type: ignore[arg-type]
                elif any(e.get("occupation") == slug for e in profile.get("experience", [])):
                    why.append(did)  # type: ignore[arg-type]
            held = sorted(d.get("slug") for d in profile.get("diplomas", []) if d.get("slug") in certs)
            if held:
                why.append(("certification", f"Détient : {certs[held[0]]}", 30))
            place = distance.get(commune_code or profile.get("commune") or "")
            if place is not None:
                why.append(place)
            if available_from is None or available_from <= start:
                why.append(available)
            score = sum(points for _c, _t, points in why)
            if score > 10:
                bisect.insort(scored, (-score, file_id, f"{first_name} {last_name[:1]}.", why))
    return [
        CandidateOut(
            file_id=file_id,
            display_name=name,
            score=-negative,
            why=[Reason(criterion=c, text=t, points=p) for c, t, p in why],
        )
        for negative, file_id, name, why in scored[:limit]
    ]


# ------------------------------------------------------------------------------------------ applications


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
        file = session.scalar(select(PersonFile).where(PersonFile.account_id == actor.id))
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
        return app if offer is not None and offer.employer_id == _employer(session, actor) else None
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
            JobOffer.employer_id.in_(memberships.active_structure_query(actor.id))
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
        _employer(session, actor)  # a claim not (yet) accepted is refused, not shown an empty list
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
    _employer(session, actor)
    app = visible_application(session, actor, application_id)
    if app is None:
        return None
    if status not in APPLICATION_STATUSES:
        raise InvalidInput("status", f"Statut inconnu : {status}")
    at = now()
    app.status, app.updated_at = status, at
    if status == "embauche":
        # Conditional update: of two simultaneous « embauche », one records the hire.
        if _mark_hire(session, app.id, Application.hired_at.is_(None), hired_at=at):
            file = session.get(PersonFile, app.file_id)
            offer = session.get(JobOffer, app.offer_id)
            assert file is not None and offer is not None
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


# ------------------------------------------------------------------------------------------- job datings


def create_event(session: Session, actor: Account, data: EventIn) -> JobDatingEvent:
    employer_id = _employer(session, actor)
    if data.on < dt.date.today():
        raise InvalidInput("on", "La date est passée.")
    event = JobDatingEvent(employer_id=employer_id, created_at=now(), **data.model_dump())
    session.add(event)
    session.flush()
    return event


def list_events(session: Session, actor: Account) -> list[EventOut]:
    if actor.role not in ("personne", "conseiller", "employeur"):
        raise AccessDenied()
    query = select(JobDatingEvent, Employer.name).join(Employer, Employer.id == JobDatingEvent.employer_id)
    if actor.role == "employeur":
        query = query.where(JobDatingEvent.employer_id == _employer(session, actor))
    else:
        query = query.where(JobDatingEvent.on >= dt.date.today())
    rows = session.execute(query.order_by(JobDatingEvent.on, JobDatingEvent.id)).all()
    counts = dict(
        session.execute(
            select(JobDatingRegistration.event_id, func.count()).group_by(JobDatingRegistration.event_id)
        ).all()
    )
    mine: set[int] = set()
    if actor.role == "personne":
        own = session.scalar(select(PersonFile.id).where(PersonFile.account_id == actor.id))
        mine = set(session.scalars(select(JobDatingRegistration.event_id).where(JobDatingRegistration.file_id == own)))
    out = []
    for event, employer_name in rows:
        names: list[str] = []
        if actor.role == "employeur":
            names = [
                short_name(f)
                for f in session.scalars(
                    select(PersonFile)
                    .join(JobDatingRegistration, JobDatingRegistration.file_id == PersonFile.id)
                    .where(JobDatingRegistration.event_id == event.id)
                )
            ]
        out.append(
            EventOut(
                id=event.id,
                title=event.title,
                on=event.on,
                place=event.place,
                capacity=event.capacity,
                employer_name=employer_name,
                registered=counts.get(event.id, 0),
                registered_names=names,
                mine=event.id in mine,
            )
        )
    return out


def register_event(session: Session, actor: Account, event_id: int, file_id: int | None) -> bool | None:
    event = session.get(JobDatingEvent, event_id)
    if event is None or event.on < dt.date.today():
        return None
    if actor.role == "personne":
        file = session.scalar(select(PersonFile).where(PersonFile.account_id == actor.id))
    elif actor.role == "conseiller":
        file = caseloads.find_file(session, actor, file_id or 0)
        if file is None:
            return None
    else:
        raise AccessDenied("Réservé aux personnes et à leurs conseillers.")
    if file is None:
        raise InvalidInput("file_id", "Il faut un dossier d'accompagnement pour s'inscrire.")
    if session.scalar(
        select(JobDatingRegistration).where(
            JobDatingRegistration.event_id == event.id, JobDatingRegistration.file_id == file.id
        )
    ):
        return True
    taken = session.scalar(
        select(func.count()).select_from(JobDatingRegistration).where(JobDatingRegistration.event_id == event.id)
    )
    if (taken or 0) >= event.capacity:
        raise InvalidInput("event_id", "Complet.")
    session.add(JobDatingRegistration(event_id=event.id, file_id=file.id, created_at=now()))
    session.flush()
    return True
