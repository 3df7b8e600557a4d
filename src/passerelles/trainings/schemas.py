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
