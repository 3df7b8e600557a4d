"""What the « Être accompagné » page and API answer: structures near a place, with their services."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

# Kinds of structure, in the order the page lists them, with their French names.
KINDS: dict[str, str] = {
    "plateforme_autonomie": "Plateformes des métiers de l'autonomie",
    "france_travail": "France Travail",
    "mission_locale": "Missions locales (moins de 26 ans)",
    "cap_emploi": "Cap emploi (personnes en situation de handicap)",
    "cio": "Centres d'information et d'orientation (CIO)",
    "carif_oref": "Points d'information du Carif-Oref",
    "autre": "Autres lieux d'accompagnement",
}
# data·inclusion « réseaux porteurs » that name a kind above.
NETWORK_KINDS = {
    "france-travail": "france_travail",
    "mission-locale": "mission_locale",
    "cap-emploi-reseau-cheops": "cap_emploi",
}


class ServiceOut(BaseModel):
    name: str
    description: str
    themes: list[str]  # French labels of the data·inclusion thématiques
    modes: list[str]  # « En présentiel », « À distance »
    fees: str | None  # « Gratuit », « Payant »
    access: str | None
    link: str | None
    phone: str | None
    email: str | None
    hours: str | None  # in French


class StructureOut(BaseModel):
    name: str
    kind: str
    kind_label: str
    description: str | None
    address: str | None
    commune: str | None
    distance_km: float | None
    phone: str | None
    email: str | None
    website: str | None
    hours: str | None  # in French; None when unknown
    updated_on: dt.date | None
    source: str  # who publishes the record (« data·inclusion (France Travail) », « Passerelles »)
    source_url: str | None
    is_demo: bool
    services: list[ServiceOut]
    area: str | None = None  # what a plateforme covers (« Seine-et-Marne et Essonne »)


class NationalLine(BaseModel):
    name: str
    phone: str
    hours: str
    what: str
    source_title: str
    source_publisher: str
    source_date: str | None
    source_url: str | None


class NearbyOut(BaseModel):
    place: str  # « à moins de 30 km de Lyon (69) »
    other_places: list[str] = []  # the other readings of what was typed (« Saint-Denis (La Réunion, 974) »)
    radius_km: int
    structures: list[StructureOut]
    lines: list[NationalLine]
    has_demo: bool


class NearbyQuery(BaseModel):
    """« /etre-accompagne?commune=…&rayon=… » and ``GET /api/v1/accompagnement``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    commune: str | None = Field(
        default=None, max_length=120, description="Lieu : commune (nom, code postal, code INSEE), département ou région"
    )
    rayon: int = Field(default=30, ge=5, le=100, description="Rayon de recherche en km autour de la commune")
