"""The route planner: from a person's situation to an occupation, through diplomas, equivalences,
reductions (allègements) and VAE. A uniform-cost search over "diplomas held" states that keeps the k best
distinct routes; deterministic (every tie is broken on the route's signature). Every step says why it is
there and cites the rule's sources. No HTTP here."""

from __future__ import annotations

import datetime as dt
import heapq
import math
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from passerelles.certifications.models import Certification, OccupationCertification
from passerelles.occupations.models import Occupation
from passerelles.pathways.models import PathwayRule
from passerelles.pathways.schemas import Blocker, PlanResult, Profile, Reason, Route, SessionHint, Step
from passerelles.places.geo import haversine_km
from passerelles.places.models import Commune
from passerelles.reference import schemas as rs
from passerelles.trainings.models import TrainingSession

MAX_STEPS = 3  # training or VAE steps in one route
MAX_WAIT_MONTHS = 36
NEAR_KM = 60.0  # "near the person" when they gave no maximum distance
MAX_POPS = 3000  # search budget: bounds the time spent on a target that cannot be reached
STATE_VISITS = 2


def LONGER_ROUTES(best: float) -> float:
    """Alternative routes are searched up to half again the best one's effort, or a year more."""
    return max(
        best * 1.5, best + 12.0
    )  # paths kept through one set of diplomas: enough for distinct routes, bounded work


ROUTE_LABELS = {
    "initiale": "formation initiale",
    "continue": "formation continue",
    "apprentissage": "apprentissage",
    "distance": "à distance",
    "vae": "VAE",
}


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
    planner: Planner = field(init=False)

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
        self.planner = Planner(self)
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
    held_years: dict[str, int | None]


def _fmt_years(y: float) -> str:
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
            amount = _fmt_years(needed) if needed else "de l'expérience"
            out.append(f"{amount} comme {where} (vous : {_fmt_years(have)})")
    if cond.min_age is not None and person.age is not None and person.age + elapsed / 12 < cond.min_age:
        out.append(f"avoir au moins {cond.min_age} ans (vous : {person.age} ans)")
    return out


def _age_wait(book: RuleBook, cond: rs.Condition, held: frozenset[str], person: Person, elapsed: float) -> float | None:
    """Months to wait when age is the only condition that fails (None: not an age-only failure)."""
    if cond.min_age is None or person.age is None or not holds(book, cond, held, person, elapsed, ignore_age=True):
        return None
    missing = cond.min_age - (person.age + elapsed / 12)
    if missing <= 0:
        return None
    months = float(math.ceil(missing * 12))
    return months if months <= MAX_WAIT_MONTHS else None


# ---------------------------------------------------------------- search


@dataclass(frozen=True)
class StepSpec:
    """A step as the search sees it; turned into a documented :class:`Step` only for the routes kept."""

    kind: str
    months: float
    certification: str | None = None
    occupation: str | None = None
    route: str | None = None
    rule: Any = None  # AdmissionOption, VaeRule, AccessOption or Equivalence
    reduction: rs.Reduction | None = None
    min_age: int | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.certification or self.occupation or ''}:{self.route or ''}"


@dataclass(frozen=True)
class Partial:
    months: float
    effort: float  # ranking key: training months, a VAE counting half since it is done while in work
    steps: tuple[StepSpec, ...]
    held: frozenset[str]
    signature: tuple[str, ...]
    trainings: int

    def then(self, steps: list[StepSpec], held: frozenset[str]) -> Partial:
        months = effort = 0.0
        trainings = 0
        for s in steps:
            months += s.months
            if s.kind == "vae":
                effort += s.months * 0.5
                trainings += 1
            else:
                effort += s.months
                trainings += s.kind == "formation"
        return Partial(
            self.months + months,
            self.effort + effort,
            self.steps + tuple(steps),
            held,
            self.signature + tuple(s.key for s in steps),
            self.trainings + trainings,
        )


