"""The labour-market panel's aggregates: kept by whatever writes offers, read by the panel.

A panel used to be computed per request from every matching offer (a second or more at a million offers,
cached five minutes per process). The figures it shows are sums, so they are kept per ROME code ×
département (see the ``OfferMarket*`` tables in ``offers.models``) and a panel adds up a few hundred rows:

- the offers import recomputes every aggregate at its end (:func:`refresh_market`, one pass over the open
  offers and those published in the last ``KEEP_WEEKS`` weeks, swapped in one transaction);
- an offer added, changed or removed through the ORM (employers' space, expiry) adjusts them at its flush
  (:func:`_offers_flushed`: minus its old values, plus its new ones), in the same transaction;
- pay is kept as histogram bins of ``PAY_BIN`` euros, so that deciles and median over any union of départements
  come out of the summed bins.

A circle around a commune is counted on the départements it touches (the panel says so in plain words).
Until a first refresh has described the whole store (``OfferMarketState``), the panel is computed from
the offers themselves, as before.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, delete, event, func, insert, or_, select, update
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.base import NO_VALUE

from passerelles.offers.models import (
    JobOffer,
    OfferMarketCommune,
    OfferMarketEmployer,
    OfferMarketOpen,
    OfferMarketPay,
    OfferMarketState,
    OfferMarketWeek,
)

ALTERNANCE = ("APP", "PRO")
HOURS_PER_MONTH = 151.67  # 35 h a week, the French legal full-time month
NO_EMPLOYER = "Employeur non précisé"
KEEP_WEEKS = 26  # closed offers count in the trend for the weeks they were published in: the last half-year
INSERT_CHUNK = 5000
PAY_BIN = 10  # euros: the panel shows pay rounded to ten euros
ALL_FRANCE = "*"  # the pay bins of all départements summed, kept as a département of their own

# What the panel reads from an offer, in this order.
FACT_COLUMNS = (
    "code_rome",
    "commune_code",
    "published_at",
    "closed_at",
    "contract_type",
    "working_time",
    "salary_min",
    "salary_max",
    "salary_period",
    "hours_per_week",
    "structure_type",
    "employer_name",
    "city",
    "is_demo",
)


def departement_of(commune_code: str | None) -> str:
    """The département of an INSEE commune code (its prefix: ``2A``, ``974``), "" when unknown — the same
    rule as ``places.services.in_departements``."""
    if not commune_code:
        return ""
    return commune_code[:3] if commune_code.startswith("97") else commune_code[:2]


def monthly_full_time(amount: float, period: str | None, hours_per_week: float | None) -> float | None:
    """A pay amount as gross monthly full-time equivalent (35 h), or ``None`` for an unknown period."""
    if period == "heure":
        return amount * HOURS_PER_MONTH
    if period == "an":
        return amount / 12
    if period == "mois":
        if hours_per_week and 0 < hours_per_week < 35:
            return amount * 35 / hours_per_week
        return amount
    return None


def pay_of(
    contract: str | None, smin: float | None, smax: float | None, period: str | None, hours: float | None
) -> tuple[float, float] | None:
    """(low, high) of an offer's pay, monthly full-time equivalent; ``None`` when it does not count
    (alternance, no amount, unknown period, outside 500–50 000 €)."""
    if contract in ALTERNANCE or smin is None:
        return None
    lo = monthly_full_time(smin, period, hours)
    hi = monthly_full_time(smax or smin, period, hours)
    if lo is None or hi is None or not 500 <= lo <= 50_000:
        return None
    return lo, hi


@dataclass
class Aggregates:
    """Counts to add (or, with negative values, to take away), keyed as the tables are."""

    weeks: Counter[tuple[str, str, dt.date]]
    weeks_demo: Counter[tuple[str, str, dt.date]]
    open: Counter[tuple[str, str, str, str]]
    open_demo: Counter[tuple[str, str, str, str]]
    pay: Counter[tuple[str, str, str, int]]
    employers: Counter[tuple[str, str, str, str, str]]
    communes: Counter[tuple[str, str]]
    communes_demo: Counter[tuple[str, str]]

    @classmethod
    def empty(cls) -> Aggregates:
        return cls(Counter(), Counter(), Counter(), Counter(), Counter(), Counter(), Counter(), Counter())

    def add(self, row: Sequence[Any], sign: int = 1) -> None:
        """Count one offer (``row``: the values of ``FACT_COLUMNS``), or with ``sign=-1`` take it away."""
        (code, commune, published, closed, contract, wtime, smin, smax, period, hours, stype, employer, city, demo) = (
            row
        )
        dept = departement_of(commune)
        if closed is None:
            key = (code or "", dept, contract or "", wtime or "")
            self.open[key] += sign
            if demo:
                self.open_demo[key] += sign
            if commune:
                self.communes[(code or "", commune)] += sign
                if demo:
                    self.communes_demo[(code or "", commune)] += sign
        if not code:
            return
        if published is not None:
            day = published.date()
            week = (code, dept, day - dt.timedelta(days=day.weekday()))
            self.weeks[week] += sign
            if demo:
                self.weeks_demo[week] += sign
        if closed is not None:
            return
        self.employers[(code, dept, employer or NO_EMPLOYER, stype or "", city or "")] += sign
        pay = pay_of(contract, smin, smax, period, hours)
        if pay is not None:
            lo, hi = pay
            for kind, value in (("l", lo), ("h", hi), ("m", (lo + hi) / 2)):
                euros = PAY_BIN * round(value / PAY_BIN)
                self.pay[(code, dept, kind, euros)] += sign
                self.pay[(code, ALL_FRANCE, kind, euros)] += sign  # a few hundred bins for all of France

    def rows(self) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
        """(table, rows) with every non-zero count, for inserting into empty tables."""
        yield (
            OfferMarketWeek.__table__,
            [
                {"code_rome": c, "departement": d, "week": w, "offers": n, "demo": self.weeks_demo.get((c, d, w), 0)}
                for (c, d, w), n in self.weeks.items()
                if n > 0
            ],
        )
        yield (
            OfferMarketOpen.__table__,
            [
                {
                    "code_rome": c,
                    "departement": d,
                    "contract_type": k,
                    "working_time": t,
                    "offers": n,
                    "demo": self.open_demo.get((c, d, k, t), 0),
                }
                for (c, d, k, t), n in self.open.items()
                if n > 0
            ],
        )
        yield (
            OfferMarketPay.__table__,
            [
                {"code_rome": c, "departement": d, "kind": k, "euros": e, "offers": n}
                for (c, d, k, e), n in self.pay.items()
                if n > 0
            ],
        )
        yield (
            OfferMarketEmployer.__table__,
            [
                {
                    "code_rome": c,
                    "departement": d,
                    "employer_name": name,
                    "structure_type": s,
                    "city": city,
                    "offers": n,
                }
                for (c, d, name, s, city), n in self.employers.items()
                if n > 0
            ],
        )
        yield (
            OfferMarketCommune.__table__,
            [
                {
                    "code_rome": c,
                    "commune_code": k,
                    "departement": departement_of(k),
                    "offers": n,
                    "demo": self.communes_demo.get((c, k), 0),
                }
                for (c, k), n in self.communes.items()
                if n > 0
            ],
        )


TABLES = (OfferMarketWeek, OfferMarketOpen, OfferMarketPay, OfferMarketEmployer, OfferMarketCommune)


@dataclass
class RefreshReport:
    offers: int
    rows: int
    seconds: float

    def as_text(self) -> str:
        return f"Marché du travail : {self.offers} offres agrégées en {self.rows} lignes, {self.seconds:.1f} s"


def refresh_market(engine: Engine, *, now: dt.datetime | None = None) -> RefreshReport:
    """Recompute every aggregate from the offers (open ones, and those published in the last ``KEEP_WEEKS``
    weeks), then swap them in one transaction: readers see the old figures until the commit."""
    start = time.perf_counter()
    now = now or dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(weeks=KEEP_WEEKS)
    t = JobOffer.__table__.c
    agg = Aggregates.empty()
    seen = 0
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=20000).execute(
            select(*(t[c] for c in FACT_COLUMNS)).where(or_(t.closed_at.is_(None), t.published_at >= since))
        )
        for row in result:
            agg.add(row)
            seen += 1
    written = 0
    with engine.begin() as conn:
        for model in (*TABLES, OfferMarketState):
            conn.execute(delete(model))
        for table, rows in agg.rows():
            for n in range(0, len(rows), INSERT_CHUNK):
                conn.execute(insert(table), rows[n : n + INSERT_CHUNK])
            written += len(rows)
        seconds = time.perf_counter() - start
        conn.execute(insert(OfferMarketState).values(id=1, refreshed_at=now, offers=seen, seconds=seconds))
    if engine.dialect.name == "postgresql":
        # Tables rewritten whole: without fresh statistics PostgreSQL plans their reads for a few rows.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for model in TABLES:
                conn.exec_driver_sql(f"ANALYZE {model.__tablename__}")
    return RefreshReport(seen, written, time.perf_counter() - start)


def is_maintained(conn: Connection | Session) -> bool:
    """Whether the aggregates describe the whole store (else the panel counts the offers themselves)."""
    return conn.scalar(select(OfferMarketState.id).limit(1)) is not None


def apply_changes(conn: Connection, agg: Aggregates) -> None:
    """Add ``agg``'s counts (positive or negative) to the tables, removing rows that fall to zero."""
    keyed: list[tuple[Any, tuple[str, ...], Counter[Any], Counter[Any] | None]] = [
        (OfferMarketWeek, ("code_rome", "departement", "week"), agg.weeks, agg.weeks_demo),
        (OfferMarketOpen, ("code_rome", "departement", "contract_type", "working_time"), agg.open, agg.open_demo),
        (OfferMarketPay, ("code_rome", "departement", "kind", "euros"), agg.pay, None),
        (
            OfferMarketEmployer,
            ("code_rome", "departement", "employer_name", "structure_type", "city"),
            agg.employers,
            None,
        ),
    ]
    keyed.append((OfferMarketCommune, ("code_rome", "commune_code"), agg.communes, agg.communes_demo))
    for model, names, counts, demo in keyed:
        table = model.__table__
        for key in set(counts) | set(demo or ()):
            n = counts.get(key, 0)
            d = demo.get(key, 0) if demo is not None else 0
            if not n and not d:
                continue
            where = [table.c[name] == value for name, value in zip(names, key, strict=True)]
            values: dict[str, Any] = {"offers": table.c.offers + n}
            if demo is not None:
                values["demo"] = table.c.demo + d
            changed = conn.execute(update(table).where(*where).values(**values)).rowcount
            if not changed and n > 0:
                row = dict(zip(names, key, strict=True)) | {"offers": n}
                if model is OfferMarketCommune:
                    row["departement"] = departement_of(key[1])
                if demo is not None:
                    row["demo"] = max(d, 0)
                conn.execute(insert(table).values(**row))
            elif n < 0:
                conn.execute(delete(table).where(*where, table.c.offers <= 0))


