"""Job-offer search, offer page and the labour-market panel of an occupation (no HTTP here).

An offer is open while ``closed_at`` is empty (importers close offers that leave a full feed or expire).
Places work as for trainings: départements through the commune table, a radius as a bounding box in SQL
then the exact distance. A search that finds nothing widens as the training search does
(:mod:`passerelles.widening`: wider areas, related occupations, other contracts, all of France). The
panel's figures are computed from the offers stored here; « potentiel d'embauche » needs France Travail's
BMO survey, which is not imported yet: the panel says so.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from passerelles.occupations.models import Occupation, OccupationRome
from passerelles.offers import market
from passerelles.offers.market import monthly_full_time as monthly_full_time
from passerelles.offers.models import JobOffer
from passerelles.offers.schemas import (
    CONTRACTS,
    WORKING_TIMES,
    ApplyWay,
    ChartRow,
    MarketPanel,
    OfferDetail,
    OfferItem,
    OfferQuery,
    OfferResults,
    PayRange,
)
from passerelles.places.geo import bounding_box, haversine_km, haversine_sql
from passerelles.places.services import (
    PlaceFilter,
    PlaceIndex,
    UnknownPlace,
    in_departements,
    place_index,
    resolve_place,
)
from passerelles.reference.models import StructureType
from passerelles.rome.models import RomeFiche
from passerelles.search.text import fold
from passerelles.urls import query_string
from passerelles.widening.schemas import Dropped
from passerelles.widening.services import (
    Area,
    Scope,
    Step,
    area_level,
    distance_order,
    related_occupations,
    widening_steps,
)

PAGE_SIZE = 20
MAX_RADIUS_KM = 300
EXPORT_LIMIT = 5000
TREND_WEEKS = 8


class BadCriterion(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def offer_url(offer_id: int) -> str:
    return f"/emploi/offres/{offer_id}"


def occupation_rome_codes(session: Session, slug: str) -> list[str] | None:
    """The ROME codes the project tied to an occupation; ``None`` when the occupation is unknown."""
    occ_id = session.scalar(select(Occupation.id).where(Occupation.slug == slug))
    if occ_id is None:
        return None
    codes = session.scalars(
        select(OccupationRome.code_rome).where(OccupationRome.occupation_id == occ_id).order_by(OccupationRome.position)
    )
    return list(dict.fromkeys(codes))


def _place(index: PlaceIndex, q: OfferQuery) -> PlaceFilter:
    try:
        return resolve_place(index, region=q.region, departement=q.departement, commune=q.commune, radius_km=q.rayon)
    except UnknownPlace as exc:
        raise BadCriterion(exc.field, exc.message) from None


def _place_conditions(place: PlaceFilter) -> list[ColumnElement[bool]]:
    if place.centre and place.radius_km:  # the circle's bounding box (an index range), then the circle itself
        lat0, lat1, lon0, lon1 = bounding_box(place.centre[0], place.centre[1], place.radius_km)
        return [
            JobOffer.latitude.between(lat0, lat1),
            JobOffer.longitude.between(lon0, lon1),
            haversine_sql(JobOffer.latitude, JobOffer.longitude, place.centre) <= place.radius_km,
        ]
    if place.departements:
        return [in_departements(JobOffer.commune_code, place.departements)]
    return []


def _within(place: PlaceFilter, lat: float | None, lon: float | None) -> float | None:
    """Distance to the centre when inside the circle, else ``None`` (``0`` meaning « no circle »)."""
    if not (place.centre and place.radius_km):
        return 0.0
    if lat is None or lon is None:
        return None
    d = haversine_km(place.centre[0], place.centre[1], lat, lon)
    return d if d <= place.radius_km else None


def _what(session: Session, q: OfferQuery) -> tuple[list[ColumnElement[bool]], list[str] | None]:
    """The conditions on what is searched (occupation, ROME code, words), and the occupation's ROME codes."""
    conds: list[ColumnElement[bool]] = [JobOffer.closed_at.is_(None)]
    codes: list[str] | None = None
    if q.metier:
        codes = occupation_rome_codes(session, q.metier)
        if codes is None:
            raise BadCriterion("metier", f"Métier inconnu : {q.metier}")
    if q.code_rome:
        conds.append(JobOffer.code_rome == q.code_rome)
    if q.q:
        words = [w for w in q.q.replace("%", " ").replace("_", " ").split() if len(w) > 1][:6]
        if words:
            conds.append(and_(*(JobOffer.title.ilike(f"%{w}%") for w in words)))
    return conds, codes


