"""JSON API of the route planner."""

from __future__ import annotations

from fastapi import APIRouter

from passerelles.errors import NotFound
from passerelles.pathways.schemas import PlanResult, Profile
from passerelles.pathways.services import plan
from passerelles.web import DbSession, Rules

router = APIRouter(tags=["parcours"])


@router.post("/parcours", response_model=PlanResult)
def post_parcours(profile: Profile, session: DbSession, book: Rules) -> PlanResult:
    """Parcours possibles depuis une situation vers un métier (ou suggestions sans métier visé)."""
    result = plan(session, profile, book)
    if result is None:
        raise NotFound(f"Métier visé inconnu : {profile.target}")
    return result
