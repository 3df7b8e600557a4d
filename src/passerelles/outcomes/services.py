"""What became of the students of a session's certification, in its région (else in France): the InserJeunes
rates of the latest millésime, with their scope said plainly, and the order « meilleure insertion ». No HTTP."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, func, not_, or_, select
from sqlalchemy.orm import Session

from passerelles.certifications.models import Certification
from passerelles.outcomes.importer import NATIONAL, RATES, VALUE_ADDED
from passerelles.outcomes.models import TrainingOutcome
from passerelles.places.models import Commune, Departement, Region
from passerelles.places.services import in_departements, place_index
from passerelles.trainings.models import TrainingSession

# Said wherever the rates are shown (issue 17): who is counted, what « en emploi » means.
SCOPE = (
    "InserJeunes suit les jeunes inscrits en dernière année d'une formation professionnelle, du CAP au BTS, "
    "en lycée professionnel ou en apprentissage, qu'ils aient obtenu le diplôme ou non. « En emploi » veut dire "
    "salarié en France : l'emploi chez un particulier employeur (fréquent dans l'aide à domicile) n'est pas "
    "compté, ni le travail indépendant ou à l'étranger. Ces chiffres décrivent la formation initiale des "
    "jeunes : pour un adulte en reconversion, ils donnent une tendance, pas une promesse."
)
SOURCE = "InserJeunes, DEPP et DARES (ministères chargés de l'Éducation nationale et du Travail)"
PATHWAYS = {"apprentissage": "en apprentissage", "scolaire": "en lycée professionnel", "ensemble": "toutes voies"}
MASK_LABELS = {**{column: key for key, column in RATES.items()}, VALUE_ADDED: "value_added"}


class OutcomeLine(BaseModel):
    pathway: str
    pathway_label: str
    employment_6m: int | None
    employment_12m: int | None
    study_rate: int | None
    value_added: float | None
    final_year: int | None
    masked: list[str]  # the rates the DEPP did not publish (too few students)


class Outcome(BaseModel):
    """The rates shown for one certification in one place."""

    title: str  # the formation as the DEPP names it
    diploma_type: str | None
    region_label: str  # « en Île-de-France » or « en France »
    national: bool
    millesime: str
    lines: list[OutcomeLine]
    best_6m: int | None  # the order « meilleure insertion »
    source: str
    file: str


def _region_of(db: Session, commune_code: str | None) -> tuple[str, str] | None:
    if not commune_code:
        return None
    row = db.execute(
        select(Region.code, Region.name)
        .join(Departement, Departement.region_code == Region.code)
        .join(Commune, Commune.departement_code == Departement.code)
        .where(Commune.code_insee == commune_code)
    ).first()
    return (row[0], row[1]) if row else None


def outcome_of(db: Session, certification_id: int | None, commune_code: str | None) -> Outcome | None:
    """The latest rates of the certification in the commune's région, else in France; ``None`` without any."""
    if certification_id is None:
        return None
    region = _region_of(db, commune_code)
    rows = db.scalars(
        select(TrainingOutcome)
        .where(TrainingOutcome.certification_id == certification_id)
        .order_by(TrainingOutcome.millesime.desc(), TrainingOutcome.pathway)
    ).all()
    for code, label in ((region[0], f"en {region[1]}") if region else (None, ""), (NATIONAL, "en France")):
        mine = [r for r in rows if code and r.region_code == code]
        if not mine:
            continue
        latest = [r for r in mine if r.millesime == mine[0].millesime]
        lines = [
            OutcomeLine(
                pathway=r.pathway,
                pathway_label=PATHWAYS.get(r.pathway, r.pathway),
                employment_6m=r.employment_6m,
                employment_12m=r.employment_12m,
                study_rate=r.study_rate,
                value_added=r.value_added,
                final_year=r.final_year,
                masked=[MASK_LABELS.get(m, m) for m in r.masked],
            )
            for r in latest
        ]
        if all(
            line.employment_6m is None and line.study_rate is None and line.employment_12m is None for line in lines
        ):
            continue  # nothing published there (all masked): try wider
        rates = [line.employment_6m for line in lines if line.employment_6m is not None]
        return Outcome(
            title=latest[0].title,
            diploma_type=latest[0].diploma_type,
            region_label=label,
            national=code == NATIONAL,
            millesime=latest[0].millesime,
            lines=lines,
            best_6m=max(rates) if rates else None,
            source=SOURCE,
            file=latest[0].source,
        )
    return None


