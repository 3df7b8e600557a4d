"""One error shape for the whole API, pinned by tests:

    {"error": {"status": 404, "code": "not_found", "message": "…", "details": [...]}}

Pages get a French HTML error page with the same status. A 500 logs the exception and never shows its text.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("passerelles")

CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    422: "invalid_request",
    500: "internal_error",
}
MESSAGES = {404: "Ressource introuvable.", 405: "Méthode non autorisée.", 500: "Erreur interne du serveur."}


class NotFound(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def error_body(status: int, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "code": CODES.get(status, "error"), "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _render(request: Request, status: int, message: str, details: list[Any] | None = None) -> Response:
    if _wants_json(request):
        return JSONResponse(error_body(status, message, details), status_code=status)
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message}, status_code=status
    )
    return response


def render_error(request: Request, status: int, message: str, details: list[Any] | None = None) -> Response:
    """The error answer: the one JSON shape under ``/api/``, the French error page elsewhere."""
    return _render(request, status, message, details)


def install(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return _render(request, 404, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else None
        return _render(request, exc.status_code, message or MESSAGES.get(exc.status_code, "Erreur."))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        details = [{"field": ".".join(str(p) for p in err["loc"]), "reason": err["msg"]} for err in exc.errors()]
        return _render(request, 422, "Paramètres invalides.", details)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        log.exception("Erreur non traitée sur %s", request.url.path)
        if _wants_json(request):
            return JSONResponse(error_body(500, MESSAGES[500]), status_code=500)
        return HTMLResponse(
            '<!doctype html><html lang="fr"><meta charset="utf-8"><title>Erreur</title>'
            '<h1>Erreur interne du serveur.</h1><p><a href="/">Retour à l\'accueil</a></p></html>',
            status_code=500,
        )
