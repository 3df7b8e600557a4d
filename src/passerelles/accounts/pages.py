"""Account pages (no JavaScript): login, logout, registration, e-mail confirmation, password reset,
« Mon espace » and the administrator's page."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from passerelles import errors
from passerelles.accounts import services
from passerelles.accounts.mail import outbox_message, outbox_messages
from passerelles.accounts.models import Account
from passerelles.accounts.schemas import AccountCreate, PlatformIn, RegisterIn, RegistrationOut
from passerelles.accounts.security import (
    SESSION_COOKIE,
    Actor,
    OptionalActor,
    PathId,
    clear_session_cookie,
    client_ip,
    csrf_protect,
    page,
    set_session_cookie,
)
from passerelles.errors import NotFound
from passerelles.reference.models import StructureType
from passerelles.web import DbSession
from passerelles.webforms import KeptForm, clip, kept_errors

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

FIELD_LABELS = {
    "email": "Adresse électronique",
    "password": "Mot de passe",
    "display_name": "Nom",
    "structure": "Structure",
    "structure.name": "Nom de la structure",
    "structure.siret": "SIRET",
    "structure.structure_type": "Type de structure",
    "name": "Nom",
    "platform_id": "Plateforme",
    "role": "Rôle",
}


def french_errors(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"])
        reason = errors.reason(err)
        out.append(f"{FIELD_LABELS.get(field, field)} : {reason}")
    return out


def form_action(
    session: Any,
    back: str,
    run: Callable[[], Any],
    *,
    missing: str = "Ressource introuvable.",
    done: str | None = None,
    kept: tuple[str, Mapping[str, str], Callable[[KeptForm], Response]] | None = None,
    locations: Mapping[str, str] | None = None,
) -> Response:
    """Post/redirect/get for the space's forms: run the service, commit, go back (303); nothing found is a 404.

    Invalid input: with ``kept`` (the form's name, what was typed, and the page's renderer), the page is shown
    again (422) with the typed values and each problem beside its field; without it, back with the errors in
    ``?erreur=`` (the form page shows them above). ``locations`` names the form field of a schema's nested
    location (``webforms.kept_errors``)."""
    try:
        if run() is None:
            raise NotFound(missing)
        session.commit()
    except ValidationError as exc:
        if kept is not None:
            session.rollback()
            name, values, render = kept
            return render(KeptForm(name, values, kept_errors(exc, values, locations)))
        return RedirectResponse(f"{back}?" + urlencode([("erreur", e) for e in french_errors(exc)]), status_code=303)
    except services.InvalidInput as exc:
        if kept is not None:
            session.rollback()
            name, values, render = kept
            where = exc.field if exc.field in values else "formulaire"
            return render(KeptForm(name, values, {where: exc.message}))
        return RedirectResponse(f"{back}?" + urlencode({"erreur": exc.message}), status_code=303)
    return RedirectResponse(done or back, status_code=303)


def safe_next(target: str | None) -> str:
    # Only local paths: never an open redirect to another site.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/espace"


@router.get("/connexion")
def login_form(request: Request, actor: OptionalActor, suivant: str = "") -> Response:
    return page(request, "accounts/login.html", {"suivant": safe_next(suivant), "errors": []})


@router.post("/connexion")
def login_submit(
    request: Request,
    session: DbSession,
    actor: OptionalActor,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    suivant: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        account = services.authenticate(session, request.app.state.settings, email, password, client_ip(request))
    except services.AccessDenied as exc:
        return page(
            request,
            "accounts/login.html",
            {"suivant": safe_next(suivant), "errors": [exc.message], "email": email},
            status_code=400,
        )
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        services.close_session(session, old)
    raw, _csrf = services.open_session(session, request.app.state.settings, account)
    session.commit()
    response = RedirectResponse(safe_next(suivant), status_code=303)
    set_session_cookie(request, response, raw)
    return response


@router.post("/deconnexion")
def logout(request: Request, session: DbSession, actor: OptionalActor) -> Response:
    services.close_session(session, request.cookies.get(SESSION_COOKIE, ""))
    session.commit()
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response)
    return response


def _structure_types(session: Any) -> list[StructureType]:
    return list(session.scalars(select(StructureType).order_by(StructureType.name)))


@router.get("/inscription")
def register_form(request: Request, session: DbSession, actor: OptionalActor) -> Response:
    return page(request, "accounts/register.html", {"errors": [], "form": {}, "types": _structure_types(session)})


@router.post("/inscription")
def register_submit(
    request: Request,
    session: DbSession,
    actor: OptionalActor,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "personne",
    structure_name: Annotated[str, Form(max_length=200)] = "",
    siret: Annotated[str, Form(max_length=20)] = "",
    structure_type: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    form = {"email": email, "display_name": display_name, "role": role, "structure_name": structure_name}
    form |= {"siret": siret, "structure_type": structure_type}
    raw: dict[str, Any] = {"email": email, "password": password, "display_name": display_name, "role": role}
    if role == "employeur":
        raw["structure"] = {"name": structure_name, "siret": siret.replace(" ", ""), "structure_type": structure_type}
    errors: list[str] = []
    try:
        services.register(session, request.app.state.settings, RegisterIn.model_validate(raw))
        session.commit()
    except ValidationError as exc:
        errors = french_errors(exc)
    except services.InvalidInput as exc:
        session.rollback()
        errors = [f"{FIELD_LABELS.get(exc.field, exc.field)} : {exc.message}"]
    if errors:
        ctx = {"errors": errors, "form": form, "types": _structure_types(session)}
        return page(request, "accounts/register.html", ctx, status_code=400)
    return page(
        request,
        "accounts/message.html",
        # The same page whether the address already had an account or not (its owner is told by mail).
        {"title": "Inscription enregistrée", "message": RegistrationOut().message},
    )


@router.get("/compte/verifier")
def verify(request: Request, session: DbSession, actor: OptionalActor, jeton: str = "") -> Response:
    account = services.verify_email(session, jeton[:200])
    session.commit()
    if account is None:
        ctx = {"title": "Lien invalide", "message": "Ce lien est invalide, déjà utilisé ou expiré."}
        return page(request, "accounts/message.html", ctx, status_code=400)
    ctx = {"title": "Adresse confirmée", "message": "Votre adresse est confirmée : vous pouvez vous connecter."}
    return page(request, "accounts/message.html", ctx)


@router.get("/mot-de-passe-oublie")
def forgot_form(request: Request, actor: OptionalActor) -> Response:
    return page(request, "accounts/forgot.html", {})


@router.post("/mot-de-passe-oublie")
def forgot_submit(request: Request, actor: OptionalActor, email: Annotated[str, Form(max_length=254)] = "") -> Response:
    services.request_password_reset(request.app.state.sessionmaker, request.app.state.settings, email)
    ctx = {
        "title": "Demande enregistrée",
        "message": (
            "Si un compte existe pour cette adresse, un lien pour choisir un nouveau mot de passe vient d'être envoyé."
        ),
    }
    return page(request, "accounts/message.html", ctx)


@router.get("/mot-de-passe/nouveau")
def reset_form(request: Request, actor: OptionalActor, jeton: str = "") -> Response:
    return page(request, "accounts/reset.html", {"jeton": jeton[:200], "errors": []})


@router.post("/mot-de-passe/nouveau")
def reset_submit(
    request: Request,
    session: DbSession,
    actor: OptionalActor,
    jeton: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if len(password) < 10:
        ctx = {"jeton": jeton, "errors": ["Mot de passe : au moins 10 caractères"]}
        return page(request, "accounts/reset.html", ctx, status_code=400)
    account = services.reset_password(session, jeton, password)
    session.commit()
    if account is None:
        ctx = {"jeton": "", "errors": ["Ce lien est invalide, déjà utilisé ou expiré."]}
        return page(request, "accounts/reset.html", ctx, status_code=400)
    ctx = {"title": "Mot de passe enregistré", "message": "Vous pouvez vous connecter avec le nouveau mot de passe."}
    return page(request, "accounts/message.html", ctx)


@router.get("/espace")
def space(request: Request, actor: Actor) -> Response:
    target = {"personne": "/espace/personne", "conseiller": "/conseil/dossiers", "employeur": "/employeur"}
    return RedirectResponse(target.get(actor.role, "/admin"), status_code=303)


@router.get("/admin")
def admin_page(request: Request, session: DbSession, actor: Actor) -> Response:
    return _admin(request, session, actor)


def _admin(request: Request, session: Any, actor: Any, kept: KeptForm | None = None) -> Response:
    """The administrator's page; ``kept`` (a refused form) shows it again with what was typed."""
    services.require_role(actor, "admin")
    ctx = {
        "platforms": services.list_platforms(session),
        "accounts": list(session.scalars(select(Account).order_by(Account.id))),
        "types": _structure_types(session),
        "errors": request.query_params.getlist("erreur")[:5],
        "kept": kept,
    }
    return page(request, "accounts/admin.html", ctx, status_code=422 if kept else 200)


