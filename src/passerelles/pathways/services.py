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

from passerelles.certifications.models import Certification
from passerelles.occupations.models import Occupation
from passerelles.pathways.models import PathwayRule
from passerelles.pathways.schemas import Blocker, PlanResult, Profile, Reason, Route, SessionHint, Step
from passerelles.places.models import Commune
from passerelles.reference import schemas as rs
from passerelles.trainings.models import TrainingSession

MAX_STEPS = 3  # training or VAE steps in one route
MAX_WAIT_MONTHS = 36
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
    first = lo or hi
    if first:
        text = f"{lo} à {hi} mois" if lo and hi and lo != hi else f"{first} mois"
        return float(first), text
    if hours:
        months = round(hours / 140)  # about 35 h a week, 4 weeks a month
        return float(max(months, 1)), f"{hours} heures (environ {max(months, 1)} mois)"
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
    return book


# ---------------------------------------------------------------- conditions


@dataclass(frozen=True)
class Person:
    experience: dict[str, float]
    age: int | None
    held_years: dict[str, int | None]


def _fmt_years(y: float) -> str:
    return f"{y:g} an" + ("s" if y >= 2 else "")


def failures(book: RuleBook, cond: rs.Condition, held: frozenset[str], person: Person, elapsed: float) -> list[str]:
    """What does not hold in ``cond`` for this person holding ``held`` after ``elapsed`` months."""
    out: list[str] = []
    if cond.certifications_any and not (held & set(cond.certifications_any)):
        names = ", ".join(book.label(s) for s in cond.certifications_any)
        out.append(f"détenir l'un de ces diplômes : {names}")
    if cond.min_level is not None:
        best = max((lv for s in held if (lv := book.level(s)) is not None), default=None)
        if best is None or best < cond.min_level:
            out.append(
                f"un diplôme de niveau {cond.min_level} au moins" + (f" (niveau actuel : {best})" if best else "")
            )
    if cond.min_experience_years is not None or cond.experience_any:
        needed = cond.min_experience_years or 0.0
        pool = cond.experience_any or list(person.experience)
        have = sum(person.experience.get(o, 0.0) for o in pool)
        if have < needed or (cond.experience_any and have == 0 and needed == 0):
            where = " ou ".join(book.label(o) for o in cond.experience_any) if cond.experience_any else "un emploi"
            out.append(
                f"{_fmt_years(needed) if needed else 'de l’expérience'} comme {where} (vous : {_fmt_years(have)})"
            )
    if cond.min_age is not None and person.age is not None:
        age_then = person.age + elapsed / 12
        if age_then < cond.min_age:
            out.append(f"avoir au moins {cond.min_age} ans (vous : {person.age} ans)")
    return out


def _age_wait(book: RuleBook, cond: rs.Condition, held: frozenset[str], person: Person, elapsed: float) -> float | None:
    """Months to wait when age is the only condition that fails (None: not an age-only failure)."""
    if cond.min_age is None or person.age is None:
        return None
    relaxed = cond.model_copy(update={"min_age": None})
    if failures(book, relaxed, held, person, elapsed):
        return None
    missing = cond.min_age - (person.age + elapsed / 12)
    if missing <= 0:
        return None
    months = math.ceil(missing) * 12.0
    return months if months <= MAX_WAIT_MONTHS else None


# ---------------------------------------------------------------- search


@dataclass(frozen=True)
class Partial:
    months: float
    steps: tuple[Step, ...]
    held: frozenset[str]

    @property
    def signature(self) -> tuple[str, ...]:
        return tuple(f"{s.kind}:{s.certification or s.occupation or ''}:{s.route or ''}" for s in self.steps)

    @property
    def trainings(self) -> int:
        return sum(1 for s in self.steps if s.kind in {"formation", "vae"})

    @property
    def effort(self) -> float:
        """Ranking key: months spent training, a VAE counting half since it is done while in work."""
        return sum(
            s.months * (0.5 if s.kind == "vae" else 1.0) for s in self.steps if s.kind != "certification_en_poste"
        )


