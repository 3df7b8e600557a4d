"""Validated LHÉO records, as the importer writes them (``trainings/lheo.py``).

The reader parses LHÉO strings (dates ``AAAAMMJJ``, codes, amounts) with French error messages; these
schemas are the last gate before the store: they hold the column limits of ``trainings/models.py``
(a value PostgreSQL would refuse must be a reject, never a failed batch) and the closed vocabularies.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Modality = Literal["presentiel", "distance", "mixte"]
Route = Literal["initiale", "continue", "apprentissage", "vae"]
RecruitmentState = Literal["ouvert", "ferme", "suspendu"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderRecord(_Record):
    """``organisme-formation-responsable``: keyed by SIRET, or by the activity declaration number."""

    external_id: str = Field(min_length=1, max_length=120)
    siret: str | None = Field(default=None, pattern=r"^[0-9]{14}$")
    name: str = Field(min_length=1)
    address: str | None = None
    postcode: str | None = Field(default=None, max_length=10)
    city: str | None = Field(default=None, max_length=200)
    commune_code: str | None = Field(default=None, max_length=5)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    website: str | None = None


class TrainingRecord(_Record):
    """``formation`` (LHÉO 2.x) or ``offre-formation/action-formation`` (LHÉO 1.3)."""

    external_id: str = Field(min_length=1, max_length=120)
    title: str = Field(min_length=1)
    objective: str | None = None
    content: str | None = None
    result: str | None = None
    certification_id: int | None = None
    rncp: list[str] = Field(default_factory=list)
    certifinfo: list[str] = Field(default_factory=list)
    formacodes: list[str] = Field(default_factory=list)
    nsf: list[str] = Field(default_factory=list)
    rome_codes: list[str] = Field(default_factory=list)
    level_eu: int | None = Field(default=None, ge=1, le=8)


class SessionRecord(_Record):
    """One session of one action, flattened with its action (place, modality, duration, cost)."""

    external_id: str = Field(min_length=1, max_length=160)
    certification_id: int | None = None
    title: str = Field(min_length=1)
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    registration_start: dt.date | None = None
    registration_end: dt.date | None = None
    address: str | None = None
    postcode: str | None = Field(default=None, max_length=10)
    city: str | None = Field(default=None, max_length=200)
    commune_code: str | None = Field(default=None, max_length=5)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    modality: Modality | None = None
    routes: list[Route] = Field(default_factory=list)
    duration_hours: int | None = Field(default=None, ge=0, le=100_000)
    duration_text: str | None = None
    rhythm: str | None = None
    cost_eur: Decimal | None = Field(default=None, ge=0, lt=Decimal("100000000"), decimal_places=2)
    cost_text: str | None = None
    funding: list[str] = Field(default_factory=list)
    cpf_eligible: bool | None = None
    admission: str | None = None
    prerequisites: str | None = None
    recruitment_state: RecruitmentState | None = None
    places: int | None = Field(default=None, ge=0, le=1_000_000)
    contact: dict[str, Any] = Field(default_factory=dict)


# ---------------------------------------------------------------- search, session page, comparison

TrainingSort = Literal["date", "distance", "duree"]
MAX_TEXT = 200

# LHÉO dict-financeurs (code-financeur), labels shortened from the dictionary's (« Pôle emploi » is now
# France Travail, OPCA became OPCO in 2019, OPACIF became Transitions Pro in 2020).
FUNDERS: dict[str, str] = {
    "0": "Autre",
    "1": "Code(s) obsolète(s)",
    "2": "Conseil régional",
    "3": "Fonds européens (FSE)",
    "4": "France Travail",
    "5": "Entreprise",
    "6": "ACSé (ex-FASILD)",
    "7": "AGEFIPH",
    "8": "Conseil départemental (ex-conseil général)",
    "9": "Commune",
    "10": "Bénéficiaire de l'action",
    "11": "État – Ministère chargé de l'emploi",
    "12": "État – Ministère de l'éducation nationale",
    "13": "État – Autre",
    "14": "Fonds européens – Autre",
    "15": "Collectivité territoriale – Autre",
    "16": "Opérateur de compétences (OPCO, ex-OPCA)",
    "17": "Transitions Pro (ex-OPACIF)",
}
MODALITIES: dict[str, str] = {"presentiel": "Sur place", "distance": "À distance", "mixte": "Mixte"}
RECRUITMENT: dict[str, str] = {"ouvert": "Inscriptions ouvertes", "ferme": "Complet", "suspendu": "Suspendu"}


class TrainingQuery(BaseModel):
    """Criteria of the training search (« /formations », ``GET /api/v1/formations``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    q: str | None = Field(default=None, max_length=MAX_TEXT, description="Texte libre")
    metier: str | None = Field(default=None, max_length=80, pattern=r"^[a-z0-9-]+$")
    certification: str | None = Field(default=None, max_length=80, pattern=r"^[a-z0-9-]+$")
    region: str | None = Field(default=None, max_length=3, pattern=r"^[0-9]{2,3}$")
    departement: str | None = Field(default=None, max_length=3, pattern=r"^[0-9][0-9AB][0-9]?$")
    commune: str | None = Field(default=None, max_length=120)
    rayon: int | None = Field(default=None, ge=1, le=300, description="Rayon autour de la commune, en km")
    niveau: int | None = Field(default=None, ge=3, le=8, description="Niveau européen de la certification")
    voie: Route | None = None
    modalite: Modality | None = None
    debut_min: dt.date | None = None
    debut_max: dt.date | None = None
    duree_max: int | None = Field(default=None, ge=1, le=10_000, description="Durée maximale en heures")
    cout_max: int | None = Field(default=None, ge=0, le=1_000_000, description="Coût maximal en euros")
    cpf: bool = Field(default=False, description="Éligible au CPF")
    financement: str | None = Field(default=None, pattern=r"^[0-9]{1,2}$", description="Code financeur LHÉO")
    places: bool = Field(default=False, description="Inscriptions ouvertes, places restantes")
    tri: TrainingSort = "date"
    elargir: int = Field(default=0, ge=0, le=10)
    page: int = Field(default=1, ge=1, le=1000)


class CertificationBrief(BaseModel):
    slug: str
    name: str
    acronym: str | None
    level_eu: int | None
    url: str


class SessionItem(BaseModel):
    id: int
    url: str
    title: str
    certification: CertificationBrief | None
    provider: str | None
    city: str | None
    commune_code: str | None
    departement: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    duration_hours: int | None
    modality: str | None
    routes: list[str]
    cost_eur: float | None
    cpf_eligible: bool | None
    funding: list[str]
    recruitment_state: str | None
    places: int | None
    distance_km: float | None = None
    is_demo: bool


class Widening(BaseModel):
    level: int
    text: str


class TrainingResults(BaseModel):
    query: TrainingQuery
    place_label: str
    total: int
    region_label: str | None = None
    region_total: int | None = None
    items: list[SessionItem]
    page: int
    pages: int
    widened: list[Widening] = []
    auto_widened: bool = False
    next_widening: str | None = None
    has_demo: bool = False


class ProviderOut(BaseModel):
    name: str
    siret: str | None
    address: str | None
    postcode: str | None
    city: str | None
    phone: str | None
    email: str | None
    website: str | None


class SessionDetail(SessionItem):
    address: str | None
    postcode: str | None
    region: str | None
    registration_start: dt.date | None
    registration_end: dt.date | None
    duration_text: str | None
    rhythm: str | None
    cost_text: str | None
    admission: str | None
    prerequisites: str | None
    contact: dict[str, Any]
    provider_detail: ProviderOut | None
    objective: str | None
    source: str
    external_id: str
    training_title: str
    latitude: float | None
    longitude: float | None


class Comparison(BaseModel):
    ids: list[int]
    commune: str | None
    sessions: list[SessionDetail]
    has_demo: bool