def outcomes_of(db: Session, sessions: Sequence[Any]) -> list[Outcome | None]:
    """The outcome of each session (``certification`` brief with its slug, ``commune_code``), in order."""
    return [outcome_of(db, _certification_id(db, s), getattr(s, "commune_code", None)) for s in sessions]


def _certification_id(db: Session, s: Any) -> int | None:
    cert = getattr(s, "certification", None)
    return db.scalar(select(Certification.id).where(Certification.slug == cert.slug)) if cert else None


def _rate_maps(db: Session) -> tuple[dict[tuple[int, str], int], dict[int, int]]:
    """The rate « meilleure insertion » orders by: for each certification, its best employment rate at 6 months
    of the latest millésime, by région (``(certification, région)``) and for France (``certification``)."""
    latest: dict[tuple[int, str], tuple[str, int]] = {}
    rows: Any = db.execute(
        select(
            TrainingOutcome.certification_id,
            TrainingOutcome.region_code,
            TrainingOutcome.millesime,
            TrainingOutcome.employment_6m,
        ).where(TrainingOutcome.certification_id.is_not(None), TrainingOutcome.employment_6m.is_not(None))
    )
    for cid, region, millesime, rate in rows:
        known = latest.get((cid, region))
        if known is None or (millesime, rate) > known:
            latest[(cid, region)] = (millesime, rate)
    regional = {k: v[1] for k, v in latest.items() if k[1] != NATIONAL}
    national = {k[0]: v[1] for k, v in latest.items() if k[1] == NATIONAL}
    return regional, national


def _rated(
    db: Session, where: Sequence[ColumnElement[bool]]
) -> tuple[list[tuple[int, dt.date, int]], list[tuple[dt.date, int]], set[int]]:
    """(rate, start, id) of the sessions matching ``where`` that have a rate, best first; (start, id) of those
    whose certification has rates elsewhere only; the certifications with rates."""
    regional, national = _rate_maps(db)
    certs = {c for c, _ in regional} | set(national)
    rated: list[tuple[int, dt.date, int]] = []
    unrated: list[tuple[dt.date, int]] = []
    if not certs:
        return rated, unrated, certs
    ts = TrainingSession
    sessions: Any = db.execute(
        select(ts.id, ts.certification_id, Departement.region_code, ts.start_date)
        .outerjoin(Commune, Commune.code_insee == ts.commune_code)
        .outerjoin(Departement, Departement.code == Commune.departement_code)
        .where(*where, ts.certification_id.in_(sorted(certs)))
    )
    for sid, cid, region, start in sessions:
        rate = regional.get((cid, region), national.get(cid))
        if rate is None:
            unrated.append((start or dt.date.min, sid))
        else:
            rated.append((rate, start or dt.date.min, sid))
    rated.sort(key=lambda r: (-r[0], r[1], r[2]))
    unrated.sort()
    return rated, unrated, certs


@dataclass(frozen=True)
class _Group:
    """Sessions of one certification ranked at one rate: those in some départements (its région's, for a
    regional rate), or, for the national rate, those outside the départements ``outside`` (and without a
    commune)."""

    rate: int
    certification_id: int
    departements: tuple[str, ...] | None
    outside: tuple[str, ...] = ()

    def where(self) -> list[ColumnElement[bool]]:
        ts = TrainingSession
        conds: list[ColumnElement[bool]] = [ts.certification_id == self.certification_id]
        if self.departements is not None:
            conds.append(in_departements(ts.commune_code, self.departements))
        elif self.outside:
            conds.append(or_(ts.commune_code.is_(None), not_(in_departements(ts.commune_code, self.outside))))
        return conds