class Planner:
    def __init__(self, book: RuleBook) -> None:
        self.book = book

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

    def relevant(self, target: str) -> set[str]:
        """Certifications that can matter for the target: backward closure over the conditions."""
        wanted: set[str] = set()
        frontier: list[rs.Condition] = [o.condition for o in self.book.access.get(target, [])]
        min_levels: set[int] = set()
        while frontier:
            cond = frontier.pop()
            new = {s for s in cond.certifications_any if s in self.book.certs} - wanted
            if cond.min_level:
                min_levels.add(cond.min_level)
                new |= {
                    s
                    for s, c in self.book.certs.items()
                    if c.active and c.level and c.level >= cond.min_level and c.level <= cond.min_level + 1
                } - wanted
            for slug in sorted(new):
                wanted.add(slug)
                frontier.extend(o.condition for o in self.book.admissions.get(slug, []))
        return wanted

    def _training_options(
        self, slug: str, held: frozenset[str], person: Person, profile: Profile, elapsed: float
    ) -> list[tuple[float, list[Step]]]:
        book, cert = self.book, self.book.certs[slug]
        options = self.book.admissions.get(slug) or [
            rs.AdmissionOption(
                label="Admission sur dossier et entretien",
                condition=rs.Condition(min_age=cert.min_age),
                sources=list(cert.admission_sources) or ["rome-460"],
            )
        ]
        results: list[tuple[float, list[Step]]] = []
        for opt in options:
            wait = 0.0
            fails = failures(book, opt.condition, held, person, elapsed)
            if fails:
                w = _age_wait(book, opt.condition, held, person, elapsed)
                if w is None:
                    continue
                wait = w
            routes: set[str] = {str(r) for r in opt.routes} & cert.routes if opt.routes else set(cert.routes)
            routes.discard("vae")
            if not routes:
                routes = {"initiale"} if not cert.routes else set()
            if not routes:
                continue
            route = self._choose_route(routes, person, profile, elapsed + wait)
            months = cert.months if cert.months is not None else 12.0
            why = [Reason(text=f"Admission : {opt.label}", sources=list(opt.sources))]
            reduction = None
            for red in self.book.reductions.get(slug, []):
                if red.holder_of in held and (reduction is None or (red.months or 99) < (reduction.months or 99)):
                    reduction = red
            if reduction is not None:
                if reduction.months is not None and reduction.months < months:
                    months = reduction.months
                why.append(
                    Reason(
                        text=f"Parcours allégé ({book.label(reduction.holder_of)}) : {reduction.text}",
                        sources=list(reduction.sources),
                    )
                )
            why.append(
                Reason(
                    text=f"Durée : {cert.months_text}"
                    + (f", ramenée à {months:g} mois" if reduction and reduction.months is not None else ""),
                    sources=list(cert.duration_sources),
                )
            )
            steps: list[Step] = []
            if wait:
                steps.append(
                    Step(
                        kind="attente",
                        title=f"Attendre d'avoir {opt.condition.min_age} ans",
                        months=wait,
                        certification=slug,
                        why=[
                            Reason(
                                text=f"L'entrée en formation au {book.label(slug)} demande {opt.condition.min_age}"
                                f" ans au moins ; vous avez {person.age} ans.",
                                sources=list(opt.sources),
                            )
                        ],
                    )
                )
            steps.append(
                Step(
                    kind="formation",
                    title=f"Se former au {cert.name}",
                    months=months,
                    certification=slug,
                    route=route,
                    why=why,
                )
            )
            results.append((wait + months, steps))
        return results

    @staticmethod
    def _choose_route(routes: set[str], person: Person, profile: Profile, elapsed: float) -> str:
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

    def _vae_options(self, slug: str, held: frozenset[str], person: Person) -> list[tuple[float, list[Step]]]:
        out = []
        for rule in self.book.vae.get(slug, []):
            cond = rs.Condition(experience_any=rule.experience_any, min_experience_years=rule.min_experience_years)
            if failures(self.book, cond, held, person, 0):
                continue
            have = sum(person.experience.get(o, 0.0) for o in rule.experience_any)
            why = [
                Reason(text=rule.text, sources=list(rule.sources)),
                Reason(
                    text=f"Votre expérience : {_fmt_years(have)} comme "
                    f"{' ou '.join(self.book.label(o) for o in rule.experience_any if o in person.experience)}"
                    f" (minimum retenu : {_fmt_years(rule.min_experience_years)})."
                ),
            ]
            if rule.partial_then_training:
                why.append(Reason(text="Une validation partielle se complète par une formation aux blocs manquants."))
            out.append(
                (
                    rule.months,
                    [
                        Step(
                            kind="vae",
                            title=f"Obtenir le {self.book.label(slug)} par la VAE",
                            months=rule.months,
                            certification=slug,
                            route="vae",
                            why=why,
                        )
                    ],
                )
            )
        return out

    def _arrive(self, target: str, partial: Partial, person: Person) -> list[Partial]:
        done = []
        for opt in self.book.access.get(target, []):
            if failures(self.book, opt.condition, partial.held, person, partial.months):
                continue
            steps = list(partial.steps)
            steps.append(
                Step(
                    kind="poste",
                    title=f"Exercer comme {self.book.occupations.get(target, target)}",
                    months=0,
                    occupation=target,
                    why=[Reason(text=opt.label, sources=list(opt.sources))],
                )
            )
            if opt.then_certification and opt.then_certification not in partial.held:
                c = self.book.certs.get(opt.then_certification)
                within = f" dans les {opt.then_within_years} ans" if opt.then_within_years else ""
                steps.append(
                    Step(
                        kind="certification_en_poste",
                        title=f"Obtenir en poste le {c.name if c else opt.then_certification}{within}",
                        months=c.months or 0 if c else 0,
                        certification=opt.then_certification,
                        why=[Reason(text=opt.label, sources=list(opt.sources))],
                    )
                )
            done.append(Partial(partial.months, tuple(steps), partial.held))
        return done

    def routes(self, profile: Profile, target: str, k: int = 5) -> list[Partial]:
        person = person_of(profile)
        start, used = self.closure(frozenset(d.slug for d in profile.diplomas))
        relevant = self.relevant(target)
        first_steps = tuple(
            Step(
                kind="equivalence",
                title=f"Votre {self.book.label(eq.holder_of)} vaut {self.book.label(eq.gives)}",
                months=0,
                certification=eq.gives,
                why=[Reason(text=eq.text, sources=list(eq.sources))],
            )
            for eq in used
        )
        tie = count()
        heap: list[tuple[float, int, tuple[str, ...], int, Partial]] = []
        root = Partial(0.0, first_steps, start)
        heapq.heappush(heap, (0.0, 0, root.signature, next(tie), root))  # ordered by effort
        visits: dict[frozenset[str], int] = {}
        found: list[Partial] = []
        seen: set[tuple[str, ...]] = set()
        while heap and len(found) < k:
            _, _, _, _, partial = heapq.heappop(heap)
            visits[partial.held] = visits.get(partial.held, 0) + 1
            if visits[partial.held] > k:
                continue
            arrived = self._arrive(target, partial, person)
            if arrived:
                for a in arrived:
                    sig = tuple(s for s in a.signature if not s.startswith("equivalence"))
                    if sig not in seen:
                        seen.add(sig)
                        found.append(a)
                continue
            if partial.trainings >= MAX_STEPS:
                continue
            for slug in sorted(relevant - partial.held):
                if not self.book.certs[slug].active:
                    continue
                for months, steps in self._training_options(
                    slug, partial.held, person, profile, partial.months
                ) + self._vae_options(slug, partial.held, person):
                    held, _ = self.closure(partial.held | {slug})
                    nxt = Partial(partial.months + months, partial.steps + tuple(steps), held)
                    if profile.max_months is not None and nxt.months > profile.max_months:
                        continue
                    heapq.heappush(heap, (nxt.effort, nxt.trainings, nxt.signature, next(tie), nxt))
        found.sort(key=lambda p: (p.effort, p.months, p.trainings, p.signature))
        return found[:k]

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
    return " → ".join(parts) if parts else "accès direct"


