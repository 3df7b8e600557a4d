"""The widening shared by the training search (« /formations ») and the job-offer search (« /emploi »).

« Élargir » goes step by step, each step cumulative and saying what it widened: a larger radius, nearby
départements, the whole région, départements of the neighbouring régions; then related certifications or
occupations (only those a person of the searched profile could enter, read from the admission and access
rules of data/pathways.yaml, see :func:`related_certifications` and :func:`related_occupations`); then the
secondary criteria dropped (each named, so that the page can offer to put it back); then all of France.

The searches own their criteria and their queries; this module owns the order of the steps, the rules of
what may be added, and the distance order that follows a widening around a commune.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, case, select
from sqlalchemy.orm import Session

from passerelles.certifications.models import Certification, OccupationCertification
from passerelles.occupations.models import Occupation
from passerelles.pathways.rules import Person, RuleBook, build_rulebook, holds
from passerelles.places.services import PlaceFilter, PlaceIndex, resolve_place
from passerelles.widening.schemas import Added, Dropped, Widening

Q = TypeVar("Q", bound=BaseModel)
SHOWN_ADDED = 6  # names listed in a step's sentence; the page lists them all with their reasons


@dataclass(frozen=True)
class Area:
    """Where a search looks, as the steps widen it."""

    region: str | None = None
    departement: str | None = None
    commune: str | None = None
    radius_km: int | None = None
    extra_departements: tuple[str, ...] = ()
    france: bool = False

    def place(self, index: PlaceIndex) -> PlaceFilter:
        if self.france:
            return PlaceFilter("en France")
        return resolve_place(
            index,
            region=self.region,
            departement=self.departement,
            commune=self.commune,
            radius_km=self.radius_km,
            extra_departements=self.extra_departements,
        )


@dataclass(frozen=True)
class Scope:
    """One step's search: its area, the related ids it adds, and whether secondary criteria still apply."""

    area: Area
    extra: frozenset[int] = frozenset()
    secondary: bool = True


@dataclass
class Step:
    text: str
    scope: Scope
    added: list[Added] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    kind: str | None = None

    def widening(self, level: int) -> Widening:
        return Widening(level=level, text=self.text, kind=self.kind, added=self.added, dropped=self.dropped)


@dataclass(frozen=True)
class Related:
    """What a search may add: ids (certifications or occupations), each with its name and reason."""

    kind: str  # « certifications proches », « métiers proches »
    ids: frozenset[int]
    added: list[Added]


def area_steps(index: PlaceIndex, area: Area, max_radius: int) -> list[tuple[str, Area]]:
    """The wider areas around ``area`` (not yet all of France), each with the sentence saying what it widened."""
    steps: list[tuple[str, Area]] = []
    cur = area
    if cur.commune and cur.radius_km:
        radius = cur.radius_km
        for _ in range(2):
            if radius >= max_radius:
                break
            radius = min(max_radius, max(radius * 2, 50))
            cur = replace(cur, radius_km=radius)
            steps.append((f"rayon porté à {radius} km", cur))
    place = area.place(index)
    if cur.departement and not cur.commune:
        near = tuple(index.nearby_departements([cur.departement]))
        if near:
            cur = replace(cur, extra_departements=near)
            names = ", ".join(index.departement_label(d) for d in near)
            steps.append((f"départements voisins ajoutés : {names}", cur))
    if (cur.commune or cur.departement) and place.region_code:
        cur = Area(region=place.region_code)
        steps.append((f"toute la région {index.regions[place.region_code]}", cur))
    if cur.region and not cur.departement and not cur.commune:
        own = index.departements_of_region(cur.region)
        near = tuple(index.nearby_departements(own, limit=6, max_km=110))
        if near:
            cur = replace(cur, extra_departements=near)
            names = ", ".join(index.departement_label(d) for d in near)
            steps.append((f"départements des régions voisines ajoutés : {names}", cur))
    return steps


