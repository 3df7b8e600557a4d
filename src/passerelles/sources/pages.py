"""HTML page listing every source the site relies on."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from passerelles.sources.services import list_sources
from passerelles.web import DbSession, render

router = APIRouter(include_in_schema=False)


@router.get("/sources")
def sources_page(request: Request, session: DbSession) -> Any:
    return render(request, "sources.html", {"sources": list_sources(session)})
