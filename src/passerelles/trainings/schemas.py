"""Validated LHÉO records, as the importer writes them (``trainings/lheo/``).

The reader parses LHÉO strings (dates ``AAAAMMJJ``, codes, amounts) with French error messages; these
schemas are the last gate before the store: they hold the column limits of ``trainings/models.py``
(a value PostgreSQL would refuse must be a reject, never a failed batch) and the closed vocabularies.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from passerelles.widening.schemas import Widening

Modality = Literal["presentiel", "distance", "mixte"]
Route = Literal["initiale", "continue", "apprentissage", "vae"]

# The records are plain dicts (column → value), checked by :func:`check_record` against the rules below:
# a pydantic model per record cost more than parsing the record (validation, then ``model_dump`` in the
# loading process, and pickling between processes). The rules and the messages are those the pydantic
# models had; fields without a rule are taken as the reader built them.
ProviderRecord = dict[str, Any]
TrainingRecord = dict[str, Any]
SessionRecord = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rule:
    """What a field of a record must hold (a ``None`` value always passes, as an optional field)."""

    min_length: int | None = None
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    ge: float | Decimal | None = None
    le: float | Decimal | None = None
    lt: float | Decimal | None = None
    choices: tuple[str, ...] | None = None


# ``organisme-formation-responsable``: keyed by SIRET, or by the activity declaration number.
PROVIDER_RULES: dict[str, Rule] = {
    "external_id": Rule(min_length=1, max_length=120),
    "siret": Rule(pattern=re.compile(r"^[0-9]{14}$")),
    "name": Rule(min_length=1),
    "postcode": Rule(max_length=10),
    "city": Rule(max_length=200),
    "commune_code": Rule(max_length=5),
    "phone": Rule(max_length=40),
    "email": Rule(max_length=200),
}
# ``formation`` (LHÉO 2.x) or ``offre-formation/action-formation`` (LHÉO 1.3).
TRAINING_RULES: dict[str, Rule] = {
    "external_id": Rule(min_length=1, max_length=120),
    "title": Rule(min_length=1),
    "level_eu": Rule(ge=1, le=8),
}
# One session of one action, flattened with its action (place, modality, duration, cost).
SESSION_RULES: dict[str, Rule] = {
    "external_id": Rule(min_length=1, max_length=160),
    "title": Rule(min_length=1),
    "postcode": Rule(max_length=10),
    "city": Rule(max_length=200),
    "commune_code": Rule(max_length=5),
    "latitude": Rule(ge=-90, le=90),
    "longitude": Rule(ge=-180, le=180),
    "modality": Rule(choices=("presentiel", "distance", "mixte")),
    "duration_hours": Rule(ge=0, le=100_000),
    "cost_eur": Rule(ge=0, lt=Decimal("100000000")),
    "recruitment_state": Rule(choices=("ouvert", "ferme", "suspendu")),
    "places": Rule(ge=0, le=1_000_000),
}


def check_record(values: dict[str, Any], rules: dict[str, Rule]) -> tuple[str, str] | None:
    """(field, reason) of the first rule ``values`` breaks (rules in field order), else ``None``."""
    for name, rule in rules.items():
        value = values.get(name)
        if value is None:
            continue
        if rule.min_length is not None and len(value) < rule.min_length:
            plural = "" if rule.min_length == 1 else "s"
            return name, f"valeur refusée : String should have at least {rule.min_length} character{plural}"
        if rule.max_length is not None and len(value) > rule.max_length:
            return name, f"valeur trop longue ({len(str(value))} caractères, au plus {rule.max_length})"
        if rule.pattern is not None and not rule.pattern.search(value):
            return name, f"valeur invalide : « {value} »"
        if (
            (rule.ge is not None and value < rule.ge)
            or (rule.le is not None and value > rule.le)
            or (rule.lt is not None and value >= rule.lt)
        ):
            return name, f"valeur hors limites : {value}"
        if rule.choices is not None and value not in rule.choices:
            expected = ", ".join(f"'{c}'" for c in rule.choices[:-1]) + f" or '{rule.choices[-1]}'"
            return name, f"valeur refusée : Input should be {expected}"
    return None


# ---------------------------------------------------------------- search, session page, comparison

TrainingSort = Literal["date", "distance", "duree", "insertion"]
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
# dict-etat-recrutement (LHÉO): 1 ouvert, 2 fermé, 3 suspendu.
RECRUITMENT: dict[str, str] = {
    "ouvert": "Recrutement ouvert",
    "ferme": "Recrutement fermé",
    "suspendu": "Recrutement suspendu",
}


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
    inscriptions: bool = Field(
        default=False,
        description="Inscriptions ouvertes aujourd'hui : période d'inscription en cours, recrutement ouvert",
    )
    tri: TrainingSort | None = Field(
        default=None,
        description="Tri ; par défaut la date de début, ou la distance après un élargissement autour d'une commune",
    )
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


class TrainingResults(BaseModel):
    query: TrainingQuery
    place_label: str
    total: int
    region_label: str | None = None
    region_total: int | None = None
    items: list[SessionItem]
    page: int
    pages: int
    sort: TrainingSort = "date"  # the order used (``query.tri`` or the default)
    widened: list[Widening] = []
    auto_widened: bool = False
    next_widening: str | None = None
    restore_level: int = 0  # the widening level a dropped criterion is put back at
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


RegistrationStatus = Literal["ouvertes", "a-venir", "terminees", "ferme", "suspendu"]


class SessionDetail(SessionItem):
    address: str | None
    postcode: str | None
    region: str | None
    registration_start: dt.date | None
    registration_end: dt.date | None
    registration_status: RegistrationStatus | None = Field(
        default=None, description="Inscriptions aujourd'hui : ouvertes, à venir, terminées, fermées, suspendues"
    )
    registration_terms: str | None = None
    information_dates: list[dt.date] = []
    information_address: str | None = None
    summary_of: str | None = Field(
        default=None, description="Résumé d'offre (LHÉO léger) : adresse de l'offre complète (page ou lien)"
    )
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