def widening_steps(
    index: PlaceIndex, area: Area, *, max_radius: int, related: Related | None, dropped: list[Dropped]
) -> list[Step]:
    """Every step from ``area``, cumulative: wider areas, related ids, secondary criteria off, all of France."""
    steps = [Step(text, Scope(a)) for text, a in area_steps(index, area, max_radius)]
    cur = steps[-1].scope if steps else Scope(area)
    if related and related.ids:
        labels = [a.label for a in related.added]
        shown = ", ".join(labels[:SHOWN_ADDED])
        if len(labels) > SHOWN_ADDED:
            shown += f" et {len(labels) - SHOWN_ADDED} autres"
        cur = replace(cur, extra=related.ids)
        done = "ajoutées" if related.kind.startswith("certifications") else "ajoutés"
        steps.append(Step(f"{related.kind} {done} : {shown}", cur, added=list(related.added), kind=related.kind))
    if dropped:
        cur = replace(cur, secondary=False)
        text = "critères retirés : " if len(dropped) > 1 else "critère retiré : "
        steps.append(Step(text + ", ".join(d.label for d in dropped), cur, dropped=list(dropped)))
    if not cur.area.france and (cur.area.region or cur.area.departement or cur.area.commune):
        cur = replace(cur, area=Area(france=True))
        steps.append(Step("toute la France", cur))
    return steps


def area_level(steps: list[Step]) -> int:
    """How many steps come before the one that drops criteria (the level to put a criterion back at)."""
    return next((i for i, s in enumerate(steps) if s.dropped), len(steps))


# ---------------------------------------------------------------- criteria on the page


def without_dropped(q: Q, widened: list[Widening]) -> Q:
    """``q`` with the criteria a widening step dropped set back to their defaults."""
    return _unset(q, [p for w in widened for d in w.dropped for p in d.params])


def _unset(q: Q, params: list[str]) -> Q:
    fields = type(q).model_fields
    return q.model_copy(update={p: fields[p].get_default(call_default_factory=True) for p in params})


def restore_criteria(q: BaseModel, widened: list[Widening], restore_level: int, dropped: Dropped) -> dict[str, Any]:
    """The search with ``dropped`` put back (the other dropped criteria left out), widened as far as the
    places went before the criteria were dropped."""
    others = [p for w in widened for d in w.dropped if d != dropped for p in d.params]
    data = _unset(q, others).model_dump(mode="json")
    data.update(elargir=restore_level, page=1)
    return {k: v for k, v in data.items() if not (k == "elargir" and v == 0) and not (k == "page" and v == 1)}


# ---------------------------------------------------------------- distance after a widening


def distance_order(lat: Any, lon: Any, centre: tuple[float, float]) -> list[ColumnElement[Any]]:
    """SQL order by distance to ``centre`` (then the caller's own order): the squared equirectangular
    distance, which orders like the great-circle one at the scale of a country; no coordinates come last.
    Plain arithmetic, the same on SQLite and PostgreSQL."""
    lat0, lon0 = centre
    k = math.cos(math.radians(lat0)) ** 2
    dlat, dlon = lat - lat0, lon - lon0
    return [case((lat.is_(None), 1), else_=0), dlat * dlat + dlon * dlon * k]


# ---------------------------------------------------------------- what may be added

_books: dict[str, RuleBook] = {}


def _rulebook(session: Session) -> RuleBook:
    """The pathway rules of this database, read once per process (reference data)."""
    bind = session.get_bind()
    key = str(getattr(bind, "url", id(bind)))
    book = _books.get(key)
    if book is None:
        if len(_books) > 64:
            _books.clear()
        book = _books[key] = build_rulebook(session)
    return book


def preload_rules(session: Session) -> None:
    """Read this database's pathway rules now (a process warming up), not at its first widened search."""
    _rulebook(session)


def _label(book: RuleBook, slug: str) -> str:
    return book.label(slug)