@dataclass(frozen=True)
class _Counted:
    """Criteria the counts kept by the imports answer (:func:`market.count_open`): ROME codes, contracts,
    working time — not words nor a publication date."""

    codes: list[str] | None
    contracts: list[str] | None
    working_time: str | None


def _conditions(
    session: Session,
    q: OfferQuery,
    what: list[ColumnElement[bool]],
    codes: list[str] | None,
    scope: Scope,
    now: dt.datetime,
) -> tuple[list[ColumnElement[bool]], _Counted | None]:
    """The SQL conditions of a search, and the same criteria for the kept counts (``None``: not countable)."""
    conds = list(what)
    counted_codes = [q.code_rome] if q.code_rome else None
    if codes is not None:
        extra = _rome_codes_of(session, scope.extra) if scope.extra else []
        all_codes = list(dict.fromkeys([*codes, *extra]))
        conds.append(JobOffer.code_rome.in_(all_codes))
        counted_codes = [c for c in all_codes if c == q.code_rome] if q.code_rome else all_codes
    countable = len(what) == 1 + bool(q.code_rome)  # « closed_at IS NULL », the ROME code: no words
    if scope.secondary:
        if q.contrat:
            conds.append(JobOffer.contract_type.in_(q.contrat))
        if q.temps:
            conds.append(JobOffer.working_time == q.temps)
        if q.depuis:
            conds.append(JobOffer.published_at >= now - dt.timedelta(days=q.depuis))
            countable = False
    counted = (
        _Counted(
            counted_codes, list(q.contrat) or None if scope.secondary else None, q.temps if scope.secondary else None
        )
        if countable
        else None
    )
    return conds, counted


def _rome_codes_of(session: Session, occupation_ids: frozenset[int]) -> list[str]:
    return list(
        dict.fromkeys(
            session.scalars(
                select(OccupationRome.code_rome)
                .where(OccupationRome.occupation_id.in_(sorted(occupation_ids)))
                .order_by(OccupationRome.occupation_id, OccupationRome.position)
            )
        )
    )


def dropped_criteria(q: OfferQuery) -> list[Dropped]:
    """The secondary criteria set in ``q``, as a widening step drops them (« other contracts »…)."""
    out = []
    if q.contrat:
        value = ", ".join(CONTRACTS.get(c, c) for c in q.contrat)
        out.append(Dropped(params=["contrat"], label="type de contrat", value=value))
    if q.temps:
        out.append(Dropped(params=["temps"], label="temps de travail", value=WORKING_TIMES[q.temps].lower()))
    if q.depuis:
        value = "moins de 24 heures" if q.depuis == 1 else f"{q.depuis} jours au plus"
        out.append(Dropped(params=["depuis"], label="date de publication", value=value))
    return out


def _item_fields(o: JobOffer, index: PlaceIndex) -> dict[str, Any]:
    commune = index.communes.get(o.commune_code or "")
    return {
        "id": o.id,
        "url": offer_url(o.id),
        "title": o.title,
        "code_rome": o.code_rome,
        "employer": o.employer_name,
        "structure_type": o.structure_type,
        "contract_type": o.contract_type,
        "contract_text": o.contract_text,
        "working_time": o.working_time,
        "hours_per_week": o.hours_per_week,
        "salary_text": o.salary_text,
        "city": o.city or (commune.name if commune else None),
        "commune_code": o.commune_code,
        "departement": commune.departement_code if commune else None,
        "published_at": o.published_at,
        "is_demo": o.is_demo,
    }


