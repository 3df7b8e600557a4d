"""Employers' space: input and output. Candidates are shown without contact details."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from passerelles.accounts.schemas import DbId, Strict

Contract = Literal["CDI", "CDD", "MIS", "APP", "SAI", "LIB"]
Status = Literal["envoyee", "vue", "entretien", "refusee", "embauche"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Slug = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9-]{1,80}$")]
CommuneCode = Annotated[str, StringConstraints(pattern=r"^[0-9][0-9AB][0-9]{3}$")]


class ProfileIn(Strict):
    description: Text | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    website: Annotated[str, StringConstraints(pattern=r"^https?://[^\s<>\"']{1,300}$")] | None = None


class StructureOut(BaseModel):
    id: int
    name: str
    siret: str | None
    structure_type: str | None
    commune_code: str | None
    description: str | None
    address: str | None
    website: str | None


class NeedIn(Strict):
    occupation_slug: Slug
    positions: int = Field(ge=1, le=500)
    contract_type: Contract
    start_on: dt.date | None = None
    nights: bool = False
    weekends: bool = False


class NeedOut(NeedIn):
    id: int


class OfferIn(Strict):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
    occupation_slug: Slug
    description: Text | None = None
    contract_type: Contract
    commune_code: CommuneCode
    positions: int = Field(default=1, ge=1, le=500)
    start_on: dt.date | None = None
    night_work: bool = False
    weekend_work: bool = False


class OfferOut(BaseModel):
    id: int
    title: str
    code_rome: str | None
    contract_type: str | None
    commune_code: str | None
    city: str | None
    positions: int | None
    published_at: dt.datetime | None
    closed: bool
    applications: int


class Reason(BaseModel):
    criterion: Literal["metier", "certification", "distance", "disponibilite"]
    text: str
    points: int


class CandidateOut(BaseModel):
    file_id: int
    display_name: str
    score: int
    why: list[Reason]


class ApplicationIn(Strict):
    offer_id: DbId
    file_id: DbId | None = Field(default=None, description="Conseiller : le dossier ; personne : omis")
    message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class StatusIn(Strict):
    status: Status


class ApplicationOut(BaseModel):
    id: int
    offer_id: int
    offer_title: str
    employer_name: str | None
    candidate: str
    file_id: int
    status: str
    status_label: str
    created_at: dt.datetime
    updated_at: dt.datetime


class EventIn(Strict):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
    on: dt.date
    place: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
    capacity: int = Field(ge=1, le=1000)


class EventOut(BaseModel):
    id: int
    title: str
    on: dt.date
    place: str
    capacity: int
    employer_name: str
    registered: int
    registered_names: list[str] = []
    mine: bool = False


class RegistrationIn(Strict):
    file_id: DbId | None = None


class ClaimOut(BaseModel):
    """The logged-in employer's tie to their structure."""

    structure_name: str
    siret: str | None
    status: Literal["pending", "active", "refused"]
    status_label: str
    role: Literal["admin", "member"]
    message: str
    decided_by: Literal["structure", "verification"] = Field(
        description="Qui valide une demande en attente : l'administrateur de la structure, ou une vérification "
        "(lien envoyé à l'adresse de contact connue, ou administrateur de Passerelles)"
    )
    contact: str | None = Field(default=None, description="Adresse de contact connue, masquée")
    invitation_sent: bool = False


class MembershipOut(BaseModel):
    """A demand to act for a structure, as its deciders see it."""

    id: int
    account_name: str
    account_email: str
    structure_id: int
    structure_name: str
    siret: str | None
    status: str
    status_label: str
    role: str
    role_label: str
    created_at: dt.datetime


class DecisionIn(Strict):
    decision: Literal["accepter", "refuser"]


class ClaimConfirmIn(Strict):
    token: Annotated[str, StringConstraints(max_length=200)]