class Planner:
    def __init__(self, book: RuleBook) -> None:
        self.book = book
        self._relevant: dict[str, set[str]] = {}
        self._goals: dict[tuple[str, ...], tuple[frozenset[str], frozenset[str], tuple[int, ...]]] = {}
        self._admission_cache: dict[str, list[tuple[rs.AdmissionOption, frozenset[str]]]] = {}
        self._mention_cache: dict[str, tuple[frozenset[str], int]] = {}
        self._bound_cache: dict[str, list[tuple[frozenset[str], float]]] = {}

    # -- helpers
    def closure(self, held: frozenset[str]) -> tuple[frozenset[str], list[rs.Equivalence]]:
        used: list[rs.Equivalence] = []
        current = set(held)
        changed = True
        while changed:
            changed = False
            for eq in self.book.equivalences:
                if eq.holder_of in current and eq.gives not in current:
                    current.add(eq.gives)
                    used.append(eq)
                    changed = True
        return frozenset(current), used

    def _cheapest(self, slug: str) -> float:
        """A lower bound of the effort to obtain ``slug`` (shortest training, reduction or half a VAE)."""
        c = self.book.certs[slug]
        costs = [c.months if c.months is not None else 12.0]
        costs += [r.months for r in self.book.reductions.get(slug, ()) if r.months is not None]
        costs += [v.months * 0.5 for v in self.book.vae.get(slug, ())]
        return min(costs)

    def _bounds(self, target: str) -> list[tuple[frozenset[str], float]]:
        if target not in self._bound_cache:
            self._bound_cache[target] = [
                (
                    frozenset(o.condition.certifications_any),
                    min(
                        (self._cheapest(c) for c in o.condition.certifications_any if c in self.book.certs), default=0.0
                    ),
                )
                for o in self.book.access.get(target, [])
            ]
        return self._bound_cache[target]

    def remaining(self, targets: set[str], held: frozenset[str]) -> float:
        """Admissible estimate of the effort still needed to reach the nearest open target (A*)."""
        best = math.inf
        for t in targets:
            for certs, cost in self._bounds(t):
                if not certs or not held.isdisjoint(certs):
                    return 0.0
                best = min(best, cost)
        return 0.0 if best is math.inf else best

    def goals(self, targets: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str], tuple[int, ...]]:
        """What is worth obtaining for these targets: the diplomas their posts ask for, the diplomas those
        trainings ask for (transitively), and the levels some condition on that chain requires."""
        key = targets
        if key not in self._goals:
            direct: set[str] = set()
            levels: set[int] = set()
            for t in targets:
                for o in self.book.access.get(t, []):
                    direct |= {c for c in o.condition.certifications_any if c in self.book.certs}
                    if o.condition.min_level:
                        levels.add(o.condition.min_level)
            prereq: set[str] = set()
            frontier = sorted(direct)
            while frontier:
                slug = frontier.pop()
                for adm in self.book.admissions.get(slug, []):
                    if adm.condition.min_level:
                        levels.add(adm.condition.min_level)
                    for c in adm.condition.certifications_any:
                        if c in self.book.certs and c not in prereq and c not in direct:
                            prereq.add(c)
                            frontier.append(c)
            self._goals[key] = (frozenset(direct), frozenset(prereq), tuple(sorted(levels)))
        return self._goals[key]

    def useful(self, slug: str, level_now: int, goals: tuple[frozenset[str], frozenset[str], tuple[int, ...]]) -> bool:
        """Obtaining ``slug`` changes something: a diploma asked for, or a level still missing."""
        direct, prereq, levels = goals
        if slug in direct or slug in prereq:
            return True
        level = self.book.levels.get(slug, 0)
        return any(level_now < needed <= level for needed in levels)

    def relevant(self, target: str) -> set[str]:
        """Certifications that can matter for the target: backward closure over the conditions."""
        if target in self._relevant:
            return self._relevant[target]
        wanted: set[str] = set()
        frontier: list[rs.Condition] = [o.condition for o in self.book.access.get(target, [])]
        while frontier:
            cond = frontier.pop()
            new = {s for s in cond.certifications_any if s in self.book.certs} - wanted
            if cond.min_level:
                new |= {
                    s
                    for s, c in self.book.certs.items()
                    if c.active and c.level and cond.min_level <= c.level <= cond.min_level + 1
                } - wanted
            for slug in sorted(new):
                wanted.add(slug)
                frontier.extend(o.condition for o in self.book.admissions.get(slug, []))
        self._relevant[target] = wanted
        return wanted

    def _admission_plan(self, slug: str) -> list[tuple[rs.AdmissionOption, frozenset[str]]]:
        """Admission options of a certification with the routes each opens (VAE apart), computed once."""
        cached = self._admission_cache.get(slug)
        if cached is None:
            cert = self.book.certs[slug]
            cached = []
            for opt in self.book.admission_options(slug):
                routes = {str(r) for r in opt.routes} & cert.routes if opt.routes else set(cert.routes)
                routes.discard("vae")
                if not routes and not cert.routes:
                    routes = {"initiale"}
                if routes:
                    cached.append((opt, frozenset(routes)))
            self._admission_cache[slug] = cached
        return cached

    def _training_options(
        self, slug: str, held: frozenset[str], person: Person, profile: Profile, elapsed: float
    ) -> list[list[StepSpec]]:
        book, cert = self.book, self.book.certs[slug]
        results: list[list[StepSpec]] = []
        reduction = None
        for red in book.reductions.get(slug, ()):
            if red.holder_of in held and (reduction is None or (red.months or 99) < (reduction.months or 99)):
                reduction = red
        months = cert.months if cert.months is not None else 12.0
        if reduction is not None and reduction.months is not None and reduction.months < months:
            months = reduction.months
        # Several admission options may open the same route: keep one per route, the one needing no wait
        # and naming the person's situation most precisely (so the step cites the most relevant rule).
        best: dict[str, tuple[tuple[float, int, int], rs.AdmissionOption, float]] = {}
        for index, (opt, routes) in enumerate(self._admission_plan(slug)):
            wait = 0.0
            if not holds(book, opt.condition, held, person, elapsed):
                w = _age_wait(book, opt.condition, held, person, elapsed)
                if w is None:
                    continue
                wait = w
            route = self._choose_route(routes, person, profile, elapsed + wait)
            c = opt.condition
            specificity = (
                bool(c.certifications_any)
                + (c.min_level is not None)
                + bool(c.experience_any or c.min_experience_years)
            )
            rank = (wait, -specificity, index)
            if route not in best or rank < best[route][0]:
                best[route] = (rank, opt, wait)
        for route, (_, opt, wait) in sorted(best.items(), key=lambda kv: kv[1][0]):
            steps = []
            if wait:
                steps.append(StepSpec("attente", wait, certification=slug, rule=opt, min_age=opt.condition.min_age))
            steps.append(StepSpec("formation", months, certification=slug, route=route, rule=opt, reduction=reduction))
            results.append(steps)
        return results

    def _mentions(self, slug: str) -> tuple[frozenset[str], int]:
        """Diplomas named by a certification's admission and reduction rules, and the highest level asked."""
        cached = self._mention_cache.get(slug)
        if cached is None:
            names: set[str] = {r.holder_of for r in self.book.reductions.get(slug, ())}
            top = 0
            for opt, _ in self._admission_plan(slug):
                names |= set(opt.condition.certifications_any)
                top = max(top, opt.condition.min_level or 0)
            cached = self._mention_cache[slug] = (frozenset(names), top)
        return cached

    @staticmethod
    def _choose_route(routes: frozenset[str], person: Person, profile: Profile, elapsed: float) -> str:
        if profile.apprenticeship and "apprentissage" in routes:
            return "apprentissage"
        if profile.distance_learning and "distance" in routes:
            return "distance"
        age = (person.age or 30) + elapsed / 12
        if age < 26 and "initiale" in routes and not person.experience:
            return "initiale"
        for r in ("continue", "initiale", "apprentissage", "distance"):
            if r in routes:
                return r
        return sorted(routes)[0]

    def _vae_options(self, slug: str, held: frozenset[str], person: Person) -> list[list[StepSpec]]:
        out = []
        for rule, cond in self.book.vae_conditions.get(slug, ()):
            if holds(self.book, cond, held, person, 0):
                out.append([StepSpec("vae", rule.months, certification=slug, route="vae", rule=rule)])
        return out

    def _arrive(self, target: str, partial: Partial, person: Person) -> list[Partial]:
        done = []
        for opt in self.book.access.get(target, []):
            if not holds(self.book, opt.condition, partial.held, person, partial.months):
                continue
            steps = [StepSpec("poste", 0.0, occupation=target, rule=opt)]
            if opt.then_certification and opt.then_certification not in partial.held:
                c = self.book.certs.get(opt.then_certification)
                steps.append(
                    StepSpec(
                        "certification_en_poste",
                        (c.months or 0.0) if c else 0.0,
                        certification=opt.then_certification,
                        rule=opt,
                    )
                )
            arrived = partial.then(steps, partial.held)
            # Time in post does not delay the hiring: keep months and effort of the way in.
            done.append(
                Partial(
                    partial.months, partial.effort, arrived.steps, arrived.held, arrived.signature, partial.trainings
                )
            )
        return done

    def routes(self, profile: Profile, target: str, k: int = 5) -> list[Partial]:
        return self.routes_to(profile, [target], k)[target]

    def routes_to(
        self, profile: Profile, targets: list[str], k: int, *, first_targets: int | None = None
    ) -> dict[str, list[Partial]]:
        """The k best routes to each target, from one search over the union of their relevant diplomas.

        With ``first_targets``, stop once that many targets are reached and nothing cheaper can follow:
        the search runs in order of effort, so those are the quickest to reach. Routes much longer than
        the best one found (``LONGER_ROUTES``) are not looked for: they would not be shown anyway."""
        person = person_of(profile)
        start, used = self.closure(frozenset(d.slug for d in profile.diplomas))
        relevant: set[str] = set()
        for t in targets:
            relevant |= self.relevant(t)
        candidates = sorted(s for s in relevant if self.book.certs[s].active)
        goals = self.goals(tuple(sorted(targets)))
        root = Partial(0.0, 0.0, (), start, (), 0).then(
            [StepSpec("equivalence", 0.0, certification=eq.gives, rule=eq) for eq in used], start
        )
        tie = count()
        # Heap entries are (estimate, trainings, tie, parent, steps, held): a successor becomes a Partial
        # only when popped; ties fall back on insertion order, itself deterministic.
        Entry = tuple[float, int, int, Partial | None, tuple[StepSpec, ...], frozenset[str]]
        heap: list[Entry] = [(0.0, 0, next(tie), None, (), root.held)]
        entry: Entry
        visits: dict[frozenset[str], int] = {}
        found: dict[str, list[Partial]] = {t: [] for t in targets}
        seen: set[tuple[str, ...]] = set()
        open_targets = set(targets)
        memo: dict[
            tuple[frozenset[str], float], list[tuple[frozenset[str], tuple[StepSpec, ...], float, float, int]]
        ] = {}
        estimates: dict[frozenset[str], float] = {}
        option_memo: dict[tuple[str, frozenset[str], int, float], list[list[StepSpec]]] = {}
        # Once older than every minimum age in the rules, time spent no longer changes what is open.
        age_sensitive = person.age is not None and person.age < self.book.max_min_age
        pops = 0
        while heap and open_targets and pops < MAX_POPS:
            reached = sorted(r[0].effort for r in found.values() if r)
            if first_targets is not None and len(reached) >= first_targets and heap[0][0] > reached[first_targets - 1]:
                break
            if first_targets is None and reached and heap[0][0] > LONGER_ROUTES(reached[0]):
                break
            _, _, _, parent, steps, held_now = heapq.heappop(heap)
            pops += 1
            partial = root if parent is None else parent.then(list(steps), held_now)
            visits[partial.held] = visits.get(partial.held, 0) + 1
            if visits[partial.held] > STATE_VISITS:
                continue
            arrived_somewhere = False
            for t in sorted(open_targets):
                for a in self._arrive(t, partial, person):
                    arrived_somewhere = True
                    sig = tuple(x for x in a.signature if not x.startswith("equivalence"))
                    if sig not in seen:
                        seen.add(sig)
                        found[t].append(a)
                if len(found[t]) >= k:
                    open_targets.discard(t)
                    estimates.clear()
            if (arrived_somewhere and len(targets) == 1) or partial.trainings >= MAX_STEPS:
                continue
            # Paths reaching the same diplomas at the same time have the same next steps: computed once.
            memo_key = (partial.held, partial.months if age_sensitive else 0.0)
            successors = memo.get(memo_key)
            if successors is None:
                successors = []
                level_now = max((self.book.levels.get(h, 0) for h in partial.held), default=0)
                for slug in candidates:
                    if slug in partial.held or not self.useful(slug, level_now, goals):
                        continue
                    # What a training's options depend on: the diplomas its rules name, the level reached
                    # (capped at what they ask) and, for the young, the time elapsed.
                    mentioned, top_level = self._mentions(slug)
                    option_key = (slug, partial.held & mentioned, min(level_now, top_level), memo_key[1])
                    options = option_memo.get(option_key)
                    if options is None:
                        options = self._training_options(slug, partial.held, person, profile, partial.months)
                        options += self._vae_options(slug, partial.held, person)
                        option_memo[option_key] = options
                    if options:
                        nxt_held = self.closure(partial.held | {slug})[0]
                        for option in options:
                            probe = Partial(0.0, 0.0, (), nxt_held, (), 0).then(option, nxt_held)
                            successors.append((nxt_held, tuple(option), probe.months, probe.effort, probe.trainings))
                memo[memo_key] = successors
            for nxt_held, opt_steps, months, effort, trainings in successors:
                if visits.get(nxt_held, 0) >= STATE_VISITS:
                    continue
                if profile.max_months is not None and partial.months + months > profile.max_months:
                    continue
                estimate = estimates.get(nxt_held)
                if estimate is None:
                    estimate = estimates[nxt_held] = self.remaining(open_targets, nxt_held)
                entry = (
                    partial.effort + effort + estimate,
                    partial.trainings + trainings,
                    next(tie),
                    partial,
                    opt_steps,
                    nxt_held,
                )
                heapq.heappush(heap, entry)
        for target, routes in found.items():
            routes.sort(key=lambda p: (p.effort, p.months, p.trainings, p.signature))
            found[target] = _undominated(routes)[:k]
        return found

    def blockers(self, profile: Profile, target: str) -> list[Blocker]:
        person = person_of(profile)
        held, _ = self.closure(frozenset(d.slug for d in profile.diplomas))
        out: list[Blocker] = []
        for opt in self.book.access.get(target, []):
            fails = failures(self.book, opt.condition, held, person, 0)
            if fails:
                out.append(Blocker(option=opt.label, failing=fails, sources=list(opt.sources)))
            for slug in opt.condition.certifications_any:
                if slug in held or slug not in self.book.certs:
                    continue
                for adm in self.book.admissions.get(slug, []):
                    f2 = failures(self.book, adm.condition, held, person, 0)
                    if f2:
                        out.append(
                            Blocker(
                                option=f"Entrée en formation au {self.book.label(slug)} : {adm.label}",
                                failing=f2,
                                sources=list(adm.sources),
                            )
                        )
        unique: dict[tuple[str, tuple[str, ...]], Blocker] = {}
        for b in out:
            unique.setdefault((b.option, tuple(b.failing)), b)
        return list(unique.values())

    # -- turning a kept route into documented steps
    def document(self, spec: StepSpec, person: Person) -> Step:
        book = self.book
        label = book.label(spec.certification) if spec.certification else ""
        if spec.kind == "equivalence":
            eq: rs.Equivalence = spec.rule
            return Step(
                kind="equivalence",
                title=f"Votre {book.label(eq.holder_of)} vaut {book.label(eq.gives)}",
                months=0,
                certification=eq.gives,
                why=[Reason(text=eq.text, sources=list(eq.sources))],
            )
        if spec.kind == "attente":
            return Step(
                kind="attente",
                title=f"Attendre d'avoir {spec.min_age} ans",
                months=spec.months,
                certification=spec.certification,
                why=[
                    Reason(
                        text=f"L'entrée en formation au {label} demande {spec.min_age} ans au moins ; "
                        f"vous avez {person.age} ans.",
                        sources=list(spec.rule.sources),
                    )
                ],
            )
        if spec.kind == "formation":
            cert = book.certs[spec.certification or ""]
            opt: rs.AdmissionOption = spec.rule
            why = [
                Reason(
                    text=f"Admission : {opt.label}" + (f" ({opt.condition.note})" if opt.condition.note else ""),
                    sources=list(opt.sources),
                )
            ]
            red = spec.reduction
            if red is not None:
                why.append(
                    Reason(
                        text=f"Parcours allégé ({book.label(red.holder_of)}) : {red.text}", sources=list(red.sources)
                    )
                )
            shortened = (
                red is not None and red.months is not None and cert.months is not None and red.months < cert.months
            )
            why.append(
                Reason(
                    text=f"Durée : {cert.months_text}" + (f", ramenée à {spec.months:g} mois" if shortened else ""),
                    sources=list(cert.duration_sources),
                )
            )
            return Step(
                kind="formation",
                title=f"Se former au {cert.name}",
                months=spec.months,
                certification=spec.certification,
                route=spec.route,
                why=why,
            )
        if spec.kind == "vae":
            rule: rs.VaeRule = spec.rule
            have = sum(person.experience.get(o, 0.0) for o in rule.experience_any)
            where = " ou ".join(book.label(o) for o in rule.experience_any if o in person.experience)
            why = [
                Reason(text=rule.text, sources=list(rule.sources)),
                Reason(
                    text=f"Votre expérience : {_fmt_years(have)} comme {where} "
                    f"(minimum retenu : {_fmt_years(rule.min_experience_years)})."
                ),
            ]
            if rule.partial_then_training:
                why.append(Reason(text="Une validation partielle se complète par une formation aux blocs manquants."))
            return Step(
                kind="vae",
                title=f"Obtenir le {label} par la VAE",
                months=spec.months,
                certification=spec.certification,
                route="vae",
                why=why,
            )
        acc: rs.AccessOption = spec.rule
        if spec.kind == "poste":
            reasons = [
                Reason(
                    text=acc.label + (f" ({acc.condition.note})" if acc.condition.note else ""),
                    sources=list(acc.sources),
                )
            ]
            return Step(
                kind="poste",
                title=f"Exercer comme {book.occupations.get(spec.occupation or '', spec.occupation)}",
                months=0,
                occupation=spec.occupation,
                why=reasons,
            )
        c = book.certs.get(spec.certification or "")
        within = f" dans les {acc.then_within_years} ans" if acc.then_within_years else ""
        return Step(
            kind="certification_en_poste",
            title=f"Obtenir en poste le {c.name if c else label}{within}",
            months=spec.months,
            certification=spec.certification,
            why=[Reason(text=acc.label, sources=list(acc.sources))],
        )


