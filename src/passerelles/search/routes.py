"""JSON API for search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from passerelles.search.schemas import ResultType, SearchResponse
from passerelles.web import Search

router = APIRouter(tags=["recherche"])


@router.get("/search", response_model=SearchResponse)
def search(
    backend: Search,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Texte recherché")],
    type: Annotated[list[ResultType] | None, Query(description="Types de résultats")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchResponse:
    """Recherche de métiers et de certifications (noms, sigles, anciens noms, appellations ROME)."""
    results = backend.search(q, types=set(type) if type else None, limit=limit)
    return SearchResponse(query=q, total=len(results), results=results)
