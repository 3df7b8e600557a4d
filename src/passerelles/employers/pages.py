"""Pages of the employers' space, applications (all roles) and job datings. Plain forms, POST → 303."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from passerelles import errors
from passerelles.accounts import mail
from passerelles.accounts.models import Account
from passerelles.accounts.pages import form_action
from passerelles.accounts.security import Actor, OptionalActor, PathId, csrf_protect, page
from passerelles.accounts.services import AccessDenied, InvalidInput
from passerelles.caseloads import services as caseloads
from passerelles.caseloads.schemas import FileFilters
from passerelles.employers import applications, applying, candidates, job_datings, memberships, services, uploads
from passerelles.employers.models import APPLICATION_STATUSES
from passerelles.employers.schemas import (
    CONTRACT_LABELS,
    SALARY_PERIOD_LABELS,
    WORKING_TIME_LABELS,
    ApplicationIn,
    ApplyIn,
    ContactIn,
    EventIn,
    NeedIn,
    OfferIn,
    ProfileIn,
    ValidationIn,
)
from passerelles.errors import NotFound
from passerelles.occupations.models import Occupation
from passerelles.offers import services as offer_services
from passerelles.offers.services import structure_labels
from passerelles.places.models import Commune
from passerelles.places.services import PlaceResolution, commune_of_field, place_index
from passerelles.search.services import IndexReplica
from passerelles.settings import Settings
from passerelles.web import DbSession
from passerelles.webforms import KeptForm, clip

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
        "contracts": CONTRACT_LABELS,
        "errors": _errors(request),
        "offer_form": {},
        "offer_place": None,
        "kept": None,
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
    request: Request,
    session: DbSession,
    actor: Actor,
    description: Annotated[str, Form(), clip(5000)] = "",
    address: Annotated[str, Form(), clip(300)] = "",
    website: Annotated[str, Form(), clip(300)] = "",
) -> Response:
    def run() -> Any:
        data = ProfileIn(description=description or None, address=address or None, website=website or None)
        return services.update_structure(session, actor, data)

    def render(kept: KeptForm) -> Response:
        return _space(request, session, actor, kept=kept)

    values = {"description": description, "address": address, "website": website}
    return form_action(session, "/employeur", run, kept=("structure", values, render))


@router.post("/employeur/besoins")
def need_form(
    request: Request,
    session: DbSession,
    actor: Actor,
    occupation_slug: Annotated[str, Form(), clip(80)] = "",
    positions: Annotated[str, Form(), clip(4)] = "1",
    contract_type: Annotated[str, Form(), clip(4)] = "CDI",
    start_on: Annotated[str, Form(), clip(10)] = "",
    nights: Annotated[str, Form(), clip(3)] = "",
    weekends: Annotated[str, Form(), clip(3)] = "",
) -> Response:
    values = {"occupation_slug": occupation_slug, "positions": positions, "contract_type": contract_type}
    values |= {"start_on": start_on, "nights": nights, "weekends": weekends}

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

    def render(kept: KeptForm) -> Response:
        return _space(request, session, actor, kept=kept)

    return form_action(session, "/employeur", run, kept=("besoin", values, render))


@router.post("/employeur/besoins/{need_id}/suppression")
def need_delete_form(session: DbSession, actor: Actor, need_id: PathId) -> Response:
    def run() -> Any:
        return services.delete_need(session, actor, need_id)

    return form_action(session, "/employeur", run, missing="Besoin introuvable.")


def field_errors(exc: ValidationError) -> dict[str, str]:
    """pydantic's errors by form field, in French (a model check names its field before « : »)."""
    out: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else ""
        message = errors.reason(err)
        if not field and " : " in message:
            field, message = message.split(" : ", 1)
        out.setdefault(field or "formulaire", message)
    return out


def _offer_form(
    request: Request,
    session: Session,
    values: dict[str, str],
    problems: dict[str, str],
    status: int = 200,
    place: PlaceResolution | None = None,
) -> Response:
    ctx = {
        "place": place,
        "values": values,
        "field_errors": problems,
        "occupations": _occupations(session),
        "contracts": CONTRACT_LABELS,
        "working_times": WORKING_TIME_LABELS,
        "salary_periods": SALARY_PERIOD_LABELS,
        "errors": [],
    }
    return page(request, "employers/offer_form.html", ctx, status_code=status)


@router.get("/employeur/offres/nouvelle")
def new_offer_page(request: Request, session: DbSession, actor: Actor) -> Response:
    structure = services.structure(session, actor)  # refused without an active membership
    commune = session.get(Commune, structure.commune_code) if structure.commune_code else None
    return _offer_form(request, session, {"commune": commune.name if commune else "", "positions": "1"}, {})