def _undominated(routes: list[Partial]) -> list[Partial]:
    """Drop a route that does everything a better one does and more (same steps plus extra ones),
    or the same diplomas in another order."""
    kept: list[Partial] = []
    kept_sets: list[frozenset[str]] = []
    for route in routes:
        steps = frozenset(s.rsplit(":", 1)[0] for s in route.signature if not s.startswith(("equivalence", "poste")))
        if any(other <= steps for other in kept_sets):
            continue
        kept.append(route)
        kept_sets.append(steps)
    return kept


def person_of(profile: Profile) -> Person:
    exp: dict[str, float] = {}
    for e in profile.experience:
        exp[e.occupation] = exp.get(e.occupation, 0.0) + e.years
    return Person(experience=exp, age=profile.age, held_years={d.slug: d.year for d in profile.diplomas})


def _summary(book: RuleBook, partial: Partial) -> str:
    parts = []
    for s in partial.steps:
        if s.kind == "formation":
            parts.append(f"{book.label(s.certification or '')} ({ROUTE_LABELS.get(s.route or '', s.route)})")
        elif s.kind == "vae":
            parts.append(f"{book.label(s.certification or '')} par VAE")
        elif s.kind == "equivalence":
            parts.append(f"équivalence {book.label(s.certification or '')}")
        elif s.kind == "attente":
            parts.append(f"attente {s.months:g} mois")
    summary = " → ".join(parts) if parts else "accès direct"
    later = [book.label(s.certification or "") for s in partial.steps if s.kind == "certification_en_poste"]
    return summary + "".join(f", puis {c} en poste" for c in later)


