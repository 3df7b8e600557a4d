"""JSON API for certifications."""

from __future__ import annotations

from fastapi import APIRouter, Query

from passerelles.certifications import services
from passerelles.certifications.schemas import CertificationDetail, CertificationRef
from passerelles.errors import NotFound
from passerelles.web import DbSession

router = APIRouter(tags=["certifications"])


@router.get("/certifications", response_model=list[CertificationRef])
def list_certifications(
    session: DbSession, level: int | None = Query(default=None, ge=1, le=8, description="Niveau européen")
) -> list[CertificationRef]:
    """Liste des certifications, par niveau."""
    return services.list_certifications(session, level=level)


@router.get("/certifications/{slug}", response_model=CertificationDetail)
def get_certification(slug: str, session: DbSession) -> CertificationDetail:
    """Fiche d'une certification : niveau, durée, admission, voies d'accès, remplacements."""
    cert = services.get_certification(session, slug)
    if cert is None:
        raise NotFound(f"Certification inconnue : {slug}")
    return cert
