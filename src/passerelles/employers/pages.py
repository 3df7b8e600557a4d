"""Pages of the employers' space, applications (all roles) and job datings. Plain forms, POST → 303."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from passerelles.accounts.pages import form_action, french_errors
from passerelles.accounts.security import Actor, OptionalActor, PathId, csrf_protect, page
from passerelles.accounts.services import AccessDenied
from passerelles.caseloads import services as caseloads
from passerelles.caseloads.schemas import FileFilters
from passerelles.employers import applications, candidates, job_datings, memberships, services
from passerelles.employers.models import APPLICATION_STATUSES
from passerelles.employers.schemas import ApplicationIn, EventIn, NeedIn, OfferIn, ProfileIn
from passerelles.errors import NotFound
from passerelles.occupations.models import Occupation
from passerelles.offers.services import structure_labels
from passerelles.places.services import PlaceResolution, commune_of_field, place_index
from passerelles.web import DbSession

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


def _errors(request: Request) -> list[str]:
    return request.query_params.getlist("erreur")[:5]


def _occupations(session: Any) -> list[Any]:
    # Slug and name only: the rows' profile column is large (~130 KB for the 20 occupations).
    return list(session.execute(select(Occupation.slug, Occupation.name).order_by(Occupation.name)))


@router.get("/employeur")
def space(request: Request, session: DbSession, actor: Actor) -> Response:
    return _space(request, session, actor)


def _space(request: Request, session: Any, actor: Any, **extra: Any) -> Response:
    """The employer's space; ``extra`` (``offer_form``, ``offer_place``, ``errors``) shows a refused offer
    again with what was typed."""
    claim = memberships.own_claim(session, actor)
    if claim.status != "active":
        # A claim not (yet) accepted: its state, and how it can be verified; nothing of the structure.
        return page(request, "employers/claim.html", {"claim": claim, "errors": _errors(request)})
    ctx = {
        "claim": claim,
        "requests": memberships.structure_requests(session, actor) if claim.role == "admin" else [],
        "structure": (structure := services.structure(session, actor)),
        "structure_type_name": structure_labels(session).get(structure.structure_type or "", ""),
        "needs": services.list_needs(session, actor),
        "offers": services.list_offers(session, actor),
        "occupations": _occupations(session),
        "errors": _errors(request),
        "offer_form": {},
        "offer_place": None,
    }
    home = place_index(session).communes.get(structure.commune_code or "")
    ctx["offer_commune"] = place_index(session).commune_choice(home).value if home else ""
    ctx |= extra
    return page(request, "employers/space.html", ctx, status_code=422 if extra else 200)


@router.post("/employeur/rattachement/invitation")
def claim_invitation_form(request: Request, session: DbSession, actor: Actor) -> Response:
    def run() -> Any:
        return memberships.send_claim_invitation(session, request.app.state.settings, actor)

    return form_action(session, "/employeur", run, done="/employeur?invitation=envoyee")


@router.post("/employeur/rattachements/{membership_id}")
def structure_decision_form(
    session: DbSession, actor: Actor, membership_id: PathId, decision: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    def run() -> Any:
        return memberships.decide_as_structure(session, actor, membership_id, decision == "accepter")

    return form_action(session, "/employeur", run, missing="Demande introuvable.")


@router.get("/employeur/rattachement/confirmer")
def claim_confirm_page(request: Request, session: DbSession, actor: OptionalActor, jeton: str = "") -> Response:
    """The link sent to the structure's contact address: shows the claim; confirming is a POST (a mail
    scanner opening the link confirms nothing)."""
    claim = memberships.claim_for_token(session, jeton[:200])
    status = 200 if claim is not None else 400
    return page(request, "employers/claim_confirm.html", {"claim": claim, "jeton": jeton[:200]}, status_code=status)


@router.post("/employeur/rattachement/confirmer")
def claim_confirm_form(
    request: Request, session: DbSession, actor: OptionalActor, jeton: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    confirmed = memberships.confirm_claim(session, jeton)
    session.commit()
    if confirmed is None:
        return page(request, "employers/claim_confirm.html", {"claim": None, "jeton": ""}, status_code=400)
    ctx = {
        "title": "Demande confirmée",
        "message": f"{confirmed.account_name} peut désormais gérer l'espace employeur de {confirmed.structure_name}.",
    }
    return page(request, "accounts/message.html", ctx)


@router.get("/admin/rattachements")
def admin_claims_page(request: Request, session: DbSession, actor: Actor) -> Response:
    ctx = {"requests": memberships.admin_requests(session, actor), "errors": _errors(request)}
    return page(request, "employers/admin_claims.html", ctx)


@router.post("/admin/rattachements/{membership_id}")
def admin_decision_form(
    session: DbSession, actor: Actor, membership_id: PathId, decision: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    def run() -> Any:
        return memberships.decide_as_admin(session, actor, membership_id, decision == "accepter")

    return form_action(session, "/admin/rattachements", run, missing="Demande introuvable.")


@router.post("/employeur/structure")
def structure_form(
    session: DbSession,
    actor: Actor,
    description: Annotated[str, Form(max_length=5000)] = "",
    address: Annotated[str, Form(max_length=300)] = "",
    website: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    def run() -> Any:
        data = ProfileIn(description=description or None, address=address or None, website=website or None)
        return services.update_structure(session, actor, data)

    return form_action(session, "/employeur", run)


@router.post("/employeur/besoins")
def need_form(
    session: DbSession,
    actor: Actor,
    occupation_slug: Annotated[str, Form(max_length=80)] = "",
    positions: Annotated[str, Form(max_length=4)] = "1",
    contract_type: Annotated[str, Form(max_length=4)] = "CDI",
    start_on: Annotated[str, Form(max_length=10)] = "",
    nights: Annotated[str, Form(max_length=3)] = "",
    weekends: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    def run() -> Any:
        data = NeedIn.model_validate(
            {
                "occupation_slug": occupation_slug,
                "positions": positions,
                "contract_type": contract_type,
                "start_on": start_on or None,
                "nights": nights == "oui",
                "weekends": weekends == "oui",
            }
        )
        return services.add_need(session, actor, data)

    return form_action(session, "/employeur", run)


@router.post("/employeur/besoins/{need_id}/suppression")
def need_delete_form(session: DbSession, actor: Actor, need_id: PathId) -> Response:
    def run() -> Any:
        return services.delete_need(session, actor, need_id)

    return form_action(session, "/employeur", run, missing="Besoin introuvable.")


@router.post("/employeur/offres")
def offer_form(
    request: Request,
    session: DbSession,
    actor: Actor,
    title: Annotated[str, Form(max_length=200)] = "",
    occupation_slug: Annotated[str, Form(max_length=80)] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
    contract_type: Annotated[str, Form(max_length=4)] = "CDI",
    commune_code: Annotated[str, Form(max_length=120)] = "",
    commune_code_choix: Annotated[str, Form(max_length=120)] = "",
    positions: Annotated[str, Form(max_length=4)] = "1",
    start_on: Annotated[str, Form(max_length=10)] = "",
    night_work: Annotated[str, Form(max_length=3)] = "",
    weekend_work: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    typed = (commune_code_choix or commune_code).strip()
    form = {"title": title, "occupation_slug": occupation_slug, "description": description}
    form |= {"contract_type": contract_type, "positions": positions, "start_on": start_on}
    form |= {"night_work": night_work, "weekend_work": weekend_work}
    place, code = commune_of_field(place_index(session), typed, must_pick=True)
    if place.error or code is None:
        if not place.error:
            place = PlaceResolution(typed, None, (), "Indiquez la commune du poste (nom, code postal ou code INSEE).")
        return _space(request, session, actor, offer_form=form, offer_place=place, offer_commune=typed)
    try:
        data = OfferIn.model_validate(
            {
                "title": title,
                "occupation_slug": occupation_slug,
                "description": description or None,
                "contract_type": contract_type,
                "commune_code": code,
                "positions": positions,
                "start_on": start_on or None,
                "night_work": night_work == "oui",
                "weekend_work": weekend_work == "oui",
            }
        )
    except ValidationError as exc:
        return _space(request, session, actor, offer_form=form, offer_commune=typed, errors=french_errors(exc))

    def run() -> Any:
        return services.post_offer(session, actor, data)

    return form_action(session, "/employeur", run)


@router.get("/employeur/offres/{offer_id}")
def offer_page(request: Request, session: DbSession, actor: Actor, offer_id: PathId) -> Response:
    offer = services.own_offer(session, actor, offer_id)
    if offer is None:
        raise NotFound("Offre introuvable.")
    ctx = {
        "offer": services.offer_out(offer),
        "candidates": candidates.candidates(session, actor, offer_id) or [],
        "applications": applications.list_applications(session, actor, offer_id),
        "statuses": APPLICATION_STATUSES,
        "errors": _errors(request),
    }
    return page(request, "employers/offer.html", ctx)


@router.post("/employeur/offres/{offer_id}/fermeture")
def close_form(session: DbSession, actor: Actor, offer_id: PathId) -> Response:
    def run() -> Any:
        return services.close_offer(session, actor, offer_id)

    return form_action(session, f"/employeur/offres/{offer_id}", run)


def _counsellor_files(session: Session, actor: Any) -> list[Any]:
    """The active files a counsellor may apply or register with (none for other roles)."""
    return caseloads.list_files(session, actor, FileFilters(status="actif")) if actor.role == "conseiller" else []


@router.get("/candidatures")
def applications_page(request: Request, session: DbSession, actor: Actor) -> Response:
    ctx = {
        "applications": applications.list_applications(session, actor),
        "statuses": APPLICATION_STATUSES,
        "errors": _errors(request),
        "files": _counsellor_files(session, actor),
    }
    return page(request, "employers/applications.html", ctx)


@router.post("/candidatures")
def apply_form(
    session: DbSession,
    actor: Actor,
    offer_id: Annotated[str, Form(max_length=12)] = "",
    file_id: Annotated[str, Form(max_length=12)] = "",
    message: Annotated[str, Form(max_length=2000)] = "",
    retour: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    def run() -> Any:
        data = ApplicationIn.model_validate(
            {"offer_id": offer_id, "file_id": file_id or None, "message": message or None}
        )
        return applications.apply(session, actor, data)

    back = retour if re.fullmatch(r"/conseil/dossiers/[0-9]{1,10}", retour) else "/candidatures"
    return form_action(session, back, run)


@router.post("/candidatures/{application_id}/statut")
def status_form(
    session: DbSession, actor: Actor, application_id: PathId, status: Annotated[str, Form(max_length=20)] = ""
) -> Response:
    def run() -> Any:
        return applications.set_status(session, actor, application_id, status)

    return form_action(session, "/candidatures", run)


@router.get("/job-datings")
def events_page(request: Request, session: DbSession, actor: Actor) -> Response:
    if actor.role == "admin":
        raise AccessDenied()
    ctx = {
        "events": job_datings.list_events(session, actor),
        "errors": _errors(request),
        "files": _counsellor_files(session, actor),
    }
    return page(request, "employers/events.html", ctx)


@router.post("/job-datings")
def event_form(
    session: DbSession,
    actor: Actor,
    title: Annotated[str, Form(max_length=200)] = "",
    on: Annotated[str, Form(max_length=10)] = "",
    place: Annotated[str, Form(max_length=200)] = "",
    capacity: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    def run() -> Any:
        data = EventIn.model_validate({"title": title, "on": on, "place": place, "capacity": capacity})
        return job_datings.create_event(session, actor, data)

    return form_action(session, "/job-datings", run)


@router.post("/job-datings/{event_id}/inscriptions")
def registration_form(
    session: DbSession, actor: Actor, event_id: PathId, file_id: Annotated[str, Form(max_length=12)] = ""
) -> Response:
    def run() -> Any:
        return job_datings.register_event(session, actor, event_id, int(file_id) if file_id.isdigit() else None)

    return form_action(session, "/job-datings", run)
