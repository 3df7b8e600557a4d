"""Employers' space: input and output. Candidates are shown without contact details."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from passerelles.accounts.schemas import DbId, Email, Strict

Contract = Literal["CDI", "CDD", "MIS", "APP", "SAI", "LIB"]
# The employer's form shows these words, never the codes.
CONTRACT_LABELS = {
    "CDI": "CDI (contrat à durée indéterminée)",
    "CDD": "CDD (contrat à durée déterminée)",
    "MIS": "Mission d'intérim",
    "APP": "Contrat d'apprentissage",
    "SAI": "Contrat saisonnier",
    "LIB": "Exercice libéral",
}
WORKING_TIME_LABELS = {"temps_plein": "Temps plein", "temps_partiel": "Temps partiel"}
SALARY_PERIOD_LABELS = {"mois": "par mois (brut)", "heure": "de l'heure (brut)"}
Status = Literal["envoyee", "vue", "entretien", "embauche", "refusee", "cloturee"]
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


ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


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
    working_time: Literal["temps_plein", "temps_partiel"] | None = None
    hours_per_week: float | None = Field(default=None, gt=0, le=48)
    salary_min: float | None = Field(default=None, gt=0, le=100_000)
    salary_max: float | None = Field(default=None, gt=0, le=100_000)
    salary_period: Literal["mois", "heure"] | None = None
    requirements: ShortText | None = None
    how_to_apply: ShortText | None = None
    closes_on: dt.date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> OfferIn:
        if self.salary_min and self.salary_max and self.salary_min > self.salary_max:
            raise ValueError("salary_max : le salaire maximum est inférieur au minimum")
        if (self.salary_min or self.salary_max) and self.salary_period is None:
            raise ValueError("salary_period : précisez si le salaire est mensuel ou horaire")
        if self.closes_on is not None and self.closes_on < dt.date.today():
            raise ValueError("closes_on : la date de clôture est déjà passée")
        return self


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


Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 .()-]{6,25}$")]


class ApplyIn(Strict):
    """An application through the offer's form (with or without an account)."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
    email: Email | None = None
    phone: Phone | None = None
    message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] | None = None
    via_counsellor: bool = False
    counsellor_consent: bool = False

    @model_validator(mode="after")
    def _reachable(self) -> ApplyIn:
        if not self.email and not self.phone:
            raise ValueError("email : indiquez une adresse électronique ou un téléphone pour être recontacté·e")
        return self


class ApplicationOut(BaseModel):
    id: int
    offer_id: int
    offer_title: str
    employer_name: str | None
    candidate: str
    file_id: int | None
    status: str
    status_label: str
    created_at: dt.datetime
    updated_at: dt.datetime
    offer_closed: bool = False
    is_demo: bool = False
    via_counsellor: bool = False
    counsellor_consent: bool = False
    validation: str | None = None
    validation_label: str | None = None
    # Who the employer answers: the person, or their counsellor when applying through them (with consent).
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    contact_is_counsellor: bool = False
    message: str | None = None
    has_cv: bool = False


class ContactIn(Strict):
    """An employer's message to a suggested candidate, sent through the platform."""

    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=2000)]


class ValidationIn(Strict):
    decision: Literal["transmettre", "refuser"]


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
