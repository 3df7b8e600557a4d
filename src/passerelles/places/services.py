"""Places for searches: régions, départements and communes resolved from what a person types, distances.

The communes (35 000 rows of the COG) are read once per database into a small in-memory index. A person
types « Evry », « évry-courcouronnes », « 91000 », « 91228 », « Rhône », « 69 » or « Auvergne-Rhône-Alpes »
in ONE place field; :meth:`PlaceIndex.resolve_text` reads it as a commune, a département or a région and
never chooses a homonym silently: it returns the most likely reading *and* the others, which every form
offers (« Vouliez-vous dire … ? »). Département centres (population-weighted mean of their communes) give
the « nearby départements » a widened search adds.

« Most likely », among communes sharing a name or a postcode (:meth:`PlaceIndex.rank_communes`):
1. one in the région the person already chose (a ``region`` criterion of the same search), then
2. one in metropolitan France before an overseas one (97 % of the population lives in metropolitan
   France: « Saint-Denis » is read as Saint-Denis (93), La Réunion's is offered), then
3. the most populated (INSEE COG population, column ``population`` of ``communes.json``).
A département or région whose name is also a commune's (« Vienne », « Paris », « Bretagne ») is read as the
département or région, the commune being offered.
"""

from __future__ import annotations

import bisect
import difflib
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import Session

from passerelles import heap
from passerelles.places.geo import haversine_km
from passerelles.places.models import Commune, Departement, Region
from passerelles.places.names import name_key

# Prepositions used before a région's name (« en Bretagne », « à La Réunion »).
_REGION_PREPOSITION = {"04": "à", "06": "à"}
_lock = threading.Lock()
_indexes: dict[str, PlaceIndex] = {}


@dataclass(frozen=True)
class CommuneRef:
    code_insee: str
    name: str
    departement_code: str
    postcodes: tuple[str, ...]
    population: int
    latitude: float | None
    longitude: float | None


PlaceKind = Literal["commune", "departement", "region"]
_DEPT_CODE = re.compile(r"^(?:[0-9]{2}|2[AB]|97[0-9])$", re.IGNORECASE)
_PARENTHESIS = re.compile(r"^(?P<name>.*?)\s*\((?P<hint>[^()]*)\)\s*$")
SUGGESTION_LIMIT = 8


@dataclass(frozen=True)
class PlaceChoice:
    """One reading of a place field: ``value`` is what the field then holds (it reads back to this same
    place), ``label`` what a person sees (« Saint-Denis (La Réunion, 974) »)."""

    kind: PlaceKind
    code: str
    value: str
    label: str


@dataclass(frozen=True)
class PlaceResolution:
    """What a place field says: the reading used (``choice``), the other readings offered (``others``), or
    an ``error`` in French (with close names in ``others`` when the text looks like a typo)."""

    text: str
    choice: PlaceChoice | None = None
    others: tuple[PlaceChoice, ...] = ()
    error: str | None = None

    @property
    def ambiguous(self) -> bool:
        return self.choice is not None and bool(self.others)


