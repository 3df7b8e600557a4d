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
from passerelles.places.services import PlaceResolution, commune_of_field, place_index
from passerelles.web import DbSession
from passerelles.webforms import KeptForm, clip

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
# The unsubscribe link is authenticated by its signature, not by a session: no CSRF token there.
unsubscribe_router = APIRouter(include_in_schema=False)


def _alerts(
    request: Request, session: Any, actor: Any, kept: KeptForm | None = None, place: PlaceResolution | None = None
) -> Response:
    """My alerts and the new alert's form; ``kept`` (a refused form) shows it again with what was typed."""
    searches = services.list_own(session, actor)
    index = place_index(session)
    names = {s.id: c.name for s in searches if (c := index.communes.get(s.criteria.commune or ""))}
    ctx: dict[str, Any] = {"searches": searches, "commune_names": names}
    ctx["errors"] = request.query_params.getlist("erreur")[:5]
    ctx |= {"kept": kept, "place": place}
    return page(request, "alerts/list.html", ctx, status_code=422 if kept else 200)


@router.get("/alertes")
def alerts_page(request: Request, session: DbSession, actor: Actor) -> Response:
    return _alerts(request, session, actor)


@router.post("/alertes")
def alert_form(
    request: Request,
    session: DbSession,
    actor: Actor,
    kind: Annotated[str, Form(), clip(20)] = "offres",
    q: Annotated[str, Form(), clip(100)] = "",
    commune: Annotated[str, Form(), clip(120)] = "",
    commune_choix: Annotated[str, Form(), clip(120)] = "",
    radius_km: Annotated[str, Form(), clip(5)] = "30",
    contract_type: Annotated[str, Form(), clip(4)] = "",
    certification: Annotated[str, Form(), clip(80)] = "",
) -> Response:
    typed = (commune_choix or commune).strip()
    values = {"kind": kind, "q": q, "commune": typed, "radius_km": radius_km}
    values |= {"contract_type": contract_type, "certification": certification}
    # The commune as typed (a name, a postcode or a code); among homonyms the person picks.
    place, code = commune_of_field(place_index(session), typed, must_pick=True) if typed else (None, None)
    if place is not None and code is None:
        message = place.error or f"Commune inconnue : {typed[:80]}"
        return _alerts(request, session, actor, KeptForm("alerte", values, {"commune": message}), place)
    criteria: dict[str, Any] = {"q": q, "radius_km": radius_km.replace(",", ".") or 30}
    criteria |= {
        k: v for k, v in (("commune", code), ("contract_type", contract_type), ("certification", certification)) if v
    }

    def run() -> Any:
        return services.create(session, actor, SavedSearchIn.model_validate({"kind": kind, "criteria": criteria}))

    def render(kept: KeptForm) -> Response:
        return _alerts(request, session, actor, kept, place)

    return form_action(session, "/alertes", run, kept=("alerte", values, render))


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
