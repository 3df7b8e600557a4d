"""What became of the students of a session's certification, in its région (else in France): the InserJeunes
rates of the latest millésime, with their scope said plainly, and the order « meilleure insertion ». No HTTP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from passerelles.certifications.models import Certification
from passerelles.outcomes.importer import NATIONAL, RATES, VALUE_ADDED
from passerelles.outcomes.models import TrainingOutcome
from passerelles.places.models import Commune, Departement, Region
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


def insertion_key(certification_id: Any, commune_code: Any) -> ColumnElement[Any]:
    """SQL: the rate a session is ordered by in « meilleure insertion » (its certification's best employment
    rate at 6 months, latest millésime, in its région, else in France; NULL when none is published)."""
    regional = (
        select(TrainingOutcome.employment_6m)
        .join(Departement, Departement.region_code == TrainingOutcome.region_code)
        .join(Commune, Commune.departement_code == Departement.code)
        .where(
            Commune.code_insee == commune_code,
            TrainingOutcome.certification_id == certification_id,
            TrainingOutcome.employment_6m.is_not(None),
        )
        .order_by(TrainingOutcome.millesime.desc(), TrainingOutcome.employment_6m.desc())
        .limit(1)
        .correlate_except(TrainingOutcome, Departement, Commune)
        .scalar_subquery()
    )
    national = (
        select(TrainingOutcome.employment_6m)
        .where(
            TrainingOutcome.region_code == NATIONAL,
            TrainingOutcome.certification_id == certification_id,
            TrainingOutcome.employment_6m.is_not(None),
        )
        .order_by(TrainingOutcome.millesime.desc(), TrainingOutcome.employment_6m.desc())
        .limit(1)
        .correlate_except(TrainingOutcome)
        .scalar_subquery()
    )
    return func.coalesce(regional, national)


def insertion_rates(db: Session, ids: list[int]) -> dict[int, int]:
    """Session id → the rate « meilleure insertion » orders by (sessions without one left out)."""
    ts = TrainingSession
    key = insertion_key(ts.certification_id, ts.commune_code)
    rates: dict[int, int] = {}
    for start in range(0, len(ids), 900):
        rows = db.execute(select(ts.id, key).where(ts.id.in_(ids[start : start + 900]), key.is_not(None)))
        rates.update({sid: int(rate) for sid, rate in rows})
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
