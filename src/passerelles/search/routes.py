"""JSON API for search."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import ValidationError

from passerelles.errors import InvalidRequest, NotFound, validation_details
from passerelles.search.gazetteer import UnknownPlace
from passerelles.search.schemas import (
    FIELD_PARAMS,
    MAX_PAGE,
    Modality,
    ResultType,
    Route,
    SearchQuery,
    SearchResponse,
    SortOrder,
    SuggestResponse,
    WorkingTime,
)
from passerelles.web import Search

router = APIRouter(tags=["recherche"])


@router.get("/search", response_model=SearchResponse)
async def search(
    backend: Search,
    q: Annotated[str, Query(max_length=200, description="Texte recherché")] = "",
    type: Annotated[
        list[ResultType] | None, Query(description="Types de résultats (occupation, certification, training, offer)")
    ] = None,
    region: Annotated[str | None, Query(description="Code de région (INSEE)")] = None,
    departement: Annotated[str | None, Query(description="Code de département")] = None,
    commune: Annotated[str | None, Query(description="Code INSEE ou nom de commune")] = None,
    rayon: Annotated[float | None, Query(gt=0, le=300, description="Rayon autour de la commune, en km")] = None,
    niveau: Annotated[list[int] | None, Query(description="Niveau européen (3 à 8)")] = None,
    voie: Annotated[list[Route] | None, Query(description="Voie d'accès")] = None,
    modalite: Annotated[list[Modality] | None, Query(description="Modalité de formation")] = None,
    contrat: Annotated[list[str] | None, Query(description="Type de contrat (CDI, CDD, MIS…)")] = None,
    temps: Annotated[list[WorkingTime] | None, Query(description="Temps de travail")] = None,
    debut_min: Annotated[dt.date | None, Query(description="Sessions commençant à partir de")] = None,
    debut_max: Annotated[dt.date | None, Query(description="Sessions commençant au plus tard")] = None,
    publie_depuis: Annotated[dt.date | None, Query(description="Offres publiées depuis")] = None,
    tri: Annotated[
        SortOrder, Query(description="Ordre des résultats (pertinence, distance, date_debut, date_publication)")
    ] = "pertinence",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Numéro de page")] = 1,
    limit: Annotated[int, Query(ge=1, le=100, description="Résultats par page")] = 20,
    facettes: Annotated[bool, Query(description="Calculer les facettes (comptes par filtre)")] = False,
) -> Any:
    """Recherche de métiers, certifications, sessions de formation et offres d'emploi, avec filtres et facettes."""
    # Run on the event loop, not in a worker thread: a search is a few milliseconds of CPU reading a
    # memory-mapped index, shorter than the hand-over to a thread and back.
    try:
        # By parameter name (see QUERY_PARAMS): an invalid value is reported under its parameter.
        request = SearchQuery.model_validate(
            {
                "q": q,
                "type": type or [],
                "region": region,
                "departement": departement,
                "commune": commune,
                "rayon": rayon,
                "niveau": niveau or [],
                "voie": voie or [],
                "modalite": modalite or [],
                "contrat": contrat or [],
                "temps": temps or [],
                "debut_min": debut_min,
                "debut_max": debut_max,
                "publie_depuis": publie_depuis,
                "tri": tri,
                "page": page,
                "limit": limit,
                "facettes": facettes,
            }
        )
        result = backend.query(request)
    except ValidationError as exc:
        details = validation_details(exc.errors(), FIELD_PARAMS)
        raise InvalidRequest(details, "; ".join(f"{d['field']} : {d['reason']}" for d in details)) from None
    except UnknownPlace as exc:
        raise InvalidRequest.on("commune", str(exc), str(exc)) from None
    # Serialised here (pydantic's own encoder) rather than re-validated against the response model:
    # the page is already one (``response_model`` still documents it).
    return Response(result.model_dump_json(), media_type="application/json")


@router.get("/search/suggest", response_model=SuggestResponse)
async def suggest(
    backend: Search,
    q: Annotated[str, Query(max_length=100, description="Début d'un nom de métier ou de diplôme")],
    limit: Annotated[int, Query(ge=1, le=20, description="Nombre de suggestions")] = 8,
) -> SuggestResponse:
    """Autocomplétion sur les noms de métiers et de certifications (et les appellations ROME)."""
    return SuggestResponse(query=q, suggestions=backend.suggest(q, limit=limit))


@router.get("/search/documents/{key}")
def document(backend: Search, key: str) -> dict[str, Any]:
    """Un document de l'index (session de formation, offre…) tel que la recherche le montre."""
    found = backend.document(key[:200])
    if found is None:
        raise NotFound(f"Aucun document « {key[:80]} » dans l'index de recherche.")
    return found