@router.post("/admin/comptes/{account_id}/desactivation")
def admin_deactivate(session: DbSession, actor: Actor, account_id: PathId) -> Response:
    def run() -> Any:
        return services.deactivate_account(session, actor, account_id)

    return form_action(session, "/admin", run, missing="Compte introuvable.")


@router.post("/admin/plateformes")
def admin_platform(
    request: Request,
    session: DbSession,
    actor: Actor,
    name: Annotated[str, Form(), clip(200)] = "",
    kind: Annotated[str, Form(), clip(20)] = "plateforme",
) -> Response:
    services.require_role(actor, "admin")
    values = {"name": name, "kind": kind}

    def run() -> Any:
        return services.create_platform(session, actor, PlatformIn.model_validate(values))

    def render(kept: KeptForm) -> Response:
        return _admin(request, session, actor, kept)

    return form_action(session, "/admin", run, kept=("plateforme", values, render))


@router.post("/admin/comptes")
def admin_account(
    request: Request,
    session: DbSession,
    actor: Actor,
    email: Annotated[str, Form(), clip(254)] = "",
    display_name: Annotated[str, Form(), clip(200)] = "",
    role: Annotated[str, Form(), clip(20)] = "conseiller",
    platform_id: Annotated[str, Form(), clip(12)] = "",
    structure_name: Annotated[str, Form(), clip(200)] = "",
    siret: Annotated[str, Form(), clip(20)] = "",
    structure_type: Annotated[str, Form(), clip(80)] = "",
) -> Response:
    services.require_role(actor, "admin")
    values = {"email": email, "display_name": display_name, "role": role, "platform_id": platform_id}
    values |= {"structure_name": structure_name, "siret": siret, "structure_type": structure_type}
    raw: dict[str, Any] = {"email": email, "display_name": display_name, "role": role}
    if platform_id.isdigit():
        raw["platform_id"] = int(platform_id)
    if role == "employeur":
        raw["structure"] = {"name": structure_name, "siret": siret.replace(" ", ""), "structure_type": structure_type}

    def run() -> Any:
        account = services.create_account(session, actor, AccountCreate.model_validate(raw))
        services.send_invitation(session, request.app.state.settings, account)
        return account

    def render(kept: KeptForm) -> Response:
        return _admin(request, session, actor, kept)

    locations = {"structure.name": "structure_name", "structure.siret": "siret"}
    locations |= {"structure.structure_type": "structure_type", "structure": "structure_name"}
    return form_action(session, "/admin", run, kept=("compte", values, render), locations=locations)


# ------------------------------------------------------------------- development outbox (never in production)

outbox_router = APIRouter(include_in_schema=False)
LINK = re.compile(r"(https?://\S+)")


def _outbox(request: Request) -> Path:
    folder = request.app.state.settings.mail_outbox
    if folder is None:  # mounted only with the outbox; a guard all the same
        raise NotFound("Page introuvable.")
    return Path(folder)


@outbox_router.get("/dev/courriels")
def outbox_list(request: Request) -> Response:
    folder = _outbox(request)
    return page(request, "accounts/outbox.html", {"mails": outbox_messages(folder), "folder": folder, "mail": None})


@outbox_router.get("/dev/courriels/{name}")
def outbox_read(request: Request, name: str) -> Response:
    mail = outbox_message(_outbox(request), name)
    if mail is None:
        raise NotFound("Ce courriel n'est pas dans la boîte d'envoi.")
    # The body as text and links, so that a link of the message opens in the browser (the rest stays escaped).
    parts = [(chunk, bool(LINK.fullmatch(chunk))) for chunk in LINK.split(mail.body) if chunk]
    return page(request, "accounts/outbox.html", {"mails": [], "mail": mail, "parts": parts})
