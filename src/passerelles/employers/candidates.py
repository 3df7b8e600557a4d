"""Suggested candidates for an employer's offer: people whose file carries an active « visible_employeurs »
consent, shown without contact details (first name and initial); nobody else is ever listed."""

from __future__ import annotations

import bisect
import datetime as dt
import json
from typing import Any

from sqlalchemy import Text, and_, case, cast, false, literal, or_, select, true
from sqlalchemy.orm import Session

from passerelles.accounts.models import Account
from passerelles.accounts.services import aware
from passerelles.caseloads.models import Consent, PersonFile
from passerelles.certifications.models import Certification, OccupationCertification
from passerelles.employers.schemas import (
    CandidateOut,
    Reason,
)
from passerelles.employers.services import offer_occupation, own_offer
from passerelles.places.geo import haversine_km
from passerelles.places.models import Commune

NEAR_KM = 30.0


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
    occupation = offer_occupation(session, offer)
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
