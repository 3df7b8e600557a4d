"""One error shape for the whole API, pinned by tests:

    {"error": {"status": 404, "code": "not_found", "message": "…", "details": [...]}}

Pages get a French HTML error page with the same status. A 500 logs the exception and never shows its text.
A form, query or body refused is a 422 with one item per problem in ``details`` (``field``, ``reason``):
FastAPI's own validation and every route's checks (:class:`InvalidRequest`) take the same path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
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
    401: "unauthorized",
    403: "forbidden",
    409: "conflict",
    413: "payload_too_large",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}
MESSAGES = {404: "Ressource introuvable.", 405: "Méthode non autorisée.", 500: "Erreur interne du serveur."}
INVALID_MESSAGE = "Paramètres invalides."


class NotFound(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unavailable(Exception):
    """A part of the service is not ready on this server (e.g. a read node's search index): a 503 with
    ``Retry-After``, its French ``message`` shown; the log gets the technical reason."""

    message = "Service momentanément indisponible. Réessayez dans une minute."


class InvalidRequest(Exception):
    """A form, query or body refused: answered 422, each problem (``field``, ``reason``…) in ``details``."""

    def __init__(self, details: list[dict[str, str]], message: str = INVALID_MESSAGE) -> None:
        super().__init__(message)
        self.details = details
        self.message = message

    @classmethod
    def on(cls, field: str, reason: str, message: str = INVALID_MESSAGE) -> InvalidRequest:
        """One field refused."""
        return cls([{"field": field, "reason": reason}], message)


# pydantic's error types in plain French (the interface speaks French, the API's reasons too); ``{…}`` are
# taken from the error's context. A type not listed keeps pydantic's message.
REASONS = {
    "missing": "obligatoire",
    "extra_forbidden": "champ inconnu",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "float_parsing": "nombre attendu",
    "float_type": "nombre attendu",
    "finite_number": "nombre fini attendu",
    "decimal_parsing": "nombre attendu",
    "bool_parsing": "oui ou non attendu (true ou false)",
    "bool_type": "oui ou non attendu (true ou false)",
    "string_type": "texte attendu",
    "string_too_short": "au moins {min_length} caractères",
    "string_too_long": "au plus {max_length} caractères",
    "string_pattern_mismatch": "format invalide",
    "too_short": "au moins {min_length} élément(s)",
    "too_long": "au plus {max_length} éléments",
    "list_type": "liste attendue",
    "dict_type": "objet attendu",
    "model_type": "objet attendu",
    "model_attributes_type": "objet attendu",
    "json_invalid": "JSON invalide",
    "json_type": "JSON attendu",
    "date_parsing": "date attendue (AAAA-MM-JJ)",
    "date_from_datetime_parsing": "date attendue (AAAA-MM-JJ)",
    "date_type": "date attendue (AAAA-MM-JJ)",
    "datetime_parsing": "date et heure attendues (AAAA-MM-JJTHH:MM)",
    "datetime_from_date_parsing": "date et heure attendues (AAAA-MM-JJTHH:MM)",
    "datetime_type": "date et heure attendues (AAAA-MM-JJTHH:MM)",
    "greater_than": "doit être supérieur à {gt}",
    "greater_than_equal": "doit être supérieur ou égal à {ge}",
    "less_than": "doit être inférieur à {lt}",
    "less_than_equal": "doit être inférieur ou égal à {le}",
    "literal_error": "valeur attendue parmi : {expected}",
    "enum": "valeur attendue parmi : {expected}",
    "url_parsing": "adresse web invalide",
    "url_scheme": "adresse web invalide",
}


def reason(err: Mapping[str, Any]) -> str:
    """One pydantic error's reason in French: our validators' own messages (already French) as they are,
    pydantic's own by their type."""
    if err.get("type") == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    template = REASONS.get(str(err.get("type")))
    if template is None:
        return str(err["msg"])
    ctx = {k: str(v).replace("' or '", "', '") for k, v in (err.get("ctx") or {}).items()}
    try:
        return template.format(**ctx)
    except (KeyError, IndexError, ValueError):
        return str(err["msg"])


def validation_details(errors: Iterable[Mapping[str, Any]], names: Mapping[str, str] | None = None) -> list[Any]:
    """pydantic's errors as details: the field (its dotted location, or the name ``names`` gives its first
    part, e.g. the query parameter of a model field) and the reason, in French."""
    details = []
    for err in errors:
        loc = [str(p) for p in err["loc"]]
        if names and loc and loc[0] in names:
            loc[0] = names[loc[0]]
        details.append({"field": ".".join(loc), "reason": reason(err)})
    return details


def error_body(status: int, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "code": CODES.get(status, "error"), "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def render_error(request: Request, status: int, message: str, details: list[Any] | None = None) -> Response:
    """The error answer: the one JSON shape under ``/api/``, the French error page elsewhere."""
    if wants_json(request):
        return JSONResponse(error_body(status, message, details), status_code=status)
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message}, status_code=status
    )
    return response


def install(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return render_error(request, 404, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else None
        return render_error(request, exc.status_code, message or MESSAGES.get(exc.status_code, "Erreur."))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return render_error(request, 422, INVALID_MESSAGE, validation_details(exc.errors()))

    @app.exception_handler(InvalidRequest)
    async def _refused(request: Request, exc: InvalidRequest) -> Response:
        return render_error(request, 422, exc.message, exc.details)

    @app.exception_handler(Unavailable)
    async def _unavailable(request: Request, exc: Unavailable) -> Response:
        log.warning("Service indisponible : %s", exc)
        response = render_error(request, 503, exc.message)
        response.headers["Retry-After"] = "60"
        return response

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        log.exception("Erreur non traitée sur %s", request.url.path)
        if wants_json(request):
            return JSONResponse(error_body(500, MESSAGES[500]), status_code=500)
        return HTMLResponse(
            '<!doctype html><html lang="fr"><meta charset="utf-8"><title>Erreur</title>'
            '<h1>Erreur interne du serveur.</h1><p><a href="/">Retour à l\'accueil</a></p></html>',
            status_code=500,
        )
