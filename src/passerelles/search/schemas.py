from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

ResultType = Literal["occupation", "certification", "training", "offer"]
SortOrder = Literal["pertinence", "distance", "date_debut", "date_publication"]
Modality = Literal["presentiel", "distance", "mixte"]
Route = Literal["initiale", "continue", "apprentissage", "vae", "distance"]
WorkingTime = Literal["temps_plein", "temps_partiel"]

MAX_PER_PAGE = 100
MAX_PAGE = 100


class SearchResult(BaseModel):
    type: ResultType
    id: str
    title: str
    url: str
    score: float
    rome_codes: list[str] = []
    matched: str | None = None
    subtitle: str | None = None


class SearchHit(SearchResult):
    """A result of the full search: the short result plus what a list of results shows."""

    key: str
    snippet: str | None = None
    highlight: str | None = Field(None, description="Extrait, HTML échappé, mots trouvés entre <mark> et </mark>")
    city: str | None = None
    commune: str | None = None
    distance_km: float | None = None
    start_date: dt.date | None = None
    published_at: dt.datetime | None = None
    contract: str | None = None
    modality: str | None = None
    is_demo: bool = False


DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2199, 12, 31)


# The query parameters of GET /api/v1/search and of the page /recherche, in French as on /formations and
# /emploi (same names for the same criteria: rayon, niveau, voie, modalite, contrat, temps, debut_min…),
# and the field of ``SearchQuery`` each one fills. Python callers use the field names.
QUERY_PARAMS = {
    "q": "q",
    "type": "types",
    "region": "region",
    "departement": "departement",
    "commune": "commune",
    "rayon": "radius_km",
    "niveau": "level",
    "voie": "route",
    "modalite": "modality",
    "contrat": "contract",
    "temps": "working_time",
    "debut_min": "start_from",
    "debut_max": "start_to",
    "publie_depuis": "published_since",
    "tri": "sort",
    "page": "page",
    "limit": "per_page",
    "facettes": "facets",
}
FIELD_PARAMS = {field: param for param, field in QUERY_PARAMS.items()}


def _by(field: str) -> AliasChoices:
    """Read from the field's name or from its query parameter (an error then names the parameter)."""
    return AliasChoices(field, FIELD_PARAMS[field])


class SearchQuery(BaseModel):
    """Everything a search can ask; each field is optional but ``q`` or a filter.

    Built from Python with the field names, or from a query string with the French parameters of
    ``QUERY_PARAMS`` (``SearchQuery.model_validate({"niveau": [4], "tri": "distance"})``)."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field("", max_length=200)
    types: list[ResultType] = Field([], validation_alias=_by("types"))
    region: str | None = Field(None, pattern=r"^[0-9]{2,3}$")
    departement: str | None = Field(None, pattern=r"^(2A|2B|[0-9]{2,3})$")
    commune: str | None = Field(None, max_length=120, description="Code INSEE ou nom de commune")
    radius_km: float | None = Field(None, gt=0, le=300, validation_alias=_by("radius_km"))
    level: list[int] = Field([], validation_alias=_by("level"))
    route: list[Route] = Field([], validation_alias=_by("route"))
    modality: list[Modality] = Field([], validation_alias=_by("modality"))
    contract: list[str] = Field([], validation_alias=_by("contract"))
    working_time: list[WorkingTime] = Field([], validation_alias=_by("working_time"))
    start_from: dt.date | None = Field(None, validation_alias=_by("start_from"))
    start_to: dt.date | None = Field(None, validation_alias=_by("start_to"))
    published_since: dt.date | None = Field(None, validation_alias=_by("published_since"))
    sort: SortOrder = Field("pertinence", validation_alias=_by("sort"))
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(20, ge=1, le=MAX_PER_PAGE, validation_alias=_by("per_page"))
    facets: bool = Field(True, validation_alias=_by("facets"))
    highlight: bool = True

    @field_validator("level")
    @classmethod
    def _levels(cls, value: list[int]) -> list[int]:
        for v in value:
            if not 3 <= v <= 8:
                raise ValueError(f"niveau {v} inconnu : les niveaux européens vont de 3 à 8")
        return value

    @field_validator("contract")
    @classmethod
    def _contracts(cls, value: list[str]) -> list[str]:
        for v in value:
            if not v.isalnum() or len(v) > 10:
                raise ValueError(f"type de contrat invalide : « {v[:20]} »")
        return [v.upper() for v in value]

    @field_validator("start_from", "start_to", "published_since")
    @classmethod
    def _plausible_date(cls, value: dt.date | None) -> dt.date | None:
        # The index stores dates as nanosecond timestamps: refuse what no session or offer can carry.
        if value is not None and not DATE_MIN <= value <= DATE_MAX:
            raise ValueError(f"date {value.isoformat()} hors de la période acceptée ({DATE_MIN.year}–{DATE_MAX.year})")
        return value


class FacetValue(BaseModel):
    value: str
    label: str
    count: int
    selected: bool = False
    approximate: bool = False  # estimated from the sample of sessions and offers (see SearchPage.facets_approximate)


class PlaceInfo(BaseModel):
    code: str
    name: str
    kind: Literal["commune", "departement", "region"]
    from_query: bool = Field(description="Lieu reconnu dans le texte de la requête")


class SearchPage(BaseModel):
    query: str
    total: int
    total_exact: bool = True
    total_at_least: bool = Field(False, description="Total non compté au-delà d'un seuil : « plus de »")
    page: int
    per_page: int
    sort: SortOrder
    results: list[SearchHit]
    facets: dict[str, list[FacetValue]] = {}
    # Counted on a sample of the sessions and offers (searches matching more than 50 000 documents): to
    # show as orders of magnitude (« environ »).
    facets_approximate: bool = False
    place: PlaceInfo | None = None
    corrections: dict[str, list[str]] = Field({}, description="Mots inconnus et les mots de l'index retenus")
    took_ms: float


class SearchResponse(SearchPage):
    """Réponse de GET /api/v1/search (garde ``query``, ``total``, ``results`` de la première version)."""


class Suggestion(BaseModel):
    label: str
    type: ResultType
    url: str


class SuggestResponse(BaseModel):
    query: str
    suggestions: list[Suggestion]