def _run(
    session: Session,
    conds: list[ColumnElement[bool]],
    place: PlaceFilter,
    sort: str,
    offset: int,
    limit: int,
    centre: tuple[float, float] | None,
    counted: _Counted | None = None,
) -> tuple[int, list[int], dict[int, float]]:
    """(total, one page of ids, their distances): newest first, or nearest (around ``centre``). The total
    comes from the counts the imports keep when the criteria allow (see ``_Counted``), else from SQL."""
    where = [*conds, *_place_conditions(place)]
    circle = bool(place.centre and place.radius_km)
    if place.centre and place.radius_km:  # a circle: counted in SQL (the kept counts are per département)
        centre = place.centre
        total = session.scalar(select(func.count()).select_from(JobOffer).where(*where)) or 0
    else:
        total = _count(session, where, place, counted)
    if not limit or not total:  # nothing to page (a page query would walk every row for none)
        return total, [], {}
    order: list[Any] = [JobOffer.published_at.desc().nulls_last(), JobOffer.id.desc()]
    if sort == "distance" and centre:
        nearest = (
            [haversine_sql(JobOffer.latitude, JobOffer.longitude, centre)]
            if circle
            else distance_order(JobOffer.latitude, JobOffer.longitude, centre)
        )
        order = [*nearest, *order]
    page_rows = session.execute(
        select(JobOffer.id, JobOffer.latitude, JobOffer.longitude)
        .where(*where)
        .order_by(*order)
        .offset(offset)
        .limit(limit)
    ).all()
    near = {
        i: haversine_km(centre[0], centre[1], la, lo)
        for i, la, lo in page_rows
        if centre and la is not None and lo is not None
    }
    return total, [r[0] for r in page_rows], near


@dataclass
class _Found:
    """What an offer search found before its rows are loaded: one page of ids and what the page says."""

    total: int
    ids: list[int]
    distances: dict[int, float]
    place: PlaceFilter
    sort: str
    page: int
    level: int
    steps: list[Step]
    auto: bool
    hopeless: bool
    region_label: str | None = None
    region_total: int | None = None


def _find(session: Session, q: OfferQuery, now: dt.datetime, page_size: int, *, region: bool = True) -> _Found:
    """The search itself: widened ``q.elargir`` steps, and further while nothing is found; one page of ids
    (and, with ``region``, the count of the same search in the whole région)."""
    index = place_index(session)
    area = Area(q.region, q.departement, q.commune, q.rayon if q.commune else None)
    base_place = _place(index, q)
    what, codes = _what(session, q)
    related = related_occupations(session, q.metier) if q.metier else None
    steps = widening_steps(
        index,
        replace(area, radius_km=area.radius_km or 30) if area.commune else area,
        max_radius=MAX_RADIUS_KM,
        related=related,
        dropped=dropped_criteria(q),
    )
    base = Scope(area)
    level = min(q.elargir, len(steps))
    centre = base_place.centre
    auto = hopeless = False
    while True:
        scope = steps[level - 1].scope if level else base
        place = base_place if not level else scope.area.place(index)
        sort = q.tri or ("distance" if level and centre else "date")
        if sort == "distance" and not centre:
            sort = "date"
        conds, counted = _conditions(session, q, what, codes, scope, now)
        total, ids, distances = _run(session, conds, place, sort, (q.page - 1) * page_size, page_size, centre, counted)
        if total or level >= len(steps):
            break
        if not auto:
            widest = steps[-1].scope
            widest_conds, widest_counted = _conditions(session, q, what, codes, widest, now)
            if not _run(session, widest_conds, widest.area.place(index), "date", 0, 0, None, widest_counted)[0]:
                hopeless = True
                break
        level += 1
        auto = True
    page = min(q.page, max(1, math.ceil(total / page_size)))  # a page past the end shows the last one
    if page != q.page:
        total, ids, distances = _run(session, conds, place, sort, (page - 1) * page_size, page_size, centre, counted)
    found = _Found(total, ids, distances, place, sort, page, level, steps, auto, hopeless)
    if (
        region
        and place.region_code
        and (place.commune or len(place.departements) < len(index.departements_of_region(place.region_code)))
    ):
        region_place = resolve_place(index, region=place.region_code)
        found.region_label = region_place.label
        found.region_total = _count(session, [*conds, *_place_conditions(region_place)], region_place, counted)
    return found


