"""Training search and listing (no HTTP here: pages, API and exports call these); one session's page, the
comparison and the exports' rows are in :mod:`trainings.sessions`.

Structured criteria are queried in the database; free text goes through the search backend (occupations
and certifications it recognises) and a match on the session title. A radius around a commune is a
bounding box in SQL, then the exact great-circle distance in Python.

« Élargir » widens step by step (a larger radius, nearby départements, the whole région, related
certifications, fewer secondary criteria, all of France) and says what each step widened. When a search
finds nothing and a wider one finds something, the wider one is shown: never an empty page for nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from passerelles.certifications.models import Certification, OccupationCertification
from passerelles.occupations.models import Occupation
from passerelles.places.geo import bounding_box, haversine_km
from passerelles.places.services import (
    PlaceFilter,
    PlaceIndex,
    in_departements,
    place_index,
    resolve_place,
)
from passerelles.search.services import SearchBackend
from passerelles.trainings.models import Provider, TrainingSession
from passerelles.trainings.schemas import (
    CertificationBrief,
    SessionItem,
    TrainingQuery,
    TrainingResults,
    Widening,
)

PAGE_SIZE = 20
MAX_RADIUS_KM = 200
EXPORT_LIMIT = 5000


class BadCriterion(ValueError):
    """A criterion that names nothing known or breaks a rule; ``field`` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def session_url(session_id: int) -> str:
    return f"/formations/sessions/{session_id}"


@dataclass
class _Scope:
    """The resolved search: what, where, and which secondary criteria still apply."""

    cert_ids: frozenset[int] | None
    text: str | None
    level: int | None
    region: str | None
    departement: str | None
    commune: str | None
    radius_km: int | None
    extra_departements: tuple[str, ...] = ()
    secondary: bool = True
    france: bool = False
    extra_certs: frozenset[int] = field(default_factory=frozenset)

    def place(self, index: PlaceIndex) -> PlaceFilter:
        if self.france:
            return PlaceFilter("en France")
        return resolve_place(
            index,
            region=self.region,
            departement=self.departement,
            commune=self.commune,
            radius_km=self.radius_km,
            extra_departements=self.extra_departements,
        )


# ---------------------------------------------------------------- criteria


def _certifications_of_occupation(session: Session, slug: str) -> frozenset[int]:
    occ_id = session.scalar(select(Occupation.id).where(Occupation.slug == slug))
    if occ_id is None:
        raise BadCriterion("metier", f"Métier inconnu : {slug}")
    return frozenset(
        session.scalars(
            select(OccupationCertification.certification_id).where(
                OccupationCertification.occupation_id == occ_id,
                OccupationCertification.role.in_(("principale", "possible")),
            )
        )
    )


_text_cache: dict[tuple[int, str, str], frozenset[int]] = {}


def _text_certifications(session: Session, backend: SearchBackend | None, text: str) -> frozenset[int]:
    """Certifications the search backend recognises in free text, directly or through an occupation
    (memoised per backend and database: the same few words come back often)."""
    if backend is None:
        return frozenset()
    bind = session.get_bind()
    key = (id(backend), str(getattr(bind, "url", id(bind))), " ".join(text.lower().split()))
    found = _text_cache.get(key)
    if found is None:
        found = _recognised_certifications(session, backend, text)
        if len(_text_cache) > 4096:
            _text_cache.clear()
        _text_cache[key] = found
    return found


def _recognised_certifications(session: Session, backend: SearchBackend, text: str) -> frozenset[int]:
    cert_slugs: set[str] = set()
    occ_slugs: set[str] = set()
    for r in backend.search(text, types={"certification", "occupation"}, limit=5):
        if r.score < 1:
            continue
        if r.type == "certification":
            cert_slugs.add(r.id)
        elif not r.id.startswith("rome:"):
            occ_slugs.add(r.id)
    ids: set[int] = set()
    if cert_slugs:
        ids.update(session.scalars(select(Certification.id).where(Certification.slug.in_(cert_slugs))))
    if occ_slugs:
        ids.update(
            session.scalars(
                select(OccupationCertification.certification_id)
                .join(Occupation, Occupation.id == OccupationCertification.occupation_id)
                .where(Occupation.slug.in_(occ_slugs), OccupationCertification.role.in_(("principale", "possible")))
            )
        )
    return frozenset(ids)


_related: dict[tuple[str, frozenset[int]], tuple[frozenset[int], list[str]]] = {}


def _related_with_labels(session: Session, cert_ids: frozenset[int]) -> tuple[frozenset[int], list[str]]:
    """Related certifications and their short names, memoised per database (reference data)."""
    bind = session.get_bind()
    key = (str(getattr(bind, "url", id(bind))), cert_ids)
    found = _related.get(key)
    if found is None:
        related = related_certifications(session, cert_ids)
        labels = [
            acronym or name
            for acronym, name in session.execute(
                select(Certification.acronym, Certification.name)
                .where(Certification.id.in_(related))
                .order_by(Certification.level_eu, Certification.name)
            )
        ]
        if len(_related) > 4096:
            _related.clear()
        found = _related[key] = (related, labels)
    return found