@dataclass
class PlaceIndex:
    regions: dict[str, str]
    departements: dict[str, tuple[str, str]]  # code → (name, region code)
    communes: dict[str, CommuneRef]
    by_name: dict[str, list[str]] = field(default_factory=dict)
    by_postcode: dict[str, list[str]] = field(default_factory=dict)
    dept_centres: dict[str, tuple[float, float]] = field(default_factory=dict)
    _nearby: dict[tuple[tuple[str, ...], int, float], list[str]] = field(default_factory=dict)
    _sorted_keys: list[str] = field(default_factory=list)
    _sorted_postcodes: list[str] = field(default_factory=list)
    _areas: set[str] = field(default_factory=set)

    def region_of_departement(self, code: str) -> str | None:
        found = self.departements.get(code)
        return found[1] if found else None

    def departements_of_region(self, code: str) -> list[str]:
        return sorted(d for d, (_, r) in self.departements.items() if r == code)

    def region_label(self, code: str) -> str:
        """« en Bretagne », « à La Réunion »."""
        return f"{_REGION_PREPOSITION.get(code, 'en')} {self.regions[code]}"

    def departement_label(self, code: str) -> str:
        return f"{self.departements[code][0]} ({code})"

    def find_commune(self, text: str, *, prefer_region: str | None = None) -> CommuneRef | None:
        """A commune from its INSEE code, a postcode or its name (accents and case ignored); the most
        likely one (see the module's docstring) when several match."""
        found = self.commune_candidates(text, prefer_region=prefer_region)
        return found[0] if found else None

    def rank_communes(self, refs: list[CommuneRef], prefer_region: str | None = None) -> list[CommuneRef]:
        """Most likely first: in ``prefer_region``, then metropolitan, then the most populated."""

        def key(c: CommuneRef) -> tuple[bool, bool, int, str]:
            in_region = prefer_region is not None and self.region_of_departement(c.departement_code) == prefer_region
            return (not in_region, c.departement_code.startswith("97"), -c.population, c.code_insee)

        return sorted(refs, key=key)

    def commune_candidates(self, text: str, *, prefer_region: str | None = None) -> list[CommuneRef]:
        """Every commune ``text`` may name (an INSEE code, a postcode, a name, « Lyon (69) », « Saint-Denis
        (93200) », « Saint-Denis (La Réunion, 974) »), most likely first."""
        text = " ".join(text.split())
        if not text:
            return []
        upper = text.upper()
        if upper.isdigit() or (len(upper) == 5 and upper[:2] in ("2A", "2B") and upper[2:].isdigit()):
            # 69100 is Villeurbanne's postcode and Irigny's INSEE code: both are candidates.
            codes = list(
                dict.fromkeys([*self.by_postcode.get(upper, []), *([upper] if upper in self.communes else [])])
            )
        else:
            # « Lyon (69) »: the name, and a hint that chooses among homonyms (département, postcode or code).
            name, hints = text, []
            m = _PARENTHESIS.match(text)
            if m:
                name = m.group("name")
                hints = [h.strip().upper() for h in m.group("hint").split(",") if h.strip()]
            codes = self.by_name.get(name_key(name), [])
            for hint in hints:
                narrowed = [
                    c
                    for c in codes
                    if hint in (self.communes[c].departement_code, c) or hint in self.communes[c].postcodes
                ]
                if narrowed:
                    codes = narrowed
                    break
        return self.rank_communes([self.communes[c] for c in codes if c in self.communes], prefer_region)

    # ------------------------------------------------------------ one place field

    def commune_choice(self, ref: CommuneRef, *, detailed: bool = False) -> PlaceChoice:
        dept = ref.departement_code
        label = f"{ref.name} ({self.departements[dept][0]}, {dept})" if detailed else f"{ref.name} ({dept})"
        return PlaceChoice("commune", ref.code_insee, self._commune_value(ref), label)

    def _commune_value(self, ref: CommuneRef) -> str:
        """« Lyon (69) », or « Name (code INSEE) » in the rare case two communes of a département share it."""
        key = name_key(ref.name)
        same = [c for c in self.by_name.get(key, []) if self.communes[c].departement_code == ref.departement_code]
        if len(same) > 1 or key in self._area_keys():  # « Paris (75) » is the département: « Paris (75056) »
            return f"{ref.name} ({ref.code_insee})"
        return f"{ref.name} ({ref.departement_code})"

    def _area_keys(self) -> set[str]:
        if not self._areas:
            self._areas = {name_key(n) for n, _ in self.departements.values()} | {
                name_key(n) for n in self.regions.values()
            }
        return self._areas

    def departement_choice(self, code: str) -> PlaceChoice:
        label = f"{self.departements[code][0]} ({code})"
        return PlaceChoice("departement", code, label, f"le département {label}")

    def region_choice(self, code: str) -> PlaceChoice:
        return PlaceChoice("region", code, self.regions[code], f"la région {self.regions[code]}")

    def _areas_named(self, text: str) -> list[PlaceChoice]:
        """Départements (by name or number) and régions (by name) that ``text`` names."""
        found: list[PlaceChoice] = []
        m = _PARENTHESIS.match(text)
        name = m.group("name") if m else text
        hint = m.group("hint").strip().upper() if m else ""
        if _DEPT_CODE.match(text) and text.upper() in self.departements:
            return [self.departement_choice(text.upper())]
        key = name_key(name)
        for code, (dname, _) in self.departements.items():
            if name_key(dname) == key and (not hint or hint == code):
                found.append(self.departement_choice(code))
        for code, rname in self.regions.items():
            # A région that is one département (overseas) is read as the département.
            one = any(c.kind == "departement" and self.region_of_departement(c.code) == code for c in found)
            if name_key(rname) == key and not hint and not one:
                found.append(self.region_choice(code))
        return found

    def resolve_text(self, text: str | None, *, prefer_region: str | None = None) -> PlaceResolution:
        """Read one place field: a commune (name, postcode, INSEE code), a département (name or number) or
        a région. The most likely reading is ``choice``; the other readings are ``others`` (never dropped)."""
        text = " ".join((text or "").split())[:120]
        if not text:
            return PlaceResolution(text)
        areas = self._areas_named(text)
        communes = self.commune_candidates(text, prefer_region=prefer_region)
        if not areas and not communes and _PARENTHESIS.match(text):
            # « Lyon (99) »: a hint that matches nothing; read the name alone, its homonyms offered.
            communes = self.commune_candidates(_PARENTHESIS.match(text).group("name"), prefer_region=prefer_region)  # type: ignore[union-attr]
        if not areas and not communes:
            close = self.close_names(text)
            message = (
                f"Lieu introuvable : « {text} ». Indiquez une commune, un code postal, un département ou une région."
            )
            return PlaceResolution(text, None, tuple(close), message)
        detailed = len(communes) > 1
        readings = [*areas, *(self.commune_choice(c, detailed=detailed or bool(areas)) for c in communes)]
        return PlaceResolution(text, readings[0], tuple(readings[1:9]))

    def close_names(self, text: str, limit: int = 3) -> list[PlaceChoice]:
        """Places whose name is close to ``text`` (a typo: « Villeurbane »), most populated first."""
        key = name_key(text)
        if len(key) < 3:
            return []
        # Same first letter (a typo rarely starts a name): 20 times fewer names to compare.
        names = [k for k in self._name_keys() if k[:1] == key[:1]]
        close = difflib.get_close_matches(key, names, n=limit * 2, cutoff=0.82)
        out: list[PlaceChoice] = []
        for k in close:
            out.extend(self._areas_named(k))
            out.extend(
                self.commune_choice(c, detailed=True)
                for c in self.rank_communes([self.communes[x] for x in self.by_name.get(k, [])])[:2]
            )
        return out[:limit]

    def _name_keys(self) -> list[str]:
        if not self._sorted_keys:
            keys = set(self.by_name)
            keys.update(name_key(n) for n, _ in self.departements.values())
            keys.update(name_key(n) for n in self.regions.values())
            self._sorted_keys = sorted(keys)
        return self._sorted_keys

    def suggest(self, text: str, *, limit: int = SUGGESTION_LIMIT) -> list[PlaceChoice]:
        """Places as one types: régions and départements whose name starts with ``text`` first, then communes
        (name, postcode or INSEE code starting with it), the most populated first."""
        text = " ".join(text.split())[:120]
        if not text:
            return []
        if _DEPT_CODE.match(text) and text.upper() in self.departements:
            out = [self.departement_choice(text.upper())]
        else:
            out = []
        if text.isdigit():
            codes: set[str] = set()
            if len(text) >= 2:
                lo = bisect.bisect_left(self._postcodes(), text)
                for pc in self._postcodes()[lo:]:
                    if not pc.startswith(text) or len(codes) > 400:
                        break
                    codes.update(self.by_postcode[pc])
                if len(text) == 5 and text in self.communes:
                    codes.add(text)
            refs = self.rank_communes([self.communes[c] for c in codes])
            return (out + [self.commune_choice(c, detailed=True) for c in refs])[:limit]
        key = name_key(text)
        if not key:
            return out[:limit]
        for code, (dname, _) in sorted(self.departements.items()):
            if name_key(dname).startswith(key):
                out.append(self.departement_choice(code))
        for code, rname in sorted(self.regions.items()):
            if name_key(rname).startswith(key):
                out.append(self.region_choice(code))
        keys = self._name_keys()
        refs = []
        for k in keys[bisect.bisect_left(keys, key) :]:
            if not k.startswith(key):
                break
            refs.extend(self.communes[c] for c in self.by_name.get(k, []))
        refs = sorted(refs, key=lambda c: (c.departement_code.startswith("97"), -c.population, c.code_insee))
        out.extend(self.commune_choice(c, detailed=True) for c in refs[: limit * 2])
        return out[:limit]

    def _postcodes(self) -> list[str]:
        if not self._sorted_postcodes:
            self._sorted_postcodes = sorted(self.by_postcode)
        return self._sorted_postcodes

    def nearby_departements(self, codes: list[str], *, limit: int = 4, max_km: float = 130.0) -> list[str]:
        """Départements whose centre lies near one of ``codes``' centres, nearest first (memoised)."""
        key = (tuple(codes), limit, max_km)
        found = self._nearby.get(key)
        if found is None:
            found = self._nearby[key] = self._nearby_departements(codes, limit, max_km)
        return list(found)

    def _nearby_departements(self, codes: list[str], limit: int, max_km: float) -> list[str]:
        scored: dict[str, float] = {}
        for code in codes:
            centre = self.dept_centres.get(code)
            if centre is None:
                continue
            for other, oc in self.dept_centres.items():
                if other in codes:
                    continue
                d = haversine_km(centre[0], centre[1], oc[0], oc[1])
                if d <= max_km and d < scored.get(other, math.inf):
                    scored[other] = d
        return [c for c, _ in sorted(scored.items(), key=lambda x: (x[1], x[0]))[:limit]]


