"""JSON API: the structures that help near a place (the page's twin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from passerelles.accompaniment import services
from passerelles.accompaniment.schemas import NearbyOut
from passerelles.errors import InvalidRequest
from passerelles.places.services import UnknownPlace
from passerelles.web import DbSession

router = APIRouter(tags=["accompagnement"])


@router.get("/accompagnement", response_model=NearbyOut)
def nearby(
    request: Request,
    session: DbSession,
    commune: Annotated[str, Query(min_length=1, max_length=120, description="Nom, code postal ou code INSEE")],
    rayon: Annotated[int, Query(ge=5, le=100, description="Rayon en km")] = 30,
) -> NearbyOut:
    """Les structures qui accompagnent vers les métiers du soin et de l'accompagnement près d'une commune :
    plateformes des métiers de l'autonomie, France Travail, missions locales, Cap emploi, CIO, Carif-Oref."""
    try:
        return services.nearby(session, request.app.state.settings.reference_dir, commune=commune, radius_km=rayon)
    except UnknownPlace as exc:
        raise InvalidRequest.on("commune", exc.message) from exc