def related_certifications(session: Session, cert_ids: frozenset[int]) -> frozenset[int]:
    """Certifications of the occupations these certifications lead to (any role), the given ones excepted."""
    if not cert_ids:
        return frozenset()
    occupations = select(OccupationCertification.occupation_id).where(
        OccupationCertification.certification_id.in_(cert_ids)
    )
    found = set(
        session.scalars(
            select(OccupationCertification.certification_id).where(
                OccupationCertification.occupation_id.in_(occupations)
            )
        )
    )
    return frozenset(found - set(cert_ids))


def _scope(session: Session, backend: SearchBackend | None, q: TrainingQuery) -> _Scope:
    cert_ids: frozenset[int] | None = None
    if q.certification:
        cid = session.scalar(select(Certification.id).where(Certification.slug == q.certification))
        if cid is None:
            raise BadCriterion("certification", f"Certification inconnue : {q.certification}")
        cert_ids = frozenset({cid})
    elif q.metier:
        cert_ids = _certifications_of_occupation(session, q.metier)
    text = q.q or None
    if text and cert_ids is None:
        # Words the search backend recognises as certifications or occupations select those certifications
        # (an index lookup); other words are looked for in the session titles.
        found = _text_certifications(session, backend, text)
        if found:
            cert_ids, text = found, None
    radius = min(q.rayon or 30, MAX_RADIUS_KM) if q.commune else None
    return _Scope(cert_ids, text, q.niveau, q.region, q.departement, q.commune, radius)


def _secondary_names(q: TrainingQuery) -> list[str]:
    names = []
    if q.voie:
        names.append("voie d'accès")
    if q.modalite:
        names.append("modalité")
    if q.debut_min or q.debut_max:
        names.append("dates de début")
    if q.duree_max:
        names.append("durée")
    if q.cout_max is not None:
        names.append("coût")
    if q.cpf:
        names.append("CPF")
    if q.financement:
        names.append("financement")
    if q.places:
        names.append("places restantes")
    return names


def _widening_steps(session: Session, index: PlaceIndex, q: TrainingQuery, base: _Scope) -> list[tuple[str, _Scope]]:
    """Cumulative wider scopes, each with the sentence saying what it widened."""
    steps: list[tuple[str, _Scope]] = []
    cur = base
    if cur.commune and cur.radius_km:
        radius = cur.radius_km
        for _ in range(2):
            if radius >= MAX_RADIUS_KM:
                break
            radius = min(MAX_RADIUS_KM, max(radius * 2, 50))
            cur = replace(cur, radius_km=radius)
            steps.append((f"rayon porté à {radius} km", cur))
    place = base.place(index)
    if cur.departement and not cur.commune:
        near = tuple(index.nearby_departements([cur.departement]))
        if near:
            cur = replace(cur, extra_departements=near)
            names = ", ".join(index.departement_label(d) for d in near)
            steps.append((f"départements voisins ajoutés : {names}", cur))
    if (cur.commune or cur.departement) and place.region_code:
        cur = replace(cur, commune=None, departement=None, radius_km=None, region=place.region_code)
        cur = replace(cur, extra_departements=())
        steps.append((f"toute la région {index.regions[place.region_code]}", cur))
    if cur.region and not cur.departement and not cur.commune:
        own = index.departements_of_region(cur.region)
        near = tuple(index.nearby_departements(own, limit=6, max_km=110))
        if near:
            cur = replace(cur, extra_departements=near)
            names = ", ".join(index.departement_label(d) for d in near)
            steps.append((f"départements des régions voisines ajoutés : {names}", cur))
    secondary = _secondary_names(q)
    if secondary:
        cur = replace(cur, secondary=False)
        steps.append(("critères levés : " + ", ".join(secondary), cur))
    if not cur.france and (cur.region or cur.departement or cur.commune):
        cur = replace(cur, france=True)
        steps.append(("toute la France", cur))
    if cur.cert_ids:
        related, labels = _related_with_labels(session, cur.cert_ids)
        if related:
            shown = ", ".join(labels[:6]) + (f" et {len(labels) - 6} autres" if len(labels) > 6 else "")
            cur = replace(cur, extra_certs=related)
            steps.append((f"certifications proches ajoutées : {shown}", cur))
    return steps


# ---------------------------------------------------------------- queries


def _json_has(column: Any, value: str) -> ColumnElement[bool]:
    # JSON lists are stored as text on SQLite and as json on PostgreSQL: both read back as '["a", "b"]'.
    return cast(column, String).like(f'%"{value}"%')


