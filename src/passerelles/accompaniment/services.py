"""The structures that help near a place: imported ones (data·inclusion) within a radius, nearest first by
kind, and the plateformes des métiers de l'autonomie (the project's sourced file) that cover the place's
département; HTTP-agnostic (the page, the API and tests call it alike)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from data_inclusion.schema.v1 import Frais, ModeAccueil, Thematique
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from passerelles.accompaniment.hours import in_french
from passerelles.accompaniment.models import SupportService, SupportStructure
from passerelles.accompaniment.schemas import KINDS, NationalLine, NearbyOut, ServiceOut, StructureOut
from passerelles.formatting import source_date
from passerelles.places.geo import bounding_box, haversine_km
from passerelles.places.services import (
    PlaceFilter,
    PlaceResolution,
    UnknownPlace,
    in_departements,
    place_index,
    read_place_field,
    resolve_place,
)
from passerelles.reference.schemas import Source

PER_KIND = 5  # the nearest few of each kind: a page a person reads, not a directory
DEFAULT_RADIUS_KM = 30
THEMES = {t.value: t.label for t in Thematique}
MODES = {m.value: m.label for m in ModeAccueil}
FEES = {f.value: f.label for f in Frais}
# Producers of data·inclusion records, named for people (an unknown one is « data·inclusion »).
PRODUCERS = {
    "france-travail": "France Travail",
    "dora": "DORA",
    "emplois-de-linclusion": "les emplois de l'inclusion",
    "mission-locale": "Union nationale des missions locales",
    "cap-emploi": "Cheops (Cap emploi)",
    "carif-oref": "Carif-Oref",
    "soliguide": "Soliguide",
    "action-logement": "Action Logement",
}


# ------------------------------------------------------------------------- the project's sourced file


class Platform(BaseModel):
    id: str
    name: str
    departements: list[str] = Field(min_length=1)
    operator: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    what: str
    checked: str
    sources: list[str] = Field(min_length=1)


class Line(BaseModel):
    id: str
    name: str
    phone: str
    hours: str
    what: str
    current: bool
    note: str | None = None
    sources: list[str] = Field(min_length=1)


class About(BaseModel):
    text: str
    sources: list[str]


class PlatformFile(BaseModel):
    sources: list[Source]
    about: About
    platforms: list[Platform]
    lines: list[Line]

    def source(self, sid: str) -> Source:
        return next(s for s in self.sources if s.id == sid)


@lru_cache(maxsize=4)
def platform_file(path: Path) -> PlatformFile:
    """``data/accompaniment/plateformes.yaml``, validated (every source cited exists), read once."""
    data = PlatformFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    known = {s.id for s in data.sources}
    cited: list[list[str]] = [p.sources for p in data.platforms] + [line.sources for line in data.lines]
    for sources in [*cited, data.about.sources]:
        missing = [s for s in sources if s not in known]
        if missing:
            raise ValueError(f"{path.name} : source inconnue {missing[0]!r}")
    return data


def platforms_path(reference_dir: Path) -> Path:
    return reference_dir / "accompaniment" / "plateformes.yaml"


# --------------------------------------------------------------------------------------------- nearby


def _service_out(s: SupportService) -> ServiceOut:
    return ServiceOut(
        name=s.name,
        description=s.description,
        themes=[THEMES[t] for t in s.themes if t in THEMES],
        modes=[MODES[m] for m in s.modes if m in MODES],
        fees=FEES.get(s.fees) if s.fees else None,
        access=s.access,
        link=s.link,
        phone=s.phone,
        email=s.email,
        hours=in_french(s.hours),
    )


def _structure_out(s: SupportStructure, distance: float | None, services: list[ServiceOut]) -> StructureOut:
    commune = f"{s.postcode} {s.commune_name}".strip() if s.commune_name else s.postcode
    return StructureOut(
        name=s.name,
        kind=s.kind,
        kind_label=KINDS.get(s.kind, KINDS["autre"]),
        description=s.description,
        address=s.address,
        commune=commune,
        distance_km=round(distance, 1) if distance is not None else None,
        phone=s.phone,
        email=s.email,
        website=s.website,
        hours=in_french(s.hours),
        updated_on=s.updated_on,
        source=f"data·inclusion ({PRODUCERS[s.source]})" if s.source in PRODUCERS else "data·inclusion",
        source_url=s.source_url,
        is_demo=s.is_demo,
        services=services,
    )


def _platform_out(p: Platform, data: PlatformFile, area: str) -> StructureOut:
    first = data.source(p.sources[0])
    return StructureOut(
        name=p.name,
        kind="plateforme_autonomie",
        kind_label=KINDS["plateforme_autonomie"],
        description=p.what,
        address=None,
        commune=None,
        distance_km=None,
        phone=p.phone,
        email=p.email,
        website=p.website,
        hours=None,
        updated_on=None,
        source=f"{first.publisher}, « {first.title} »" + (f" ({source_date(first.date)})" if first.date else ""),
        source_url=first.url,
        is_demo=False,
        services=[],
        area=area,
    )


def _imported(session: Session, place: PlaceFilter, radius_km: int) -> list[tuple[SupportStructure, float | None]]:
    query = select(SupportStructure)
    centre = place.centre
    if centre is not None:
        lat_min, lat_max, lon_min, lon_max = bounding_box(centre[0], centre[1], radius_km)
        query = query.where(
            SupportStructure.latitude.between(lat_min, lat_max), SupportStructure.longitude.between(lon_min, lon_max)
        )
    elif place.departements:
        query = query.where(in_departements(SupportStructure.commune_code, place.departements))
    else:
        return []
    found: list[tuple[SupportStructure, float | None]] = []
    for s in session.scalars(query):
        if centre is not None and s.latitude is not None and s.longitude is not None:
            distance = haversine_km(centre[0], centre[1], s.latitude, s.longitude)
            if distance > radius_km:
                continue
            found.append((s, distance))
        else:
            found.append((s, None))
    order = list(KINDS)
    found.sort(key=lambda x: (order.index(x[0].kind) if x[0].kind in KINDS else len(order), x[1] or 0.0, x[0].name))
    kept: list[tuple[SupportStructure, float | None]] = []
    per_kind: dict[str, int] = {}
    for structure, km in found:
        if per_kind.get(structure.kind, 0) < PER_KIND:
            per_kind[structure.kind] = per_kind.get(structure.kind, 0) + 1
            kept.append((structure, km))
    return kept


def read_place(session: Session, text: str | None) -> PlaceResolution:
    """What the place field says (the picker shows it: the reading used and the others offered)."""
    return read_place_field(place_index(session), text)[0]


def nearby(
    session: Session, reference_dir: Path, *, commune: str | None, radius_km: int = DEFAULT_RADIUS_KM
) -> NearbyOut:
    """The structures near ``commune`` (name, postcode or INSEE code). Raises ``UnknownPlace`` naming the field."""
    index = place_index(session)
    resolution, criteria = read_place_field(index, commune)
    if resolution.choice is None:
        raise UnknownPlace("commune", resolution.error or f"Lieu introuvable : {commune}")
    place = resolve_place(
        index,
        region=criteria["region"],
        departement=criteria["departement"],
        commune=criteria["commune"],
        radius_km=radius_km,
    )
    data = platform_file(platforms_path(reference_dir))
    departement = place.commune.departement_code if place.commune else None
    departements = {departement} if departement else set(place.departements)
    platforms = [
        _platform_out(p, data, " et ".join(index.departements[d][0] for d in p.departements if d in index.departements))
        for p in data.platforms
        if departements & set(p.departements)
    ]
    rows = _imported(session, place, radius_km)
    services: dict[int, list[ServiceOut]] = {}
    if rows:
        wanted = [s.id for s, _ in rows]
        for svc in session.scalars(
            select(SupportService).where(SupportService.structure_id.in_(wanted)).order_by(SupportService.name)
        ):
            services.setdefault(svc.structure_id, []).append(_service_out(svc))
    structures = platforms + [_structure_out(s, d, services.get(s.id, [])) for s, d in rows]
    lines = [
        NationalLine(
            name=line.name,
            phone=line.phone,
            hours=line.hours,
            what=line.what,
            source_title=data.source(line.sources[0]).title,
            source_publisher=data.source(line.sources[0]).publisher,
            source_date=data.source(line.sources[0]).date,
            source_url=data.source(line.sources[0]).url,
        )
        for line in data.lines
        if line.current
    ]
    return NearbyOut(
        place=place.label,
        other_places=[c.label for c in resolution.others],
        radius_km=radius_km,
        structures=structures,
        lines=lines,
        has_demo=any(s.is_demo for s in structures),
    )