_ANY_SESSION = select(TrainingSession.id).limit(1)


def _attach_sessions(session: Session, routes: list[Route], profile: Profile) -> None:
    """The earliest upcoming session near the person for every training step, in one query."""
    wanted = {s.certification for r in routes for s in r.steps if s.kind == "formation" and s.certification}
    if not wanted:
        return
    if session.execute(_ANY_SESSION).first() is None:
        return  # no training offer loaded: nothing to attach (cheap check before the full query)
    origin = session.get(Commune, profile.commune) if profile.commune else None
    # Only the columns shown: whole rows would decode every session's JSON columns (up to 2 000 of them).
    rows = session.execute(
        select(
            TrainingSession.title,
            TrainingSession.start_date,
            TrainingSession.is_demo,
            Certification.slug,
            Commune.name,
            Commune.latitude,
            Commune.longitude,
        )
        .join(Certification, Certification.id == TrainingSession.certification_id)
        .outerjoin(Commune, Commune.code_insee == TrainingSession.commune_code)
        .where(Certification.slug.in_(sorted(wanted)), TrainingSession.start_date >= dt.date.today())
        .order_by(TrainingSession.start_date, TrainingSession.id)
        .limit(2000)
    ).all()
    # The earliest session within reach (the person's maximum distance, else NEAR_KM); failing that, and
    # only when the person set no maximum, the earliest anywhere, with its distance said.
    radius = profile.max_distance_km if profile.max_distance_km is not None else NEAR_KM
    near: dict[str, SessionHint] = {}
    anywhere: dict[str, SessionHint] = {}
    for title, start_date, is_demo, slug, commune_name, latitude, longitude in rows:
        if slug in near or (origin is None and slug in anywhere):
            continue
        distance = None
        if origin is not None and commune_name is not None:
            points = (origin.latitude, origin.longitude, latitude, longitude)
            if all(v is not None for v in points):
                distance = haversine_km(*(float(v or 0) for v in points))
        hint = SessionHint(
            title=title,
            start_date=start_date.isoformat() if start_date else None,
            commune=commune_name,
            distance_km=round(distance, 1) if distance is not None else None,
            url=None,  # the session page arrives with the training search
            is_demo=is_demo,
        )
        if origin is None or (distance is not None and distance <= radius):
            near[slug] = hint
        elif profile.max_distance_km is None:
            anywhere.setdefault(slug, hint)
    first = {**anywhere, **near}
    for r in routes:
        for s in r.steps:
            if s.kind == "formation" and s.certification in first:
                s.session = first[s.certification]