def entry_reason(book: RuleBook, target: str, held: str, occupations: frozenset[str]) -> str | None:
    """Why a holder of ``held`` (working in ``occupations``) could enter the training towards ``target`` (the
    admission option's own words), or ``None``. With admission rules: one option must hold for such a person
    (the diploma held, its level; experience only in the occupations it leads to; age aside). Without:
    ``target`` must be of the same level as ``held`` or below."""
    options = book.admissions.get(target)
    level = book.level(held)
    if not options:
        tl = book.level(target)
        if tl is not None and level is not None and tl <= level:
            return f"même niveau ou niveau inférieur (niveau {tl})"
        return None
    for option in options:
        cond = option.condition
        if cond.experience_any and not occupations.intersection(cond.experience_any):
            continue
        person = Person(experience=dict.fromkeys(occupations, 50.0), age=None)
        if not holds(book, cond, frozenset({held}), person, 0.0):
            continue
        return option.label
    return None


_related_certs: dict[tuple[str, frozenset[int]], Related] = {}


def related_certifications(session: Session, cert_ids: frozenset[int]) -> Related:
    """Certifications of the occupations ``cert_ids`` lead to (any role: principal, possible, evolution) that
    a holder of one of ``cert_ids`` could enter (:func:`entry_reason`), memoised per database."""
    bind = session.get_bind()
    key = (str(getattr(bind, "url", id(bind))), cert_ids)
    found = _related_certs.get(key)
    if found is not None:
        return found
    book = _rulebook(session)
    slugs = dict(session.execute(select(Certification.id, Certification.slug)).all())
    ids_of = {v: k for k, v in slugs.items()}
    held = [slugs[i] for i in cert_ids if i in slugs]
    rows = session.execute(
        select(Occupation.slug, OccupationCertification.certification_id, OccupationCertification.role).join(
            Occupation, Occupation.id == OccupationCertification.occupation_id
        )
    ).all()
    leads_to: dict[str, set[str]] = {}  # certification → occupations it leads to (principal or possible)
    for occ, cid, role in rows:
        if role in ("principale", "possible") and cid in slugs:
            leads_to.setdefault(slugs[cid], set()).add(occ)
    occupations = {o for h in held for o in leads_to.get(h, ())}
    candidates = {slugs[cid] for occ, cid, _role in rows if occ in occupations and cid in slugs} - set(held)
    added: list[tuple[int, str, Added]] = []
    for target in sorted(candidates):
        info = book.certs.get(target)
        if info is None or not info.active:
            continue
        for h in held:
            reason = entry_reason(book, target, h, frozenset(leads_to.get(h, ())))
            if reason:
                added.append((info.level or 99, target, Added(label=_label(book, target), reason=reason)))
                break
    added.sort(key=lambda x: (x[0], x[2].label))
    found = Related("certifications proches", frozenset(ids_of[s] for _l, s, _a in added), [a for *_x, a in added])
    if len(_related_certs) > 4096:
        _related_certs.clear()
    _related_certs[key] = found
    return found


_related_occs: dict[tuple[str, str], Related] = {}


def related_occupations(session: Session, slug: str) -> Related:
    """Other occupations a person of occupation ``slug`` could hold: those a rule of access opens to one of
    its principal diplomas by name (data/pathways.yaml ``occupation_access``; experience only in ``slug``),
    with the rule's own words; memoised per database."""
    bind = session.get_bind()
    key = (str(getattr(bind, "url", id(bind))), slug)
    found = _related_occs.get(key)
    if found is not None:
        return found
    book = _rulebook(session)
    principal = set(book.principal.get(slug, []))
    ids = dict(session.execute(select(Occupation.slug, Occupation.id)).all())
    added: list[tuple[str, str, Added]] = []
    for occ_slug, options in book.access.items():
        if occ_slug == slug or occ_slug not in ids:
            continue
        for option in options:
            cond = option.condition
            if not principal.intersection(cond.certifications_any):
                continue
            if cond.experience_any and slug not in cond.experience_any:
                continue
            name = book.occupations.get(occ_slug, occ_slug)
            added.append((name, occ_slug, Added(label=name, reason=option.label)))
            break
    added.sort(key=lambda x: x[0])
    found = Related("métiers proches", frozenset(ids[o] for _n, o, _a in added), [a for *_x, a in added])
    if len(_related_occs) > 4096:
        _related_occs.clear()
    _related_occs[key] = found
    return found
