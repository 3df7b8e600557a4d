"""Saved searches: criteria for job offers or training sessions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from passerelles.accounts.schemas import Strict

CommuneCode = Annotated[str, StringConstraints(pattern=r"^[0-9][0-9AB][0-9]{3}$")]


class Criteria(Strict):
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = Field(
        default="", description="Mots de l'intitulé"
    )
    code_rome: Annotated[str, StringConstraints(pattern=r"^[A-N][0-9]{4}$")] | None = None
    contract_type: Literal["CDI", "CDD", "MIS", "APP", "SAI", "LIB"] | None = None
    certification: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,80}$")] | None = Field(
        default=None, description="Formations : certification visée (slug)"
    )
    commune: CommuneCode | None = None
    radius_km: float = Field(default=30, gt=0, le=200)


class SavedSearchIn(Strict):
    kind: Literal["offres", "formations"]
    criteria: Criteria = Field(default_factory=Criteria)


class SavedSearchOut(BaseModel):
    id: int
    kind: str
    criteria: Criteria
    active: bool
    created_at: dt.datetime
    last_sent_at: dt.datetime | None


class AlertItem(BaseModel):
    id: int
    title: str
    where: str | None