def _values(offer: JobOffer, old: bool) -> tuple[Any, ...]:
    """An offer's ``FACT_COLUMNS``, as they are now or (``old``) as the database holds them before this flush."""
    if not old:
        return tuple(getattr(offer, c) for c in FACT_COLUMNS)
    state = instance_state(offer)
    out = []
    for c in FACT_COLUMNS:
        history = state.attrs[c].history
        if history.deleted:
            value = history.deleted[0]
        elif history.unchanged:
            value = history.unchanged[0]
        else:
            value = state.committed_state.get(c, getattr(offer, c))
        out.append(None if value is NO_VALUE else value)
    return tuple(out)


@event.listens_for(Session, "after_flush")
def _offers_flushed(session: Session, _context: UOWTransaction) -> None:
    """Offers written through the ORM keep the aggregates true, in the flush's own transaction."""
    new = [o for o in session.new if isinstance(o, JobOffer)]
    dirty = [o for o in session.dirty if isinstance(o, JobOffer) and session.is_modified(o)]
    gone = [o for o in session.deleted if isinstance(o, JobOffer)]
    if not (new or dirty or gone):
        return
    conn = session.connection()
    if not is_maintained(conn):
        return
    agg = Aggregates.empty()
    for o in new:
        agg.add(_values(o, old=False))
    for o in dirty:
        agg.add(_values(o, old=True), -1)
        agg.add(_values(o, old=False))
    for o in gone:
        agg.add(_values(o, old=True), -1)
    apply_changes(conn, agg)


