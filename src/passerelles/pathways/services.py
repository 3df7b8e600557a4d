"""The pathways service: plan routes for a profile (checked first), and the occupation page's sections
(how to become, what next). The rules live in :mod:`pathways.rules`, the search in :mod:`pathways.planner`.
No HTTP here."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from passerelles.certifications.models import Certification
from passerelles.pathways.planner import Partial, planner_of
from passerelles.pathways.rules import RuleBook, name_variants, normalise_name, person_of
from passerelles.pathways.rules import build_rulebook as build_rulebook  # plan() builds one; cli.py imports it here
from passerelles.pathways.schemas import Blocker, PlanResult, Profile, Reason, Route, SessionHint
from passerelles.pathways.steps import document_route, summary
from passerelles.places.geo import haversine_km
from passerelles.places.models import Commune
from passerelles.places.services import place_index
from passerelles.rncp.services import shared_blocs
from passerelles.settings import Settings
from passerelles.trainings.models import TrainingSession

NEAR_KM = 60.0  # "near the person" when they gave no maximum distance


_ANY_SESSION = select(TrainingSession.id).limit(1)


def _attach_sessions(session: Session, routes: list[Route], profile: Profile) -> None:
    """The earliest upcoming session near the person for every training step, in one query."""
    wanted = {s.certification for r in routes for s in r.steps if s.kind == "formation" and s.certification}
    if not wanted:
        return
    if session.execute(_ANY_SESSION).first() is None:
        return  # no training offer loaded: nothing to attach (cheap check before the full query)
    origin = session.get(Commune, profile.commune) if profile.commune else None
    # The sessions the training search lists (open, not a summary linked to its full session), earliest first,
    # read in their partial index alone (certification, date, commune); the communes' names and coordinates
    # come from the place index, the titles of the few sessions kept from their rows.
    ts = TrainingSession
    certs: dict[int, str] = {
        cid: slug
        for cid, slug in session.execute(
            select(Certification.id, Certification.slug).where(Certification.slug.in_(wanted))
        )
    }
    found = session.execute(
        select(ts.id, ts.start_date, ts.is_demo, ts.certification_id, ts.commune_code)
        .where(
            ts.certification_id.in_(sorted(certs)),
            ts.start_date >= dt.date.today(),
            ts.closed_at.is_(None),
            ts.full_session_id.is_(None),
        )
        .order_by(ts.start_date, ts.id)
        .limit(2000)
    ).all()
    communes = place_index(session).communes
    rows = []
    for sid, start_date, is_demo, cid, code in found:
        c = communes.get(code or "")
        rows.append((sid, start_date, is_demo, certs.get(cid or 0, ""), c.name if c else None, c, code))
    # The earliest session within reach (the person's maximum distance, else NEAR_KM); failing that, and
    # only when the person set no maximum, the earliest anywhere, with its distance said.
    radius = profile.max_distance_km if profile.max_distance_km is not None else NEAR_KM
    near: dict[str, SessionHint] = {}
    anywhere: dict[str, SessionHint] = {}
    of: dict[tuple[str, str], int] = {}  # (certification, near or anywhere) → the session kept
    for sid, start_date, is_demo, slug, commune_name, commune, _ in rows:
        if slug in near or (origin is None and slug in anywhere):
            continue
        distance = None
        if origin is not None and commune is not None:
            points = (origin.latitude, origin.longitude, commune.latitude, commune.longitude)
            if all(v is not None for v in points):
                distance = haversine_km(*(float(v or 0) for v in points))
        hint = SessionHint(
            title="",  # read below, for the sessions kept
            start_date=start_date.isoformat() if start_date else None,
            commune=commune_name,
            distance_km=round(distance, 1) if distance is not None else None,
            url=None,  # the session page arrives with the training search
            is_demo=is_demo,
        )
        if origin is None or (distance is not None and distance <= radius):
            near[slug] = hint
            of[slug, "near"] = sid
        elif profile.max_distance_km is None and slug not in anywhere:
            anywhere[slug] = hint
            of[slug, "anywhere"] = sid
    first = {**anywhere, **near}
    kept = select(ts.id, ts.title).where(ts.id.in_(sorted(set(of.values()))))
    titles = {i: t for i, t in session.execute(kept)}
    for (slug, where), sid in of.items():
        (near if where == "near" else anywhere)[slug].title = titles[sid]
    for r in routes:
        for s in r.steps:
            if s.kind == "formation" and s.certification in first:
                s.session = first[s.certification]


def _shared_blocs(session: Session, book: RuleBook, routes: list[Route], profile: Profile) -> None:
    """A training step whose certification has blocs de compétences of the same title, in the RNCP, as a
    diploma held (or earned earlier in the route) says so: a fact of the register, its sheets named; whether
    it exempts from a module is for the diploma's texts and the training body."""
    plans: list[tuple[Any, list[str]]] = []
    for r in routes:
        held = [d.slug for d in profile.diplomas]
        for st in r.steps:
            if st.certification and st.kind == "formation":
                plans.append((st, [h for h in held if h != st.certification]))
            if st.certification:
                held.append(st.certification)
    found = shared_blocs(session, {(h, st.certification) for st, hs in plans for h in hs})
    for st, hs in plans:
        for h in hs:
            common = found.get((h, st.certification))
            if common is None:
                continue
            cert = book.certs.get(h)
            label = (cert.acronym or cert.name) if cert else h
            titles = ", ".join(f"« {b.title} »" for b in common.blocs)
            count = f"{len(common.blocs)} bloc{'s' if len(common.blocs) > 1 else ''}"
            st.why.append(
                Reason(
                    text=(
                        f"Blocs communs avec le {label} : {count} de compétences de même intitulé "
                        f"au répertoire national (RNCP, France Compétences, fiches {common.numbers[0]} et "
                        f"{common.numbers[1]}) : {titles}. Une dispense ou un allègement se demande à l'organisme "
                        "de formation, selon les textes du diplôme."
                    )
                )
            )


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
    experience = []
    for i, e in enumerate(profile.experience):
        match = resolve_occupation(book, e.occupation)
        if match.slug is None:
            errors.append({"field": f"experience.{i}.occupation", "reason": unknown_occupation(e.occupation, match)})
        else:
            experience.append(e.model_copy(update={"occupation": match.slug}))
    if profile.target is not None and profile.target not in book.occupations:
        errors.append({"field": "target", "reason": f"métier visé inconnu : {profile.target}"})
    if profile.commune is not None and session.get(Commune, profile.commune) is None:
        errors.append({"field": "commune", "reason": f"commune inconnue (code INSEE attendu) : {profile.commune}"})
    if errors:
        raise InvalidProfile(errors)
    return profile.model_copy(update={"diplomas": diplomas, "experience": experience})