class OfferForm(BaseModel):
    """The offer form as typed (every field text, checked by ``OfferIn`` after the commune is resolved)."""

    model_config = ConfigDict(extra="ignore")
    title: str = Field(default="", max_length=300)
    occupation_slug: str = Field(default="", max_length=80)
    contract_type: str = Field(default="", max_length=10)
    commune: str = Field(default="", max_length=120)
    commune_code: str = Field(default="", max_length=120)
    commune_choix: str = Field(default="", max_length=120)
    positions: str = Field(default="", max_length=10)
    working_time: str = Field(default="", max_length=20)
    hours_per_week: str = Field(default="", max_length=10)
    salary_min: str = Field(default="", max_length=20)
    salary_max: str = Field(default="", max_length=20)
    salary_period: str = Field(default="", max_length=10)
    start_on: str = Field(default="", max_length=10)
    closes_on: str = Field(default="", max_length=10)
    requirements: str = Field(default="", max_length=1000)
    night_work: str = Field(default="", max_length=3)
    weekend_work: str = Field(default="", max_length=3)
    description: str = Field(default="", max_length=5000)
    how_to_apply: str = Field(default="", max_length=1000)


@router.post("/employeur/offres")
def offer_form(request: Request, session: DbSession, actor: Actor, form: Annotated[OfferForm, Form()]) -> Response:
    """The whole offer form: errors are shown next to their field, and every value typed is kept."""
    values = form.model_dump()
    problems: dict[str, str] = {}
    typed = (values["commune_choix"] or values["commune"] or values["commune_code"]).strip()
    place, commune_code = commune_of_field(place_index(session), typed, must_pick=True)
    if place.error or commune_code is None:
        message = place.error or "Indiquez la commune du poste (nom, code postal ou code INSEE)."
        if typed and place.choice is None and not place.error:
            message = f"Commune inconnue : {typed[:80]}"
        problems["commune"] = message
    data = None
    try:
        data = OfferIn.model_validate(
            {
                "title": values["title"],
                "occupation_slug": values["occupation_slug"],
                "description": values["description"].strip() or None,
                "contract_type": values["contract_type"],
                "commune_code": commune_code or "00000",
                "positions": values["positions"] or "1",
                "start_on": values["start_on"] or None,
                "closes_on": values["closes_on"] or None,
                "night_work": values["night_work"] == "oui",
                "weekend_work": values["weekend_work"] == "oui",
                "working_time": values["working_time"] or None,
                "hours_per_week": values["hours_per_week"].replace(",", ".") or None,
                "salary_min": values["salary_min"].replace(",", ".").replace(" ", "") or None,
                "salary_max": values["salary_max"].replace(",", ".").replace(" ", "") or None,
                "salary_period": values["salary_period"] or None,
                "requirements": values["requirements"].strip() or None,
                "how_to_apply": values["how_to_apply"].strip() or None,
            }
        )
    except ValidationError as exc:
        found_errors = field_errors(exc)
        found_errors.pop("commune_code", None)
        problems = found_errors | problems
    if data is not None and not problems:
        try:
            offer = services.post_offer(session, actor, data)
            session.commit()
        except InvalidInput as exc:
            session.rollback()
            problems[{"commune_code": "commune"}.get(exc.field, exc.field)] = exc.message
        else:
            mail.in_background(
                services.after_publish, request.app.state.sessionmaker, request.app.state.settings, offer.id
            )
            if not isinstance(request.app.state.search, IndexReplica):
                request.app.state.search = None  # an index built in memory is built again, with the offer
            return RedirectResponse(f"/employeur/offres/{offer.id}?publiee=1", status_code=303)
    values["commune"] = typed
    return _offer_form(request, session, values, problems, status=422, place=place)


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
        "contracts": CONTRACT_LABELS,
        "match_words": match_words,
        "published": request.query_params.get("publiee") == "1",
        "sent": request.query_params.get("message") == "envoye",
    }
    return page(request, "employers/offer.html", ctx)


@router.post("/employeur/offres/{offer_id}/fermeture")
def close_form(session: DbSession, actor: Actor, offer_id: PathId) -> Response:
    def run() -> Any:
        return services.close_offer(session, actor, offer_id)

    return form_action(session, f"/employeur/offres/{offer_id}", run)


def match_words(score: int) -> str:
    """A suggested candidate's score in words (the reasons follow it)."""
    if score >= 75:
        return "correspond très bien à l'offre"
    if score >= 50:
        return "correspond bien à l'offre"
    if score >= 25:
        return "correspond en partie à l'offre"
    return "correspond peu à l'offre"


def _counsellor_files(session: Session, actor: Any) -> list[Any]:
    """The active files a counsellor may apply or register with (none for other roles)."""
    return caseloads.list_files(session, actor, FileFilters(status="actif")) if actor.role == "conseiller" else []


