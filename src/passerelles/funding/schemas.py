"""Schemas of funding: the rules as written in ``data/funding.yaml`` (validated when read), the simulator's
request and its answer (API, page and CLI give the same)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from passerelles.reference.schemas import Slug, SourceIds

Situation = Literal["demandeur-emploi", "salarie", "apprenti", "etudiant", "independant"]
SITUATIONS: dict[str, str] = {
    "demandeur-emploi": "Demandeur d'emploi",
    "salarie": "Salarié",
    "apprenti": "Apprenti (ou futur apprenti)",
    "etudiant": "Élève ou étudiant",
    "independant": "Travailleur indépendant",
}
FundingRoute = Literal["formation", "apprentissage", "vae"]
RegionCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")]
# What a payer of the training covers: all of it, all but a participation, what the others leave, up to the
# CPF balance, a top-up of the CPF whose amount its funder sets, or unknown.
Covers = Literal["full", "partial", "remainder", "balance", "topup", "unknown"]
IsoDate = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]

# ---------------------------------------------------------------- the rules (data/funding.yaml)


class Strict(BaseModel):
    """As the reference files' records: no unknown field, frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class When(Strict):
    """When a scheme applies: every field given must hold (AND); an empty list means any."""

    situations: list[Situation] = []
    indemnise: bool | None = None
    travailleur_handicape: bool | None = None
    sanitary_social: bool | None = None
    routes: list[FundingRoute] = []
    max_level: int | None = Field(default=None, ge=1, le=8)  # certification level at most
    min_age: int | None = Field(default=None, ge=14, le=99)
    max_age: int | None = Field(default=None, ge=14, le=99)
    max_age_waived_if_handicap: bool = False
    schemes: list[Slug] = []  # income tied to one of these tuition schemes in the same combination


class AgeBand(Strict):
    min_age: int = Field(ge=0, le=99)
    max_age: int | None = Field(default=None, ge=0, le=99)
    monthly_eur: float | None = Field(default=None, ge=0, le=20000)
    text: str
    sources: SourceIds


class GridRow(Strict):
    min_age: int = Field(ge=0, le=99)
    max_age: int | None = Field(default=None, ge=0, le=99)
    percent: Annotated[list[int], Field(min_length=3, max_length=3)]


class Amount(Strict):
    """How much a scheme pays a month: calculated by its payer (no figure), a ceiling, by age, a share of
    the Smic (apprentices), or a share of the salary (transition project)."""

    kind: Literal["calculated", "ceiling", "by_age", "smic_grid", "salary_share"]
    text: str
    monthly_eur: float | None = Field(default=None, ge=0, le=20000)
    bands: list[AgeBand] = []
    grid: list[GridRow] = []
    full_up_to_smic: float | None = Field(default=None, gt=0)
    above_first_year_percent: int | None = Field(default=None, ge=0, le=100)
    above_later_percent: int | None = Field(default=None, ge=0, le=100)


class RegionRule(Strict):
    """A Région's own rule, only where a source says it."""

    region: RegionCode
    situations: list[Situation] = []  # empty: every situation the scheme covers
    certifications: list[Slug] = []  # empty: every certification the scheme covers
    covers: Covers | None = None
    participation_eur: float | None = Field(default=None, ge=0, le=20000)
    # An abondement (covers « topup »): the most this Région pays, and the CPF balance it asks for first.
    # Said in the line's text only: France Travail may top up the CPF too, so the amount stays the funder's.
    max_eur: float | None = Field(default=None, gt=0, le=20000)
    min_cpf_balance_eur: float | None = Field(default=None, ge=0, le=20000)
    text: str
    conditions: list[str] = []
    sources: SourceIds


class Note(Strict):
    text: str
    sources: SourceIds


class Scheme(Strict):
    id: Slug
    kind: Literal["tuition", "income"]
    name: str
    payer: str
    covers: Covers | None = None
    cpf_participation: bool = False
    when: When = When()
    amount: Amount | None = None
    text: str
    conditions: list[str] = []
    sources: SourceIds
    regions: list[RegionRule] = []
    handicap: Note | None = None


class Combination(Strict):
    id: Slug
    title: str
    tuition: Annotated[list[Slug], Field(min_length=1)]
    income: list[Slug] = []


class Smic(Strict):
    monthly_gross_eur: float = Field(gt=0)
    hourly_gross_eur: float = Field(gt=0)
    since: IsoDate
    sources: SourceIds


class CpfParticipation(Strict):
    year: int = Field(ge=2024, le=2100)
    amount_eur: float = Field(ge=0, le=1000)
    since: IsoDate
    sources: SourceIds


class SanitarySocial(Strict):
    certifications: Annotated[list[Slug], Field(min_length=1)]
    sources: SourceIds


class FundingRules(Strict):
    smic: Smic
    cpf_participation: Annotated[list[CpfParticipation], Field(min_length=1)]
    sanitary_social: SanitarySocial
    schemes: Annotated[list[Scheme], Field(min_length=1)]
    combinations: Annotated[list[Combination], Field(min_length=1)]


# ---------------------------------------------------------------- the simulator


class FundingQuery(BaseModel):
    """Le profil de la personne et la formation visée."""

    model_config = ConfigDict(extra="forbid")

    age: int = Field(ge=15, le=80, description="Âge en années.")
    situation: Situation = Field(description="Situation aujourd'hui.")
    indemnise: bool = Field(default=False, description="Demandeur d'emploi touchant l'allocation chômage (ARE).")
    travailleur_handicape: bool = Field(default=False, description="Reconnaissance de travailleur handicapé.")
    certification: str = Field(min_length=1, max_length=80, description="Certification visée (sigle ou identifiant).")
    region: RegionCode | None = Field(default=None, description="Code INSEE de la région (deux chiffres).")
    vae: bool = Field(default=False, description="Obtenir le diplôme par la VAE plutôt que par une formation.")
    session: int | None = Field(default=None, ge=1, le=2**31 - 1, description="Session de formation (son coût).")
    salaire: float | None = Field(default=None, ge=0, le=100000, description="Salaire brut mensuel (salarié).")
    solde_cpf: float | None = Field(
        default=None, ge=0, le=100000, description="Solde de votre compte formation (CPF), en euros."
    )


class SourceNote(BaseModel):
    number: int
    title: str
    publisher: str
    date: str | None = None
    url: str | None = None


class FundingLine(BaseModel):
    """Un financeur des frais ou un revenu pendant la formation, avec sa règle et ses sources."""

    scheme: str
    name: str
    payer: str
    text: str
    covers: str | None = None  # tuition: what it pays, in words
    amount_eur: float | None = None  # tuition: what it pays, when known
    monthly_eur: float | None = None  # income: a month, when known
    amount_text: str | None = None
    conditions: list[str] = []
    notes: list[int] = []  # numbers of the source notes


class FundingCombination(BaseModel):
    id: str
    title: str
    tuition: list[FundingLine]
    income: list[FundingLine]
    remaining_eur: float | None = None
    remaining_text: str
    income_text: str
    monthly_income_eur: float | None = None


class TrainingOut(BaseModel):
    slug: str
    name: str
    acronym: str | None = None
    level: int | None = None
    months: float | None = None
    months_text: str
    sanitary_social: bool
    route: FundingRoute
    cost_eur: float | None = None
    cost_text: str
    session: int | None = None
    session_is_demo: bool = False


class FundingResult(BaseModel):
    query: FundingQuery
    situation_label: str
    region: str | None = None  # given, or that of the session's place
    region_name: str | None = None
    training: TrainingOut
    combinations: list[FundingCombination]
    warnings: list[str] = []
    sources: list[SourceNote]
