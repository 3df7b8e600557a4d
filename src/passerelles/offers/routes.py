"""JSON API for job offers and the labour-market panel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from passerelles.errors import InvalidRequest, NotFound
from passerelles.offers import services
from passerelles.offers.schemas import MarketPanel, OfferDetail, OfferQuery, OfferResults
from passerelles.web import DbSession, PathId
from passerelles.webforms import FormErrors, parse_params

router = APIRouter(tags=["emploi"])


@router.get("/emploi/offres", response_model=OfferResults)
def search(request: Request, session: DbSession) -> Any:
    """Offres ouvertes selon les critères de `/emploi` (métier, lieu et rayon, contrat, temps de travail, date)."""
    try:
        q = parse_params(OfferQuery, request.query_params, lists=("contrat",))
        return services.search_offers(session, q)
    except FormErrors as exc:
        raise InvalidRequest(exc.errors) from None
    except services.BadCriterion as exc:
        raise InvalidRequest.on(exc.field, exc.message) from None


@router.get("/emploi/offres/{offer_id}", response_model=OfferDetail)
def get_offer(offer_id: PathId, session: DbSession) -> OfferDetail:
    """Une offre d'emploi."""
    offer = services.get_offer(session, offer_id)
    if offer is None:
        raise NotFound(f"Offre d'emploi introuvable : {offer_id}")
    return offer


@router.get("/metiers/{slug}/marche-du-travail", response_model=MarketPanel)
def market(
    slug: str,
    session: DbSession,
    region: str | None = Query(default=None, pattern=r"^[0-9]{2,3}$"),
    departement: str | None = Query(default=None, pattern=r"^[0-9][0-9AB][0-9]?$"),
    commune: str | None = Query(default=None, max_length=120),
    rayon: int | None = Query(default=None, ge=1, le=300),
) -> Any:
    """Marché du travail d'un métier sur un territoire : offres ouvertes, tendance, contrats, salaires, employeurs."""
    try:
        panel = services.market_panel(
            session, slug, region=region, departement=departement, commune=commune, rayon=rayon
        )
    except services.BadCriterion as exc:
        raise InvalidRequest.on(exc.field, exc.message) from None
    if panel is None:
        raise NotFound(f"Métier inconnu : {slug}")
    return panel
