"""HTML page listing every source the site relies on (and, for administrators, the data team's notes)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from passerelles.accounts.security import OptionalActor
from passerelles.sources.services import list_sources, team_notes
from passerelles.web import DbSession, render

router = APIRouter(include_in_schema=False)


@router.get("/sources")
def sources_page(request: Request, session: DbSession, actor: OptionalActor) -> Any:
    admin = actor is not None and actor.role == "admin"
    return render(
        request,
        "sources.html",
        {"sources": list_sources(session), "team_notes": team_notes(session) if admin else None},
    )
