"""Web side of accounts: the current actor from the session cookie, CSRF checks, cookies, and the
handlers that turn access errors into the one error shape (API) or a French page / login redirect."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from passerelles import errors
from passerelles.accounts import services
from passerelles.accounts.mail import MailError
from passerelles.accounts.models import Account
from passerelles.web import DbSession
from passerelles.web import PathId as PathId  # shared with every package's routes
from passerelles.web import QueryId as QueryId

SESSION_COOKIE = "passerelles_session"
CSRF_COOKIE = "passerelles_csrf"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


class CsrfRefused(Exception):
    pass


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "inconnu"


def current_actor(request: Request, session: DbSession) -> Account | None:
    """The logged-in account, or None. Cached on the request (API, pages and CSRF check share it)."""
    if hasattr(request.state, "actor"):
        cached: Account | None = request.state.actor
        return cached
    request.state.actor = None
    request.state.csrf_token = None
    loaded = services.load_session(session, request.cookies.get(SESSION_COOKIE, ""))
    if loaded is not None:
        row, account = loaded
        request.state.actor = account
        request.state.csrf_token = row.csrf_token
        # Touch the session at most every five minutes: no write on every request.
        if services.aware(row.last_seen_at) < services.now() - dt.timedelta(minutes=5):
            row.last_seen_at = services.now()
            session.commit()
    return request.state.actor  # type: ignore[no-any-return]


async def required_actor(actor: Annotated[Account | None, Depends(current_actor)]) -> Account:
    # async: no I/O here, so no trip through the thread pool (current_actor, which queries, stays sync).
    if actor is None:
        raise services.NotAuthenticated()
    return actor


OptionalActor = Annotated[Account | None, Depends(current_actor)]
Actor = Annotated[Account, Depends(required_actor)]


async def csrf_protect(request: Request, actor: OptionalActor) -> None:
    """Every state-changing request must carry the CSRF token: the session's own when logged in (header
    ``X-CSRF-Token`` or form field ``csrf_token``), else the double-submit cookie for anonymous forms."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if (
        actor is None
        and request.url.path.startswith("/api/")
        and request.headers.get("content-type", "").split(";")[0].strip() == "application/json"
    ):
        # A browser cannot send a cross-site JSON body without a CORS preflight, which this API never grants.
        return
    expected = request.state.csrf_token if actor is not None else request.cookies.get(CSRF_COOKIE)
    if not services.constant_time_equal(sent, expected):
        raise CsrfRefused()


def csrf_token_for(request: Request) -> str:
    """The token a page puts in its forms; for an anonymous visitor, a new double-submit value."""
    token = getattr(request.state, "csrf_token", None)
    if token:
        return str(token)
    anon = request.cookies.get(CSRF_COOKIE)
    if not anon or len(anon) > 100:
        anon = secrets.token_urlsafe(24)
        request.state.new_anon_csrf = anon
    return anon


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or bool(request.app.state.settings.cookie_secure)


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """Render a page with the actor and CSRF token; sets the anonymous CSRF cookie when one was made."""
    context = {"actor": getattr(request.state, "actor", None), "csrf_token": csrf_token_for(request), **context}
    response: Response = request.app.state.templates.TemplateResponse(request, name, context, status_code=status_code)
    finish(request, response)
    return response


def finish(request: Request, response: Response) -> Response:
    new = getattr(request.state, "new_anon_csrf", None)
    if new:
        response.set_cookie(CSRF_COOKIE, new, httponly=True, samesite="strict", secure=_secure(request), path="/")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def set_session_cookie(request: Request, response: Response, raw: str) -> None:
    hours = request.app.state.settings.session_hours
    response.set_cookie(
        SESSION_COOKIE, raw, max_age=hours * 3600, httponly=True, samesite="lax", secure=_secure(request), path="/"
    )
    response.delete_cookie(CSRF_COOKIE, path="/")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def install(app: FastAPI) -> None:
    @app.exception_handler(services.NotAuthenticated)
    async def _anonymous(request: Request, exc: services.NotAuthenticated) -> Response:
        if errors.wants_json(request):
            return errors.render_error(request, 401, "Connexion requise.")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/connexion?suivant={quote(target)}", status_code=303)

    @app.exception_handler(services.AccessDenied)
    async def _denied(request: Request, exc: services.AccessDenied) -> Response:
        return errors.render_error(request, 403, exc.message)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        return errors.render_error(request, 403, "Jeton CSRF absent ou invalide : rechargez la page et recommencez.")

    @app.exception_handler(services.TooManyAttempts)
    async def _too_many(request: Request, exc: services.TooManyAttempts) -> Response:
        response = errors.render_error(request, 429, exc.message)
        wait = exc.retry_after or request.app.state.settings.login_window_minutes * 60
        response.headers["Retry-After"] = str(wait)
        return response

    @app.exception_handler(MailError)
    async def _mail(request: Request, exc: MailError) -> Response:
        return errors.render_error(request, 503, "Le courriel n'a pas pu être envoyé ; réessayez plus tard.")

    @app.exception_handler(services.InvalidInput)
    async def _invalid(request: Request, exc: services.InvalidInput) -> Response:
        return errors.render_error(request, 422, exc.message, [{"field": exc.field, "reason": exc.message}])
