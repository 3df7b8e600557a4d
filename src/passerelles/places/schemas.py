"""Places in the JSON API: suggestions as one types and the reading of a place field."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class PlaceOut(BaseModel):
    type: Literal["commune", "departement", "region"] = Field(description="commune, département ou région")
    code: str = Field(description="code INSEE de la commune, code du département ou de la région")
    value: str = Field(description="texte à mettre dans le champ (il se relit en ce même lieu)")
    label: str = Field(description="libellé à montrer")


class PlaceSuggestions(BaseModel):
    query: str
    suggestions: list[PlaceOut]


class PlaceReading(BaseModel):
    """Lecture d'un champ de lieu : le lieu retenu, les autres lectures possibles (homonymes), ou une erreur."""

    query: str
    lieu: PlaceOut | None
    autres: list[PlaceOut]
    erreur: str | None
