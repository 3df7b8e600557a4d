"""Planner input and output (API, CLI and page share them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

StepKind = Literal[
    "equivalence", "attente", "formation", "vae", "poste", "certification_en_poste", "formation_obligatoire"
]


class HeldDiploma(BaseModel):
    slug: str = Field(description="Certification ou diplôme général (deas, deamp, bac…)")
    year: int | None = Field(default=None, ge=1950, le=2100)


class Experience(BaseModel):
    occupation: str = Field(description="Slug du métier exercé")
    years: float = Field(ge=0, le=60)


class Profile(BaseModel):
    """A person's situation, as a counsellor would fill it in with them."""

    diplomas: list[HeldDiploma] = Field(default=[], max_length=20)
    experience: list[Experience] = Field(default=[], max_length=20)
    age: int | None = Field(default=None, ge=14, le=80)
    commune: str | None = Field(default=None, description="Code INSEE de la commune")
    target: str | None = Field(default=None, description="Slug du métier visé ; vide pour des suggestions")
    max_months: float | None = Field(default=None, gt=0, le=240)
    max_distance_km: float | None = Field(default=None, gt=0, le=1000)
    apprenticeship: bool = False
    distance_learning: bool = False

    @field_validator("diplomas")
    @classmethod
    def _unique(cls, value: list[HeldDiploma]) -> list[HeldDiploma]:
        seen: dict[str, HeldDiploma] = {}
        for d in value:
            seen.setdefault(d.slug, d)
        return list(seen.values())


class Reason(BaseModel):
    text: str
    sources: list[str] = []


class SessionHint(BaseModel):
    title: str
    start_date: str | None
    commune: str | None
    distance_km: float | None
    url: str | None = None
    is_demo: bool = False


class Stage(BaseModel):
    """A part of a step explained on its own (the stages of a VAE)."""

    title: str
    text: str
    optional: bool = False
    sources: list[str] = []


class Step(BaseModel):
    kind: StepKind
    title: str
    short_title: str = ""
    months: float
    start_months: float = Field(default=0, description="Mois écoulés depuis le début du parcours")
    certification: str | None = None
    occupation: str | None = None
    route: str | None = None
    why: list[Reason]
    stages: list[Stage] = []
    session: SessionHint | None = None
    cost: str | None = None
    funding: str | None = Field(default=None, description="Financement possible de l'étape (si connu)")


class Route(BaseModel):
    rank: int
    target: str
    target_name: str
    total_months: float = Field(description="Durée totale, formations obligatoires après l'embauche comprises")
    months_before_post: float = Field(description="Durée avant la prise de poste")
    steps: list[Step]
    summary: str


class Blocker(BaseModel):
    option: str
    failing: list[str]
    sources: list[str] = []


class PlanResult(BaseModel):
    target: str | None
    target_name: str | None
    routes: list[Route]
    blocked: list[Blocker]
    message: str | None = None