def _attach_sessions(session: Session, steps: list[Step], profile: Profile) -> None:
    origin = session.get(Commune, profile.commune) if profile.commune else None
    today = dt.date.today()
    for step in steps:
        if step.kind != "formation" or not step.certification:
            continue
        rows = session.execute(
            select(TrainingSession, Commune)
            .join(Certification, Certification.id == TrainingSession.certification_id)
            .outerjoin(Commune, Commune.code_insee == TrainingSession.commune_code)
            .where(Certification.slug == step.certification, TrainingSession.start_date >= today)
            .order_by(TrainingSession.start_date, TrainingSession.id)
            .limit(200)
        ).all()
        for ts, commune in rows:
            distance = None
            if origin is not None and commune is not None:
                points = (origin.latitude, origin.longitude, commune.latitude, commune.longitude)
                if all(v is not None for v in points):
                    distance = haversine_km(*(float(v or 0) for v in points))
            if profile.max_distance_km is not None and (distance is None or distance > profile.max_distance_km):
                continue
            step.session = SessionHint(
                title=ts.title,
                start_date=ts.start_date.isoformat() if ts.start_date else None,
                commune=commune.name if commune else None,
                distance_km=round(distance, 1) if distance is not None else None,
                url=f"/formations/sessions/{ts.id}",
                is_demo=ts.is_demo,
            )
            break


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def plan(session: Session, profile: Profile, book: RuleBook | None = None, k: int = 5) -> PlanResult | None:
    """Routes for ``profile``; ``None`` when the target occupation is unknown."""
    book = book or build_rulebook(session)
    planner = Planner(book)
    if profile.target is not None:
        if profile.target not in book.occupations:
            return None
        partials = planner.routes(profile, profile.target, k)
        routes = [_route(book, i + 1, profile.target, p) for i, p in enumerate(partials)]
        for r in routes:
            _attach_sessions(session, r.steps, profile)
        blocked = planner.blockers(profile, profile.target)
        message = None
        if not routes:
            message = (
                "Aucun parcours possible"
                + (f" en moins de {profile.max_months:g} mois" if profile.max_months else "")
                + " : voici les conditions qui bloquent."
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
    for slug in sorted(book.access):
        if slug not in book.occupations:
            continue
        found = planner.routes(profile, slug, 1)
        if found:
            # Among equally quick routes, occupations that use the person's own diplomas come first.
            uses_diploma = any(held & set(o.condition.certifications_any) for o in book.access[slug])
            best.append((found[0].effort, 0 if uses_diploma else 1, found[0].trainings, slug, found[0]))
    best.sort(key=lambda x: (x[0], x[1], x[2], x[3]))
    routes = [_route(book, i + 1, slug, p) for i, (_, _, _, slug, p) in enumerate(best[:k])]
    return PlanResult(
        target=None,
        target_name=None,
        routes=routes,
        blocked=[],
        message="Métiers accessibles le plus rapidement depuis votre situation.",
    )


def _route(book: RuleBook, rank: int, target: str, partial: Partial) -> Route:
    return Route(
        rank=rank,
        target=target,
        target_name=book.occupations.get(target, target),
        total_months=partial.months,
        steps=[s.model_copy(deep=True) for s in partial.steps],
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
    """Where one can go from this occupation: routes for a holder of its diplomas with 3 years in post."""
    held = sorted(
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
    planner = Planner(book)
    found = []
    for slug in sorted(book.access):
        if slug == occupation or slug not in book.occupations:
            continue
        routes = planner.routes(profile, slug, 1)
        if routes and any(s.kind in {"formation", "vae", "certification_en_poste"} for s in routes[0].steps):
            found.append((routes[0].months, slug, routes[0]))
    found.sort(key=lambda x: (x[0], x[1]))
    return [_route(book, i + 1, slug, p) for i, (_, slug, p) in enumerate(found[:k])]
