"""Schemas of the reference data the project writes itself (``data/*.yaml``).

Every fact carries ``sources``: ids of entries in a ``sources:`` list (any reference file may declare
sources; ids are global). The loader (``reference.services``) validates each file with these models and
then checks every cross-reference (source ids, certification and occupation slugs, structure types).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80)]
SourceIds = Annotated[list[str], Field(min_length=1)]
RomeCode = Annotated[str, StringConstraints(pattern=r"^[A-N][0-9]{4}$")]
Route = Literal["initiale", "continue", "apprentissage", "vae", "distance"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    """Where a fact comes from. ``kind`` tells how much weight it carries."""

    id: Slug
    title: str
    publisher: str
    url: str | None = None
    date: str | None = Field(default=None, pattern=r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")
    licence: str | None = None
    kind: Literal["seed", "official", "sector", "press", "open_data", "orientation", "other"]


class SourcedText(Strict):
    title: str | None = None
    text: str
    sources: SourceIds


class Name(Strict):
    """A name of an occupation: current, former (with the year it stopped being used) or synonym."""

    name: str
    feminine: str | None = None
    acronym: str | None = None
    kind: Literal["current", "former", "synonym"]
    until: int | None = None
    sources: SourceIds


class RomeRef(Strict):
    code: RomeCode
    version: str = "4.60"
    appellation_ogr: int | None = None
    main: bool = True
    sources: SourceIds


class Workplace(Strict):
    structure: Slug  # id in structure_types
    text: str | None = None
    sources: SourceIds


class Conditions(Strict):
    nights: bool | None = None
    weekends: bool | None = None
    physical_load: Literal["faible", "moyenne", "forte"] | None = None
    schedule: str | None = None
    notes: list[SourcedText] = []
    sources: SourceIds


class PayRange(Strict):
    """A dated pay figure. ``working_time`` says whether it is for a full-time job (then never below the
    SMIC of its year, checked by the tests), a part-time one, or pay that depends on the volume of work
    (per child, per hour); ``bonus`` marks an allowance paid on top of the salary."""

    label: str
    min_eur: int | None = Field(default=None, ge=0, le=20000)
    max_eur: int | None = Field(default=None, ge=0, le=20000)
    basis: Literal["brut", "net"] = "brut"
    period: Literal["mois", "an", "heure"] = "mois"
    working_time: Literal["plein", "partiel", "variable"] | None = None
    bonus: bool = False
    experience_years: int | None = None
    year: int = Field(ge=1990, le=2100)
    note: str | None = None
    sources: SourceIds


class Evolution(Strict):
    title: str
    occupation: Slug | None = None
    certification: Slug | None = None
    text: str | None = None
    sources: SourceIds


class OccupationCertification(Strict):
    certification: Slug
    role: Literal["principale", "possible", "evolution"]
    note: str | None = None
    sources: SourceIds


class Occupation(Strict):
    slug: Slug
    names: Annotated[list[Name], Field(min_length=1)]
    summary: SourcedText
    rome: list[RomeRef] = []
    onisep: list[Annotated[str, StringConstraints(pattern=r"^MET\.[0-9]+$")]] = []
    activities: list[SourcedText] = []
    publics: list[SourcedText] = []
    workplaces: list[Workplace] = []
    sectors: list[SourcedText] = []
    skills: list[SourcedText] = []
    qualities: list[SourcedText] = []
    conditions: Conditions | None = None
    pay: list[PayRange] = []
    key_figures: list[SourcedText] = []
    certifications: list[OccupationCertification] = []
    evolutions: list[Evolution] = []
    related: list[Slug] = []
    further: list[Slug] = []  # ids of public services ("Pour aller plus loin")


class Level(Strict):
    eu: int | None = Field(default=None, ge=1, le=8)
    fr_old: Literal["V", "IV", "III", "II", "I"] | None = None
    since: int | None = None
    note: str | None = None
    sources: SourceIds


class Rncp(Strict):
    code: Annotated[str, StringConstraints(pattern=r"^RNCP[0-9]{3,6}$")]
    verified: bool
    valid_until: dt.date | None = None
    sources: SourceIds


class Duration(Strict):
    hours: int | None = Field(default=None, ge=1)
    theory_hours: int | None = Field(default=None, ge=0)
    practice_hours: int | None = Field(default=None, ge=0)
    months_min: int | None = Field(default=None, ge=0)
    months_max: int | None = Field(default=None, ge=0)
    text: str | None = None
    sources: SourceIds


class Admission(Strict):
    min_age: int | None = Field(default=None, ge=14, le=30)
    selection: str | None = None
    prerequisites: list[str] = []
    text: str | None = None
    sources: SourceIds


class AccessRoute(Strict):
    route: Route
    available: bool
    note: str | None = None
    sources: SourceIds


class Replacement(Strict):
    certification: Slug  # the certification this one replaces
    date: dt.date
    note: str | None = None
    sources: SourceIds


class Exemption(Strict):
    from_certification: Slug | None = None
    text: str
    sources: SourceIds


class Certification(Strict):
    slug: Slug
    name: str
    acronym: str | None = None
    kind: Literal[
        "diplome_etat",
        "cqp",
        "bac_pro",
        "bts",
        "but",
        "dut",
        "licence_pro",
        "deust",
        "certificat",
        "titre_pro",
        "attestation",
        "mention_complementaire",
        "autre",
    ]
    certifier: str | None = None
    status: Literal["active", "abolished"] = "active"
    summary: SourcedText | None = None
    rncp: list[Rncp] = []
    level: Level | None = None
    duration: Duration | None = None
    admission: Admission | None = None
    routes: list[AccessRoute] = []
    occupations: list[Slug] = []
    replaces: list[Replacement] = []
    specialties: list[SourcedText] = []
    exemptions: list[Exemption] = []
    notes: list[SourcedText] = []


class PublicService(Strict):
    """A public service a person can turn to (Onisep, France Travail, Cap emploi…), shown as
    "Pour aller plus loin" on the occupations that list it in ``further``."""

    slug: Slug
    name: str
    url: str
    description: str
    sources: SourceIds


class SmicValue(Strict):
    """The legal minimum wage from a date on: gross hourly rate and gross monthly amount for 35 h a week
    (151,67 h). Used to check that every full-time pay figure is at least the SMIC of its year."""

    since: dt.date
    hourly_eur: float = Field(gt=0)
    monthly_eur: float = Field(gt=0)
    text: str | None = None
    sources: SourceIds


class StructureType(Strict):
    slug: Slug
    acronym: str | None = None
    name: str
    description: str | None = None
    sources: SourceIds


class Region(Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")]
    name: str


class Departement(Strict):
    code: Annotated[str, StringConstraints(pattern=r"^(?:[0-9]{2}|2A|2B|97[1-6])$")]
    name: str
    region: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")]


# ---------------------------------------------------------------- pathways (rules between certifications)


class GeneralDiploma(Strict):
    """A general diploma people hold (brevet, CAP, bac, licence…), counted by its level in the rules."""

    slug: Slug
    name: str
    level: int = Field(ge=2, le=8)
    sources: SourceIds


class Condition(Strict):
    """All the given fields must hold together (AND). An empty condition always holds."""

    certifications_any: list[Slug] = []  # holds one of these (certification or general diploma)
    min_level: int | None = Field(default=None, ge=2, le=8)  # holds any diploma of at least this level
    experience_any: list[Slug] = []  # experience in one of these occupations…
    min_experience_years: float | None = Field(default=None, ge=0)  # …for at least this long (in total)
    min_age: int | None = Field(default=None, ge=14, le=30)
    note: str | None = None


class AccessOption(Strict):
    """One way to hold a post in an occupation; ``then_certification`` must be obtained once in post."""

    label: str
    condition: Condition
    then_certification: Slug | None = None
    then_within_years: int | None = None
    sources: SourceIds


class OccupationAccess(Strict):
    occupation: Slug
    options: Annotated[list[AccessOption], Field(min_length=1)]


class AdmissionOption(Strict):
    """One way into the training towards a certification (any option suffices)."""

    label: str
    condition: Condition
    routes: list[Route] = []  # routes this option opens (empty: every route the certification has)
    sources: SourceIds


class CertificationAdmission(Strict):
    certification: Slug
    options: Annotated[list[AdmissionOption], Field(min_length=1)]


class Reduction(Strict):
    """Holding ``holder_of`` shortens the training towards ``certification`` (allègement, dispense)."""

    certification: Slug
    holder_of: Slug
    months: float | None = Field(default=None, ge=0)
    hours: int | None = Field(default=None, ge=0)
    text: str
    sources: SourceIds


class Equivalence(Strict):
    """Holding ``holder_of`` means holding ``gives`` (replaced diplomas: DEAMP → DEAES)."""

    holder_of: Slug
    gives: Slug
    text: str
    sources: SourceIds


class VaeRule(Strict):
    certification: Slug
    experience_any: Annotated[list[Slug], Field(min_length=1)]
    min_experience_years: float = Field(ge=0)
    months: float = Field(gt=0)  # typical length of the procedure
    partial_then_training: bool = True
    text: str
    sources: SourceIds


class ReferenceFile(Strict):
    """One YAML file under ``data/``; each section is optional so facts can be split across files."""

    sources: list[Source] = []
    occupations: list[Occupation] = []
    certifications: list[Certification] = []
    structure_types: list[StructureType] = []
    public_services: list[PublicService] = []
    smic: list[SmicValue] = []
    regions: list[Region] = []
    departements: list[Departement] = []
    general_diplomas: list[GeneralDiploma] = []
    occupation_access: list[OccupationAccess] = []
    admissions: list[CertificationAdmission] = []
    reductions: list[Reduction] = []
    equivalences: list[Equivalence] = []
    vae_rules: list[VaeRule] = []
