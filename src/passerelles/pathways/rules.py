"""The pathway rules as the planner reads them: a :class:`RuleBook` loaded once from the database (diplomas,
access to occupations, admissions, reductions, equivalences, VAE), and the check of a rule's conditions
against a person's situation (:func:`holds` for the search, :func:`failures` for the words). No HTTP here."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from passerelles.certifications.models import Certification, OccupationCertification
from passerelles.occupations.models import Occupation, OccupationName, OccupationRome
from passerelles.pathways.models import PathwayRule
from passerelles.pathways.schemas import Profile, Route
from passerelles.reference import schemas as rs
from passerelles.rome.models import RomeAppellation
from passerelles.rome.services import latest_version
from passerelles.sources.models import Source

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
    vae_stages: list[rs.VaeStage] = field(default_factory=list)
    # What people call an occupation (names, acronyms, ROME 4.60 appellations), normalised → its slug
    # (several slugs when a name is ambiguous); read by ``services.resolve_occupation``.
    names: dict[str, set[str]] = field(default_factory=dict)
    display_names: list[str] = field(default_factory=list)  # the project's names, offered while typing
    source_names: dict[str, str] = field(default_factory=dict)  # source id → "publisher, date" shown to people
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
        elif rule.kind == "vae_stage":
            book.vae_stages.append(rs.VaeStage.model_validate(p))
    _read_names(session, book)
    for slug, publisher, date in session.execute(select(Source.slug, Source.publisher, Source.date)):
        book.source_names[slug] = publisher + (f", {date[:4]}" if date else "")
    return book.finish()


def normalise_name(text: str) -> str:
    """A name as compared: lower case, no accents, words only (``Aide-soignante`` → ``aide soignante``)."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.findall(r"[a-z0-9]+", folded.replace("œ", "oe")))


def name_variants(label: str) -> list[str]:
    """The spellings of a ROME label: ``Agent / Agente de service`` gives both genders."""
    out = [label]
    m = re.match(r"^(\S+) / (\S+)(.*)$", label)
    if m:
        out = [m.group(1) + m.group(3), m.group(2) + m.group(3)]
    return [n for n in (normalise_name(x) for x in out) if n]


def _read_names(session: Session, book: RuleBook) -> None:
    def add(name: str | None, slug: str) -> None:
        for key in name_variants(name or ""):
            book.names.setdefault(key, set()).add(slug)

    slug_of = dict(session.execute(select(Occupation.id, Occupation.slug)).all())
    shown: set[str] = set(book.occupations.values())
    for slug, name in book.occupations.items():
        add(name, slug)
        add(slug.replace("-", " "), slug)
    for occ_id, name, feminine, acronym in session.execute(
        select(OccupationName.occupation_id, OccupationName.name, OccupationName.feminine, OccupationName.acronym)
    ):
        for n in (name, feminine, acronym):
            add(n, slug_of[occ_id])
        shown.add(f"{name} ({acronym})" if acronym else name)
    book.display_names = sorted(shown, key=str.lower)
    version = latest_version(session)
    if not version:
        return
    links = session.execute(
        select(OccupationRome.occupation_id, OccupationRome.code_rome, OccupationRome.appellation_ogr)
    )
    by_ogr: dict[int, set[str]] = {}
    by_code: dict[str, set[str]] = {}
    for occ_id, code, ogr in links:
        if ogr is not None:
            by_ogr.setdefault(ogr, set()).add(slug_of[occ_id])
        by_code.setdefault(code, set()).add(slug_of[occ_id])
    # An appellation names the occupation tied to it, else the one occupation tied to its ROME fiche.
    known = set(book.names)
    for ogr, code, long_label, short_label in session.execute(
        select(
            RomeAppellation.code_ogr,
            RomeAppellation.code_rome,
            RomeAppellation.libelle_long,
            RomeAppellation.libelle_court,
        ).where(RomeAppellation.rome_version == version)
    ):
        slugs = by_ogr.get(ogr) or (by_code.get(code) if len(by_code.get(code, ())) == 1 else None)
        if not slugs:
            continue
        for label in (long_label, short_label):
            for key in name_variants(label):
                if key not in known:  # the project's own names win over a ROME label
                    book.names.setdefault(key, set()).update(slugs)


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


LEVEL_NAMES = {
    2: "brevet",
    3: "CAP ou BEP",
    4: "bac",
    5: "bac + 2",
    6: "bac + 3 ou 4",
    7: "bac + 5",
    8: "doctorat",
}


def level_text(level: int) -> str:
    return f"niveau {level} ({LEVEL_NAMES[level]})" if level in LEVEL_NAMES else f"niveau {level}"


def years_text(y: float) -> str:
    """``1 an``, ``2 ans``, ``6 mois``, ``1 an et 6 mois`` — as one says it."""
    months = round(y * 12)
    whole, rest = divmod(months, 12)
    parts = []
    if whole:
        parts.append(f"{whole} an" + ("s" if whole > 1 else ""))
    if rest:
        parts.append(f"{rest} mois")
    return " et ".join(parts) or "moins d'un mois"


def _or_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " ou " + names[-1]


def failures(book: RuleBook, cond: rs.Condition, held: frozenset[str], person: Person, elapsed: float) -> list[str]:
    """What does not hold in ``cond`` for this person holding ``held`` after ``elapsed`` months, in words that
    follow « il faudrait … »."""
    out: list[str] = []
    if cond.certifications_any and held.isdisjoint(cond.certifications_any):
        names = [book.label(s) for s in cond.certifications_any]
        out.append(
            f"être titulaire du {names[0]}"
            if len(names) == 1
            else f"être titulaire de l'un de ces diplômes : {_or_list(names)}"
        )
    if cond.min_level is not None:
        best = max((book.levels.get(s, 0) for s in held), default=0)
        if best < cond.min_level:
            out.append(
                f"un diplôme de {level_text(cond.min_level)} au moins ; "
                + (f"votre diplôme le plus élevé est de {level_text(best)}" if best else "vous n'en avez déclaré aucun")
            )
    if cond.min_experience_years is not None or cond.experience_any:
        needed = cond.min_experience_years or 0.0
        have = _experience(cond, person)
        if have < needed or (cond.experience_any and have == 0):
            where = (
                " comme " + _or_list([book.occupations.get(o, book.label(o)).lower() for o in cond.experience_any])
                if cond.experience_any
                else " professionnelle"
            )
            amount = f"{years_text(needed)} d'expérience" if needed else "de l'expérience"
            yours = f"vous en déclarez {years_text(have)}" if have else "vous n'en déclarez aucune"
            out.append(f"{amount}{where} ({yours})")
    if cond.min_age is not None and person.age is not None and person.age + elapsed / 12 < cond.min_age:
        out.append(f"avoir au moins {cond.min_age} ans (vous avez {person.age} ans)")
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