def _count(session: Session, where: list[ColumnElement[bool]], place: PlaceFilter, counted: _Counted | None) -> int:
    """Open offers matching ``where`` in ``place`` (not a circle): from the kept counts when ``counted``."""
    if counted is not None and market.is_maintained(session):
        depts = place.departements or None
        return market.count_open(session, counted.codes, depts, counted.contracts, counted.working_time)
    return session.scalar(select(func.count()).select_from(JobOffer).where(*where)) or 0


def search_offers(
    session: Session, q: OfferQuery, *, now: dt.datetime | None = None, page_size: int = PAGE_SIZE
) -> OfferResults:
    """Open offers matching ``q``, newest first (or nearest), with the count in the person's région, widened
    ``q.elargir`` steps, and further while nothing is found."""
    f = _find(session, q, now or dt.datetime.now(dt.UTC), page_size)
    items = _load(session, f.ids, place_index(session), f.distances)
    steps, level = f.steps, f.level
    return OfferResults(
        query=q,
        place_label=f.place.label,
        total=f.total,
        region_label=f.region_label,
        region_total=f.region_total,
        items=items,
        page=f.page,
        pages=max(1, math.ceil(f.total / page_size)),
        sort=f.sort,
        widened=[steps[i].widening(i + 1) for i in range(level)],
        auto_widened=f.auto,
        next_widening=steps[level].text if level < len(steps) and not f.hopeless else None,
        restore_level=area_level(steps),
        has_demo=any(i.is_demo for i in items),
    )


def check_criteria(session: Session, q: OfferQuery) -> None:
    """Raise :class:`BadCriterion` as a search would, without searching (an export checks before it streams)."""
    _place(place_index(session), q)
    _what(session, q)


def export_batches(
    session: Session, q: OfferQuery, *, now: dt.datetime | None = None, batch: int = 500
) -> Iterator[list[OfferItem]]:
    """The rows of an export (the search's first ``EXPORT_LIMIT`` results, in its order), ``batch`` at a
    time: a CSV streams them, holding one batch in memory."""
    f = _find(session, q.model_copy(update={"page": 1}), now or dt.datetime.now(dt.UTC), EXPORT_LIMIT, region=False)
    index = place_index(session)
    for n in range(0, len(f.ids), batch):
        ids = f.ids[n : n + batch]
        yield _load(session, ids, index, {i: f.distances[i] for i in ids if i in f.distances})


def _load(session: Session, ids: Sequence[int], index: PlaceIndex, distances: dict[int, float]) -> list[OfferItem]:
    if not ids:
        return []
    by_id = {
        o.id: OfferItem(**_item_fields(o, index), distance_km=_km(distances.get(o.id)))
        for o in session.scalars(select(JobOffer).where(JobOffer.id.in_(ids)))
    }
    return [by_id[i] for i in ids if i in by_id]


def _km(d: float | None) -> float | None:
    return round(d, 1) if d is not None else None


FRANCE_TRAVAIL_HOSTS = ("francetravail.fr", "pole-emploi.fr", "francetravail.io")


def how_to_apply(offer: JobOffer) -> ApplyWay:
    """How one applies to an offer: on Passerelles (offers posted from the employers' space), through the
    demonstration flow (generated offers: nothing is sent), on the recruiter's page or address named by
    the feed, or not at all (closed)."""
    if offer.closed_at is not None:
        return ApplyWay(mode="closed")
    if offer.is_demo:
        return ApplyWay(mode="demo")
    if offer.source == "employeur":
        return ApplyWay(mode="passerelles")
    url = offer.apply_url or offer.url
    if url and not url.startswith(("https://", "http://")):
        url = None
    host = (urlsplit(url).hostname or "").removeprefix("www.") if url else ""
    name = (
        "France Travail"
        if host.endswith(FRANCE_TRAVAIL_HOSTS) or (not host and offer.source == "france_travail")
        else host
    )
    return ApplyWay(mode="external", url=url, email=offer.apply_email, source_name=name or offer.employer_name)


