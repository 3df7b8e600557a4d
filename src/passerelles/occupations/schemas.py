from __future__ import annotations

from pydantic import BaseModel

from passerelles.certifications.schemas import CertificationRef
from passerelles.reference.schemas import Occupation as OccupationFacts
from passerelles.rome.schemas import RomeFicheDetail, RomeFicheRef
from passerelles.sources.schemas import SourceOut


class OccupationSummary(BaseModel):
    slug: str
    name: str
    name_feminine: str | None
    acronyms: list[str]
    former_names: list[str]
    summary: str
    rome_codes: list[str]
    url: str


class LinkedCertification(BaseModel):
    certification: CertificationRef
    role: str
    note: str | None = None


class LevelGroup(BaseModel):
    level_eu: int | None
    label: str
    certifications: list[LinkedCertification]


class Link(BaseModel):
    title: str
    url: str | None = None
    text: str | None = None


class OccupationDetail(OccupationSummary):
    facts: OccupationFacts
    rome: list[RomeFicheRef]
    rome_main: RomeFicheDetail | None
    certifications_by_level: list[LevelGroup]
    evolutions: list[Link]
    related: list[Link]
    structure_labels: dict[str, str]
    onisep: list[Link] = []
    further: list[Link] = []  # public services, "Pour aller plus loin"
    sources: list[SourceOut]
