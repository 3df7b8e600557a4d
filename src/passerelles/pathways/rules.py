"""The pathway rules as the planner reads them: a :class:`RuleBook` loaded once from the database (diplomas,
access to occupations, admissions, reductions, equivalences, VAE), and the check of a rule's conditions
against a person's situation (:func:`holds` for the search, :func:`failures` for the words). No HTTP here."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from passerelles.certifications.models import Certification, OccupationCertification
from passerelles.occupations.models import Occupation
from passerelles.pathways.models import PathwayRule
from passerelles.pathways.schemas import Profile, Route
from passerelles.reference import schemas as rs

MAX_WAIT_MONTHS = 36  # an age-only condition met later than this is a blocker, not a wait


@dataclass(frozen=True)
class CertInfo:
    slug: str
    name: str
    acronym: str | None
    level: int | None
    active: bool
    months: float | None
    months_text: str
    routes: frozenset[str]
    duration_sources: tuple[str, ...]
    min_age: int | None
    admission_sources: tuple[str, ...]


@dataclass
class RuleBook:
    """Everything the planner reads, built once from the database."""

    certs: dict[str, CertInfo] = field(default_factory=dict)
    general: dict[str, rs.GeneralDiploma] = field(default_factory=dict)
    occupations: dict[str, str] = field(default_factory=dict)
    access: dict[str, list[rs.AccessOption]] = field(default_factory=dict)
    admissions: dict[str, list[rs.AdmissionOption]] = field(default_factory=dict)
    reductions: dict[str, list[rs.Reduction]] = field(default_factory=dict)
    equivalences: list[rs.Equivalence] = field(default_factory=list)
    vae: dict[str, list[rs.VaeRule]] = field(default_factory=dict)
    levels: dict[str, int] = field(default_factory=dict)
    vae_conditions: dict[str, list[tuple[rs.VaeRule, rs.Condition]]] = field(default_factory=dict)
    default_admissions: dict[str, list[rs.AdmissionOption]] = field(default_factory=dict)
    max_min_age: int = 0
    principal: dict[str, list[str]] = field(default_factory=dict)  # occupation → its principal diplomas
    next_routes: dict[tuple[str, int], list[Route]] = field(default_factory=dict)  # what_next, memoised
    # The search over this book (``planner.planner_of``), made once: its caches live as long as the book.
    planner: object = field(default=None, init=False, repr=False)

    def finish(self) -> RuleBook:
        """Precompute what the search reads on every expansion."""
        self.levels = {s: c.level for s, c in self.certs.items() if c.level}
        self.levels.update({s: g.level for s, g in self.general.items()})
        self.vae_conditions = {
            slug: [
                (r, rs.Condition(experience_any=r.experience_any, min_experience_years=r.min_experience_years))
                for r in rules
            ]
            for slug, rules in self.vae.items()
        }
        self.default_admissions = {
            slug: [
                rs.AdmissionOption(
                    label="Admission sur dossier et entretien",
                    condition=rs.Condition(min_age=c.min_age),
                    sources=list(c.admission_sources) or ["rome-460"],
                )
            ]
            for slug, c in self.certs.items()
        }
        ages = [o.condition.min_age for opts in self.admissions.values() for o in opts if o.condition.min_age]
        ages += [c.min_age for c in self.certs.values() if c.min_age]
        self.max_min_age = max(ages, default=0)
        return self

    def admission_options(self, slug: str) -> list[rs.AdmissionOption]:
        return self.admissions.get(slug) or self.default_admissions[slug]

    def label(self, slug: str) -> str:
        if slug in self.certs:
            c = self.certs[slug]
            return c.acronym or c.name
        if slug in self.general:
            return self.general[slug].name
        return self.occupations.get(slug, slug)

    def level(self, slug: str) -> int | None:
        if slug in self.certs:
            return self.certs[slug].level
        if slug in self.general:
            return self.general[slug].level
        return None


def _months(detail: dict[str, Any]) -> tuple[float | None, str]:
    d = detail.get("duration") or {}
    lo, hi, hours = d.get("months_min"), d.get("months_max"), d.get("hours")
    if lo:
        return float(lo), f"{lo} à {hi} mois" if hi and hi != lo else f"{lo} mois"
    if hours:
        months = round(hours / 140)  # about 35 h a week, 4 weeks a month
        return float(max(months, 1)), f"{hours} heures (environ {max(months, 1)} mois)"
    if hi:
        return float(hi), f"jusqu'à {hi} mois"
    return None, "durée non précisée"


def build_rulebook(session: Session) -> RuleBook:
    book = RuleBook()
    for c in session.scalars(select(Certification)):
        months, text = _months(c.detail)
        admission = c.detail.get("admission") or {}
        book.certs[c.slug] = CertInfo(
            slug=c.slug,
            name=c.name,
            acronym=c.acronym,
            level=c.level_eu,
            active=c.status == "active",
            months=months,
            months_text=text,
            routes=frozenset(r.route for r in c.routes if r.available),
            duration_sources=tuple((c.detail.get("duration") or {}).get("sources") or ()),
            min_age=c.min_age,
            admission_sources=tuple(admission.get("sources") or ()),
        )
    book.occupations = dict(session.execute(select(Occupation.slug, Occupation.name)).all())
    for occ_slug, cert_slug in session.execute(
        select(Occupation.slug, Certification.slug)
        .join(OccupationCertification, OccupationCertification.occupation_id == Occupation.id)
        .join(Certification, Certification.id == OccupationCertification.certification_id)
        .where(OccupationCertification.role == "principale")
        .order_by(Occupation.slug, Certification.slug)
    ):
        book.principal.setdefault(occ_slug, []).append(cert_slug)
    for rule in session.scalars(select(PathwayRule).order_by(PathwayRule.kind, PathwayRule.position)):
        p = rule.payload
        if rule.kind == "general_diploma":
            g = rs.GeneralDiploma.model_validate(p)
            book.general[g.slug] = g
        elif rule.kind == "occupation_access":
            a = rs.OccupationAccess.model_validate(p)
            book.access.setdefault(a.occupation, []).extend(a.options)
        elif rule.kind == "admission":
            ad = rs.CertificationAdmission.model_validate(p)
            book.admissions.setdefault(ad.certification, []).extend(ad.options)
        elif rule.kind == "reduction":
            r = rs.Reduction.model_validate(p)
            book.reductions.setdefault(r.certification, []).append(r)
        elif rule.kind == "equivalence":
            book.equivalences.append(rs.Equivalence.model_validate(p))
        elif rule.kind == "vae":
            v = rs.VaeRule.model_validate(p)
            book.vae.setdefault(v.certification, []).append(v)
    return book.finish()


# ---------------------------------------------------------------- conditions


@dataclass(frozen=True)
class Person:
    experience: dict[str, float]
    age: int | None


def person_of(profile: Profile) -> Person:
    exp: dict[str, float] = {}
    for e in profile.experience:
        exp[e.occupation] = exp.get(e.occupation, 0.0) + e.years
    return Person(experience=exp, age=profile.age)


def fmt_years(y: float) -> str:
    return f"{y:g} an" + ("s" if y >= 2 else "")


def _experience(cond: rs.Condition, person: Person) -> float:
    pool = cond.experience_any or list(person.experience)
    return sum(person.experience.get(o, 0.0) for o in pool)


def holds(
    book: RuleBook,
    cond: rs.Condition,
    held: frozenset[str],
    person: Person,
    elapsed: float,
    *,
    ignore_age: bool = False,
) -> bool:
    """Fast check used by the search; ``failures`` says the same thing in words."""
    if cond.certifications_any and held.isdisjoint(cond.certifications_any):
        return False
    if cond.min_level is not None and max((book.levels.get(s, 0) for s in held), default=0) < cond.min_level:
        return False
    if cond.min_experience_years is not None or cond.experience_any:
        have = _experience(cond, person)
        needed = cond.min_experience_years or 0.0
        if have < needed or (cond.experience_any and have == 0):
            return False
    return not (
        not ignore_age
        and cond.min_age is not None
        and person.age is not None
        and person.age + elapsed / 12 < cond.min_age
    )


def failures(book: RuleBook, cond: rs.Condition, held: frozenset[str], person: Person, elapsed: float) -> list[str]:
    """What does not hold in ``cond`` for this person holding ``held`` after ``elapsed`` months."""
    out: list[str] = []
    if cond.certifications_any and held.isdisjoint(cond.certifications_any):
        names = ", ".join(book.label(s) for s in cond.certifications_any)
        out.append(f"détenir l'un de ces diplômes : {names}")
    if cond.min_level is not None:
        best = max((book.levels.get(s, 0) for s in held), default=0)
        if best < cond.min_level:
            out.append(
                f"un diplôme de niveau {cond.min_level} au moins" + (f" (niveau actuel : {best})" if best else "")
            )
    if cond.min_experience_years is not None or cond.experience_any:
        needed = cond.min_experience_years or 0.0
        have = _experience(cond, person)
        if have < needed or (cond.experience_any and have == 0):
            where = " ou ".join(book.label(o) for o in cond.experience_any) if cond.experience_any else "un emploi"
            amount = fmt_years(needed) if needed else "de l'expérience"
            out.append(f"{amount} comme {where} (vous : {fmt_years(have)})")
    if cond.min_age is not None and person.age is not None and person.age + elapsed / 12 < cond.min_age:
        out.append(f"avoir au moins {cond.min_age} ans (vous : {person.age} ans)")
    return out


def age_wait(book: RuleBook, cond: rs.Condition, held: frozenset[str], person: Person, elapsed: float) -> float | None:
    """Months to wait when age is the only condition that fails (None: not an age-only failure)."""
    if cond.min_age is None or person.age is None or not holds(book, cond, held, person, elapsed, ignore_age=True):
        return None
    missing = cond.min_age - (person.age + elapsed / 12)
    if missing <= 0:
        return None
    months = float(math.ceil(missing * 12))
    return months if months <= MAX_WAIT_MONTHS else None