# ---------------------------------------------------------------- reading a panel's figures


@dataclass
class Figures:
    """A panel's figures for some ROME codes over some départements (``None``: all of France)."""

    open_offers: int
    contracts: dict[str, int]  # contract type ("" unknown) → open offers
    weeks: dict[dt.date, int]  # Monday → offers published that week
    pay_offers: int
    pay_low: float | None
    pay_median: float | None
    pay_high: float | None
    structures: dict[str, int]  # structure type ("" unknown) → employers with an open offer
    employers: list[tuple[str, str, str, int]]  # (name, structure type, city, open offers), most first
    has_demo: bool


def _where(model: Any, codes: Sequence[str], departements: Iterable[str] | None) -> list[Any]:
    conds = [model.code_rome.in_(list(codes))]
    if departements is not None:
        conds.append(model.departement.in_(sorted(departements)))
    return conds


def multiset_quantile(bins: list[tuple[int, int]], q: float) -> float:
    """The ``q`` quantile (linear interpolation, as ``statistics.quantiles``' inclusive method) of a
    multiset given as sorted (value, count) pairs."""
    n = sum(c for _, c in bins)
    pos = q * (n - 1)
    lo_rank = int(pos)
    hi_rank = min(lo_rank + 1, n - 1)
    lo_value: int | None = None
    hi_value = bins[-1][0]
    seen = 0
    for value, count in bins:
        if lo_value is None and lo_rank < seen + count:
            lo_value = value
        if hi_rank < seen + count:
            hi_value = value
            break
        seen += count
    if lo_value is None:
        lo_value = hi_value
    return lo_value + (hi_value - lo_value) * (pos - lo_rank)


