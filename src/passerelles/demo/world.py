"""The reference world the demonstration data stands in: real communes (COG with La Poste postcodes and
coordinates), the sector's certifications (``data/certifications.yaml``) and occupations with their ROME
4.60 appellations, read once from the open-data and reference directories."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import yaml

from passerelles.demo.tools import Sampler, lower_first, random_digits
from passerelles.demo.vocabulary import (
    CERT_TUNING,
    DEFAULT_JOB,
    DEFAULT_TUNING,
    FICTION_PHONE_PREFIX,
    JOB_TUNING,
    OVERSEAS_COLLECTIVITIES,
    REGION_PHONE_AREA,
    STREETS,
    STRUCTURE_ALIASES,
    STRUCTURES,
    CertTuning,
    JobTuning,
)
from passerelles.settings import Settings


@dataclass(frozen=True, slots=True)
class Place:
    code: str  # INSEE code (the arrondissement's for Paris, Lyon and Marseille, as France Travail does)
    name: str  # COG name ("Paris 15e Arrondissement")
    city: str  # city as people say it ("Paris")
    dept: str
    region: str
    postcodes: tuple[str, ...]
    population: int
    lat: float
    lon: float


@dataclass
class Geo:
    places: list[Place]
    dept_names: dict[str, str]
    region_names: dict[str, str]
    by_min_pop: dict[int, tuple[Sampler[str], dict[str, Sampler[Place]]]] = field(default_factory=dict)
    by_dept: dict[str, Sampler[Place]] = field(default_factory=dict)

    def pick(self, min_pop: int, r: Callable[[], float]) -> Place:
        """A commune: first a région, in proportion to its population, then one of its communes of at least
        ``min_pop`` inhabitants (its largest ones if it has none), in proportion to theirs."""
        found = self.by_min_pop.get(min_pop)
        if found is None:
            by_region: dict[str, list[Place]] = {}
            for p in self.places:
                by_region.setdefault(p.region, []).append(p)
            regions: list[str] = []
            weights: list[float] = []
            within: dict[str, Sampler[Place]] = {}
            for code, places in by_region.items():
                chosen = [p for p in places if p.population >= min_pop]
                if not chosen:
                    chosen = sorted(places, key=lambda p: -p.population)[:3]
                regions.append(code)
                weights.append(float(sum(p.population for p in places)))
                within[code] = Sampler(chosen, [float(p.population) for p in chosen])
            found = self.by_min_pop[min_pop] = (Sampler(regions, weights), within)
        region_sampler, within = found
        return within[region_sampler.pick(r())].pick(r())

    def dept_sampler(self, dept: str) -> Sampler[Place]:
        s = self.by_dept.get(dept)
        if s is None:
            if not self.by_dept:
                grouped: dict[str, list[Place]] = {}
                for p in self.places:
                    grouped.setdefault(p.dept, []).append(p)
                for code, chosen in grouped.items():
                    self.by_dept[code] = Sampler(chosen, [float(p.population) for p in chosen])
            s = self.by_dept[dept]
        return s


@dataclass(frozen=True)
class Cert:
    slug: str
    name: str
    acronym: str
    kind: str
    level_eu: int | None
    rncp: str | None  # digits only, as LHÉO writes code-RNCP
    routes: tuple[str, ...]
    distance: bool
    hours_centre: int
    hours_company: int
    months_min: int
    months_max: int
    rome: tuple[str, ...]
    summary: str
    selection: str
    prerequisites: str
    parcoursup: bool
    tuning: CertTuning


@dataclass(frozen=True)
class Job:
    slug: str
    name: str  # "Aide-soignant"
    tuning: JobTuning
    appellations: Sampler[tuple[str, str, str]]  # (appellation label, ROME code, ROME label)
    structures: Sampler[str]
    nights: bool
    weekends: bool
    activities: tuple[str, ...]
    cert: Cert | None
    cert_required: bool


@dataclass(frozen=True)
class World:
    geo: Geo
    certs: tuple[Cert, ...]
    jobs: tuple[Job, ...]
    sector_rome: frozenset[str]


def resolve_dirs(data_dir: Path | None, reference_dir: Path | None) -> tuple[Path, Path]:
    if data_dir is not None and (data_dir / "certifications.yaml").is_file() and not (data_dir / "geo_fr").is_dir():
        reference_dir, data_dir = reference_dir or data_dir, None  # the project's data/ was given
    if data_dir is None or reference_dir is None:
        settings = Settings()
        data_dir = data_dir or settings.data_dir
        reference_dir = reference_dir or settings.reference_dir
    if data_dir is None or not (data_dir / "geo_fr").is_dir():
        raise FileNotFoundError(
            "répertoire de données ouvertes introuvable (geo_fr/, rome_v460/) : passez data_dir ou PASSERELLES_DATA_DIR"
        )
    return data_dir, reference_dir


def _read_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 (safe loaders)
    if not isinstance(data, dict):
        raise ValueError(f"{path} : un objet YAML est attendu")
    return cast(dict[str, Any], data)


def _load_geo(geo_dir: Path) -> Geo:
    coords: dict[str, tuple[float, float]] = {}
    with (geo_dir / "laposte_hexasmal.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter=";")
        next(reader, None)
        for row in reader:
            if len(row) < 6 or not row[5] or row[0] in coords:
                continue
            try:
                lat_s, lon_s = row[5].split(",")
                coords[row[0]] = (float(lat_s), float(lon_s))
            except ValueError:
                continue
    records = json.loads((geo_dir / "communes.json").read_text(encoding="utf-8"))
    dept_names = {
        str(d["code"]): str(d["nom"]) for d in json.loads((geo_dir / "departements.json").read_text(encoding="utf-8"))
    }
    region_names = {
        str(r["code"]): str(r["nom"]) for r in json.loads((geo_dir / "regions.json").read_text(encoding="utf-8"))
    }
    parents: dict[str, str] = {}
    with_children: set[str] = set()
    names: dict[str, str] = {}
    for rec in records:
        names[str(rec.get("code"))] = str(rec.get("nom"))
        if rec.get("type") == "arrondissement-municipal" and rec.get("commune"):
            parents[str(rec["code"])] = str(rec["commune"])
            with_children.add(str(rec["commune"]))
    places: list[Place] = []
    for rec in records:
        kind, code = rec.get("type"), str(rec.get("code"))
        if kind not in ("commune-actuelle", "arrondissement-municipal") or code in with_children:
            continue
        dept, region, pop = str(rec.get("departement") or ""), str(rec.get("region") or ""), rec.get("population")
        if dept in OVERSEAS_COLLECTIVITIES or not region or not isinstance(pop, int) or pop <= 0:
            continue
        c = coords.get(code)
        if c is None:
            olds = [coords[o] for o in rec.get("anciensCodes", []) if o in coords]
            if olds:
                c = (sum(a for a, _ in olds) / len(olds), sum(b for _, b in olds) / len(olds))
        postcodes = tuple(sorted(str(p) for p in rec.get("codesPostaux") or ()))
        if c is None or not postcodes:
            continue
        name = str(rec.get("nom"))
        city = names.get(parents[code], name) if code in parents else name
        places.append(Place(code, name, city, dept, region, postcodes, pop, c[0], c[1]))
    if not places:
        raise ValueError(f"aucune commune utilisable dans {geo_dir}")
    return Geo(places, dept_names, region_names)


def _read_rome(
    rome_dir: Path, wanted: set[int]
) -> tuple[dict[tuple[int, str], str], dict[int, list[str]], dict[str, str]]:
    labels: dict[tuple[int, str], str] = {}
    codes_of: dict[int, list[str]] = {}
    with (rome_dir / "unix_referentiel_appellation_v460_utf8.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            try:
                ogr = int(row["code_ogr"])
            except (KeyError, ValueError):
                continue
            if ogr in wanted:
                labels[(ogr, row["code_rome"])] = row["libelle_appellation_long"]
                codes_of.setdefault(ogr, []).append(row["code_rome"])
    rome_labels: dict[str, str] = {}
    with (rome_dir / "unix_referentiel_code_rome_v460_utf8.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            rome_labels[row["code_rome"]] = row["libelle_rome"]
    return labels, codes_of, rome_labels


def _text(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("text")
    return " ".join(str(value).split()) if value else ""


def _choose_rncp(entries: Any) -> str | None:
    if not isinstance(entries, list) or not entries:
        return None
    current = [e for e in entries if isinstance(e, dict) and e.get("code")]
    if not current:
        return None
    dated = [e for e in current if isinstance(e.get("valid_until"), date)]
    chosen = max(dated, key=lambda e: cast(date, e["valid_until"])) if dated else current[0]  # the newest fiche
    digits = re.sub(r"\D", "", str(chosen["code"]))
    return digits or None


def _build_certs(
    raw: dict[str, Any], occupation_rome: dict[str, list[str]], led_to: dict[str, list[str]] | None = None
) -> tuple[Cert, ...]:
    """``led_to``: the occupations each certification leads to according to occupations.yaml (a certification
    added with its occupation may not list them itself)."""
    certs: list[Cert] = []
    for c in raw.get("certifications", []):
        if not isinstance(c, dict) or c.get("status") == "abolished":
            continue
        route_flags = {r.get("route"): bool(r.get("available")) for r in c.get("routes") or [] if isinstance(r, dict)}
        routes = tuple(r for r in ("initiale", "continue", "apprentissage") if route_flags.get(r))
        if not routes:
            continue
        slug = str(c["slug"])
        tuning = CERT_TUNING.get(slug, DEFAULT_TUNING)
        duration = c.get("duration") or {}
        centre = duration.get("theory_hours")
        company = duration.get("practice_hours")
        total = duration.get("hours")
        if centre is None:
            centre, company = tuning.hours or ((total, 0) if total else (600, 210))
        company = company or 0
        if total and total > centre + company:  # e.g. DEAES: 546 h + 21 h AFGSU + 840 h
            centre = total - company
        months_min = duration.get("months_min")
        months_max = duration.get("months_max")
        if months_min is None:
            months_min = tuning.months_fallback[0] if tuning.months_fallback else (months_max or 12)
        if months_max is None:
            months_max = max(months_min, tuning.months_fallback[1] if tuning.months_fallback else months_min)
        rome: list[str] = []
        for occ in [*(c.get("occupations") or []), *(led_to or {}).get(slug, [])]:
            for code in occupation_rome.get(str(occ), []):
                if code not in rome:
                    rome.append(code)
        admission = c.get("admission") or {}
        selection = _text(admission.get("selection")) or "Sélection sur dossier et entretien."
        prereq = " ".join(_text(p) for p in admission.get("prerequisites") or []) or "Aucune condition spécifique."
        level = (c.get("level") or {}).get("eu")
        certs.append(
            Cert(
                slug=slug,
                name=_text(c.get("name")) or slug,
                acronym=_text(c.get("acronym")) or slug.upper(),
                kind=str(c.get("kind") or ""),
                level_eu=int(level) if isinstance(level, int) else None,
                rncp=_choose_rncp(c.get("rncp")),
                routes=routes,
                distance=bool(route_flags.get("distance")),
                hours_centre=int(centre),
                hours_company=int(company),
                months_min=int(months_min),
                months_max=max(int(months_min), int(months_max)),
                rome=tuple(rome[:5]) or tuning.rome,
                summary=_text(c.get("summary")),
                selection=selection,
                prerequisites=prereq,
                parcoursup="parcoursup" in selection.lower(),
                tuning=tuning,
            )
        )
    return tuple(certs)


def _build_jobs(raw: dict[str, Any], certs: dict[str, Cert], rome_dir: Path) -> tuple[tuple[Job, ...], frozenset[str]]:
    occupations = [o for o in raw.get("occupations", []) if isinstance(o, dict)]
    wanted: set[int] = set()
    for o in occupations:
        for r in o.get("rome") or []:
            if isinstance(r, dict) and r.get("appellation_ogr"):
                wanted.add(int(r["appellation_ogr"]))
        wanted.update(ogr for ogr, _ in JOB_TUNING.get(str(o.get("slug")), DEFAULT_JOB).appellations)
    labels, codes_of, rome_labels = _read_rome(rome_dir, wanted)
    jobs: list[Job] = []
    sector: set[str] = set()
    for o in occupations:
        slug = str(o["slug"])
        tuning = JOB_TUNING.get(slug, DEFAULT_JOB)
        romes = [r for r in o.get("rome") or [] if isinstance(r, dict) and r.get("code")]
        own_codes = [str(r["code"]) for r in romes]
        main_code = next((str(r["code"]) for r in romes if r.get("main")), own_codes[0] if own_codes else None)
        weights: dict[int, float] = {}
        for r in romes:
            if r.get("appellation_ogr"):
                weights[int(r["appellation_ogr"])] = 3.0 if r.get("main") else 1.0
        for ogr, w in tuning.appellations:
            weights[ogr] = w
        items: list[tuple[str, str, str]] = []
        item_weights: list[float] = []
        for ogr, w in weights.items():
            codes = codes_of.get(ogr, [])
            code = main_code if main_code in codes else next((c for c in codes if c in own_codes), None)
            if code is None or code not in rome_labels:
                continue
            items.append((labels[(ogr, code)], code, rome_labels[code]))
            item_weights.append(w)
        if not items:
            continue
        structures: list[str] = []
        for w in o.get("workplaces") or []:
            s = str(w.get("structure"))
            if s == "domicile" and any(x.get("structure") == "ssiad" for x in o.get("workplaces") or []):
                s = "ssiad"
            s = STRUCTURE_ALIASES.get(s, s)
            if s in STRUCTURES and s not in structures:
                structures.append(s)
        if not structures:
            structures = ["association"]
        names = [n for n in o.get("names") or [] if isinstance(n, dict)]
        name = next((str(n["name"]) for n in names if n.get("kind") == "current"), slug.replace("-", " ").capitalize())
        activities = tuple(
            f"- {_text(a.get('title'))} : {lower_first(_text(a.get('text')))}"
            for a in o.get("activities") or []
            if isinstance(a, dict) and a.get("title") and a.get("text")
        ) or (f"- Missions du métier de {name.lower()}.",)
        principal = next(
            (str(c.get("certification")) for c in o.get("certifications") or [] if c.get("role") == "principale"),
            None,
        )
        cert = certs.get(principal) if principal else None
        conditions = o.get("conditions") or {}
        jobs.append(
            Job(
                slug=slug,
                name=name,
                tuning=tuning,
                appellations=Sampler(items, item_weights),
                structures=Sampler(structures, [STRUCTURES[s].weight for s in structures]),
                nights=bool(conditions.get("nights")),
                weekends=bool(conditions.get("weekends")),
                activities=activities,
                cert=cert,
                cert_required=cert is not None and cert.kind == "diplome_etat",
            )
        )
        sector.update(code for _, code, _ in items)
    return tuple(jobs), frozenset(sector)


@lru_cache(maxsize=4)
def load_world(data_dir: Path, reference_dir: Path) -> World:
    geo = _load_geo(data_dir / "geo_fr")
    occupations = _read_yaml(reference_dir / "occupations.yaml")
    occupation_rome: dict[str, list[str]] = {}
    for o in occupations.get("occupations", []):
        codes: list[str] = []
        for r in sorted(o.get("rome") or [], key=lambda r: not r.get("main")):
            if r.get("code") and str(r["code"]) not in codes:
                codes.append(str(r["code"]))
        occupation_rome[str(o.get("slug"))] = codes
    led_to: dict[str, list[str]] = {}
    for o in occupations.get("occupations", []):
        for link in o.get("certifications") or []:
            if isinstance(link, dict) and link.get("certification"):
                led_to.setdefault(str(link["certification"]), []).append(str(o.get("slug")))
    certs = _build_certs(_read_yaml(reference_dir / "certifications.yaml"), occupation_rome, led_to)
    if not certs:
        raise ValueError("aucune certification en vigueur dans certifications.yaml")
    jobs, sector = _build_jobs(occupations, {c.slug: c for c in certs}, data_dir / "rome_v460")
    if not jobs:
        raise ValueError("aucun métier avec appellation ROME connue dans occupations.yaml")
    return World(geo, certs, jobs, sector)


def sector_rome_codes(data_dir: Path | None = None, reference_dir: Path | None = None) -> frozenset[str]:
    """ROME codes the offers generator draws from (the occupations' codes found in the ROME export)."""
    return load_world(*resolve_dirs(data_dir, reference_dir)).sector_rome


def invented_address(p: Place, r: Callable[[], float]) -> tuple[str, str, float, float]:
    """(street line, postcode, latitude, longitude) of an invented address in commune ``p``."""
    street = f"{1 + int(r() * 120)} {STREETS[int(r() * len(STREETS))]}"
    postcode = p.postcodes[int(r() * len(p.postcodes))]
    return street, postcode, p.lat + (r() - 0.5) * 0.012, p.lon + (r() - 0.5) * 0.016


def fiction_phone(region: str, r: Callable[[], float]) -> str:
    prefix = FICTION_PHONE_PREFIX.get(REGION_PHONE_AREA.get(region, ""), "06 39 98")
    return f"{prefix} {random_digits(r, 2)} {random_digits(r, 2)}"