def _build(session: Session) -> PlaceIndex:
    regions = {code: name for code, name in session.execute(select(Region.code, Region.name))}
    departements = {
        code: (name, region)
        for code, name, region in session.execute(select(Departement.code, Departement.name, Departement.region_code))
    }
    index = PlaceIndex(regions=regions, departements=departements, communes={})
    sums: dict[str, list[float]] = {}
    for row in session.execute(
        select(
            Commune.code_insee,
            Commune.name,
            Commune.departement_code,
            Commune.postcodes,
            Commune.population,
            Commune.latitude,
            Commune.longitude,
        )
    ):
        ref = CommuneRef(row[0], row[1], row[2], tuple(row[3] or ()), row[4] or 0, row[5], row[6])
        index.communes[ref.code_insee] = ref
        index.by_name.setdefault(name_key(ref.name), []).append(ref.code_insee)
        for pc in ref.postcodes:
            index.by_postcode.setdefault(pc, []).append(ref.code_insee)
        if ref.latitude is not None and ref.longitude is not None:
            w = float(max(ref.population, 1))
            s = sums.setdefault(ref.departement_code, [0.0, 0.0, 0.0])
            s[0] += ref.latitude * w
            s[1] += ref.longitude * w
            s[2] += w
    index.dept_centres = {d: (s[0] / s[2], s[1] / s[2]) for d, s in sums.items() if s[2]}
    return index


