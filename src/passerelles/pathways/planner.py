"""The route planner: an A* search over "diplomas held" states, from a person's situation to an occupation,
through diplomas, equivalences, reductions (allègements) and VAE. A state's cost is its effort (training
months, a VAE counting half) and :meth:`Planner.remaining` an admissible estimate of the effort left; the
search keeps the k best distinct routes and is deterministic (every tie is broken on insertion order, itself
fixed). Every step of a kept route says why it is there and cites the rule's sources. No HTTP here."""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from itertools import count
from typing import Any

from passerelles.pathways.rules import Person, RuleBook, age_wait, failures, holds, person_of
from passerelles.pathways.schemas import Blocker, Profile
from passerelles.reference import schemas as rs

MAX_STEPS = 3  # training or VAE steps in one route
MAX_POPS = 3000  # search budget: bounds the time spent on a target that cannot be reached
STATE_VISITS = 2  # paths kept through one set of diplomas: enough for distinct routes, bounded work


def longer_routes(best: float) -> float:
    """Alternative routes are searched up to half again the best one's effort, or a year more."""
    return max(best * 1.5, best + 12.0)


def planner_of(book: RuleBook) -> Planner:
    """The book's planner, made once: its caches live as long as the book (one per process)."""
    planner = book.planner
    if not isinstance(planner, Planner):
        planner = book.planner = Planner(book)
    return planner


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
    in_post: float = 0.0  # months of mandatory training after the hiring (counted in the total, not before)

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
            self.in_post,
        )

    @property
    def total(self) -> float:
        """Every month of the route: the way in, and the trainings required once in post."""
        return self.months + self.in_post


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
                w = age_wait(book, opt.condition, held, person, elapsed)
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
        """The ways into a post from ``partial``, in the order they happen: a training required before the
        hiring, the hiring, then what must be obtained or followed once in post."""
        done = []
        for opt in self.book.access.get(target, []):
            if not holds(self.book, opt.condition, partial.held, person, partial.months):
                continue
            before: list[StepSpec] = []
            after: list[StepSpec] = []
            training = opt.training
            if training is not None:
                spec = StepSpec("formation_obligatoire", training.months, occupation=target, rule=opt)
                (after if training.after_hiring else before).append(spec)
            if opt.then_certification and opt.then_certification not in partial.held:
                c = self.book.certs.get(opt.then_certification)
                after.insert(
                    0,
                    StepSpec(
                        "certification_en_poste",
                        (c.months or 0.0) if c else 0.0,
                        certification=opt.then_certification,
                        rule=opt,
                    ),
                )
            way_in = partial.then(before, partial.held)
            arrived = way_in.then([StepSpec("poste", 0.0, occupation=target, rule=opt), *after], partial.held)
            later = sum(s.months for s in after)
            # Time in post does not delay the hiring: the months before it stay apart from those after.
            done.append(
                Partial(
                    way_in.months,
                    way_in.effort + later,
                    arrived.steps,
                    arrived.held,
                    arrived.signature,
                    partial.trainings,
                    later,
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
        the best one found (``longer_routes``) are not looked for: they would not be shown anyway."""
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
            if first_targets is None and reached and heap[0][0] > longer_routes(reached[0]):
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
                    if profile.max_months is not None and a.total > profile.max_months:
                        continue
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
            routes.sort(key=lambda p: (p.effort, p.total, p.months, p.trainings, p.signature))
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
