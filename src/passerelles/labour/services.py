"""Hiring potential (BMO survey) and tension (Dares indicators) of an occupation's family, for a territory.

Both sources count by family of occupations (FAP), not by ROME fiche: the families of an occupation come from
``data/labour/fap_rome.yaml`` (sourced lines of the Dares correspondence). No figure is ever made up: when the
survey or the indicators are not imported, or do not cover the family, the services return ``None``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passerelles.labour.models import BmoProject, TensionIndicator
from passerelles.labour.schemas import (
    Correspondence,
    Family,
    HiringArea,
    HiringPotential,
    Tension,
    TensionComponent,
)
from passerelles.places.services import PlaceFilter, PlaceIndex
from passerelles.search.text import fold

CORRESPONDENCE_FILE = Path("labour") / "fap_rome.yaml"

CATEGORY_LABELS = {1: "très faible", 2: "faible", 3: "moyenne", 4: "forte", 5: "très forte"}
IN_TENSION = 4  # « forte » or « très forte »: what the Dares calls a métier en tension

# (column, label, what a high value means), in the Dares' words made plain (documentation of the indicators:
# « Un indicateur synthétique de tension et des indicateurs complémentaires », Dares).
COMPONENTS: tuple[tuple[str, str, str], ...] = (
    (
        "labour_shortage",
        "Manque de main-d'œuvre disponible",
        "peu de demandeurs d'emploi cherchent ce métier au regard du nombre de personnes qui l'exercent",
    ),
    (
        "hiring_intensity",
        "Intensité d'embauches",
        "les employeurs recrutent souvent, au regard du nombre de personnes en poste",
    ),
    (
        "working_conditions",
        "Conditions de travail contraignantes",
        "efforts physiques, rythme, horaires décalés ou journées morcelées rendent les postes moins attractifs",
    ),
    (
        "non_durable",
        "Non-durabilité de l'emploi",
        "beaucoup d'offres en contrat court, à temps partiel ou saisonnier",
    ),
    (
        "training_link",
        "Lien formation-emploi",
        "le métier demande une formation précise : on y accède difficilement sans elle",
    ),
    (
        "geographic_mismatch",
        "Inadéquation géographique",
        "les personnes qui cherchent ce métier ne vivent pas là où sont les postes",
    ),
)

_cache: dict[Path, tuple[float, Correspondence]] = {}
_lock = threading.Lock()


def load_correspondence(reference_dir: Path) -> Correspondence:
    """The FAP ↔ ROME lines (``data/labour/fap_rome.yaml``), read again when the file changes."""
    path = reference_dir / CORRESPONDENCE_FILE
    stamp = path.stat().st_mtime
    found = _cache.get(path)
    if found is not None and found[0] == stamp:
        return found[1]
    data = Correspondence.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    known = {s.id for s in data.sources}
    for family in data.families:
        for link in family.rome:
            unknown = set(link.sources) - known
            if unknown:
                raise ValueError(f"{path.name} : {family.fap} {link.code} : source(s) inconnue(s) {sorted(unknown)}")
    with _lock:
        _cache[path] = (stamp, data)
    return data


def families_for(correspondence: Correspondence, rome_codes: Iterable[str]) -> list[Family]:
    """The families of these ROME fiches, in the order of the fiches (the occupation's main fiche first)."""
    out: list[Family] = []
    for code in rome_codes:
        for family in correspondence.families:
            if family not in out and any(link.code == code for link in family.rome):
                out.append(family)
    return out


def _elide(name: str) -> str:
    return f"d'{name}" if name[:1].upper() in "AEIOUYÉÈÊÎÔÂ" else f"de {name}"


def _share(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


def _area(level: str, label: str, where: str, rows: Sequence[BmoRow]) -> HiringArea:
    known = [r for r in rows if r[3] is not None]
    projects = sum(r[3] or 0 for r in known)
    with_difficult = [r for r in known if r[4] is not None]
    with_seasonal = [r for r in known if r[5] is not None]
    difficult = sum(r[4] or 0 for r in with_difficult)
    seasonal = sum(r[5] or 0 for r in with_seasonal)
    return HiringArea(
        level=level,
        label=label,
        where=where,
        projects=projects,
        difficult=difficult,
        seasonal=seasonal,
        difficult_share=_share(difficult, sum(r[3] or 0 for r in with_difficult)),
        seasonal_share=_share(seasonal, sum(r[3] or 0 for r in with_seasonal)),
        masked=len(rows) - len(known),
    )


BmoRow = tuple[str, str, str, int | None, int | None, int | None, str]  # dept, region, bassin, met, xmet, smet, name


def hiring_potential(
    session: Session, families: Sequence[Family], place: PlaceFilter, index: PlaceIndex
) -> HiringPotential | None:
    """Recruitment projects of the latest survey year for these families: in the bassin d'emploi named after
    the chosen commune (when one is), its département, its région and all of France; ``None`` without data."""
    codes = [f.fap for f in families]
    if not codes:
        return None
    year = session.scalar(select(func.max(BmoProject.year)).where(BmoProject.bmo_code.in_(codes)))
    if year is None:
        return None
    rows: list[BmoRow] = [
        (r[0], r[1], r[2], r[3], r[4], r[5], r[6])
        for r in session.execute(
            select(
                BmoProject.departement_code,
                BmoProject.region_code,
                BmoProject.bassin_code,
                BmoProject.projects,
                BmoProject.difficult,
                BmoProject.seasonal,
                BmoProject.bassin_name,
            ).where(BmoProject.bmo_code.in_(codes), BmoProject.year == year)
        )
    ]
    names = list(
        dict.fromkeys(
            session.scalars(
                select(BmoProject.bmo_name)
                .where(BmoProject.bmo_code.in_(codes), BmoProject.year == year)
                .order_by(BmoProject.bmo_code)
            )
        )
    )
    dept = region = None
    areas: list[HiringArea] = []
    if place.commune is not None:
        dept = place.commune.departement_code
        town = fold(place.commune.name)
        bassin_rows = [r for r in rows if r[0] == dept and _same_place(fold(r[6]), town)]
        if bassin_rows:
            name = bassin_rows[0][6]
            bassin = [r for r in bassin_rows if r[6] == name]
            where = f"dans le bassin d'emploi {_elide(name)}"
            areas.append(_area("bassin", f"Bassin d'emploi {_elide(name)}", where, bassin))
    elif len(place.departements) == 1:
        dept = place.departements[0]
    if dept is not None:
        region = index.region_of_departement(dept)
        name = index.departements[dept][0] if dept in index.departements else dept
        in_dept = [r for r in rows if r[0] == dept]
        areas.append(
            _area("departement", f"Département {name} ({dept})", f"dans le département {name} ({dept})", in_dept)
        )
    region = region or place.region_code
    if region is not None:
        label = index.regions.get(region, region)
        where = index.region_label(region) if region in index.regions else f"dans la région {region}"
        areas.append(_area("region", f"Région {label}", where, [r for r in rows if r[1] == region]))
    areas.append(_area("france", "France entière", "en France", rows))
    areas = [a for a in areas if a.projects or a.masked]
    if not areas:
        return None
    return HiringPotential(year=year, occupations=names, areas=areas)


def _same_place(bassin: str, town: str) -> bool:
    """A bassin d'emploi named after the town (« Lyon », « Lyon Nord », « Grenoble-Voiron »)."""
    return bassin == town or bassin.startswith((town + " ", town + "-"))


def tension(session: Session, families: Sequence[Family], place: PlaceFilter, index: PlaceIndex) -> Tension | None:
    """The tension of the occupation's first family with indicators, latest year, in the narrowest territory
    published (département, else région, else France); ``None`` without data."""
    dept = place.commune.departement_code if place.commune is not None else None
    if dept is None and len(place.departements) == 1:
        dept = place.departements[0]
    region = index.region_of_departement(dept) if dept else place.region_code
    wanted = [("dep", dept), ("reg", region), ("nat", "")]
    for family in families:
        year = session.scalar(
            select(func.max(TensionIndicator.year)).where(
                TensionIndicator.fap_code == family.fap, TensionIndicator.category.is_not(None)
            )
        )
        if year is None:
            continue
        for level, code in wanted:
            if code is None:
                continue
            row = session.scalars(
                select(TensionIndicator).where(
                    TensionIndicator.fap_code == family.fap,
                    TensionIndicator.year == year,
                    TensionIndicator.geo_level == level,
                    TensionIndicator.geo_code == code,
                    TensionIndicator.category.is_not(None),
                )
            ).first()
            if row is None or row.category is None:
                continue
            components = [
                TensionComponent(key=key, label=label, explanation=why, value=value)
                for key, label, why in COMPONENTS
                if (value := getattr(row, key)) is not None
            ]
            factors = sorted((c for c in components if c.value >= IN_TENSION), key=lambda c: -c.value)
            return Tension(
                year=year,
                family=family.name,
                area=_area_label(level, code, index),
                category=row.category,
                label=CATEGORY_LABELS[row.category],
                in_tension=row.category >= IN_TENSION,
                factors=factors,
                components=components,
            )
    return None


def _area_label(level: str, code: str, index: PlaceIndex) -> str:
    if level == "dep":
        name = index.departements[code][0] if code in index.departements else code
        return f"dans le département {name} ({code})"
    if level == "reg":
        return index.region_label(code) if code in index.regions else f"dans la région {code}"
    return "en France"


def data_dates(session: Session) -> dict[str, int | None]:
    """The latest year of each source in the store (for the page's note on where figures come from)."""
    return {
        "bmo": session.scalar(select(func.max(BmoProject.year))),
        "tensions": session.scalar(select(func.max(TensionIndicator.year))),
    }


def labour_context(
    session: Session, rome_codes: Sequence[str], place: PlaceFilter, index: PlaceIndex, reference_dir: Path
) -> dict[str, object]:
    """What ``labour/potential.html`` needs on an occupation page."""
    families = families_for(load_correspondence(reference_dir), rome_codes)
    return {
        "hiring": hiring_potential(session, families, place, index),
        "tension": tension(session, families, place, index),
        "labour_families": [f.name for f in families],
        "labour_years": data_dates(session),
    }
