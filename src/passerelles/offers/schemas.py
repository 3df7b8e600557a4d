"""Shapes of the job-offer feeds, validated record by record at the import boundary.

Field names are the feeds' own (French camelCase for France Travail, schema.org for JobPosting), so that a
rejected record names the field as the producer wrote it.

- France Travail « Offres d'emploi v2 », object ``offre`` of ``GET /partenaire/offresdemploi/v2/offres/search``
  (francetravail.io, API Offres d'emploi v2): ``id``, ``intitule``, ``description``, ``dateCreation``,
  ``dateActualisation``, ``lieuTravail``, ``romeCode``, ``appellationlibelle``, ``entreprise``, ``typeContrat``,
  ``natureContrat``, ``salaire``, ``dureeTravailLibelle``, ``dureeTravailLibelleConverti``, ``alternance``,
  ``nombrePostes``, ``origineOffre``…
- schema.org ``JobPosting`` (https://schema.org/JobPosting), as JSON-LD. Several of its properties take
  either text or an object (``hiringOrganization``, ``jobLocation``, ``identifier``, ``baseSalary``…): those
  stay untyped here and are read by the importer with the small models below.

Unknown fields are ignored: both feeds grow new fields over time. Characters a database cannot store (NUL,
lone surrogates) are checked by the importer on the values it keeps, which is much cheaper than here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from passerelles.widening.schemas import Widening

MAX_ID = 120  # job_offer.external_id is VARCHAR(120)
MAX_TITLE = 500
MAX_SHORT = 1_000
MAX_URL = 2_000
MAX_DESCRIPTION = 100_000  # France Travail caps its descriptions far below; a bigger one is not an offer text

PARIS = ZoneInfo("Europe/Paris")


def _iso_text(value: Any) -> Any:
    # Dates come as ISO 8601 text in both feeds; a bare number is more likely a mistake than a timestamp.
    if value is not None and not isinstance(value, str):
        raise ValueError("date attendue sous forme de texte ISO 8601 (ex. 2024-03-01T08:00:00Z)")
    return value


def _to_utc(value: dt.datetime) -> dt.datetime:
    if not 1900 <= value.year <= 2200:
        raise ValueError(f"date hors bornes : année {value.year}")
    if value.tzinfo is None:
        # A date without offset is French local time: both feeds describe jobs in France.
        value = value.replace(tzinfo=PARIS)
    return value.astimezone(dt.UTC)


Timestamp = Annotated[dt.datetime, BeforeValidator(_iso_text), AfterValidator(_to_utc)]
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ID)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_SHORT)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_URL)]
LongText = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)]


class FeedModel(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, populate_by_name=True)


# ---------------------------------------------------------------- France Travail « Offres d'emploi v2 »


class FtLieuTravail(FeedModel):
    libelle: Short | None = None  # "51 - REIMS"
    latitude: float | None = None
    longitude: float | None = None
    codePostal: Short | None = None
    commune: Short | None = None  # code INSEE


class FtEntreprise(FeedModel):
    nom: Short | None = None
    description: LongText | None = None
    siret: Short | None = None
    entrepriseAdaptee: bool | None = None


class FtSalaire(FeedModel):
    libelle: Short | None = None  # "Mensuel de 1800.00 Euros à 2000.00 Euros sur 12 mois"
    commentaire: Short | None = None
    complement1: Short | None = None
    complement2: Short | None = None


class FtOrigineOffre(FeedModel):
    origine: Short | None = None
    urlOrigine: Url | None = None


class FtContact(FeedModel):
    """Where to apply: ``urlPostulation`` (the recruiter's application page) or ``courriel`` (an address, or
    France Travail's « Pour postuler, utiliser le lien suivant : … »)."""

    nom: Short | None = None
    courriel: Short | None = None
    urlPostulation: Url | None = None


class FtOffre(FeedModel):
    id: Identifier
    intitule: Title
    description: LongText | None = None
    dateCreation: Timestamp | None = None
    dateActualisation: Timestamp | None = None
    lieuTravail: FtLieuTravail | None = None
    romeCode: Short | None = None
    romeLibelle: Short | None = None
    appellationlibelle: Short | None = None
    entreprise: FtEntreprise | None = None
    typeContrat: Short | None = None  # CDI, CDD, MIS, SAI, LIB…
    typeContratLibelle: Short | None = None
    natureContrat: Short | None = None  # "Contrat travail", "Contrat apprentissage"…
    experienceExige: Short | None = None
    experienceLibelle: Short | None = None
    salaire: FtSalaire | None = None
    dureeTravailLibelle: Short | None = None  # "35H/semaine Travail en journée"
    dureeTravailLibelleConverti: Short | None = None  # "Temps plein" | "Temps partiel"
    complementExercice: Short | None = None
    conditionExercice: Short | None = None
    alternance: bool | None = None
    nombrePostes: int | None = None
    origineOffre: FtOrigineOffre | None = None
    contact: FtContact | None = None
    secteurActivite: Short | None = None  # NAF division, "87"
    secteurActiviteLibelle: Short | None = None
    qualificationLibelle: Short | None = None


# ---------------------------------------------------------------- schema.org JobPosting


class ContactPoint(FeedModel):
    email: Short | None = None
    url: Url | None = None


class PropertyValue(FeedModel):
    name: Short | None = None
    value: Short | None = None


class Organization(FeedModel):
    name: Short | None = None
    sameAs: Url | list[Url] | None = None
    identifier: Short | PropertyValue | list[PropertyValue] | None = None
    taxID: Short | None = None


class PostalAddress(FeedModel):
    streetAddress: Short | None = None
    postalCode: Short | None = None
    addressLocality: Short | None = None
    addressRegion: Short | None = None
    addressCountry: Any = None


class GeoCoordinates(FeedModel):
    latitude: float | None = None
    longitude: float | None = None


class Place(FeedModel):
    address: PostalAddress | Short | None = None
    geo: GeoCoordinates | None = None


class QuantitativeValue(FeedModel):
    value: float | None = None
    minValue: float | None = None
    maxValue: float | None = None
    unitText: Short | None = None  # HOUR | DAY | WEEK | MONTH | YEAR


class MonetaryAmount(FeedModel):
    currency: Short | None = None
    value: float | QuantitativeValue | None = None


class JobPosting(FeedModel):
    type_: Any = Field(default=None, alias="@type")
    id_: Url | None = Field(default=None, alias="@id")
    identifier: Any = None  # text or PropertyValue
    title: Title
    description: LongText | None = None
    datePosted: Timestamp | None = None
    validThrough: Timestamp | None = None
    employmentType: Short | list[Short] | None = None
    hiringOrganization: Any = None  # text or Organization
    jobLocation: Any = None  # Place or list of Place
    baseSalary: Any = None  # MonetaryAmount
    occupationalCategory: Any = None  # text (possibly a ROME code) or CategoryCode
    url: Url | None = None
    applicationContact: Any = None  # ContactPoint (email, url) or a list of them
    totalJobOpenings: int | None = None
    workHours: Short | None = None


# ---------------------------------------------------------------- search, offer page, labour-market panel

OfferSort = Literal["date", "distance"]
WorkingTime = Literal["temps_plein", "temps_partiel"]
CONTRACTS: dict[str, str] = {
    "CDI": "CDI",
    "CDD": "CDD",
    "MIS": "Intérim",
    "SAI": "Saisonnier",
    "LIB": "Libéral",
    "APP": "Apprentissage",
    "PRO": "Professionnalisation",
    "FRA": "Franchise",
    "CCE": "Profession commerciale",
    "DIN": "CDI intérimaire",
}
WORKING_TIMES: dict[str, str] = {"temps_plein": "Temps plein", "temps_partiel": "Temps partiel"}
PUBLISHED_WITHIN = (1, 3, 7, 14, 31)


class OfferQuery(BaseModel):
    """Criteria of the job-offer search (« /emploi », ``GET /api/v1/emploi/offres``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    q: str | None = Field(default=None, max_length=200, description="Texte libre (intitulé)")
    metier: str | None = Field(default=None, max_length=80, pattern=r"^[a-z0-9-]+$")
    code_rome: str | None = Field(default=None, pattern=r"^[A-N][0-9]{4}$")
    region: str | None = Field(default=None, pattern=r"^[0-9]{2,3}$")
    departement: str | None = Field(default=None, pattern=r"^[0-9][0-9AB][0-9]?$")
    commune: str | None = Field(default=None, max_length=120)
    rayon: int | None = Field(default=None, ge=1, le=300)
    contrat: list[Literal["CDI", "CDD", "MIS", "SAI", "LIB", "APP", "PRO"]] = Field(default_factory=list, max_length=7)
    temps: WorkingTime | None = None
    depuis: int | None = Field(default=None, ge=1, le=366, description="Publiée depuis N jours au plus")
    tri: OfferSort | None = Field(
        default=None,
        description="Tri ; par défaut les plus récentes, ou la distance après un élargissement autour d'une commune",
    )
    elargir: int = Field(default=0, ge=0, le=10, description="Étapes d'élargissement demandées")
    page: int = Field(default=1, ge=1, le=1000)


class OfferItem(BaseModel):
    id: int
    url: str
    title: str
    code_rome: str | None
    employer: str | None
    structure_type: str | None
    contract_type: str | None
    contract_text: str | None
    working_time: str | None
    hours_per_week: float | None
    salary_text: str | None
    city: str | None
    commune_code: str | None
    departement: str | None
    published_at: dt.datetime | None
    distance_km: float | None = None
    is_demo: bool


class OfferResults(BaseModel):
    query: OfferQuery
    place_label: str
    total: int
    region_label: str | None = None
    region_total: int | None = None
    items: list[OfferItem]
    page: int
    pages: int
    sort: OfferSort = "date"  # the order used (``query.tri`` or the default)
    widened: list[Widening] = []
    auto_widened: bool = False
    next_widening: str | None = None
    restore_level: int = 0  # the widening level a dropped criterion is put back at
    has_demo: bool = False


class ApplyWay(BaseModel):
    """How to apply: ``passerelles`` (the offer's own form), ``demo`` (the form, nothing sent), ``external``
    (the recruiter's page ``url`` or address ``email``, on the site named ``source_name``), ``closed``."""

    mode: Literal["passerelles", "demo", "external", "closed"]
    url: str | None = None
    email: str | None = None
    source_name: str | None = None


class OfferDetail(OfferItem):
    description: str | None
    apply_url: str | None = None
    apply_email: str | None = None
    start_on: dt.date | None = None
    requirements: str | None = None
    how_to_apply: str | None = None
    apply: ApplyWay | None = None
    appellation: str | None
    rome_label: str | None
    occupation_slug: str | None
    occupation_name: str | None
    postcode: str | None
    region: str | None
    salary_min: float | None
    salary_max: float | None
    salary_period: str | None
    night_work: bool | None
    weekend_work: bool | None
    positions: int | None
    source: str
    external_id: str
    source_url: str | None
    updated_at: dt.datetime | None
    valid_through: dt.datetime | None
    closed_at: dt.datetime | None


class ChartRow(BaseModel):
    label: str
    value: float
    note: str | None = None


class PayRange(BaseModel):
    offers: int
    low: float
    median: float
    high: float


class MarketPanel(BaseModel):
    """Labour market of one occupation around a place: open offers now, their trend, contracts, pay,
    employers by structure type, hiring potential (BMO) when imported."""

    occupation: str
    rome_codes: list[str]
    place_label: str
    # Set when the figures cover a wider area than asked (a circle around a commune: the départements it
    # touches), in plain words for the page.
    area_note: str | None = None
    open_offers: int
    region_label: str | None = None
    region_open_offers: int | None = None
    trend: list[ChartRow]
    contracts: list[ChartRow]
    pay: PayRange | None
    structures: list[ChartRow]
    employers: list[ChartRow]
    bmo_available: bool = False
    has_demo: bool = False
    search_url: str
    trainings_url: str
