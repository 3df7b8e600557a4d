"""Training search and listing (no HTTP here: pages, API and exports call these); one session's page, the
comparison and the exports' rows are in :mod:`trainings.sessions`.

Structured criteria are queried in the database; free text goes through the search backend (occupations
and certifications it recognises) and a match on the session title. A radius around a commune is a
bounding box in SQL, then the exact great-circle distance in Python.

« Élargir » widens step by step (:mod:`passerelles.widening`, shared with the job-offer search) and says
what each step widened. When a search finds nothing and a wider one finds something, the wider one is
shown: never an empty page for nothing. After a widening around a commune, the nearest sessions come first.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, or_, select
from sqlalchemy.orm import Session

from passerelles.certifications.models import Certification, OccupationCertification
from passerelles.occupations.models import Occupation
from passerelles.outcomes.services import insertion_page
from passerelles.places.geo import bounding_box, haversine_km, haversine_sql
from passerelles.places.services import PlaceFilter, PlaceIndex, commune_range, in_departements, place_index
from passerelles.search.services import SearchBackend
from passerelles.trainings.counts import count_sessions
from passerelles.trainings.models import ROUTE_BITS, Provider, TrainingSession
from passerelles.trainings.schemas import (
    FUNDERS,
    CertificationBrief,
    SessionItem,
    TrainingQuery,
    TrainingResults,
)
from passerelles.widening.schemas import Dropped
from passerelles.widening.services import (
    Area,
    Related,
    Scope,
    Step,
    area_level,
    distance_order,
    related_certifications,
    widening_steps,
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


@dataclass(frozen=True)
class _What:
    """What is searched: certifications (from the criteria or recognised in the text), words, a level."""

    cert_ids: frozenset[int] | None
    text: str | None
    level: int | None


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


def _scope(session: Session, backend: SearchBackend | None, q: TrainingQuery) -> tuple[_What, Area]:
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
    return _What(cert_ids, text, q.niveau), Area(q.region, q.departement, q.commune, radius)


def dropped_criteria(q: TrainingQuery, labels: dict[str, dict[str, str]]) -> list[Dropped]:
    """The secondary criteria set in ``q``, as a widening step drops them (with what the person chose)."""
    out = []
    if q.voie:
        out.append(Dropped(params=["voie"], label="voie d'accès", value=labels["routes"].get(q.voie, q.voie)))
    if q.modalite:
        out.append(Dropped(params=["modalite"], label="modalité", value=labels["modalities"].get(q.modalite, "")))
    if q.debut_min or q.debut_max:
        span = " ".join(
            x
            for x in (
                f"à partir du {q.debut_min:%d/%m/%Y}" if q.debut_min else "",
                f"au plus tard le {q.debut_max:%d/%m/%Y}" if q.debut_max else "",
            )
            if x
        )
        out.append(Dropped(params=["debut_min", "debut_max"], label="dates de début", value=span))
    if q.duree_max:
        out.append(Dropped(params=["duree_max"], label="durée", value=f"{q.duree_max} h au plus"))
    if q.cout_max is not None:
        out.append(Dropped(params=["cout_max"], label="coût", value=f"{q.cout_max} € au plus"))
    if q.cpf:
        out.append(Dropped(params=["cpf"], label="CPF", value="éligible au CPF"))
    if q.financement:
        value = labels["funders"].get(q.financement, q.financement)
        out.append(Dropped(params=["financement"], label="financement", value=value))
    if q.places:
        out.append(Dropped(params=["places"], label="places restantes", value="inscriptions ouvertes"))
    if q.inscriptions:
        out.append(Dropped(params=["inscriptions"], label="inscriptions", value="ouvertes aujourd'hui"))
    return out


_LABELS = {
    "routes": {
        "initiale": "formation initiale",
        "continue": "formation continue",
        "apprentissage": "apprentissage",
        "vae": "VAE",
    },
    "modalities": {"presentiel": "sur place", "distance": "à distance", "mixte": "mixte"},
}


def _steps(session: Session, index: PlaceIndex, q: TrainingQuery, what: _What, area: Area) -> list[Step]:
    related: Related | None = related_certifications(session, what.cert_ids) if what.cert_ids else None
    labels = {**_LABELS, "funders": FUNDERS}
    return widening_steps(index, area, max_radius=MAX_RADIUS_KM, related=related, dropped=dropped_criteria(q, labels))


# ---------------------------------------------------------------- queries


def _json_has(column: Any, value: str) -> ColumnElement[bool]:
    # JSON lists are stored as text on SQLite and as json on PostgreSQL: both read back as '["a", "b"]'.
    return cast(column, String).like(f'%"{value}"%')


def _conditions(
    what: _What, scope: Scope, q: TrainingQuery, place: PlaceFilter, today: dt.date
) -> list[ColumnElement[bool]]:
    ts = TrainingSession
    # A summary (LHÉO léger) linked to its full offer's session is left out: that session stands for it.
    conds: list[ColumnElement[bool]] = [ts.start_date >= today, ts.closed_at.is_(None), ts.full_session_id.is_(None)]
    certs = (what.cert_ids or frozenset()) | scope.extra
    if certs:
        conds.append(ts.certification_id.in_(sorted(certs)))
    if what.text:
        # An occupation or certification and words: sessions of it whose title has the words.
        words = [w for w in what.text.replace("%", " ").replace("_", " ").split() if len(w) > 1][:6]
        if words:
            conds.append(and_(*(ts.title.ilike(f"%{w}%") for w in words)))
    if what.level:
        conds.append(ts.certification_id.in_(select(Certification.id).where(Certification.level_eu == what.level)))
    if place.centre and place.radius_km:  # the circle's bounding box (an index range), then the circle itself
        lat0, lat1, lon0, lon1 = bounding_box(place.centre[0], place.centre[1], place.radius_km)
        conds += [ts.latitude.between(lat0, lat1), ts.longitude.between(lon0, lon1)]
        conds.append(haversine_sql(ts.latitude, ts.longitude, place.centre) <= place.radius_km)
    elif len(place.departements) == 1:  # a range of commune codes, read in the sessions' commune index
        conds += commune_range(ts.commune_code, place.departements[0])
    elif place.departements:
        conds.append(in_departements(ts.commune_code, place.departements))
    if scope.secondary:
        if q.voie:  # the routes' bits: held by the listed indexes, unlike the JSON list
            conds.append(ts.route_mask.op("&")(ROUTE_BITS.get(q.voie, 0)) != 0)
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
        if q.inscriptions:
            conds.append(registration_open(today))
    return conds


def registration_open(today: dt.date) -> ColumnElement[bool]:
    """Sessions known to take registrations ``today``: the period (where given) holds today, the
    recruitment is neither closed nor suspended, and one of them says so (see sessions.registration_status)."""
    ts = TrainingSession
    return and_(
        or_(ts.recruitment_state.is_(None), ts.recruitment_state == "ouvert"),
        or_(ts.registration_start.is_(None), ts.registration_start <= today),
        or_(ts.registration_end.is_(None), ts.registration_end >= today),
        or_(ts.recruitment_state == "ouvert", ts.registration_start.is_not(None), ts.registration_end.is_not(None)),
    )


def _any(session: Session, conds: list[ColumnElement[bool]]) -> bool:
    """Whether any session matches (stops at the first: cheaper than a count)."""
    return session.scalar(select(TrainingSession.id).where(*conds).limit(1)) is not None


@dataclass
class _Hits:
    total: int
    ids: list[int]
    distances: dict[int, float]


def _run(
    session: Session,
    conds: list[ColumnElement[bool]],
    place: PlaceFilter,
    sort: str,
    offset: int,
    limit: int,
    centre: tuple[float, float] | None = None,
) -> _Hits:
    """One page of sessions; ``centre`` (the commune searched around) orders by distance outside a circle."""
    ts = TrainingSession
    if place.centre and place.radius_km:  # around the circle's own centre (its conditions hold the circle)
        centre = place.centre
    total = count_sessions(session, conds)
    order: list[Any] = (
        [ts.duration_hours.nulls_last(), ts.start_date, ts.id] if sort == "duree" else [ts.start_date, ts.id]
    )
    if sort == "distance" and centre:
        nearest = (
            [haversine_sql(ts.latitude, ts.longitude, centre)]
            if place.centre and place.radius_km
            else distance_order(ts.latitude, ts.longitude, centre)
        )
        order = [*nearest, ts.start_date, ts.id]
    if not limit or not total:  # nothing to page (a page query would walk every row for none)
        return _Hits(total, [], {})
    if sort == "insertion":  # the best employment rate first (InserJeunes), then the date
        wanted = insertion_page(session, conds, offset, limit)
        found = {r[0]: r for r in session.execute(select(ts.id, ts.latitude, ts.longitude).where(ts.id.in_(wanted)))}
        page_rows: Sequence[Any] = [found[i] for i in wanted]
    else:
        page_rows = session.execute(
            select(ts.id, ts.latitude, ts.longitude).where(*conds).order_by(*order).offset(offset).limit(limit)
        ).all()
    distances = (
        {i: haversine_km(centre[0], centre[1], la, lo) for i, la, lo in page_rows if la is not None and lo is not None}
        if centre
        else {}
    )
    return _Hits(total, [r[0] for r in page_rows], distances)


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


@dataclass
class _Found:
    """What a search found before its rows are loaded: one page of ids, and what the page says about them."""

    hits: _Hits
    place: PlaceFilter
    sort: str
    page: int
    level: int
    steps: list[Step]
    auto: bool
    hopeless: bool
    region_label: str | None = None
    region_total: int | None = None


def _find(
    session: Session,
    q: TrainingQuery,
    backend: SearchBackend | None,
    today: dt.date,
    page_size: int,
    *,
    region: bool = True,
) -> _Found:
    """The search itself: widened ``q.elargir`` steps, and further while nothing is found; one page of ids
    (and, with ``region``, the count of the same search in the whole région)."""
    index = place_index(session)
    what, area = _scope(session, backend, q)
    base = Scope(area)
    try:
        base_place = area.place(index)
    except ValueError as exc:
        raise BadCriterion(getattr(exc, "field", "lieu"), str(exc)) from None
    steps = _steps(session, index, q, what, area)
    level = min(q.elargir, len(steps))
    centre = base_place.centre
    offset = (q.page - 1) * page_size
    auto = hopeless = False
    while True:
        scope = steps[level - 1].scope if level else base
        place = scope.area.place(index)
        # Asked for, or by default the date; once widened around a commune, the nearest first.
        sort = q.tri or ("distance" if level and centre else "date")
        if sort == "distance" and not centre:
            sort = "date"
        conds = _conditions(what, scope, q, place, today)
        hits = _run(session, conds, place, sort, offset, page_size, centre)
        if hits.total or level >= len(steps):
            break
        if not auto:
            # Nothing here: when even the widest search finds nothing, say so at once (no step to offer).
            widest = steps[-1].scope
            widest_place = widest.area.place(index)
            if not _any(session, _conditions(what, widest, q, widest_place, today)):
                hopeless = True
                break
        level += 1
        auto = True
    page = q.page
    if not hits.ids and hits.total:  # a page past the end (an old link): show the last one
        page = max(1, math.ceil(hits.total / page_size))
        hits = _run(session, conds, place, sort, (page - 1) * page_size, page_size, centre)
    found = _Found(hits, place, sort, page, level, steps, auto, hopeless)
    if (
        region
        and place.region_code
        and (place.commune or len(place.departements) < len(index.departements_of_region(place.region_code)))
    ):
        region_scope = replace(scope, area=Area(region=place.region_code))
        region_place = region_scope.area.place(index)
        found.region_label = region_place.label
        found.region_total = count_sessions(session, _conditions(what, region_scope, q, region_place, today))
    return found


def search_sessions(
    session: Session,
    q: TrainingQuery,
    *,
    backend: SearchBackend | None = None,
    today: dt.date | None = None,
    page_size: int = PAGE_SIZE,
) -> TrainingResults:
    """Upcoming sessions matching ``q``, widened ``q.elargir`` steps, and further while nothing is found."""
    f = _find(session, q, backend, today or dt.date.today(), page_size)
    items = _load_items(session, f.hits.ids, place_index(session), f.hits.distances)
    steps, level = f.steps, f.level
    return TrainingResults(
        query=q,
        place_label=f.place.label,
        total=f.hits.total,
        region_label=f.region_label,
        region_total=f.region_total,
        items=items,
        page=f.page,
        pages=max(1, math.ceil(f.hits.total / page_size)),
        sort=f.sort,
        widened=[steps[i].widening(i + 1) for i in range(level)],
        auto_widened=f.auto,
        next_widening=steps[level].text if level < len(steps) and not f.hopeless else None,
        restore_level=area_level(steps),
        has_demo=any(i.is_demo for i in items),
    )


def check_criteria(session: Session, q: TrainingQuery, *, backend: SearchBackend | None = None) -> None:
    """Raise :class:`BadCriterion` as a search would, without searching (an export checks before it streams)."""
    _, area = _scope(session, backend, q)
    try:
        area.place(place_index(session))
    except ValueError as exc:
        raise BadCriterion(getattr(exc, "field", "lieu"), str(exc)) from None


def export_batches(
    session: Session,
    q: TrainingQuery,
    *,
    backend: SearchBackend | None = None,
    today: dt.date | None = None,
    batch: int = 500,
) -> Iterator[list[SessionItem]]:
    """The rows of an export (the search's first ``EXPORT_LIMIT`` results, in its order), ``batch`` at a
    time: a CSV streams them, holding one batch in memory."""
    f = _find(session, q.model_copy(update={"page": 1}), backend, today or dt.date.today(), EXPORT_LIMIT, region=False)
    index = place_index(session)
    for n in range(0, len(f.hits.ids), batch):
        ids = f.hits.ids[n : n + batch]
        yield _load_items(session, ids, index, {i: f.hits.distances[i] for i in ids if i in f.hits.distances})


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
