"""JSON API for accounts: login, logout, registration, e-mail tokens; administration of platforms and
accounts. A cookie session needs the ``X-CSRF-Token`` header on every state-changing call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from passerelles.accounts import services
from passerelles.accounts.models import Account
from passerelles.accounts.schemas import (
    AccountCreate,
    AccountOut,
    LoginIn,
    PasswordResetIn,
    PasswordResetRequest,
    PlatformIn,
    PlatformOut,
    RegisterIn,
    RegistrationOut,
    SessionOut,
)
from passerelles.accounts.security import (
    SESSION_COOKIE,
    Actor,
    OptionalActor,
    PathId,
    clear_session_cookie,
    client_ip,
    csrf_protect,
    set_session_cookie,
)
from passerelles.errors import NotFound
from passerelles.web import DbSession

router = APIRouter(tags=["comptes"], dependencies=[Depends(csrf_protect)])


@router.post("/comptes/connexion", response_model=SessionOut)
def login(request: Request, session: DbSession, data: LoginIn, actor: OptionalActor) -> Response:
    """Se connecter : ouvre une nouvelle session (cookie HttpOnly) et renvoie le jeton CSRF."""
    account = services.authenticate(session, request.app.state.settings, data.email, data.password, client_ip(request))
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        services.close_session(session, old)
    raw, csrf = services.open_session(session, request.app.state.settings, account)
    session.commit()
    body = SessionOut(account=services.account_out(account), csrf_token=csrf)
    response = JSONResponse(body.model_dump(mode="json"))
    set_session_cookie(request, response, raw)
    return response


@router.post("/comptes/deconnexion", status_code=204)
def logout(request: Request, session: DbSession, actor: Actor) -> Response:
    """Se déconnecter : la session est supprimée côté serveur."""
    services.close_session(session, request.cookies.get(SESSION_COOKIE, ""))
    session.commit()
    response = Response(status_code=204)
    clear_session_cookie(response)
    return response


@router.get("/comptes/moi", response_model=SessionOut)
def me(request: Request, actor: Actor) -> SessionOut:
    """Le compte connecté et le jeton CSRF de sa session."""
    return SessionOut(account=services.account_out(actor), csrf_token=request.state.csrf_token)


@router.post("/comptes/inscription", response_model=RegistrationOut, status_code=202)
def register(request: Request, session: DbSession, data: RegisterIn) -> RegistrationOut:
    """Créer un compte de personne ou d'employeur ; un courriel est envoyé à l'adresse (la réponse est la même
    qu'un compte existe déjà ou non : son titulaire est alors prévenu par courriel)."""
    services.register(session, request.app.state.settings, data)
    session.commit()
    return RegistrationOut()


@router.post("/comptes/verification", response_model=AccountOut)
def verify(session: DbSession, token: Annotated[str, Body(embed=True, max_length=200)]) -> AccountOut:
    """Confirmer son adresse avec le jeton reçu par courriel."""
    account = services.verify_email(session, token)
    if account is None:
        raise services.InvalidInput("token", "Lien invalide, déjà utilisé ou expiré.")
    session.commit()
    return services.account_out(account)


@router.post("/comptes/mot-de-passe/oubli", status_code=202)
def forgot(request: Request, data: PasswordResetRequest) -> dict[str, str]:
    """Demander un lien de nouveau mot de passe (la réponse est la même que le compte existe ou non)."""
    services.request_password_reset(request.app.state.sessionmaker, request.app.state.settings, data.email)
    return {"status": "ok"}


@router.post("/comptes/mot-de-passe", response_model=AccountOut)
def reset(session: DbSession, data: PasswordResetIn) -> AccountOut:
    """Choisir un nouveau mot de passe avec le jeton reçu ; toutes les sessions sont fermées."""
    account = services.reset_password(session, data.token, data.password)
    if account is None:
        raise services.InvalidInput("token", "Lien invalide, déjà utilisé ou expiré.")
    session.commit()
    return services.account_out(account)


@router.get("/admin/plateformes", response_model=list[PlatformOut])
def platforms(session: DbSession, actor: Actor) -> list[PlatformOut]:
    """Plateformes et agences (administrateur)."""
    services.require_role(actor, "admin")
    return [PlatformOut.model_validate(p) for p in services.list_platforms(session)]


@router.post("/admin/plateformes", response_model=PlatformOut, status_code=201)
def create_platform(session: DbSession, actor: Actor, data: PlatformIn) -> PlatformOut:
    """Créer une plateforme ou une agence (administrateur)."""
    platform = services.create_platform(session, actor, data)
    session.commit()
    return PlatformOut.model_validate(platform)


@router.get("/admin/comptes", response_model=list[AccountOut])
def accounts(session: DbSession, actor: Actor) -> list[AccountOut]:
    """Tous les comptes (administrateur)."""
    services.require_role(actor, "admin")
    return [services.account_out(a) for a in session.scalars(select(Account).order_by(Account.id))]


@router.post("/admin/comptes", response_model=AccountOut, status_code=201)
def create_account(request: Request, session: DbSession, actor: Actor, data: AccountCreate) -> AccountOut:
    """Créer un compte (conseiller, employeur, administrateur) ; une invitation est envoyée par courriel."""
    account = services.create_account(session, actor, data)
    services.send_invitation(session, request.app.state.settings, account)
    session.commit()
    return services.account_out(account)


@router.post("/admin/comptes/{account_id}/desactivation", response_model=AccountOut)
def deactivate_account(session: DbSession, actor: Actor, account_id: PathId) -> AccountOut:
    """Désactiver un compte (administrateur) : il ne peut plus se connecter, ses sessions sont fermées."""
    account = services.deactivate_account(session, actor, account_id)
    if account is None:
        raise NotFound("Compte introuvable.")
    session.commit()
    return services.account_out(account)
