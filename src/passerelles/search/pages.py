"""HTML pages: home and search results."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from passerelles.occupations.services import list_occupations
from passerelles.web import DbSession, Search, render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, session: DbSession) -> Any:
    return render(request, "home.html", {"occupations": list_occupations(session)})


@router.get("/recherche")
def search_page(request: Request, backend: Search, q: str = "") -> Any:
    q = q.strip()[:200]
    results = backend.search(q, limit=30) if q else []
    return render(request, "search.html", {"q": q, "results": results})