class InvalidProfile(Exception):
    """Values of a profile that name nothing known: each error names its field."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']} : {e['reason']}" for e in errors))
        self.errors = errors


def normalise_profile(session: Session, book: RuleBook, profile: Profile) -> Profile:
    """Accept acronyms for diplomas (``DEAS``), refuse unknown diplomas, occupations and communes."""
    errors: list[dict[str, str]] = []
    diplomas = []
    for i, d in enumerate(profile.diplomas):
        slug = resolve_diploma(book, d.slug)
        if slug is None:
            errors.append({"field": f"diplomas.{i}.slug", "reason": f"diplôme inconnu : {d.slug}"})
        else:
            diplomas.append(d.model_copy(update={"slug": slug}))
    for i, e in enumerate(profile.experience):
        if e.occupation not in book.occupations:
            errors.append({"field": f"experience.{i}.occupation", "reason": f"métier inconnu : {e.occupation}"})
    if profile.target is not None and profile.target not in book.occupations:
        errors.append({"field": "target", "reason": f"métier visé inconnu : {profile.target}"})
    if profile.commune is not None and session.get(Commune, profile.commune) is None:
        errors.append({"field": "commune", "reason": f"commune inconnue (code INSEE attendu) : {profile.commune}"})
    if errors:
        raise InvalidProfile(errors)
    return profile.model_copy(update={"diplomas": diplomas})


def plan(session: Session, profile: Profile, book: RuleBook | None = None, k: int = 5) -> PlanResult | None:
    """Routes for ``profile``; ``None`` when the target occupation is unknown."""
    book = book or build_rulebook(session)
    planner = book.planner
    person = person_of(profile)
    if profile.target is not None:
        if profile.target not in book.occupations:
            return None
        partials = planner.routes(profile, profile.target, k)
        routes = [_route(planner, person, i + 1, profile.target, p) for i, p in enumerate(partials)]
        _attach_sessions(session, routes, profile)
        used = {w.text for r in routes for st in r.steps if st.kind == "poste" for w in st.why}
        blocked = [
            b for b in planner.blockers(profile, profile.target) if not any(u.startswith(b.option) for u in used)
        ]
        message = None
        if not routes:
            message = "Aucun parcours possible : voici les conditions qui bloquent."
            if profile.max_months is not None:
                unbounded = planner.routes(profile.model_copy(update={"max_months": None}), profile.target, 1)
                if unbounded:
                    message = f"Aucun parcours en moins de {profile.max_months:g} mois."
                    blocked.insert(
                        0,
                        Blocker(
                            option=f"Durée maximale de {profile.max_months:g} mois",
                            failing=[
                                f"accepter {unbounded[0].months:g} mois : c'est la durée du parcours le plus court "
                                f"({_summary(book, unbounded[0])})"
                            ],
                        ),
                    )
        return PlanResult(
            target=profile.target,
            target_name=book.occupations[profile.target],
            routes=routes,
            blocked=blocked,
            message=message,
        )
    held, _ = planner.closure(frozenset(d.slug for d in profile.diplomas))
    best: list[tuple[float, int, int, str, Partial]] = []
    targets = sorted(t for t in book.access if t in book.occupations)
    for slug, found in planner.routes_to(profile, targets, 1, first_targets=k).items():
        if found:
            # Among equally quick routes, occupations that use the person's own diplomas come first.
            uses_diploma = any(held & set(o.condition.certifications_any) for o in book.access[slug])
            best.append((found[0].effort, 0 if uses_diploma else 1, found[0].trainings, slug, found[0]))
    best.sort(key=lambda x: (x[0], x[1], x[2], x[3]))
    routes = [_route(planner, person, i + 1, slug, p) for i, (_, _, _, slug, p) in enumerate(best[:k])]
    _attach_sessions(session, routes, profile)
    return PlanResult(
        target=None,
        target_name=None,
        routes=routes,
        blocked=[],
        message="Métiers accessibles le plus rapidement depuis votre situation.",
    )


def _route(planner: Planner, person: Person, rank: int, target: str, partial: Partial) -> Route:
    book = planner.book
    return Route(
        rank=rank,
        target=target,
        target_name=book.occupations.get(target, target),
        total_months=partial.months,
        steps=[planner.document(s, person) for s in partial.steps],
        summary=_summary(book, partial),
    )


# ---------------------------------------------------------------- occupation page sections


def resolve_diploma(book: RuleBook, text: str) -> str | None:
    """A held diploma from a slug or an acronym (``DEAS``, ``deas``, ``bac``)."""
    key = text.strip().lower()
    if key in book.certs or key in book.general:
        return key
    for slug, c in sorted(book.certs.items()):
        if c.acronym and c.acronym.lower() == key:
            return slug
    for slug, g in sorted(book.general.items()):
        if g.name.lower() == key:
            return slug
    return None


def how_to_become(book: RuleBook, occupation: str) -> list[dict[str, Any]]:
    """Every entry route to an occupation, like the seed's "Le parcours" list."""
    entries: list[dict[str, Any]] = []
    for opt in book.access.get(occupation, []):
        certs = []
        for slug in opt.condition.certifications_any:
            c = book.certs.get(slug)
            if c is None:
                continue
            admissions = [{"label": a.label, "sources": a.sources} for a in book.admissions.get(slug, [])]
            vae = [{"text": v.text, "months": v.months, "sources": v.sources} for v in book.vae.get(slug, [])]
            certs.append(
                {
                    "slug": slug,
                    "name": c.name,
                    "acronym": c.acronym,
                    "active": c.active,
                    "duration": c.months_text,
                    "routes": sorted(c.routes),
                    "admissions": admissions,
                    "vae": vae,
                }
            )
        entries.append(
            {
                "label": opt.label,
                "certifications": certs,
                "then_certification": opt.then_certification,
                "then_within_years": opt.then_within_years,
                "sources": opt.sources,
                "experience": [book.label(o) for o in opt.condition.experience_any],
                "min_experience_years": opt.condition.min_experience_years,
            }
        )
    return entries


