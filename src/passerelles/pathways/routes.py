"""JSON API of the route planner."""

from __future__ import annotations

from fastapi import APIRouter

from passerelles.errors import InvalidRequest, NotFound
from passerelles.pathways.schemas import PlanResult, Profile
from passerelles.pathways.services import InvalidProfile, normalise_profile, plan
from passerelles.web import DbSession, Rules

router = APIRouter(tags=["parcours"])


@router.post("/parcours", response_model=PlanResult, responses={422: {"description": "Profil invalide"}})
def post_parcours(profile: Profile, session: DbSession, book: Rules) -> PlanResult:
    """Parcours possibles depuis une situation vers un métier (ou suggestions sans métier visé)."""
    try:
        profile = normalise_profile(session, book, profile)
    except InvalidProfile as exc:
        if any(e["field"] == "target" for e in exc.errors) and len(exc.errors) == 1:
            raise NotFound(exc.errors[0]["reason"].capitalize()) from exc
        raise InvalidRequest(exc.errors, "Profil invalide.") from exc
    result = plan(session, profile, book)
    if result is None:
        raise NotFound(f"Métier visé inconnu : {profile.target}")
    return result