def _conditions(scope: _Scope, q: TrainingQuery, place: PlaceFilter, today: dt.date) -> list[ColumnElement[bool]]:
    ts = TrainingSession
    conds: list[ColumnElement[bool]] = [ts.start_date >= today, ts.closed_at.is_(None)]
    what: list[ColumnElement[bool]] = []
    certs = (scope.cert_ids or frozenset()) | scope.extra_certs
    if certs:
        what.append(ts.certification_id.in_(sorted(certs)))
    if scope.text:
        words = [w for w in scope.text.replace("%", " ").replace("_", " ").split() if len(w) > 1][:6]
        if words:
            what.append(and_(*(ts.title.ilike(f"%{w}%") for w in words)))
    conds.extend(what)  # an occupation or certification and words: sessions of it whose title has the words
    if scope.level:
        conds.append(ts.certification_id.in_(select(Certification.id).where(Certification.level_eu == scope.level)))
    if place.centre and place.radius_km:
        lat0, lat1, lon0, lon1 = bounding_box(place.centre[0], place.centre[1], place.radius_km)
        conds += [ts.latitude.between(lat0, lat1), ts.longitude.between(lon0, lon1)]
    elif place.departements:
        conds.append(in_departements(ts.commune_code, place.departements))
    if scope.secondary:
        if q.voie:
            conds.append(_json_has(ts.routes, q.voie))
        if q.modalite:
            conds.append(ts.modality == q.modalite)
        if q.debut_min:
            conds.append(ts.start_date >= q.debut_min)
        if q.debut_max:
            conds.append(ts.start_date <= q.debut_max)
        if q.duree_max:
            conds.append(ts.duration_hours <= q.duree_max)
        if q.cout_max is not None:
            conds.append(ts.cost_eur <= q.cout_max)  # an unknown cost is not « at most »
        if q.cpf:
            conds.append(ts.cpf_eligible.is_(True))
        if q.financement:
            conds.append(_json_has(ts.funding, q.financement))
        if q.places:
            conds.append(ts.recruitment_state == "ouvert")
            conds.append(or_(ts.places.is_(None), ts.places > 0))
    return conds


@dataclass
class _Hits:
    total: int
    ids: list[int]
    distances: dict[int, float]


def _run(
    session: Session, conds: list[ColumnElement[bool]], place: PlaceFilter, sort: str, offset: int, limit: int
) -> _Hits:
    ts = TrainingSession
    if place.centre and place.radius_km:
        lat, lon = place.centre
        rows = session.execute(
            select(ts.id, ts.latitude, ts.longitude, ts.start_date, ts.duration_hours).where(*conds)
        ).all()
        kept = []
        distances: dict[int, float] = {}
        for sid, la, lo, start, hours in rows:
            if la is None or lo is None:
                continue
            d = haversine_km(lat, lon, la, lo)
            if d <= place.radius_km:
                distances[sid] = d
                kept.append((sid, d, start or dt.date.max, hours if hours is not None else math.inf))
        if sort == "distance":
            kept.sort(key=lambda k: (k[1], k[2], k[0]))
        elif sort == "duree":
            kept.sort(key=lambda k: (k[3], k[2], k[0]))
        else:
            kept.sort(key=lambda k: (k[2], k[1], k[0]))
        page = [k[0] for k in kept[offset : offset + limit]]
        return _Hits(len(kept), page, {i: distances[i] for i in page})
    total = session.scalar(select(func.count()).select_from(ts).where(*conds)) or 0
    order: list[Any] = (
        [ts.duration_hours.nulls_last(), ts.start_date, ts.id] if sort == "duree" else [ts.start_date, ts.id]
    )
    ids = list(session.scalars(select(ts.id).where(*conds).order_by(*order).offset(offset).limit(limit)))
    return _Hits(total, ids, {})


def _brief(c: Certification | None) -> CertificationBrief | None:
    if c is None:
        return None
    return CertificationBrief(
        slug=c.slug, name=c.name, acronym=c.acronym, level_eu=c.level_eu, url=f"/certifications/{c.slug}"
    )


def item_fields(
    s: TrainingSession, cert: Certification | None, provider: str | None, index: PlaceIndex
) -> dict[str, Any]:
    commune = index.communes.get(s.commune_code or "")
    return {
        "id": s.id,
        "url": session_url(s.id),
        "title": s.title,
        "certification": _brief(cert),
        "provider": provider,
        "city": s.city or (commune.name if commune else None),
        "commune_code": s.commune_code,
        "departement": commune.departement_code if commune else None,
        "start_date": s.start_date,
        "end_date": s.end_date,
        "duration_hours": s.duration_hours,
        "modality": s.modality,
        "routes": list(s.routes or []),
        "cost_eur": float(s.cost_eur) if s.cost_eur is not None else None,
        "cpf_eligible": s.cpf_eligible,
        "funding": list(s.funding or []),
        "recruitment_state": s.recruitment_state,
        "places": s.places,
        "is_demo": s.is_demo,
    }


