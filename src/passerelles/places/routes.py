"""JSON API for places: the suggestions of the place pickers and the reading of a place field."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from passerelles.places.schemas import PlaceOut, PlaceReading, PlaceSuggestions
from passerelles.places.services import PlaceChoice, place_index
from passerelles.web import DbSession

router = APIRouter(tags=["lieux"])


def _out(c: PlaceChoice) -> PlaceOut:
    return PlaceOut(type=c.kind, code=c.code, value=c.value, label=c.label)


@router.get("/lieux/suggestions", response_model=PlaceSuggestions)
def suggestions(
    session: DbSession,
    q: Annotated[
        str,
        Query(max_length=120, description="Début d'un nom de commune, de département, de région, ou d'un code postal"),
    ],
    limit: Annotated[int, Query(ge=1, le=20, description="Nombre de suggestions")] = 8,
    type: Annotated[Literal["lieu", "commune"], Query(description="« commune » : les communes seulement")] = "lieu",
) -> PlaceSuggestions:
    """Lieux (communes, départements, régions) dont le nom ou le code commence par le texte saisi."""
    found = place_index(session).suggest(q, limit=limit * 2 if type == "commune" else limit)
    if type == "commune":
        found = [c for c in found if c.kind == "commune"]
    return PlaceSuggestions(query=q, suggestions=[_out(c) for c in found[:limit]])


@router.get("/lieux/lecture", response_model=PlaceReading)
def reading(
    session: DbSession,
    q: Annotated[str, Query(max_length=120, description="Texte d'un champ de lieu")],
    region: Annotated[str | None, Query(max_length=3, description="Région préférée parmi des homonymes")] = None,
) -> PlaceReading:
    """Lecture d'un champ de lieu : le lieu le plus probable et les autres lectures (homonymes)."""
    res = place_index(session).resolve_text(q, prefer_region=region)
    return PlaceReading(
        query=q,
        lieu=_out(res.choice) if res.choice else None,
        autres=[_out(c) for c in res.others],
        erreur=res.error,
    )