def get_offer(session: Session, offer_id: int) -> OfferDetail | None:
    o = session.get(JobOffer, offer_id)
    if o is None:
        return None
    index = place_index(session)
    commune = index.communes.get(o.commune_code or "")
    region = None
    if commune:
        rc = index.region_of_departement(commune.departement_code)
        region = index.regions.get(rc) if rc else None
    rome_label = occ_slug = occ_name = None
    if o.code_rome:
        rome_label = session.scalar(
            select(RomeFiche.libelle)
            .where(RomeFiche.code_rome == o.code_rome)
            .order_by(RomeFiche.rome_version.desc())
            .limit(1)
        )
        occ = session.execute(
            select(Occupation.slug, Occupation.name)
            .join(OccupationRome, OccupationRome.occupation_id == Occupation.id)
            .where(OccupationRome.code_rome == o.code_rome)
            .order_by(OccupationRome.main.desc(), Occupation.slug)
            .limit(1)
        ).first()
        if occ:
            occ_slug, occ_name = occ
    return OfferDetail(
        **_item_fields(o, index),
        description=o.description,
        appellation=o.appellation,
        rome_label=rome_label,
        occupation_slug=occ_slug,
        occupation_name=occ_name,
        postcode=o.postcode,
        region=region,
        salary_min=o.salary_min,
        salary_max=o.salary_max,
        salary_period=o.salary_period,
        night_work=o.night_work,
        weekend_work=o.weekend_work,
        positions=o.positions,
        source=o.source,
        external_id=o.external_id,
        source_url=o.url,
        apply_url=o.apply_url,
        apply_email=o.apply_email,
        start_on=o.start_on,
        requirements=o.requirements,
        how_to_apply=o.how_to_apply,
        apply=how_to_apply(o),
        updated_at=o.updated_at,
        valid_through=o.valid_through,
        closed_at=o.closed_at,
    )


# ---------------------------------------------------------------- labour-market panel


