"""Caseload input and output. Minimal fields: a name to address the person, optional contact, the
planner profile; health information only with its own explicit consent."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from passerelles.accounts.schemas import DbId, Strict
from passerelles.pathways.schemas import Profile

StepKind = Literal[
    "reunion_information",
    "immersion",
    "candidature_formation",
    "entree_formation",
    "diplome",
    "candidature_offre",
    "embauche",
    "suivi_1_mois",
    "suivi_3_mois",
    "suivi_6_mois",
]
Purpose = Literal["accompagnement", "visible_employeurs", "sante"]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 .\-]{6,20}$")]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$"
    ),
]
CommuneCode = Annotated[str, StringConstraints(pattern=r"^[0-9][0-9AB][0-9]{3}$")]


class FileIn(Strict):
    first_name: ShortText
    last_name: ShortText
    email: Email | None = None
    phone: Phone | None = None
    commune_code: CommuneCode | None = None
    available_from: dt.date | None = None
    consent_accompagnement: bool = Field(description="La personne accepte l'accompagnement (obligatoire).")
    visible_employeurs: bool = False
    profile: Profile = Field(default_factory=Profile)

    @model_validator(mode="after")
    def _consent(self) -> FileIn:
        if not self.consent_accompagnement:
            raise ValueError("consent_accompagnement : le consentement à l'accompagnement est obligatoire")
        return self


class StepIn(Strict):
    kind: StepKind
    on: dt.date
    detail: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None
    in_post: bool | None = Field(default=None, description="Suivis : la personne est-elle toujours en poste ?")


class NoteIn(Strict):
    text: LongText


class ActionIn(Strict):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    due_on: dt.date


class ConsentIn(Strict):
    purpose: Purpose


class HealthIn(Strict):
    health_notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class ShareIn(Strict):
    counsellor_id: DbId


class FileFilters(Strict):
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    status: Literal["actif", "clos", ""] = ""
    step: StepKind | Literal[""] = ""
    action_due_before: dt.date | None = None
    visible_employeurs: bool | None = None


class ConsentOut(BaseModel):
    id: int
    purpose: str
    given_at: dt.datetime
    withdrawn_at: dt.datetime | None


class StepOut(BaseModel):
    id: int
    kind: str
    label: str
    on: dt.date
    detail: str | None
    in_post: bool | None


class NoteOut(BaseModel):
    id: int
    author: str | None
    text: str
    created_at: dt.datetime


class ActionOut(BaseModel):
    id: int
    text: str
    due_on: dt.date
    done: bool


class FileSummary(BaseModel):
    id: int
    first_name: str
    last_name: str
    commune_code: str | None
    status: str
    counsellor: str | None
    last_step: str | None
    next_action_on: dt.date | None
    visible_employeurs: bool
    last_activity_at: dt.datetime


class FileDetail(FileSummary):
    email: str | None
    phone: str | None
    available_from: dt.date | None
    health_notes: str | None
    profile: Profile
    has_account: bool
    invited_at: dt.datetime | None = None  # an existing account was invited to the file, no answer yet
    consents: list[ConsentOut]
    steps: list[StepOut]
    notes: list[NoteOut]
    actions: list[ActionOut]
    shared_with: list[str]


class InvitationOut(BaseModel):
    file_id: int
    platform: str
    counsellor: str | None
    invited_at: dt.datetime | None


class AccessOut(BaseModel):
    account: str | None
    action: str
    at: dt.datetime


class DashboardRow(BaseModel):
    indicator: str
    label: str
    value: int


class Dashboard(BaseModel):
    platform_id: int
    platform: str
    start: dt.date
    end: dt.date
    rows: list[DashboardRow]
    by_month: list[dict[str, int | str]]