# ---------------------------------------------------------------- what people call their occupation


@dataclass(frozen=True)
class OccupationMatch:
    """The occupation a typed name means (``slug``), or, when it is not understood, close names to offer."""

    text: str
    slug: str | None
    suggestions: list[str] = field(default_factory=list)  # occupation names, for the person to pick from


# "faisant fonction d'aide-soignant": the work of an aide-soignant without the diploma, counted as such.
_STAND_IN = re.compile(r"^(?:faisant fonction|faisant office|ff|fonction)(?: (?:d|de|du|des))? ")


@functools.lru_cache(maxsize=4)
def _synonyms(path: Path) -> dict[str, list[str]]:
    """The project's sector dictionary (data/search/synonyms.yaml): a name → what it also means."""
    if not path.is_file():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, list[str]] = {}
    for group in raw.get("groups") or []:
        means = [normalise_name(m) for m in group.get("means") or []]
        for term in group.get("terms") or []:
            out.setdefault(normalise_name(term), []).extend(means)
    return out


def _lookup(book: RuleBook, key: str) -> set[str]:
    if key in book.occupations:
        return {key}
    found = book.names.get(key)
    if found:
        return found
    singular = " ".join(w[:-1] if len(w) > 3 and w.endswith(("s", "x")) else w for w in key.split())
    return book.names.get(singular, set())


def _by_prefix(book: RuleBook, key: str) -> set[str]:
    """Occupations whose names all start with ``key`` (``assistant de vie`` → assistant de vie dépendance)."""
    slugs: set[str] = set()
    for name, found in book.names.items():
        if name.startswith(key + " "):
            slugs |= found
    return slugs


