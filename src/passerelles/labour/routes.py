"""JSON API: an occupation's recruitment projects (BMO) and tension on a territory (the panel's twin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from passerelles.errors import InvalidRequest, NotFound
from passerelles.labour.schemas import LabourOut
from passerelles.labour.services import labour_context
from passerelles.occupations.services import get_occupation, territory
from passerelles.offers.services import occupation_rome_codes
from passerelles.places.services import place_index
from passerelles.web import DbSession

router = APIRouter(tags=["marché du travail"])


@router.get("/metiers/{slug}/besoins-de-recrutement", response_model=LabourOut)
def hiring_needs(
    slug: str,
    request: Request,
    session: DbSession,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{2,3}$")] = None,
    departement: Annotated[str | None, Query(pattern=r"^[0-9][0-9AB][0-9]?$")] = None,
    commune: Annotated[str | None, Query(max_length=120, description="Nom, code postal ou code INSEE")] = None,
    rayon: Annotated[int | None, Query(ge=1, le=300)] = None,
) -> LabourOut:
    """Projets de recrutement (enquête BMO de France Travail) et indicateur de tension (Dares) d'un métier sur un
    territoire : bassin d'emploi, département, région et France ; vides tant que ces données ne sont pas importées."""
    occupation = get_occupation(session, slug)
    if occupation is None:
        raise NotFound(f"Métier inconnu : {slug}")
    asked = {"region": region, "departement": departement, "commune": commune, "rayon": rayon}
    index = place_index(session)
    where = territory(index, {k: str(v) for k, v in asked.items() if v is not None})
    if where.error is not None:
        raise InvalidRequest.on("commune" if commune else "region" if region else "departement", where.error)
    context = labour_context(
        session,
        occupation_rome_codes(session, slug) or [],
        where.place,
        index,
        request.app.state.settings.reference_dir,
    )
    return LabourOut.model_validate(
        {
            "occupation": occupation.name,
            "place_label": where.place.label,
            "families": context["labour_families"],
            "hiring": context["hiring"],
            "tension": context["tension"],
            "years": context["labour_years"],
        }
    )