def _groups(db: Session) -> tuple[list[_Group], set[int]]:
    """The ranked groups, best rate first; the certifications with rates. A session takes the rate of its
    certification in its région, else in France (none: it comes after, by date)."""
    regional, national = _rate_maps(db)
    index = place_index(db)
    groups: list[_Group] = []
    covered: dict[int, list[str]] = {}
    for (cid, region), rate in regional.items():
        depts = tuple(index.departements_of_region(region))
        if depts:
            groups.append(_Group(rate, cid, depts))
            covered.setdefault(cid, []).extend(depts)
    for cid, rate in national.items():
        groups.append(_Group(rate, cid, None, tuple(sorted(covered.get(cid, [])))))
    groups.sort(key=lambda g: -g.rate)
    return groups, {c for c, _ in regional} | set(national)


def insertion_page(db: Session, where: Sequence[ColumnElement[bool]], offset: int, limit: int) -> list[int]:
    """One page of session ids in the order « meilleure insertion »: the best rate first (then the date), then
    the sessions without one by start date. The few rates make a few groups (a certification in a région);
    the groups of one rate are read in date order from the sessions' index and merged, a rate at a time,
    until the page is full; rates before the page are skipped by their counts."""
    groups, certs = _groups(db)
    ts = TrainingSession
    ids: list[int] = []
    skip = offset
    for _, level in itertools.groupby(groups, key=lambda g: g.rate):
        members = list(level)
        if skip:
            counts = [db.scalar(select(func.count()).select_from(ts).where(*where, *g.where())) or 0 for g in members]
            if sum(counts) <= skip:
                skip -= sum(counts)
                continue
            members = [g for g, n in zip(members, counts, strict=True) if n]
        want = skip + limit - len(ids)
        rows = [
            [
                (start or dt.date.min, sid)
                for start, sid in db.execute(
                    select(ts.start_date, ts.id).where(*where, *g.where()).order_by(ts.start_date, ts.id).limit(want)
                )
            ]
            for g in members
        ]
        merged = list(heapq.merge(*rows))
        ids += [sid for _, sid in merged[skip:want]]
        skip = max(0, skip - len(merged))
        if len(ids) >= limit:
            return ids[:limit]
    need = limit - len(ids)
    # The sessions without a rate: of a certification without any, or rated elsewhere only.
    unrated = [g.where() for g in _unrated_groups(groups, certs)]
    others = select(ts.start_date, ts.id).where(*where)
    if certs:  # without any rate, every session is among them
        alone = [ts.certification_id.is_(None), ts.certification_id.not_in(sorted(certs))]
        others = others.where(or_(*alone, *(and_(*u) for u in unrated)))
    rest = db.execute(others.order_by(ts.start_date, ts.id).offset(skip).limit(need))
    return ids + [sid for _, sid in rest]


def _unrated_groups(groups: list[_Group], certs: set[int]) -> list[_Group]:
    """Sessions of a rated certification outside its rated régions, when it has no national rate."""
    national = {g.certification_id for g in groups if g.departements is None}
    covered: dict[int, list[str]] = {}
    for g in groups:
        if g.departements is not None:
            covered.setdefault(g.certification_id, []).extend(g.departements)
    return [_Group(0, c, None, tuple(sorted(covered.get(c, [])))) for c in sorted(certs - national)]


def insertion_rates(db: Session, ids: list[int]) -> dict[int, int]:
    """Session id → the rate « meilleure insertion » orders by (sessions without one left out)."""
    rates: dict[int, int] = {}
    for start in range(0, len(ids), 900):
        rated, _, _ = _rated(db, [TrainingSession.id.in_(ids[start : start + 900])])
        rates.update({sid: rate for rate, _, sid in rated})
    return rates


def by_insertion(outcomes: Sequence[Outcome | None]) -> list[int]:
    """Positions from the best rate at 6 months to the unknown ones (in their order otherwise)."""
    return sorted(
        range(len(outcomes)),
        key=lambda i: (-(o.best_6m if (o := outcomes[i]) is not None and o.best_6m is not None else -1), i),
    )


def any_outcome(db: Session) -> bool:
    return (
        db.execute(
            select(TrainingOutcome.id).where(and_(TrainingOutcome.certification_id.is_not(None))).limit(1)
        ).first()
        is not None
    )
