"""Counts of upcoming training sessions and open job offers per commune around a place, placed on a plane
for a small SVG map (no tile server: the communes' coordinates from the COG are projected here).

HTTP-agnostic: pages call ``around_occupation`` (an occupation page), ``around_trainings`` (the training
search) or ``around_offers`` (the job-offer search) and include ``maps/_around.html`` with the result.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Integer, cast, func, select
from sqlalchemy.orm import Session

from passerelles.certifications.models import Certification, OccupationCertification
from passerelles.maps.schemas import AroundMap, MapPoint
from passerelles.occupations.models import Occupation
from passerelles.offers import market
from passerelles.offers.models import JobOffer
from passerelles.offers.schemas import OfferQuery
from passerelles.offers.services import PANEL_TTL_S, circle_departements, occupation_rome_codes
from passerelles.places.geo import bounding_box, haversine_km
from passerelles.places.services import (
    CommuneRef,
    PlaceFilter,
    PlaceIndex,
    UnknownPlace,
    commune_range,
    in_departements,
    place_index,
    resolve_place,
)
from passerelles.trainings.counts import kept
from passerelles.trainings.models import TrainingSession
from passerelles.trainings.schemas import TrainingQuery
from passerelles.webforms import query_string

WIDTH, HEIGHT, PAD = 600, 420, 24
MAX_POINTS = 60


def _place_conditions(lat: Any, lon: Any, code: Any, place: PlaceFilter) -> list[ColumnElement[bool]]:
    if place.centre and place.radius_km:
        lat0, lat1, lon0, lon1 = bounding_box(place.centre[0], place.centre[1], place.radius_km)
        return [lat.between(lat0, lat1), lon.between(lon0, lon1)]
    if place.departements:
        return [in_departements(code, place.departements)]
    return []


def session_counts(
    session: Session, cert_ids: Iterable[int] | None, place: PlaceFilter, today: dt.date
) -> tuple[Counter[str], bool]:
    """Upcoming, open sessions of these certifications (any: ``None``) per commune code around ``place``;
    whether any is demonstration data."""
    ts = TrainingSession
    certs = sorted(set(cert_ids)) if cert_ids is not None else None
    if certs == []:
        return Counter(), False
    what = [ts.certification_id.in_(certs)] if certs is not None else []

    def count(where: list[ColumnElement[bool]]) -> list[Any]:
        return list(
            session.execute(
                select(ts.commune_code, func.count(), func.max(cast(ts.is_demo, Integer)))
                .where(
                    ts.start_date >= today,
                    ts.closed_at.is_(None),
                    ts.full_session_id.is_(None),  # a linked summary (LHÉO léger): its full session is counted
                    *what,
                    ts.commune_code.is_not(None),
                    *where,
                )
                .group_by(ts.commune_code)
            )
        )

    def counted() -> list[Any]:
        if place.departements and not (place.centre and place.radius_km):
            # A département's communes are a range of codes, read in the sessions' commune index: one range at a
            # time (SQLite scans the whole index for an OR of ranges).
            return [tuple(row) for d in place.departements for row in count(commune_range(ts.commune_code, d))]
        return [tuple(row) for row in count(_place_conditions(ts.latitude, ts.longitude, ts.commune_code, place))]

    # Kept like the lists' counts (trainings/counts.py): the same maps are drawn over and over.
    where_key = (tuple(place.departements), place.centre, place.radius_km)
    rows = kept(session, ("map", tuple(certs or ()), certs is None, where_key, today), counted)
    return Counter({code: n for code, n, _ in rows if code}), any(bool(d) for *_, d in rows)


def offer_counts(session: Session, rome_codes: Iterable[str] | None, place: PlaceFilter) -> tuple[Counter[str], bool]:
    """Open offers of these ROME codes (any: ``None``) per commune code around ``place``; any demo data."""
    codes = sorted(set(rome_codes)) if rome_codes is not None else None
    if codes == []:
        return Counter(), False
    if market.is_maintained(session):
        # From the aggregates the imports keep (a circle: the communes of the départements it touches,
        # which build_map then keeps within the radius).
        circle = place.centre is not None and place.radius_km
        depts = circle_departements(place_index(session), place) if circle else place.departements or None
        return market.commune_counts(session, codes, depts)
    what = [JobOffer.code_rome.in_(codes)] if codes is not None else []
    rows = session.execute(
        select(JobOffer.commune_code, func.count(), func.max(cast(JobOffer.is_demo, Integer)))
        .where(
            *what,
            JobOffer.closed_at.is_(None),
            JobOffer.commune_code.is_not(None),
            *_place_conditions(JobOffer.latitude, JobOffer.longitude, JobOffer.commune_code, place),
        )
        .group_by(JobOffer.commune_code)
    ).all()
    return Counter({code: n for code, n, _ in rows if code}), any(bool(d) for *_, d in rows)


def build_map(
    index: PlaceIndex, place: PlaceFilter, sessions: Counter[str], offers: Counter[str], *, title: str
) -> AroundMap:
    """Project the communes holding sessions or offers (within the circle when the place has one)."""
    centre = place.centre
    rows: list[tuple[int, int, CommuneRef, float, float]] = []
    for code in set(sessions) | set(offers):
        c = index.communes.get(code)
        if c is None or c.latitude is None or c.longitude is None:
            continue
        if centre and place.radius_km and haversine_km(centre[0], centre[1], c.latitude, c.longitude) > place.radius_km:
            continue
        rows.append((sessions.get(code, 0), offers.get(code, 0), c, c.latitude, c.longitude))
    rows.sort(key=lambda r: (-(r[0] + r[1]), r[2].name))
    shown, hidden = rows[:MAX_POINTS], max(0, len(rows) - MAX_POINTS)
    total_s, total_o = sum(r[0] for r in rows), sum(r[1] for r in rows)
    # Bounds: the circle when there is one, else the points; an equirectangular projection, scaled at the
    # mean latitude, is faithful enough at the scale of a région.
    if centre and place.radius_km:
        lat0, lat1, lon0, lon1 = bounding_box(centre[0], centre[1], place.radius_km)
    elif shown:
        lats = [r[3] for r in shown]
        lons = [r[4] for r in shown]
        lat0, lat1, lon0, lon1 = min(lats), max(lats), min(lons), max(lons)
    else:
        lat0 = lat1 = lon0 = lon1 = 0.0
    kx = math.cos(math.radians((lat0 + lat1) / 2))
    span_x = max((lon1 - lon0) * kx, 0.05)
    span_y = max(lat1 - lat0, 0.05)
    scale = min((WIDTH - 2 * PAD) / span_x, (HEIGHT - 2 * PAD) / span_y)
    height = int(min(HEIGHT, span_y * scale + 2 * PAD))
    off_x = (WIDTH - span_x * scale) / 2
    off_y = (height - span_y * scale) / 2

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return (
            round(off_x + (lon - lon0) * kx * scale, 1),
            round(height - off_y - (lat - lat0) * scale, 1),
        )

    biggest = max((r[0] + r[1] for r in shown), default=1)
    points = []
    for s, o, c, lat, lon in shown:
        x, y = xy(lat, lon)
        points.append(
            MapPoint(
                code_insee=c.code_insee,
                name=c.name,
                departement=c.departement_code,
                sessions=s,
                offers=o,
                x=x,
                y=y,
                r=round(4 + 14 * math.sqrt((s + o) / biggest), 1),
            )
        )
    boxes: list[tuple[float, float, float, float]] = []
    for p in points:
        box = (p.x + p.r + 2, p.y - 10, p.x + p.r + 6 + 7 * len(p.name), p.y + 6)
        if (
            len(boxes) < 6
            and box[2] <= WIDTH
            and not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes)
        ):
            boxes.append(box)
            p.labelled = True
    return AroundMap(
        title=title,
        place_label=place.label,
        width=WIDTH,
        height=height,
        points=points,
        centre=xy(*centre) if centre else None,
        centre_name=place.commune.name if place.commune else None,
        radius_r=round(place.radius_km / 111.2 * scale, 1) if centre and place.radius_km else None,
        sessions=total_s,
        offers=total_o,
        hidden=hidden,
    )


def _certifications(session: Session, occupation: str | None, certification: str | None) -> list[int] | None:
    if certification:
        return list(session.scalars(select(Certification.id).where(Certification.slug == certification)))
    if occupation:
        return list(
            session.scalars(
                select(OccupationCertification.certification_id)
                .join(Occupation, Occupation.id == OccupationCertification.occupation_id)
                .where(Occupation.slug == occupation, OccupationCertification.role.in_(("principale", "possible")))
            )
        )
    return None


def _query_place(session: Session, q: TrainingQuery | OfferQuery) -> PlaceFilter | None:
    """The place a search names (``None`` without one, or when it names nothing known)."""
    if not (q.commune or q.departement or q.region):
        return None
    try:
        return resolve_place(
            place_index(session), region=q.region, departement=q.departement, commune=q.commune, radius_km=q.rayon
        )
    except UnknownPlace:
        return None


def around_trainings(session: Session, q: TrainingQuery, *, today: dt.date | None = None) -> AroundMap | None:
    """The map of a training search that names a place: its upcoming sessions (of the occupation or
    certification searched, if any) per commune."""
    place = _query_place(session, q)
    if place is None:
        return None
    sessions, demo = session_counts(
        session, _certifications(session, q.metier, q.certification), place, today or dt.date.today()
    )
    found = build_map(place_index(session), place, sessions, Counter(), title=f"Sessions à venir {place.label}")
    return found.model_copy(update={"has_demo": demo})


def around_offers(session: Session, q: OfferQuery) -> AroundMap | None:
    """The map of a job-offer search that names a place: its open offers (of the occupation or ROME code
    searched, if any) per commune."""
    place = _query_place(session, q)
    if place is None:
        return None
    codes = occupation_rome_codes(session, q.metier) if q.metier else [q.code_rome] if q.code_rome else None
    offers, demo = offer_counts(session, codes, place)
    found = build_map(place_index(session), place, Counter(), offers, title=f"Offres ouvertes {place.label}")
    return found.model_copy(update={"has_demo": demo})


_maps: dict[tuple[str, str, str, dt.date], tuple[float, AroundMap | None]] = {}
_maps_lock = threading.Lock()


def around_occupation(session: Session, slug: str, place: PlaceFilter) -> AroundMap | None:
    """``occupation_map``, kept ``PANEL_TTL_S`` seconds per occupation and place (as the labour-market panel)."""
    bind = session.get_bind()
    key = (str(getattr(bind, "url", id(bind))), slug, place.label, dt.date.today())
    clock = time.monotonic()
    found = _maps.get(key)
    if found is not None and found[0] > clock:
        return found[1]
    drawn = occupation_map(session, slug, place)
    with _maps_lock:
        if len(_maps) >= 512:
            _maps.clear()
        _maps[key] = (clock + PANEL_TTL_S, drawn)
    return drawn


def occupation_map(
    session: Session, slug: str, place: PlaceFilter, *, today: dt.date | None = None
) -> AroundMap | None:
    """Sessions (certifications leading to the occupation) and offers (its ROME codes) around ``place``;
    ``None`` for « all of France » (too many points to read) or an unknown occupation."""
    if not place.departements and not place.centre:
        return None
    occ_id = session.scalar(select(Occupation.id).where(Occupation.slug == slug))
    if occ_id is None:
        return None
    certs = session.scalars(
        select(OccupationCertification.certification_id).where(
            OccupationCertification.occupation_id == occ_id,
            OccupationCertification.role.in_(("principale", "possible")),
        )
    )
    index = place_index(session)
    sessions, demo_s = session_counts(session, certs, place, today or dt.date.today())
    offers, demo_o = offer_counts(session, occupation_rome_codes(session, slug) or [], place)
    found = build_map(index, place, sessions, offers, title=f"Formations et offres {place.label}")
    where = _place_params(place)
    return found.model_copy(
        update={
            "has_demo": demo_s or demo_o,
            "sessions_url": "/formations?" + query_string({"metier": slug, **where}),
            "offers_url": "/emploi?" + query_string({"metier": slug, **where}),
        }
    )


def _place_params(place: PlaceFilter) -> dict[str, str | int | None]:
    if place.commune is not None:
        return {"commune": place.commune.code_insee, "rayon": place.radius_km}
    if place.region_code and len(place.departements) > 1:
        return {"region": place.region_code}
    return {"departement": place.departements[0]} if place.departements else {}
