"""What the labour services return (hiring potential, tension) and the correspondence file's shape."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from passerelles.reference.schemas import Source


class RomeLink(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[A-N][0-9]{4}$")
    parent: str | None = Field(default=None, pattern=r"^[A-N][0-9]{4}$")  # the ROME 4.0 parent fiche used
    sources: list[str] = Field(min_length=1)


class Family(BaseModel):
    """A FAP family and the ROME fiches of Passerelles' occupations that belong to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fap: str = Field(pattern=r"^[A-Z][0-9][A-Z][0-9]{2}$")
    name: str
    rome: list[RomeLink] = Field(min_length=1)


class Correspondence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: list[Source]
    families: list[Family]


class HiringArea(BaseModel):
    """Hiring projects of the year in one territory (bassin d'emploi, département, région or France)."""

    level: str  # bassin, departement, region, france
    label: str  # « Bassin d'emploi de Lyon », « Département Rhône (69) », « France entière »
    where: str  # « dans le bassin d'emploi de Lyon », « dans le département Rhône (69) », « en France »
    projects: int
    difficult: int
    seasonal: int
    difficult_share: int | None  # percent of the projects judged difficult (of those with both counts)
    seasonal_share: int | None
    masked: int  # rows whose counts the publisher masked (too few answers)


class HiringPotential(BaseModel):
    year: int
    occupations: list[str]  # the survey's own names of the BMO occupations counted (« Aides-soignants »)
    areas: list[HiringArea]
    source: str = "Enquête « Besoins en main-d'œuvre » (BMO), France Travail"


class TensionComponent(BaseModel):
    key: str
    label: str  # « Manque de main-d'œuvre disponible »
    explanation: str  # plain French: what it means when high
    value: int  # quintile 1–5


class Tension(BaseModel):
    year: int
    family: str  # the family's name (« Aides-soignants »)
    area: str  # « dans le Rhône (69) », « en Auvergne-Rhône-Alpes », « en France »
    category: int  # 1–5
    label: str  # « très forte »
    in_tension: bool  # category 4 or 5: the badge « Métier en tension »
    factors: list[TensionComponent]  # the components at 4 or 5, strongest first
    components: list[TensionComponent]  # all published components
    source: str = "Indicateurs de tension sur le marché du travail, Dares et France Travail"


class LabourOut(BaseModel):
    """An occupation's recruitment needs (BMO survey) and tension indicator on a territory, when imported."""

    occupation: str
    place_label: str
    families: list[str] = Field(description="Familles professionnelles (FAP) qui correspondent au métier.")
    hiring: HiringPotential | None = Field(description="Projets de recrutement de la dernière enquête BMO.")
    tension: Tension | None = Field(description="Indicateur de tension (Dares, France Travail) et ses composantes.")
    years: dict[str, int | None] = Field(description="Dernière année importée de chaque source.")
