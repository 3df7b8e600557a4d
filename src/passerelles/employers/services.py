"""Employers' space: the structure (profile), its recruitment needs and the offers it posts. Access rule: an
employer acts only for the structure of their ACTIVE membership (``memberships.require_structure``: a pending
or refused claim gives nothing). Suggested candidates are in :mod:`employers.candidates`, applications in
:mod:`employers.applications`, job datings in :mod:`employers.job_datings`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session, load_only, sessionmaker

from passerelles.accounts.models import Account
from passerelles.accounts.services import InvalidInput, aware, now
from passerelles.alerts import services as alerts
from passerelles.employers.applications import close_applications
from passerelles.employers.memberships import require_structure
from passerelles.employers.models import (
    Application,
    EmployerProfile,
    RecruitmentNeed,
)
from passerelles.employers.schemas import (
    NeedIn,
    NeedOut,
    OfferIn,
    OfferOut,
    ProfileIn,
    StructureOut,
)
from passerelles.occupations.models import Occupation, OccupationRome
from passerelles.offers.models import Employer, JobOffer
from passerelles.offers.schemas import PARIS
from passerelles.places.models import Commune
from passerelles.search import index as search_index
from passerelles.search.services import published
from passerelles.settings import Settings

# ---------------------------------------------------------------------------------------------- structure


def structure(session: Session, actor: Account) -> StructureOut:
    employer = session.get(Employer, require_structure(session, actor))
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
    employer_id = require_structure(session, actor)
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
    employer_id = require_structure(session, actor)
    _occupation(session, data.occupation_slug)
    need = RecruitmentNeed(employer_id=employer_id, created_at=now(), **data.model_dump())
    session.add(need)
    session.flush()
    return NeedOut(id=need.id, **data.model_dump())


def delete_need(session: Session, actor: Account, need_id: int) -> bool | None:
    """An employer removes one of their structure's needs (None when it is not theirs: reported as absent)."""
    employer_id = require_structure(session, actor)
    need = session.get(RecruitmentNeed, need_id)
    if need is None or need.employer_id != employer_id:
        return None
    session.delete(need)
    session.flush()
    return True


def list_needs(session: Session, actor: Account) -> list[NeedOut]:
    employer_id = require_structure(session, actor)
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


def offer_occupation(session: Session, offer: JobOffer) -> Occupation | None:
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
    employer = session.get(Employer, require_structure(session, actor))
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
        working_time=data.working_time,
        hours_per_week=data.hours_per_week,
        salary_min=data.salary_min,
        salary_max=data.salary_max or data.salary_min,
        salary_period=data.salary_period,
        salary_text=salary_text(data.salary_min, data.salary_max, data.salary_period),
        night_work=data.night_work,
        weekend_work=data.weekend_work,
        start_on=data.start_on,
        requirements=data.requirements,
        how_to_apply=data.how_to_apply,
        commune_code=commune.code_insee,
        city=commune.name,
        latitude=commune.latitude,
        longitude=commune.longitude,
        positions=data.positions,
        published_at=published,
        updated_at=published,
        valid_through=_closing(data),
        is_demo=False,
        row_hash=hashlib.sha1(payload.encode(), usedforsecurity=False).hexdigest(),
    )
    session.add(offer)
    session.flush()
    return offer


def _closing(data: OfferIn) -> dt.datetime | None:
    """The closing date given (end of that day, Paris), else 60 days after the start date."""
    if data.closes_on is not None:
        return dt.datetime.combine(data.closes_on, dt.time(23, 59), tzinfo=PARIS)
    if data.start_on is not None:
        return dt.datetime.combine(data.start_on, dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=60)
    return None


def salary_text(low: float | None, high: float | None, period: str | None) -> str | None:
    """« De 1 900 € à 2 100 € brut par mois », « 12,50 € brut de l'heure »."""
    if (low is None and high is None) or period is None:
        return None

    def euros(value: float) -> str:
        text = f"{value:,.2f}".replace(",", "\u202f").replace(".", ",").removesuffix(",00")
        return f"{text} €"

    unit = "par mois" if period == "mois" else "de l'heure"
    if low and high and high != low:
        return f"De {euros(low)} à {euros(high)} brut {unit}"
    return f"{euros(low or high or 0)} brut {unit}"


def after_publish(factory: sessionmaker[Session], settings: Settings, offer_id: int) -> None:
    """Run in the background once an offer is published: the published search index takes it in (when this
    database has one: ``/recherche`` finds it within the update's time), and the saved searches it matches
    are sent their alert now rather than at the next ``passerelles alertes envoyer``."""
    engine = factory.kw["bind"]
    root = settings.search_index_dir
    if published(root, engine.url.render_as_string(hide_password=False)):
        search_index.update(engine, root)
    with factory() as session:
        alerts.send_alerts(session, settings, offer_id)
        session.commit()


def own_offer(session: Session, actor: Account, offer_id: int) -> JobOffer | None:
    offer = session.get(JobOffer, offer_id)
    if offer is None or offer.employer_id != require_structure(session, actor) or offer.source != "employeur":
        return None
    return offer


def list_offers(session: Session, actor: Account) -> list[OfferOut]:
    employer_id = require_structure(session, actor)
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
    """The employer closes their offer (filled or withdrawn): its applicants still waiting are told."""
    offer = own_offer(session, actor, offer_id)
    if offer is not None and offer.closed_at is None:
        offer.closed_at = now()
        offer.closed_reason = "pourvue"
        close_applications(session, offer)
    return offer
