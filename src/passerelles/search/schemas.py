from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

ResultType = Literal["occupation", "certification", "training", "offer"]


class SearchResult(BaseModel):
    type: ResultType
    id: str
    title: str
    url: str
    score: float
    rome_codes: list[str] = []
    matched: str | None = None
    subtitle: str | None = None


class SearchResponse(BaseModel):
    query: str
    total: int
    results: list[SearchResult]