@router.get("/candidatures")
def applications_page(request: Request, session: DbSession, actor: Actor) -> Response:
    ctx = {
        "applications": applications.list_applications(session, actor),
        "to_validate": applying.pending_validations(session, actor),
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

    return form_action(session, f"/candidatures/{application_id}", run, missing="Candidature introuvable.")


@router.get("/job-datings")
def events_page(request: Request, session: DbSession, actor: Actor) -> Response:
    return _events(request, session, actor)


def _events(request: Request, session: Any, actor: Any, kept: KeptForm | None = None) -> Response:
    """The job datings; ``kept`` (a refused new job dating) shows the form again with what was typed."""
    if actor.role == "admin":
        raise AccessDenied()
    ctx = {
        "events": job_datings.list_events(session, actor),
        "errors": _errors(request),
        "files": _counsellor_files(session, actor),
        "kept": kept,
    }
    return page(request, "employers/events.html", ctx, status_code=422 if kept else 200)


@router.post("/job-datings")
def event_form(
    request: Request,
    session: DbSession,
    actor: Actor,
    title: Annotated[str, Form(), clip(200)] = "",
    on: Annotated[str, Form(), clip(10)] = "",
    place: Annotated[str, Form(), clip(200)] = "",
    capacity: Annotated[str, Form(), clip(5)] = "",
) -> Response:
    values = {"title": title, "on": on, "place": place, "capacity": capacity}

    def run() -> Any:
        data = EventIn.model_validate(values)
        return job_datings.create_event(session, actor, data)

    def render(kept: KeptForm) -> Response:
        return _events(request, session, actor, kept)

    return form_action(session, "/job-datings", run, kept=("job-dating", values, render))


@router.post("/job-datings/{event_id}/inscriptions")
def registration_form(
    session: DbSession, actor: Actor, event_id: PathId, file_id: Annotated[str, Form(max_length=12)] = ""
) -> Response:
    def run() -> Any:
        return job_datings.register_event(session, actor, event_id, int(file_id) if file_id.isdigit() else None)

    return form_action(session, "/job-datings", run)


# ------------------------------------------------------------------------------ applying from an offer


def _offer_or_404(session: Session, offer_id: int) -> Any:
    offer = offer_services.get_offer(session, offer_id)
    if offer is None:
        raise NotFound(f"Offre d'emploi introuvable : {offer_id}")
    return offer


def _apply_context(session: Session, actor: Account | None, offer: Any) -> dict[str, Any]:
    file = caseloads.current_file(session, actor.id) if actor is not None and actor.role == "personne" else None
    counsellor = session.get(Account, file.counsellor_id) if file is not None and file.counsellor_id else None
    return {
        "o": offer,
        "counsellor": counsellor if file is not None and file.status == "actif" else None,
        "max_mb": request_settings(session).max_upload_bytes // 1_048_576,
    }


def request_settings(session: Session) -> Settings:
    settings = session.info["settings"]
    assert isinstance(settings, Settings)
    return settings


@router.get("/emploi/offres/{offer_id}/postuler")
def apply_page(request: Request, session: DbSession, actor: OptionalActor, offer_id: PathId) -> Response:
    offer = _offer_or_404(session, offer_id)
    values = {"name": actor.display_name, "email": actor.email} if actor is not None else {}
    ctx = _apply_context(session, actor, offer) | {"values": values, "field_errors": {}, "errors": []}
    return page(request, "employers/apply.html", ctx)


@router.post("/emploi/offres/{offer_id}/postuler")
def apply_submit(
    request: Request,
    session: DbSession,
    actor: OptionalActor,
    offer_id: PathId,
    name: Annotated[str, Form(max_length=300)] = "",
    email: Annotated[str, Form(max_length=300)] = "",
    phone: Annotated[str, Form(max_length=40)] = "",
    message: Annotated[str, Form(max_length=5000)] = "",
    via_counsellor: Annotated[str, Form(max_length=3)] = "",
    counsellor_consent: Annotated[str, Form(max_length=3)] = "",
    cv: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """The application form (multipart, the only route with a body up to 5 MB: http.UPLOAD_ROUTES). Its
    text fields are checked here for control characters, the CV by content (uploads.check_pdf)."""
    offer = _offer_or_404(session, offer_id)
    settings = request.app.state.settings
    values = {"name": name, "email": email, "phone": phone, "message": message}
    values |= {"via_counsellor": via_counsellor, "counsellor_consent": counsellor_consent}
    problems: dict[str, str] = {}
    data = None
    try:
        data = ApplyIn.model_validate(
            {
                "name": name,
                "email": email.strip() or None,
                "phone": phone.strip() or None,
                "message": message.strip() or None,
                "via_counsellor": via_counsellor == "oui",
                "counsellor_consent": counsellor_consent == "oui",
            }
        )
    except ValidationError as exc:
        problems = field_errors(exc)
    content = None
    filename = cv.filename if cv is not None else None
    if cv is not None and filename:
        content = cv.file.read(settings.max_upload_bytes + 1)
    elif cv is not None:
        content = cv.file.read(1) or None  # a file input left empty sends a part with no name and no data
    try:
        if content is not None or filename:
            applying.check_filename(filename)
            uploads.check_pdf(content or b"", settings.max_upload_bytes)
    except InvalidInput as exc:
        problems.setdefault("cv", exc.message)
    if data is not None and not problems:
        try:
            applied = applying.apply_online(session, settings, actor, offer_id, data, content, filename)
            try:
                session.commit()
            except Exception:
                # The application was not recorded: its CV, written already, goes too.
                if applied is not None and applied.application is not None:
                    uploads.remove_cv(settings, applied.cv_name)
                raise
        except InvalidInput as exc:
            session.rollback()
            problems[exc.field] = exc.message
        else:
            if applied is None:
                raise NotFound("Offre introuvable.")
            return page(request, "employers/applied.html", {"o": offer, "applied": applied})
    ctx = _apply_context(session, actor, offer) | {"values": values, "field_errors": problems, "errors": []}
    return page(request, "employers/apply.html", ctx, status_code=422)


def _cv_response(settings: Settings, cv_name: str | None) -> Response:
    path = uploads.cv_path(settings, cv_name) if cv_name else None
    if path is None:
        raise NotFound("CV introuvable.")
    return FileResponse(
        path,
        media_type="application/pdf",
        filename="cv.pdf",
        content_disposition_type="attachment",
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Content-Security-Policy": "sandbox",
        },
    )


@router.get("/candidatures/suivi/{application_id}")
def follow_page(request: Request, session: DbSession, application_id: PathId, cle: str = "") -> Response:
    """An applicant without an account follows their application through the signed link of their e-mail."""
    app = applications.application_by_link(session, request.app.state.settings, application_id, cle[:200])
    if app is None:
        raise NotFound("Lien invalide ou candidature introuvable.")
    out = applications.application_out(session, app, Account(role="personne"))
    ctx = {"a": out, "statuses": APPLICATION_STATUSES, "cv_url": f"/candidatures/suivi/{app.id}/cv?cle={cle[:200]}"}
    return page(request, "employers/application.html", ctx | {"errors": []})


@router.get("/candidatures/suivi/{application_id}/cv")
def follow_cv(request: Request, session: DbSession, application_id: PathId, cle: str = "") -> Response:
    app = applications.application_by_link(session, request.app.state.settings, application_id, cle[:200])
    if app is None:
        raise NotFound("Lien invalide ou candidature introuvable.")
    return _cv_response(request.app.state.settings, app.cv_name)


@router.get("/candidatures/{application_id}")
def application_page(request: Request, session: DbSession, actor: Actor, application_id: PathId) -> Response:
    """One application: the employer reads it (and it becomes « vue »), the person and their counsellor follow it."""
    out = applications.get_application(session, actor, application_id)
    if out is None:
        raise NotFound("Candidature introuvable.")
    session.commit()
    ctx = {"a": out, "statuses": APPLICATION_STATUSES, "cv_url": f"/candidatures/{application_id}/cv"}
    return page(request, "employers/application.html", ctx | {"errors": _errors(request)})


@router.get("/candidatures/{application_id}/cv")
def application_cv(request: Request, session: DbSession, actor: Actor, application_id: PathId) -> Response:
    """The CV, as a download only: the offer's employer, the person, their consenting counsellor."""
    app = applications.visible_application(session, actor, application_id)
    if app is None:
        raise NotFound("CV introuvable.")
    return _cv_response(request.app.state.settings, app.cv_name)


@router.post("/candidatures/{application_id}/validation")
def validation_form(
    session: DbSession, actor: Actor, application_id: PathId, decision: Annotated[str, Form(max_length=12)] = ""
) -> Response:
    def run() -> Any:
        data = ValidationIn.model_validate({"decision": decision})
        return applying.decide_validation(session, actor, application_id, data.decision == "transmettre")

    return form_action(session, "/candidatures", run, missing="Candidature introuvable.")


@router.post("/employeur/offres/{offer_id}/candidats/{file_id}/contact")
def contact_form(
    session: DbSession,
    actor: Actor,
    offer_id: PathId,
    file_id: PathId,
    message: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def run() -> Any:
        data = ContactIn.model_validate({"message": message})
        return applying.contact_candidate(session, actor, offer_id, file_id, data.message)

    back = f"/employeur/offres/{offer_id}"
    return form_action(session, back, run, missing="Candidat introuvable.", done=f"{back}?message=envoye")