def open_offers(session: Session, codes: Sequence[str], departements: Iterable[str] | None) -> int:
    m = OfferMarketOpen
    return int(session.scalar(select(func.coalesce(func.sum(m.offers), 0)).where(*_where(m, codes, departements))) or 0)


def figures(
    session: Session, codes: Sequence[str], departements: Iterable[str] | None, since: dt.date, top: int = 8
) -> Figures:
    depts = sorted(departements) if departements is not None else None
    o, w, p, e = OfferMarketOpen, OfferMarketWeek, OfferMarketPay, OfferMarketEmployer
    contracts: dict[str, int] = {}
    demo = 0
    for contract, n, d in session.execute(
        select(o.contract_type, func.sum(o.offers), func.sum(o.demo))
        .where(*_where(o, codes, depts))
        .group_by(o.contract_type)
    ):
        contracts[contract] = int(n)
        demo += int(d or 0)
    weeks: dict[dt.date, int] = {}
    for week, n, d in session.execute(
        select(w.week, func.sum(w.offers), func.sum(w.demo))
        .where(*_where(w, codes, depts), w.week >= since)
        .group_by(w.week)
    ):
        weeks[week] = int(n)
        demo += int(d or 0)
    bins: dict[str, list[tuple[int, int]]] = {"l": [], "h": [], "m": []}
    for kind, euros, n in session.execute(
        select(p.kind, p.euros, func.sum(p.offers))
        .where(*_where(p, codes, depts if depts is not None else [ALL_FRANCE]))
        .group_by(p.kind, p.euros)
        .order_by(p.kind, p.euros)
    ):
        bins[kind].append((int(euros), int(n)))
    pay_offers = sum(n for _, n in bins["m"])
    structures = {
        stype: int(n)
        for stype, n in session.execute(
            select(e.structure_type, func.count(func.distinct(e.employer_name)))
            .where(*_where(e, codes, depts))
            .group_by(e.structure_type)
        )
    }
    employers: list[tuple[str, str, str, int]] = []
    if structures:
        # Most offers first, ties by name, type and city in code-point order (Python's, as before; "C" on
        # PostgreSQL, whose default collation orders otherwise; SQLite's own is already that).
        total = func.sum(e.offers)
        keys = [e.employer_name, e.structure_type, e.city]
        ordered = [k.collate("C") for k in keys] if session.get_bind().dialect.name == "postgresql" else keys
        employers = [
            (name, stype, city, int(n))
            for name, stype, city, n in session.execute(
                select(e.employer_name, e.structure_type, e.city, total)
                .where(*_where(e, codes, depts))
                .group_by(*keys)
                .order_by(total.desc(), *ordered)
                .limit(top)
            )
        ]
    return Figures(
        open_offers=sum(contracts.values()),
        contracts=contracts,
        weeks=weeks,
        pay_offers=pay_offers,
        pay_low=multiset_quantile(bins["l"], 0.1) if bins["l"] else None,
        pay_median=multiset_quantile(bins["m"], 0.5) if bins["m"] else None,
        pay_high=multiset_quantile(bins["h"], 0.9) if bins["h"] else None,
        structures=structures,
        employers=employers,
        has_demo=demo > 0,
    )


def commune_counts(
    session: Session, codes: Sequence[str] | None, departements: Iterable[str] | None
) -> tuple[Counter[str], bool]:
    """Open offers of these ROME codes (any: ``None``) per commune of these départements (all: ``None``);
    whether any is demonstration data."""
    m = OfferMarketCommune
    conds = [m.code_rome.in_(list(codes))] if codes is not None else []
    if departements is not None:
        conds.append(m.departement.in_(sorted(departements)))
    counts: Counter[str] = Counter()
    demo = False
    for commune, n, d in session.execute(
        select(m.commune_code, func.sum(m.offers), func.sum(m.demo)).where(*conds).group_by(m.commune_code)
    ):
        counts[commune] = int(n)
        demo = demo or bool(d)
    return counts, demo


def count_open(
    session: Session,
    codes: Sequence[str] | None,
    departements: Iterable[str] | None,
    contracts: Sequence[str] | None = None,
    working_time: str | None = None,
) -> int:
    """Open offers of these ROME codes (any: ``None``) in these départements (anywhere: ``None``), of these
    contract types and this working time (any: ``None``): a sum over a few thousand rows at most."""
    m = OfferMarketOpen
    conds: list[ColumnElement[bool]] = [m.code_rome.in_(list(codes))] if codes is not None else []
    if departements is not None:
        conds.append(m.departement.in_(sorted(departements)))
    if contracts:
        conds.append(m.contract_type.in_(list(contracts)))
    if working_time:
        conds.append(m.working_time == working_time)
    return int(session.scalar(select(func.coalesce(func.sum(m.offers), 0)).where(*conds)) or 0)