def place_index(session: Session) -> PlaceIndex:
    """The place index of this session's database, built once per process (reference data rarely changes)."""
    bind = session.get_bind()
    key = bind.url.render_as_string(hide_password=True) if hasattr(bind, "url") else str(id(bind))
    found = _indexes.get(key)
    if found is None:
        with _lock:
            found = _indexes.get(key)
            if found is None:
                found = _build(session)
                if found.communes:  # an empty table is being loaded: do not keep an empty index
                    _indexes[key] = found
                    heap.settle()
    return found


def forget_place_index() -> None:
    """Drop cached indexes (after a communes import in the same process)."""
    with _lock:
        _indexes.clear()


class UnknownPlace(ValueError):
    """A place criterion names nothing known; ``field`` is the form field, for the error message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class PlaceFilter:
    """Where a search looks: nothing (all of France), a région, départements, or a circle around a commune."""

    label: str  # « en Auvergne-Rhône-Alpes », « à moins de 30 km de Grenoble (38) »
    region_code: str | None = None
    departements: tuple[str, ...] = ()
    commune: CommuneRef | None = None
    radius_km: int | None = None

    @property
    def centre(self) -> tuple[float, float] | None:
        if self.commune and self.commune.latitude is not None and self.commune.longitude is not None:
            return self.commune.latitude, self.commune.longitude
        return None


def resolve_place(
    index: PlaceIndex,
    *,
    region: str | None = None,
    departement: str | None = None,
    commune: str | None = None,
    radius_km: int | None = None,
    extra_departements: tuple[str, ...] = (),
) -> PlaceFilter:
    """The narrowest place given wins: commune (+ radius), then département(s), then région.

    Raises :class:`UnknownPlace` naming the field when a code or a commune is unknown."""
    if region and region not in index.regions:
        raise UnknownPlace("region", f"Région inconnue : {region}")
    if departement and departement not in index.departements:
        raise UnknownPlace("departement", f"Département inconnu : {departement}")
    if commune:
        ref = index.find_commune(commune)
        if ref is None:
            raise UnknownPlace("commune", f"Commune introuvable : {commune} (nom, code postal ou code INSEE)")
        dept = ref.departement_code
        reg = index.region_of_departement(dept)
        if ref.latitude is None or ref.longitude is None:
            # No coordinates for this commune (a few overseas ones): search its département instead.
            return PlaceFilter(f"dans le département {index.departement_label(dept)}", reg, (dept,), ref, None)
        radius = radius_km or 30
        return PlaceFilter(f"à moins de {radius} km de {ref.name} ({dept})", reg, (), ref, radius)
    if departement:
        codes = (departement, *[d for d in extra_departements if d != departement])
        reg = index.region_of_departement(departement)
        label = f"dans le département {index.departement_label(departement)}"
        if len(codes) > 1:
            label += " et alentour (" + ", ".join(index.departement_label(d) for d in codes[1:]) + ")"
        return PlaceFilter(label, reg, codes, None, None)
    if region:
        codes = tuple(index.departements_of_region(region))
        codes += tuple(d for d in extra_departements if d not in codes)
        label = index.region_label(region)
        if extra_departements:
            label += " et alentour (" + ", ".join(index.departement_label(d) for d in extra_departements) + ")"
        return PlaceFilter(label, region, codes, None, None)
    return PlaceFilter("en France", None, (), None, None)


def in_departements(column: Any, codes: tuple[str, ...] | list[str]) -> ColumnElement[bool]:
    """``column`` (an INSEE commune code) lies in one of these départements.

    The COG writes the département as the code's prefix (two characters, ``2A``/``2B`` for Corsica, three
    for overseas: ``97411`` is in 974), so a prefix test replaces a join on the commune table (8× faster
    on SQLite for a région)."""
    two = sorted(c for c in codes if len(c) == 2)
    three = sorted(c for c in codes if len(c) == 3)
    parts = []
    if two:
        parts.append(func.substr(column, 1, 2).in_(two))
    if three:
        parts.append(func.substr(column, 1, 3).in_(three))
    if not parts:
        return false()
    return parts[0] if len(parts) == 1 else or_(*parts)


def commune_range(column: Any, departement: str) -> list[ColumnElement[bool]]:
    """``column`` (an INSEE commune code) lies in the département, as a range of codes (its prefix: see
    ``in_departements``), which an index on the codes reads directly."""
    return [column >= departement, column < departement[:-1] + chr(ord(departement[-1]) + 1)]


def read_place_field(
    index: PlaceIndex,
    text: str | None,
    *,
    region: str | None = None,
    departement: str | None = None,
) -> tuple[PlaceResolution, dict[str, str | None]]:
    """One place field of a search form read with the older ``region``/``departement`` parameters (kept for
    old links): the resolution the picker shows, and the criteria to search with (``region``,
    ``departement``, ``commune``; a name typed in the field that is a département or a région moves there).

    An explicit ``region`` is the « remembered » région that chooses among homonyms."""
    text = " ".join((text or "").split())[:120]
    if text:
        res = index.resolve_text(text, prefer_region=region if region in index.regions else None)
        if res.choice is None:
            return res, {"region": region, "departement": departement, "commune": text}
        if res.choice.kind == "commune":
            return res, {"region": region, "departement": departement, "commune": res.choice.value}
        if res.choice.kind == "departement":
            return res, {"region": None, "departement": res.choice.code, "commune": None}
        return res, {"region": res.choice.code, "departement": None, "commune": None}
    if departement and departement in index.departements:
        choice = index.departement_choice(departement)
        return PlaceResolution(choice.value, choice), {"region": None, "departement": departement, "commune": None}
    if region and region in index.regions:
        choice = index.region_choice(region)
        return PlaceResolution(choice.value, choice), {"region": region, "departement": None, "commune": None}
    return PlaceResolution(""), {"region": region, "departement": departement, "commune": None}


def commune_of_field(
    index: PlaceIndex, text: str | None, *, must_pick: bool = False
) -> tuple[PlaceResolution, str | None]:
    """A field that must name ONE commune (the planner's, a file's, an offer's town): its INSEE code and the
    resolution the picker shows. Among homonyms the most likely is used and the others offered; with
    ``must_pick`` (a form that records the commune) none is used until the person picks. An unknown name,
    or a département or région, gives ``None`` and the resolution's French ``error``."""
    res = index.resolve_text(text)
    if res.choice is None:
        return res, None
    communes = [c for c in (res.choice, *res.others) if c.kind == "commune"]
    if not communes:
        message = "Indiquez une commune (nom, code postal ou code INSEE), pas un département ni une région."
        return PlaceResolution(res.text, None, (), message), None
    if len(communes) > 1 and must_pick:
        message = "Plusieurs communes répondent à ce nom : choisissez la bonne."
        return PlaceResolution(res.text, None, tuple(communes), message), None
    return PlaceResolution(res.text, communes[0], tuple(communes[1:])), communes[0].code
