"""JSON API for occupations and ROME fiches."""

from __future__ import annotations

from fastapi import APIRouter

from passerelles.errors import NotFound
from passerelles.occupations import services
from passerelles.occupations.schemas import OccupationDetail, OccupationSummary
from passerelles.rome.schemas import RomeFicheDetail
from passerelles.rome.services import get_fiche
from passerelles.web import DbSession

router = APIRouter(tags=["métiers"])


@router.get("/occupations", response_model=list[OccupationSummary])
def list_occupations(session: DbSession) -> list[OccupationSummary]:
    """Liste des métiers décrits par Passerelles."""
    return services.list_occupations(session)


@router.get("/occupations/{slug}", response_model=OccupationDetail)
def get_occupation(slug: str, session: DbSession) -> OccupationDetail:
    """Fiche complète d'un métier, avec ses sources."""
    occ = services.get_occupation(session, slug)
    if occ is None:
        raise NotFound(f"Métier inconnu : {slug}")
    return occ


@router.get("/rome/{code_rome}", response_model=RomeFicheDetail)
def get_rome_fiche(code_rome: str, session: DbSession, version: str | None = None) -> RomeFicheDetail:
    """Fiche ROME (France Travail) : appellations, compétences, contextes, mobilités."""
    fiche = get_fiche(session, code_rome, version)
    if fiche is None:
        raise NotFound(f"Fiche ROME inconnue : {code_rome}")
    return fiche