def what_next(book: RuleBook, occupation: str, k: int = 6) -> list[Route]:
    """Where one can go from this occupation: routes for a holder of its diplomas with 3 years in post.

    Depends only on the rule book, so it is computed once per occupation, not on every page view."""
    key = (occupation, k)
    if key not in book.next_routes:
        book.next_routes[key] = _what_next(book, occupation, k)
    return [r.model_copy(deep=True) for r in book.next_routes[key]]


def _what_next(book: RuleBook, occupation: str, k: int) -> list[Route]:
    held = [s for s in book.principal.get(occupation, []) if s in book.certs and book.certs[s].active] or sorted(
        {
            s
            for opt in book.access.get(occupation, [])
            for s in opt.condition.certifications_any
            if s in book.certs and book.certs[s].active
        }
    )
    profile = Profile(
        diplomas=[{"slug": s} for s in held[:1]],
        experience=[{"occupation": occupation, "years": 3}],
    )
    planner, person = book.planner, person_of(profile)
    targets = sorted(t for t in book.access if t != occupation and t in book.occupations)
    found = []
    for slug, routes in planner.routes_to(profile, targets, 1, first_targets=k + 4).items():
        if routes and any(s.kind in {"formation", "vae", "certification_en_poste"} for s in routes[0].steps):
            found.append((routes[0].months, slug, routes[0]))
    found.sort(key=lambda x: (x[0], x[1]))
    return [_route(planner, person, i + 1, slug, p) for i, (_, slug, p) in enumerate(found[:k])]