def _load_items(
    session: Session, ids: Sequence[int], index: PlaceIndex, distances: dict[int, float]
) -> list[SessionItem]:
    if not ids:
        return []
    rows = session.execute(
        select(TrainingSession, Certification, Provider.name)
        .outerjoin(Certification, Certification.id == TrainingSession.certification_id)
        .outerjoin(Provider, Provider.id == TrainingSession.provider_id)
        .where(TrainingSession.id.in_(ids))
    ).all()
    by_id = {
        s.id: SessionItem(**item_fields(s, c, p, index), distance_km=rounded_km(distances.get(s.id)))
        for s, c, p in rows
    }
    return [by_id[i] for i in ids if i in by_id]


def rounded_km(d: float | None) -> float | None:
    return round(d, 1) if d is not None else None


def search_sessions(
    session: Session,
    q: TrainingQuery,
    *,
    backend: SearchBackend | None = None,
    today: dt.date | None = None,
    page_size: int = PAGE_SIZE,
) -> TrainingResults:
    """Upcoming sessions matching ``q``, widened ``q.elargir`` steps, and further while nothing is found."""
    today = today or dt.date.today()
    index = place_index(session)
    base = _scope(session, backend, q)
    try:
        base_place = base.place(index)
    except ValueError as exc:
        raise BadCriterion(getattr(exc, "field", "lieu"), str(exc)) from None
    steps = _widening_steps(session, index, q, base)
    level = min(q.elargir, len(steps))
    sort = q.tri if q.tri != "distance" or base_place.centre else "date"
    offset = (q.page - 1) * page_size
    auto = hopeless = False
    while True:
        scope = steps[level - 1][1] if level else base
        place = scope.place(index)
        sort_here = sort if sort != "distance" or place.centre else "date"
        hits = _run(session, _conditions(scope, q, place, today), place, sort_here, offset, page_size)
        if hits.total or level >= len(steps):
            break
        if not auto:
            # Nothing here: when even the widest search finds nothing, say so at once (no step to offer).
            widest, widest_place = steps[-1][1], steps[-1][1].place(index)
            conds = _conditions(widest, q, widest_place, today)
            if not session.scalar(select(func.count()).select_from(TrainingSession).where(*conds)):
                hopeless = True
                break
        level += 1
        auto = True
    page = q.page
    if not hits.ids and hits.total:  # a page past the end (an old link): show the last one
        page = max(1, math.ceil(hits.total / page_size))
        hits = _run(session, _conditions(scope, q, place, today), place, sort_here, (page - 1) * page_size, page_size)
    region_label = region_total = None
    if place.region_code and (
        place.commune or len(place.departements) < len(index.departements_of_region(place.region_code))
    ):
        region_scope = replace(
            scope, commune=None, departement=None, radius_km=None, region=place.region_code, extra_departements=()
        )
        region_place = region_scope.place(index)
        region_label = region_place.label
        region_total = (
            session.scalar(
                select(func.count())
                .select_from(TrainingSession)
                .where(*_conditions(region_scope, q, region_place, today))
            )
            or 0
        )
    items = _load_items(session, hits.ids, index, hits.distances)
    return TrainingResults(
        query=q,
        place_label=place.label,
        total=hits.total,
        region_label=region_label,
        region_total=region_total,
        items=items,
        page=page,
        pages=max(1, math.ceil(hits.total / page_size)),
        widened=[Widening(level=i + 1, text=steps[i][0]) for i in range(level)],
        auto_widened=auto,
        next_widening=steps[level][0] if level < len(steps) and not hopeless else None,
        has_demo=any(i.is_demo for i in items),
    )


def export_sessions(
    session: Session, q: TrainingQuery, *, backend: SearchBackend | None = None, today: dt.date | None = None
) -> TrainingResults:
    """The same search, every page at once (up to ``EXPORT_LIMIT`` rows), for CSV exports."""
    return search_sessions(
        session, q.model_copy(update={"page": 1}), backend=backend, today=today, page_size=EXPORT_LIMIT
    )


def form_options(session: Session) -> dict[str, Any]:
    """Choices of the search form: régions, départements, occupations and certifications."""
    index = place_index(session)
    return {
        "regions": sorted(index.regions.items(), key=lambda x: x[1]),
        "departements": sorted(((c, n) for c, (n, _) in index.departements.items()), key=lambda x: x[0]),
        "occupations": session.execute(select(Occupation.slug, Occupation.name).order_by(Occupation.name)).all(),
        "certifications": session.execute(
            select(Certification.slug, Certification.name, Certification.acronym)
            .where(Certification.status != "abolished")
            .order_by(Certification.name)
        ).all(),
    }
