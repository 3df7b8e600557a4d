"""Alerts pages: my saved searches, and the one-click unsubscribe link of every alert e-mail."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from passerelles.accounts.pages import form_action
from passerelles.accounts.security import Actor, PathId, csrf_protect, page
from passerelles.alerts import services
from passerelles.alerts.schemas import SavedSearchIn
from passerelles.errors import NotFound
from passerelles.web import DbSession

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
# The unsubscribe link is authenticated by its signature, not by a session: no CSRF token there.
unsubscribe_router = APIRouter(include_in_schema=False)


@router.get("/alertes")
def alerts_page(request: Request, session: DbSession, actor: Actor) -> Response:
    ctx = {"searches": services.list_own(session, actor), "errors": request.query_params.getlist("erreur")[:5]}
    return page(request, "alerts/list.html", ctx)


@router.post("/alertes")
def alert_form(
    session: DbSession,
    actor: Actor,
    kind: Annotated[str, Form(max_length=20)] = "offres",
    q: Annotated[str, Form(max_length=100)] = "",
    commune: Annotated[str, Form(max_length=5)] = "",
    radius_km: Annotated[str, Form(max_length=5)] = "30",
    contract_type: Annotated[str, Form(max_length=4)] = "",
    certification: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    criteria: dict[str, Any] = {"q": q, "radius_km": radius_km or 30}
    criteria |= {
        k: v for k, v in (("commune", commune), ("contract_type", contract_type), ("certification", certification)) if v
    }

    def run() -> Any:
        return services.create(session, actor, SavedSearchIn.model_validate({"kind": kind, "criteria": criteria}))

    return form_action(session, "/alertes", run)


@router.post("/alertes/{search_id}/suppression")
def delete_form(session: DbSession, actor: Actor, search_id: PathId) -> Response:
    if not services.delete_own(session, actor, search_id):
        raise NotFound("Recherche introuvable.")
    session.commit()
    return RedirectResponse("/alertes", status_code=303)


def _unsubscribe(request: Request, session: Any, search_id: PathId, sig: str) -> Response:
    if not services.unsubscribe(session, request.app.state.settings, search_id, sig[:64]):
        ctx = {"title": "Lien invalide", "message": "Ce lien de désabonnement est invalide."}
        return page(request, "accounts/message.html", ctx, status_code=400)
    session.commit()
    ctx = {"title": "Désabonnement confirmé", "message": "Vous ne recevrez plus cette alerte."}
    return page(request, "accounts/message.html", ctx)


@unsubscribe_router.get("/alertes/desabonnement")
def unsubscribe_get(
    request: Request, session: DbSession, id: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0, sig: str = ""
) -> Response:
    return _unsubscribe(request, session, id, sig)


@unsubscribe_router.post("/alertes/desabonnement")
def unsubscribe_post(
    request: Request, session: DbSession, id: Annotated[int, Query(ge=0, le=2_147_483_647)] = 0, sig: str = ""
) -> Response:
    """RFC 8058 one-click (List-Unsubscribe-Post) sends a POST to the same signed URL."""
    return _unsubscribe(request, session, id, sig)
