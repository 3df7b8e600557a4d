"""One training session: its page (with the distance from a commune), two to four side by side, its dates as
an iCalendar file, and the CSV rows of the exports (no HTTP here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from passerelles.certifications.models import Certification
from passerelles.db import MAX_ID
from passerelles.places.geo import haversine_km
from passerelles.places.services import place_index
from passerelles.trainings.models import Provider, Training, TrainingSession
from passerelles.trainings.schemas import Comparison, ProviderOut, RegistrationStatus, SessionDetail, SessionItem
from passerelles.trainings.services import BadCriterion, item_fields, rounded_km, session_url

COMPARE_MIN, COMPARE_MAX = 2, 4


def registration_status(
    start: dt.date | None, end: dt.date | None, state: str | None, today: dt.date
) -> RegistrationStatus | None:
    """Registrations on ``today``: the same rule as ``services.registration_open`` (``ouvertes``), else why not."""
    if state in ("ferme", "suspendu"):
        return "ferme" if state == "ferme" else "suspendu"
    if start is not None and today < start:
        return "a-venir"
    if end is not None and today > end:
        return "terminees"
    if state == "ouvert" or start is not None or end is not None:
        return "ouvertes"
    return None


def _summary_of(s: TrainingSession, training: Training) -> str | None:
    """A summary (LHÉO léger): its full offer's session page here, else the full offer's own address."""
    if s.full_session_id is not None:
        return session_url(s.full_session_id)
    if s.source == "lheo-leger" and training.offer_url and training.offer_url.startswith(("http://", "https://")):
        return training.offer_url
    return None


def get_session_detail(
    session: Session, session_id: int, *, origin: str | None = None, today: dt.date | None = None
) -> SessionDetail | None:
    """One session with its provider and certification; ``origin`` (a commune) adds the distance to it."""
    row = session.execute(
        select(TrainingSession, Certification, Provider, Training)
        .outerjoin(Certification, Certification.id == TrainingSession.certification_id)
        .outerjoin(Provider, Provider.id == TrainingSession.provider_id)
        .join(Training, Training.id == TrainingSession.training_id)
        .where(TrainingSession.id == session_id)
    ).first()
    if row is None:
        return None
    s, cert, prov, training = row
    index = place_index(session)
    distance = None
    if origin:
        ref = index.find_commune(origin)
        if ref is None:
            raise BadCriterion("commune", f"Commune introuvable : {origin} (nom, code postal ou code INSEE)")
        if None not in (ref.latitude, ref.longitude, s.latitude, s.longitude):
            distance = haversine_km(ref.latitude, ref.longitude, s.latitude, s.longitude)  # type: ignore[arg-type]
    commune = index.communes.get(s.commune_code or "")
    region = None
    if commune:
        rc = index.region_of_departement(commune.departement_code)
        region = index.regions.get(rc) if rc else None
    provider = (
        ProviderOut(
            name=prov.name,
            siret=prov.siret,
            address=prov.address,
            postcode=prov.postcode,
            city=prov.city,
            phone=prov.phone,
            email=prov.email,
            website=prov.website,
        )
        if prov
        else None
    )
    return SessionDetail(
        **item_fields(s, cert, prov.name if prov else None, index),
        distance_km=rounded_km(distance),
        address=s.address,
        postcode=s.postcode,
        region=region,
        registration_start=s.registration_start,
        registration_end=s.registration_end,
        registration_status=registration_status(
            s.registration_start, s.registration_end, s.recruitment_state, today or dt.date.today()
        ),
        registration_terms=s.registration_terms,
        information_dates=[dt.date.fromisoformat(d) for d in s.information_dates or []],
        information_address=s.information_address,
        summary_of=_summary_of(s, training),
        duration_text=s.duration_text,
        rhythm=s.rhythm,
        cost_text=s.cost_text,
        admission=s.admission,
        prerequisites=s.prerequisites,
        contact=dict(s.contact or {}),
        provider_detail=provider,
        objective=training.objective,
        source=s.source,
        external_id=s.external_id,
        training_title=training.title,
        latitude=s.latitude,
        longitude=s.longitude,
    )


def parse_ids(raw: Sequence[str]) -> list[int]:
    """``ids=1,2,3`` or ``ids=1&ids=2``: distinct session numbers in the order given."""
    ids: list[int] = []
    for chunk in raw:
        for part in chunk.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isascii() or not part.isdigit() or len(part) > 10 or not 1 <= int(part) <= MAX_ID:
                raise BadCriterion("ids", f"Numéro de session invalide : {part[:20]!r}")
            if int(part) not in ids:
                ids.append(int(part))
    return ids


def compare_sessions(session: Session, ids: list[int], *, origin: str | None = None) -> Comparison:
    """Two to four sessions side by side, in the order given."""
    if not COMPARE_MIN <= len(ids) <= COMPARE_MAX:
        raise BadCriterion(
            "ids", f"Choisissez de {COMPARE_MIN} à {COMPARE_MAX} sessions à comparer ({len(ids)} reçue(s))."
        )
    details = []
    for sid in ids:
        d = get_session_detail(session, sid, origin=origin)
        if d is None:
            raise BadCriterion("ids", f"Session de formation introuvable : {sid}")
        details.append(d)
    return Comparison(ids=ids, commune=origin, sessions=details, has_demo=any(d.is_demo for d in details))


def session_calendar(detail: SessionDetail, *, page_url: str, now: dt.datetime | None = None) -> bytes:
    """The session's dates as an iCalendar file (RFC 5545): the session itself (all-day, end date
    included, hence DTEND the day after) and, when known, the registration period."""
    from icalendar import Calendar, Event

    now = now or dt.datetime.now(dt.UTC)
    cal = Calendar()
    cal.add("prodid", "-//Passerelles//Sessions de formation//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    place = ", ".join(x for x in (detail.address, detail.postcode, detail.city) if x)
    demo = " (données de démonstration)" if detail.is_demo and "démonstration" not in detail.title else ""
    description = "\n".join(
        x
        for x in (
            f"Organisme : {detail.provider}" if detail.provider else None,
            f"Certification : {detail.certification.name}" if detail.certification else None,
            f"Durée : {detail.duration_hours} h" if detail.duration_hours else None,
            "Données de démonstration : cette session n'existe pas." if detail.is_demo else None,
            page_url,
        )
        if x
    )

    def event(uid: str, summary: str, start: dt.date, end: dt.date) -> Event:
        ev = Event()
        ev.add("uid", f"{uid}@passerelles")
        ev.add("dtstamp", now)
        ev.add("summary", summary)
        ev.add("dtstart", start)
        ev.add("dtend", end + dt.timedelta(days=1))
        if place:
            ev.add("location", place)
        ev.add("description", description)
        ev.add("url", page_url)
        return ev

    if detail.start_date:
        end = detail.end_date if detail.end_date and detail.end_date >= detail.start_date else detail.start_date
        cal.add_component(event(f"session-{detail.id}", detail.title + demo, detail.start_date, end))
    if detail.registration_start and detail.registration_end and detail.registration_end >= detail.registration_start:
        cal.add_component(
            event(
                f"session-{detail.id}-inscriptions",
                f"Inscriptions : {detail.title}{demo}",
                detail.registration_start,
                detail.registration_end,
            )
        )
    data: bytes = cal.to_ical()
    return data


SESSION_CSV_HEADER = (
    "numéro",
    "intitulé",
    "certification",
    "niveau",
    "organisme",
    "commune",
    "code INSEE",
    "département",
    "début",
    "fin",
    "durée (h)",
    "modalité",
    "voies",
    "coût (€)",
    "éligible CPF",
    "financeurs",
    "recrutement",
    "places",
    "distance (km)",
    "données de démonstration",
    "adresse de la page",
)


def session_csv_row(item: SessionItem, funders: dict[str, str]) -> tuple[Any, ...]:
    return (
        item.id,
        item.title,
        item.certification.name if item.certification else None,
        item.certification.level_eu if item.certification else None,
        item.provider,
        item.city,
        item.commune_code,
        item.departement,
        item.start_date,
        item.end_date,
        item.duration_hours,
        item.modality,
        item.routes,
        item.cost_eur,
        item.cpf_eligible,
        [funders.get(f, f) for f in item.funding],
        item.recruitment_state,
        item.places,
        item.distance_km,
        item.is_demo,
        item.url,
    )
