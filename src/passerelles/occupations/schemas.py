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


class PayBar(BaseModel):
    label: str
    min_eur: int
    max_eur: int
    year: int
    note: str | None = None
    sources: list[str] = []


class PayChart(BaseModel):
    """Pay by experience, drawn as horizontal bars (one per situation, earliest in a career first)."""

    basis: str
    period: str
    bars: list[PayBar]
    top: int  # the scale's end, in euros

    @property
    def caption(self) -> str:
        return f"Salaire {self.basis} par {self.period} selon l'expérience"


class LiveFigures(BaseModel):
    """What an occupation page shows first for the visitor's territory, each figure with its search link."""

    region_label: str  # « en Auvergne-Rhône-Alpes », « en France »
    trainings: int
    trainings_url: str
    offers: int
    offers_url: str
    has_demo: bool = False
    hiring_projects: int | None = None  # BMO, when imported