def _quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    pos = q * (len(values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def structure_labels(session: Session) -> dict[str, str]:
    return {
        slug: acronym or name
        for slug, acronym, name in session.execute(
            select(StructureType.slug, StructureType.acronym, StructureType.name)
        )
    }


PANEL_TTL_S = 300.0
_PANEL_CACHE_SIZE = 512
_panel_cache: dict[tuple[Any, ...], tuple[float, MarketPanel]] = {}
_panel_lock = threading.Lock()


def market_panel(
    session: Session,
    occupation_slug: str,
    *,
    region: str | None = None,
    departement: str | None = None,
    commune: str | None = None,
    rayon: int | None = None,
    now: dt.datetime | None = None,
) -> MarketPanel | None:
    """The labour-market panel, kept ``PANEL_TTL_S`` seconds per occupation and place (its figures come
    from aggregates the imports keep, see :mod:`passerelles.offers.market`: a few milliseconds even for a
    first view; the cache only spares the labels). ``now`` bypasses the cache."""
    if now is not None:
        return compute_market_panel(
            session, occupation_slug, region=region, departement=departement, commune=commune, rayon=rayon, now=now
        )
    bind = session.get_bind()
    key = (
        str(getattr(bind, "url", id(bind))),
        occupation_slug,
        region,
        departement,
        fold(commune) if commune else None,
        rayon,
        dt.date.today(),
    )
    clock = time.monotonic()
    found = _panel_cache.get(key)
    if found is not None and found[0] > clock:
        return found[1]
    panel = compute_market_panel(
        session, occupation_slug, region=region, departement=departement, commune=commune, rayon=rayon
    )
    if panel is not None:
        with _panel_lock:
            if len(_panel_cache) >= _PANEL_CACHE_SIZE:
                _panel_cache.clear()
            _panel_cache[key] = (clock + PANEL_TTL_S, panel)
    return panel


_circles: dict[tuple[str, int], tuple[str, ...]] = {}


def circle_departements(index: PlaceIndex, place: PlaceFilter) -> tuple[str, ...]:
    """The départements a circle touches: the commune's own, and those of every commune whose centre lies
    within the radius."""
    if place.commune is None or place.centre is None or not place.radius_km:
        return place.departements
    key = (place.commune.code_insee, place.radius_km)
    found = _circles.get(key)
    if found is None:
        lat0, lat1, lon0, lon1 = bounding_box(place.centre[0], place.centre[1], place.radius_km)
        depts = {place.commune.departement_code}
        for c in index.communes.values():
            if (
                c.latitude is not None
                and c.longitude is not None
                and c.departement_code not in depts
                and lat0 <= c.latitude <= lat1
                and lon0 <= c.longitude <= lon1
                and haversine_km(place.centre[0], place.centre[1], c.latitude, c.longitude) <= place.radius_km
            ):
                depts.add(c.departement_code)
        found = _circles[key] = tuple(sorted(depts))
    return found


def _figures_from_offers(session: Session, codes: list[str], place: PlaceFilter, week0: dt.date) -> market.Figures:
    """The panel's figures counted from the offers themselves (a store whose aggregates were never built)."""
    since = dt.datetime.combine(week0, dt.time(), tzinfo=dt.UTC)
    rows = session.execute(
        select(*(getattr(JobOffer, c) for c in market.FACT_COLUMNS), JobOffer.latitude, JobOffer.longitude).where(
            JobOffer.code_rome.in_(codes),
            or_(JobOffer.closed_at.is_(None), JobOffer.published_at >= since),
            *_place_conditions(place),
        )
    ).all()
    agg = market.Aggregates.empty()
    values: dict[str, list[float]] = {"l": [], "h": [], "m": []}  # exact amounts (the kept ones are binned)
    for row in rows:
        if place.centre and place.radius_km and _within(place, row[-2], row[-1]) is None:
            continue
        agg.add(row[:-2])
        (_, _, _, closed, contract, _, smin, smax, period, hours, *_) = row
        pay = market.pay_of(contract, smin, smax, period, hours) if closed is None else None
        if pay is not None:
            values["l"].append(pay[0])
            values["h"].append(pay[1])
            values["m"].append((pay[0] + pay[1]) / 2)
    contracts: Counter[str] = Counter()
    for (c, _d, k, _t), n in agg.open.items():
        if c:
            contracts[k] += n
    weeks: Counter[dt.date] = Counter()
    for (_c, _d, w), n in agg.weeks.items():
        if w >= week0:
            weeks[w] += n
    by_type: dict[str, set[str]] = {}
    offers_by: Counter[tuple[str, str, str]] = Counter()
    for (_c, _d, name, stype, city), n in agg.employers.items():
        by_type.setdefault(stype, set()).add(name)
        offers_by[(name, stype, city)] += n
    demo = any(n > 0 for (c, *_), n in agg.open_demo.items() if c) or any(
        n > 0 for (_c, _d, w), n in agg.weeks_demo.items() if w >= week0
    )
    return market.Figures(
        open_offers=sum(contracts.values()),
        contracts=dict(contracts),
        weeks=dict(weeks),
        pay_offers=len(values["m"]),
        pay_low=_quantile(values["l"], 0.1) if values["l"] else None,
        pay_median=_quantile(values["m"], 0.5) if values["m"] else None,
        pay_high=_quantile(values["h"], 0.9) if values["h"] else None,
        structures={s: len(names) for s, names in by_type.items()},
        employers=[
            (name, s, city, n) for (name, s, city), n in sorted(offers_by.items(), key=lambda x: (-x[1], x[0]))[:8]
        ],
        has_demo=demo,
    )


def compute_market_panel(
    session: Session,
    occupation_slug: str,
    *,
    region: str | None = None,
    departement: str | None = None,
    commune: str | None = None,
    rayon: int | None = None,
    now: dt.datetime | None = None,
) -> MarketPanel | None:
    """The labour-market panel of an occupation around a place; ``None`` when the occupation is unknown.

    Its figures come from the aggregates (:mod:`passerelles.offers.market`) once they describe the store:
    a circle around a commune then covers the départements it touches, as the panel says."""
    now = now or dt.datetime.now(dt.UTC)
    codes = occupation_rome_codes(session, occupation_slug)
    if codes is None:
        return None
    index = place_index(session)
    try:
        place = resolve_place(index, region=region, departement=departement, commune=commune, radius_km=rayon)
    except UnknownPlace as exc:
        raise BadCriterion(exc.field, exc.message) from None
    today = now.date()
    week0 = today - dt.timedelta(days=today.weekday()) - dt.timedelta(weeks=TREND_WEEKS - 1)
    circle = place.centre is not None and place.radius_km is not None
    place_label, area_note = place.label, None
    region_open = None
    aggregated = bool(codes) and market.is_maintained(session)
    if aggregated:
        depts: tuple[str, ...] | None = circle_departements(index, place) if circle else place.departements or None
        fig = market.figures(session, codes, depts, week0)
        if circle and place.commune is not None and depts:
            place_label = f"dans les départements à moins de {place.radius_km} km de {place.commune.name}"
            area_note = (
                f"Autour d'une commune, ces chiffres portent sur les départements entiers à moins de "
                f"{place.radius_km} km : " + ", ".join(index.departement_label(d) for d in depts) + "."
            )
    elif codes:
        fig = _figures_from_offers(session, codes, place, week0)
    else:
        fig = market.Figures(0, {}, {}, 0, None, None, None, {}, [], False)
    trend = [
        ChartRow(
            label=f"sem. du {(week0 + dt.timedelta(weeks=i)).strftime('%d/%m')}",
            value=fig.weeks.get(week0 + dt.timedelta(weeks=i), 0),
        )
        for i in range(TREND_WEEKS)
    ]
    contract_rows = [
        ChartRow(label=CONTRACTS.get(c, c) if c else "Non précisé", value=n)
        for c, n in sorted(fig.contracts.items(), key=lambda x: (-x[1], x[0] or "?"))
    ]
    pay = (
        PayRange(
            offers=fig.pay_offers,
            low=round(fig.pay_low, -1),
            median=round(fig.pay_median, -1),
            high=round(fig.pay_high, -1),
        )
        if fig.pay_offers and fig.pay_low is not None and fig.pay_median is not None and fig.pay_high is not None
        else None
    )
    labels = structure_labels(session)
    structures = [
        ChartRow(label=labels.get(s, s) if s else "Type non précisé", value=n)
        for s, n in sorted(fig.structures.items(), key=lambda x: (-x[1], x[0]))
    ]
    employers = [
        ChartRow(label=name, value=n, note=", ".join(x for x in (labels.get(st, st) if st else "", city) if x))
        for name, st, city, n in fig.employers
    ]
    region_label = None
    if place.region_code and (
        place.commune or len(place.departements) < len(index.departements_of_region(place.region_code))
    ):
        region_place = resolve_place(index, region=place.region_code)
        region_label = region_place.label
        if aggregated:
            region_open = market.open_offers(session, codes, region_place.departements)
        else:
            region_open = (
                session.scalar(
                    select(func.count())
                    .select_from(JobOffer)
                    .where(
                        JobOffer.code_rome.in_(codes), JobOffer.closed_at.is_(None), *_place_conditions(region_place)
                    )
                )
                or 0
            )
    search = {
        "metier": occupation_slug,
        "region": region,
        "departement": departement,
        "commune": commune,
        "rayon": rayon,
    }
    return MarketPanel(
        occupation=occupation_slug,
        rome_codes=codes,
        place_label=place_label,
        area_note=area_note,
        open_offers=fig.open_offers,
        region_label=region_label,
        region_open_offers=region_open,
        trend=trend,
        contracts=contract_rows,
        pay=pay,
        structures=structures,
        employers=employers,
        bmo_available=False,
        has_demo=fig.has_demo,
        search_url="/emploi?" + query_string(search),
        trainings_url="/formations?" + query_string(search),
    )


OFFER_CSV_HEADER = (
    "numéro",
    "intitulé",
    "code ROME",
    "employeur",
    "type de structure",
    "contrat",
    "temps de travail",
    "heures par semaine",
    "salaire",
    "commune",
    "code INSEE",
    "département",
    "publiée le",
    "distance (km)",
    "données de démonstration",
    "adresse de la page",
)


def offer_csv_row(o: OfferItem) -> tuple[Any, ...]:
    return (
        o.id,
        o.title,
        o.code_rome,
        o.employer,
        o.structure_type,
        o.contract_type,
        o.working_time,
        o.hours_per_week,
        o.salary_text,
        o.city,
        o.commune_code,
        o.departement,
        o.published_at.date().isoformat() if o.published_at else None,
        o.distance_km,
        o.is_demo,
        o.url,
    )
