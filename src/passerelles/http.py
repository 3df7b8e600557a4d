"""HTTP plumbing shared by every route, as pure ASGI middleware (nothing here reads a database):

- :class:`RequestGuard` bounds each request before the application sees it: a body announced or streamed
  beyond ``max_body_bytes`` is answered 413 (an announced one without reading a byte of it), a body not
  received whole within ``body_timeout_seconds`` 408, and a NUL character in the path, query string or
  body, an unpaired UTF-16 surrogate (``"\\ud800"``) or a ``NaN``/``Infinity`` in a JSON body 422 (PostgreSQL
  refuses NUL in text, UTF-8 cannot encode a lone surrogate, and no field of this product is infinite).
- :class:`ResponseHeaders` answers HEAD on every GET route (the GET runs, its body is dropped), forbids
  framing (``X-Frame-Options`` and CSP ``frame-ancestors``) and marks personal answers ``no-store``.
- :func:`uvicorn_options`: how ``passerelles serve`` starts uvicorn (proxy headers trusted only from the
  configured addresses).

Bodies are read whole before the application runs: one route only takes a file (the CV of an application,
:data:`UPLOAD_ROUTES`), whose limit is ``upload_body_bytes`` (5 MB and the form); everywhere else nothing
legitimate is larger than ``max_body_bytes`` (1 MB by default), and FastAPI would read the whole body anyway.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from passerelles import errors
from passerelles.settings import Settings

# Answers that concern one person (their account, files, applications, alerts…): never stored by a cache,
# even when the request carried no session cookie (a 401 or a login form must not be cached either).
PERSONAL_PREFIXES = (
    "/api/v1/comptes",
    "/api/v1/admin",
    "/api/v1/dossiers",
    "/api/v1/moi",
    "/api/v1/tableau-de-bord",
    "/api/v1/employeur",
    "/api/v1/candidatures",
    "/api/v1/job-datings",
    "/api/v1/alertes",
    "/connexion",
    "/deconnexion",
    "/inscription",
    "/compte",
    "/mot-de-passe",
    "/mot-de-passe-oublie",
    "/espace",
    "/admin",
    "/conseil",
    "/employeur",
    "/candidatures",
    "/job-datings",
    "/alertes",
)
FRAME_ANCESTORS = b"frame-ancestors 'none'"
# One pattern compiled once (run on every request): a prefix, then the end of the path, "/" or ".".
_PERSONAL = re.compile("(?:" + "|".join(re.escape(p) for p in PERSONAL_PREFIXES) + r")(?:[/.]|\Z)")


# POST routes that take a file: their body may reach the upload limit (announced larger: 413 unread) and
# may carry binary bytes (a PDF holds NUL bytes; the route checks its text fields itself).
UPLOAD_ROUTES = re.compile(r"/emploi/offres/[0-9]{1,10}/postuler\Z")


def is_upload(scope: Scope) -> bool:
    return scope.get("method") == "POST" and UPLOAD_ROUTES.match(scope.get("path", "")) is not None


def is_personal(path: str) -> bool:
    return _PERSONAL.match(path) is not None


class _Refused(Exception):
    def __init__(self, status: int, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


def _bad_text(value: str) -> str | None:
    """Why a decoded string cannot be stored, or None."""
    if "\x00" in value:
        return "caractère nul interdit"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "caractère Unicode invalide (substitut isolé)"
    return None


def _walk_json(data: Any) -> Iterator[tuple[str, str]]:
    """(field, reason) for each string that cannot be stored and each non-finite number; iterative, so
    that a deeply nested body cannot exhaust the stack."""
    stack: list[tuple[str, Any]] = [("body", data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            reason = _bad_text(value)
            if reason:
                yield where, reason
        elif isinstance(value, dict):
            for key, item in value.items():
                reason = _bad_text(key)
                if reason:
                    yield where, reason
                    key = "?"
                stack.append((f"{where}.{key}", item))
        elif isinstance(value, list):
            stack.extend((f"{where}.{index}", item) for index, item in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            yield where, "nombre fini attendu"


def _no_constant(name: str) -> float:
    raise ValueError(name)


def _check_body(content_type: str, body: bytes) -> None:
    """422 for a body whose text could not be stored; anything else malformed is left to the route."""
    kind = content_type.split(";")[0].strip().lower()
    problems: list[tuple[str, str]] = []
    if kind == "application/json" or kind.endswith("+json"):
        try:
            data = json.loads(body, parse_constant=_no_constant)
        except RecursionError:
            problems.append(("body", "structure trop imbriquée"))
        except ValueError as exc:
            if str(exc) in ("NaN", "Infinity", "-Infinity"):
                problems.append(("body", "nombre fini attendu"))
            else:
                return  # not JSON: the route answers its own 422
        else:
            problems += _walk_json(data)
    elif kind == "application/x-www-form-urlencoded":
        for key, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
            reason = _bad_text(key) or _bad_text(value)
            if reason:
                problems.append((key if _bad_text(key) is None else "formulaire", reason))
    elif kind == "multipart/form-data" and b"\x00" in body:
        problems.append(("formulaire", "caractère nul interdit"))  # no route takes files: no binary part
    if problems:
        raise _Refused(422, "Paramètres invalides.", [{"field": f, "reason": r} for f, r in problems[:10]])


def _check_url(scope: Scope) -> None:
    problems: list[dict[str, str]] = []
    if "\x00" in scope.get("path", ""):
        problems.append({"field": "chemin", "reason": "caractère nul interdit"})
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for pair in query.split(b"&"):
            name, _, value = pair.partition(b"=")
            if b"\x00" in unquote_to_bytes(value.replace(b"+", b" ")) or b"\x00" in unquote_to_bytes(name):
                field = unquote_to_bytes(name).decode("utf-8", "replace").replace("\x00", "")[:40] or "requête"
                problems.append({"field": field, "reason": "caractère nul interdit"})
    if problems:
        raise _Refused(422, "Paramètres invalides.", problems[:10])


async def _refuse(scope: Scope, receive: Receive, send: Send, refused: _Refused, *, close: bool) -> None:
    response = errors.render_error(Request(scope, receive), refused.status, refused.message, refused.details)
    if close:
        # The rest of the body is not read: the connection cannot carry another request.
        response.headers["Connection"] = "close"
    await response(scope, receive, send)


class RequestGuard:
    """Bounds on what a request may send (size, time, characters); see the module docstring."""

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, body_timeout_seconds: float, upload_body_bytes: int | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.upload_body_bytes = upload_body_bytes or max_body_bytes
        self.body_timeout_seconds = body_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        upload = is_upload(scope)
        limit = self.upload_body_bytes if upload else self.max_body_bytes
        try:
            _check_url(scope)
            length = headers.get(b"content-length")
            if length is not None and length.strip().isdigit() and int(length) > limit:
                raise _Refused(413, self._too_large(upload))
        except _Refused as refused:
            await _refuse(scope, receive, send, refused, close=refused.status == 413)
            return
        if length is None and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(receive, limit, upload)
        except _Refused as refused:
            await _refuse(scope, receive, send, refused, close=True)
            return
        if body is None:
            return  # the client went away
        try:
            if not upload:
                _check_body(headers.get(b"content-type", b"").decode("latin-1"), body)
        except _Refused as refused:
            await _refuse(scope, receive, send, refused, close=False)
            return
        await self.app(scope, _replay(body, receive), send)

    def _too_large(self, upload: bool = False) -> str:
        if upload:
            size = (self.upload_body_bytes - 65_536) // 1_048_576
            return f"Fichier trop volumineux : le CV doit peser {size} Mo au plus."
        limit = self.max_body_bytes
        size_text = f"{limit // 1_048_576} Mo" if limit >= 1_048_576 else f"{max(1, limit // 1024)} ko"
        return f"Requête trop volumineuse : {size_text} au plus."

    async def _read(self, receive: Receive, limit: int, upload: bool) -> bytes | None:
        deadline = time.monotonic() + self.body_timeout_seconds
        chunks: list[bytes] = []
        size = 0
        while True:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(receive(), remaining)
            except TimeoutError:
                raise _Refused(408, "Requête incomplète : le corps annoncé n'est pas arrivé à temps.") from None
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _Refused(413, self._too_large(upload))
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as the server would

    return replay


class ResponseHeaders:
    """HEAD on every GET route; framing forbidden everywhere; personal answers never cached."""

    def __init__(self, app: ASGIApp, *, session_cookie: str) -> None:
        self.app = app
        self.session_cookie = session_cookie.encode() + b"="

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            # A copy: the server keeps its own scope (HEAD) and sends no body either.
            scope = dict(scope, method="GET")
        cookies = b";".join(v for k, v in scope.get("headers", []) if k.lower() == b"cookie")
        private = self.session_cookie in cookies or is_personal(scope.get("path", ""))

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _secure_headers(list(message.get("headers", [])), private=private)
            elif message["type"] == "http.response.body" and head:
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(scope, receive, send_wrapper)


def _secure_headers(headers: list[tuple[bytes, bytes]], *, private: bool) -> list[tuple[bytes, bytes]]:
    names = {k.lower() for k, _ in headers}
    out: list[tuple[bytes, bytes]] = []
    for key, value in headers:
        name = key.lower()
        if name == b"content-security-policy" and b"frame-ancestors" not in value.lower():
            value = value.rstrip(b"; ") + b"; " + FRAME_ANCESTORS
        if name == b"cache-control" and private:
            continue
        out.append((key, value))
    if b"content-security-policy" not in names:
        out.append((b"content-security-policy", FRAME_ANCESTORS))
    if b"x-frame-options" not in names:
        out.append((b"x-frame-options", b"DENY"))
    if b"x-content-type-options" not in names:
        out.append((b"x-content-type-options", b"nosniff"))
    if private:
        out.append((b"cache-control", b"no-store"))
    return out


def forwarded_ips(settings: Settings) -> list[str]:
    return [ip.strip() for ip in settings.forwarded_allow_ips.split(",") if ip.strip()]


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for this product: ``X-Forwarded-For``/``-Proto`` are believed only from the proxies
    named in ``PASSERELLES_FORWARDED_ALLOW_IPS`` (uvicorn alone would trust 127.0.0.1 by default)."""
    trusted = forwarded_ips(settings)
    options: dict[str, Any] = {"proxy_headers": bool(trusted), "timeout_keep_alive": 5}
    if trusted:
        options["forwarded_allow_ips"] = trusted
    return options


class App(FastAPI):
    """FastAPI with :class:`ResponseHeaders` outside its whole stack, Starlette's error middleware included:
    the headers are on every answer, a 500 and the guard's refusals too."""

    session_cookie = ""

    def build_middleware_stack(self) -> ASGIApp:
        return ResponseHeaders(super().build_middleware_stack(), session_cookie=self.session_cookie)


def install(app: App, settings: Settings, *, session_cookie: str) -> None:
    app.session_cookie = session_cookie
    app.add_middleware(
        RequestGuard,
        max_body_bytes=settings.max_body_bytes,
        body_timeout_seconds=settings.body_timeout_seconds,
        upload_body_bytes=settings.upload_body_bytes,
    )
