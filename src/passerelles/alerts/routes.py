"""JSON API for saved searches (alerts)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from passerelles.accounts.security import Actor, PathId, csrf_protect
from passerelles.alerts import services
from passerelles.alerts.models import SavedSearch
from passerelles.alerts.schemas import AlertItem, SavedSearchIn, SavedSearchOut
from passerelles.errors import NotFound
from passerelles.web import DbSession

router = APIRouter(tags=["alertes"], dependencies=[Depends(csrf_protect)])


@router.get("/alertes", response_model=list[SavedSearchOut])
def list_searches(session: DbSession, actor: Actor) -> list[SavedSearchOut]:
    """Mes recherches enregistrées."""
    return services.list_own(session, actor)


@router.post("/alertes", response_model=SavedSearchOut, status_code=201)
def create_search(session: DbSession, actor: Actor, data: SavedSearchIn) -> SavedSearchOut:
    """Enregistrer une recherche d'offres ou de sessions : un courriel signale les nouveaux résultats."""
    out = services.create(session, actor, data)
    session.commit()
    return out


@router.get("/alertes/{search_id}/resultats", response_model=list[AlertItem])
def new_results(session: DbSession, actor: Actor, search_id: PathId) -> list[AlertItem]:
    """Résultats nouveaux depuis la dernière alerte."""
    saved = session.get(SavedSearch, search_id)
    if saved is None or saved.account_id != actor.id:
        raise NotFound("Recherche introuvable.")
    return services.matches(session, saved)


@router.delete("/alertes/{search_id}", status_code=204)
def delete_search(session: DbSession, actor: Actor, search_id: PathId) -> Response:
    """Supprimer une recherche enregistrée."""
    if not services.delete_own(session, actor, search_id):
        raise NotFound("Recherche introuvable.")
    session.commit()
    return Response(status_code=204)