def resolve_occupation(book: RuleBook, text: str, synonyms: Path | None = None) -> OccupationMatch:
    """The occupation someone names as their experience: a slug, a name or acronym of the project (former
    names included), a ROME 4.60 appellation, a stand-in function (« faisant fonction d'aide-soignant ») or
    a name from the project's sector dictionary. Not understood: close names are suggested, never guessed."""
    key = normalise_name(text)
    if not key:
        return OccupationMatch(text, None)
    key = _STAND_IN.sub("", key) or key
    found = _lookup(book, key)
    bare = re.sub(r"\([^)]*\)", " ", text)  # « Aide médico-psychologique (AMP) »
    for variant in [*name_variants(bare), *name_variants(text)] if not found else ():
        found = _lookup(book, _STAND_IN.sub("", variant) or variant)
        if found:
            break
    if not found:
        for meaning in _synonyms(synonyms or Settings().synonyms_file).get(key, []):
            found = _lookup(book, meaning)
            if not found:
                prefixed = _by_prefix(book, meaning)
                found = prefixed if len(prefixed) == 1 else set()
            if found:
                break
    if len(found) == 1:
        return OccupationMatch(text, next(iter(found)))
    return OccupationMatch(text, None, _suggest(book, key, found))


def _suggest(book: RuleBook, key: str, ambiguous: set[str]) -> list[str]:
    slugs: list[str] = sorted(ambiguous, key=lambda s: book.occupations.get(s, s))
    close = difflib.get_close_matches(key, list(book.names), n=12, cutoff=0.6)
    words = {w for w in key.split() if len(w) >= 4}
    shared = sorted(
        (n for n in book.names if words & set(n.split())),
        key=lambda n: (-len(words & set(n.split())), n),
    )
    for name in close or shared:
        for slug in sorted(book.names[name]):
            if slug not in slugs:
                slugs.append(slug)
    return [book.occupations[s] for s in slugs if s in book.occupations][:5]


def unknown_occupation(text: str, match: OccupationMatch) -> str:
    """The French message for a name not understood, with what it may mean."""
    shown = text.strip()[:60]
    if match.suggestions:
        names = match.suggestions
        options = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " ou " + names[-1]
        return f"métier non reconnu : « {shown} ». Vouliez-vous dire : {options} ?"
    return (
        f"métier non reconnu : « {shown} ». Essayez le nom du poste occupé "
        "(par exemple « aide-soignant », « auxiliaire de vie », « AMP »)."
    )


def plan(session: Session, profile: Profile, book: RuleBook | None = None, k: int = 5) -> PlanResult | None:
    """Routes for ``profile``; ``None`` when the target occupation is unknown."""
    book = book or build_rulebook(session)
    planner = planner_of(book)
    person = person_of(profile)
    if profile.target is not None:
        if profile.target not in book.occupations:
            return None
        partials = planner.routes(profile, profile.target, k)
        routes = [document_route(book, person, i + 1, profile.target, p) for i, p in enumerate(partials)]
        _attach_sessions(session, routes, profile)
        _shared_blocs(session, book, routes, profile)
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
                                f"({summary(book, unbounded[0])})"
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
    routes = [document_route(book, person, i + 1, slug, p) for i, (_, _, _, slug, p) in enumerate(best[:k])]
    _attach_sessions(session, routes, profile)
    _shared_blocs(session, book, routes, profile)
    return PlanResult(
        target=None,
        target_name=None,
        routes=routes,
        blocked=[],
        message="Métiers accessibles le plus rapidement depuis votre situation.",
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
    planner, person = planner_of(book), person_of(profile)
    targets = sorted(t for t in book.access if t != occupation and t in book.occupations)
    found = []
    for slug, routes in planner.routes_to(profile, targets, 1, first_targets=k + 4).items():
        if routes and any(s.kind in {"formation", "vae", "certification_en_poste"} for s in routes[0].steps):
            found.append((routes[0].months, slug, routes[0]))
    found.sort(key=lambda x: (x[0], x[1]))
    return [document_route(book, person, i + 1, slug, p) for i, (_, slug, p) in enumerate(found[:k])]
