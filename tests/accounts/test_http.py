"""Requests bounded and answers hardened (issue 14): parameters validated to their type and range (no 500
on either engine), HEAD on every GET route, framing forbidden, personal answers never cached, CSV cells
neutralised; and, against a real uvicorn server over raw sockets, the body size limit, the body timeout
and the proxy headers."""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from passerelles.accounts.security import CSRF_COOKIE
from passerelles.app import create_app
from passerelles.exports import csv_text, safe_cell
from passerelles.http import uvicorn_options
from passerelles.settings import Settings
from tests.support.accounts import World, login
from tests.support.net import free_port

BIG = 3_000_000_000  # above PostgreSQL's integer (2**31 - 1)


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()["error"]
    assert body["status"] == status and body["message"]
    return dict(body)


# ---------------------------------------------------------------- ids, numbers, characters: 4xx, never 500


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/emploi/offres/{BIG}",
        f"/emploi/offres/{BIG}",
        f"/api/v1/formations/sessions/{BIG}",
        f"/formations/sessions/{BIG}",
        f"/formations/sessions/{BIG}/agenda.ics",
        f"/api/v1/formations/comparer?ids={BIG},1",
        f"/formations/comparer?ids={BIG},1",
        f"/formations/comparer/export.csv?ids={BIG},1",
        f"/api/v1/formations/comparer?ids=1,{'9' * 5000}",
        f"/api/v1/dossiers/{BIG}",
        f"/api/v1/candidatures?offre={BIG}",
    ],
)
def test_ids_beyond_the_database_integer_are_422(client: TestClient, world: World, path: str) -> None:
    login(client, world.emails["conseiller_a"])
    response = client.get(path)
    assert response.status_code == 422, response.text[:300]
    if path.startswith("/api/"):
        _error(response, 422)


def test_nan_and_infinity_are_refused(client: TestClient, world: World) -> None:
    for value in ("nan", "inf", "-inf", "1e400"):
        page = client.get("/parcours", params={"age": value, "cible": "aide-soignant"})
        assert page.status_code == 200 and "un nombre est attendu" in page.text
        page = client.get(
            "/parcours", params={"age": "30", "experience_metier": "aide-soignant", "experience_annees": value}
        )
        assert page.status_code == 200 and "durée invalide" in page.text
        _error(client.get("/api/v1/search", params={"q": "soin", "rayon": value, "commune": "69381"}), 422)
    for raw in ('{"max_months": NaN}', '{"age": 30, "max_distance_km": Infinity}', '{"experience": [-Infinity]}'):
        response = client.post("/api/v1/parcours", content=raw, headers={"content-type": "application/json"})
        assert _error(response, 422)["details"][0]["reason"] == "nombre fini attendu"


def test_unpaired_surrogates_are_refused_in_json_bodies(client: TestClient, world: World) -> None:
    csrf = login(client, world.emails["conseiller_a"])
    headers = {"content-type": "application/json", "X-CSRF-Token": csrf}
    # json.dumps writes a lone surrogate as the escape "\ud800", exactly what a client can send.
    response = client.post("/api/v1/parcours", content=json.dumps({"target": "\ud800"}), headers=headers)
    assert _error(response, 422)["details"] == [
        {"field": "body.target", "reason": "caractère Unicode invalide (substitut isolé)"}
    ]
    person = {"first_name": "Ana", "last_name": "\ud800x", "consent_accompagnement": True}
    _error(client.post("/api/v1/dossiers", content=json.dumps(person), headers=headers), 422)
    created = client.post("/api/v1/dossiers", json={**person, "last_name": "Martin"}, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text
    file_id = created.json()["id"]
    profile = {"commune": "69381", "diplomas": [{"slug": "\udfff"}]}
    response = client.put(f"/api/v1/dossiers/{file_id}/profil", content=json.dumps(profile), headers=headers)
    assert _error(response, 422)["details"][0]["field"] == "body.diplomas.0.slug"
    paired = client.put(
        f"/api/v1/dossiers/{file_id}/profil", content=json.dumps({"commune": "69381", "target": "😀"}), headers=headers
    )
    assert paired.status_code != 422 or "substitut" not in paired.text  # a real pair (an emoji) is a character


def test_deeply_nested_json_is_422_not_500(client: TestClient, world: World) -> None:
    for raw in ("[" * 100_000 + "]" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000):
        response = client.post("/api/v1/parcours", content=raw, headers={"content-type": "application/json"})
        assert _error(response, 422)["details"] == [{"field": "body", "reason": "structure trop imbriquée"}]


def test_nul_characters_are_422_before_reaching_the_database(client: TestClient, world: World) -> None:
    csrf = login(client, world.emails["conseiller_a"])
    for path in (
        "/api/v1/search?q=%00",
        "/api/v1/emploi/offres?q=a%00b",
        "/api/v1/dossiers?q=%00",
        "/api/v1/occupations/%00",
        "/api/v1/certifications/x%00",
    ):
        details = _error(client.get(path), 422)["details"]
        assert details[0]["reason"] == "caractère nul interdit", path
    for path in ("/recherche?q=%00", "/conseil/dossiers?q=%00", "/certifications/%00"):
        assert client.get(path).status_code == 422, path
    form = {"csrf_token": csrf, "first_name": "A\x00", "last_name": "B", "consent_accompagnement": "oui"}
    assert client.post("/conseil/dossiers/nouveau", data=form, follow_redirects=False).status_code == 422
    person = {"first_name": "\x00", "last_name": "B", "consent_accompagnement": True}
    _error(client.post("/api/v1/dossiers", json=person, headers={"X-CSRF-Token": csrf}), 422)


def test_caseload_csv_with_unknown_filters_is_422(client: TestClient, world: World) -> None:
    login(client, world.emails["conseiller_a"])
    for params in ({"statut": "x"}, {"etape": "x"}, {"action_avant": "x"}, {"q": "\x00"}):
        response = client.get("/conseil/dossiers.csv", params=params)
        assert response.status_code == 422, (params, response.text[:200])
    assert client.get("/conseil/dossiers.csv", params={"statut": "actif"}).status_code == 200


def test_non_ascii_signatures_and_tokens_are_refused_not_500(client: TestClient, world: World) -> None:
    response = client.get("/alertes/desabonnement", params={"id": "1", "sig": "é" * 32})
    assert response.status_code == 400
    assert client.post("/alertes/desabonnement", params={"id": "1", "sig": "ü"}).status_code == 400
    # Latin-1 header and cookie values reach the application as text: compared, they must not raise.
    cookie = f"{CSRF_COOKIE}=".encode() + "é".encode("latin-1")
    form = {"csrf_token": "é", "email": "a@b.fr", "password": "x"}
    assert client.post("/connexion", data=form, headers={"cookie": cookie}).status_code == 403
    csrf = login(client, world.emails["conseiller_a"])
    assert csrf
    refused = client.post("/api/v1/dossiers", json={}, headers={"X-CSRF-Token": "é".encode("latin-1")})
    assert refused.status_code == 403


PAGE_VALUES = ["3000000000", "-3000000000", "1" + "0" * 30, "nan", "-inf", "1e400", "%00", "%ED%A0%80"]


def test_pages_never_fail_on_hostile_values(client: TestClient, world: World, app: FastAPI) -> None:
    """The pages' counterpart of the schemathesis pass: every GET page, each path parameter and each query
    parameter (declared, or one of the forms' criteria, all at once) set to a hostile value."""
    from passerelles.webforms import FIELD_LABELS

    login(client, world.emails["conseiller_a"])
    criteria = [*FIELD_LABELS, "statut", "etape", "action_avant", "age", "max_mois", "experience_annees", "sig"]
    failures, sent = [], 0
    for ctx in iter_route_contexts(app.routes):
        path = getattr(ctx, "path", "")
        if "GET" not in (getattr(ctx, "methods", None) or set()) or path.startswith(("/api/", "/static", "/docs")):
            continue
        names = [n.split(":")[0] for n in path.split("{")[1:]]
        names = [n.split("}")[0] for n in names]
        urls = []
        for value in PAGE_VALUES:
            for target in names:
                urls.append(_fill(path, names, target, value))
            filled = _fill(path, names, "", "1")
            urls.append(filled + "?" + "&".join(f"{name}={value}" for name in criteria))
        for url in urls:
            sent += 1
            response = client.get(url, follow_redirects=False)
            if response.status_code >= 500:
                failures.append(f"GET {url[:150]} → {response.status_code}")
    assert sent > 200
    assert not failures, "\n".join(failures)


def _fill(path: str, names: list[str], target: str, value: str) -> str:
    for name in names:
        path = path.replace("{" + name + "}", value if name == target else "1")
    return path


# ---------------------------------------------------------------- response headers


def test_every_answer_forbids_framing(client: TestClient, world: World) -> None:
    for path in ("/", "/api/v1/health", "/api/v1/occupations", "/static/style.css", "/introuvable", "/connexion"):
        response = client.get(path)
        assert response.headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path


def test_a_server_error_carries_the_headers_too(settings: Settings, engine: Engine) -> None:
    app = create_app(settings, engine=engine)

    @app.get("/espace/test-erreur")
    def broken() -> None:
        raise RuntimeError("boom")

    response = TestClient(app, raise_server_exceptions=False).get("/espace/test-erreur")
    assert response.status_code == 500 and "boom" not in response.text
    assert response.headers["x-frame-options"] == "DENY" and response.headers["cache-control"] == "no-store"


def test_an_existing_content_security_policy_is_kept_and_completed() -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from passerelles.http import ResponseHeaders

    def page(request: Request) -> PlainTextResponse:
        headers = {"Content-Security-Policy": "default-src 'self'", "Cache-Control": "max-age=60"}
        return PlainTextResponse("ok", headers=headers)

    inner = Starlette(routes=[Route("/", page), Route("/espace", page)])
    client = TestClient(ResponseHeaders(inner, session_cookie="passerelles_session"))
    response = client.get("/")
    assert response.headers["content-security-policy"] == "default-src 'self'; frame-ancestors 'none'"
    assert response.headers["cache-control"] == "max-age=60"  # public, anonymous: left as it was
    assert client.get("/espace").headers["cache-control"] == "no-store"


def test_personal_answers_are_never_cached(client: TestClient, world: World) -> None:
    public = client.get("/api/v1/occupations")
    assert "no-store" not in public.headers.get("cache-control", "")
    assert client.get("/api/v1/dossiers").headers["cache-control"] == "no-store"  # 401, still personal
    login(client, world.emails["conseiller_a"])
    for path in (
        "/",
        "/api/v1/occupations",
        "/api/v1/dossiers",
        "/api/v1/comptes/moi",
        "/api/v1/alertes",
        "/conseil/dossiers",
        "/conseil/dossiers.csv",
        "/espace",
        "/alertes",
    ):
        response = client.get(path)
        assert response.status_code < 400, (path, response.status_code)
        assert response.headers["cache-control"] == "no-store", path
    employer = TestClient(client.app)
    login(employer, world.emails["employeur"])
    for path in ("/employeur", "/api/v1/employeur/structure", "/api/v1/candidatures", "/candidatures"):
        assert employer.get(path).headers["cache-control"] == "no-store", path


def test_head_is_answered_on_every_get_route(client: TestClient, world: World, app: FastAPI) -> None:
    head = client.head("/")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(client.get("/").content)
    paths = sorted(
        {
            ctx.path
            for ctx in iter_route_contexts(app.routes)
            if "GET" in (getattr(ctx, "methods", None) or set()) and "{" not in ctx.path
        }
    )
    assert len(paths) > 30
    login(client, world.emails["conseiller_a"])
    for path in paths:
        get, head = client.get(path, follow_redirects=False), client.head(path, follow_redirects=False)
        assert head.status_code == get.status_code != 405, path
        assert head.content == b"", path


# ---------------------------------------------------------------- CSV cells


def test_formula_cells_behind_invisible_characters_are_neutralised(client: TestClient, world: World) -> None:
    zero_width, bom = '\u200b=HYPERLINK("http://evil")', "\ufeff=1+1"
    for cell in (zero_width, bom, "\u2060+1", "\u00a0\u200d@x", " \t=1", "\u200c-cmd"):
        assert safe_cell(cell) == "'" + cell, repr(cell)
    for cell in ("Durand", "-3,5", "12", "\u200bDurand", ""):
        assert safe_cell(cell) == cell, repr(cell)
    rows = list(csv.reader(io.StringIO(csv_text(["a"], [[zero_width], [bom]])[1:]), delimiter=";"))
    assert rows == [["a"], ["'" + zero_width], ["'" + bom]]
    csrf = login(client, world.emails["conseiller_a"])
    for name in (zero_width, bom):
        person = {"first_name": "Ana", "last_name": name, "consent_accompagnement": True}
        assert client.post("/api/v1/dossiers", json=person, headers={"X-CSRF-Token": csrf}).status_code == 201
    export = client.get("/conseil/dossiers.csv").text
    names = [r[1] for r in csv.reader(io.StringIO(export.lstrip("\ufeff")), delimiter=";")][1:]
    assert sorted(names) == sorted(["'" + zero_width, "'" + bom])


# ---------------------------------------------------------------- a real uvicorn server, raw sockets


@contextmanager
def serving(app: FastAPI, settings: Settings) -> Iterator[int]:
    """``app`` under uvicorn on a free port, started with the options ``passerelles serve`` passes."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", **uvicorn_options(settings)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "le serveur uvicorn n'a pas démarré"
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _raw(port: int, head: bytes, body: bytes = b"", *, wait: float = 10) -> tuple[bytes, float]:
    """Send ``head`` (and ``body``), then read until the server closes; (answer, seconds to first byte)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        started = time.monotonic()
        sock.sendall(head + body)
        chunks = [sock.recv(65536)]
        first = time.monotonic() - started
        while chunks[-1]:
            try:
                chunks.append(sock.recv(65536))
            except (TimeoutError, ConnectionResetError):
                break
    return b"".join(chunks), first


def _health(port: int) -> float:
    started = time.monotonic()
    answer, _ = _raw(port, b"GET /api/v1/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200")
    return time.monotonic() - started


def _settings(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update=changes)


def test_oversized_and_short_bodies_against_a_real_server(settings: Settings, engine: Engine) -> None:
    settings = _settings(settings, body_timeout_seconds=1.0)
    with serving(create_app(settings, engine=engine), settings) as port:
        # 150 MB announced: 413 at once, not one byte of the body sent, the connection closed.
        head = (
            b"POST /api/v1/comptes/connexion HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: 150000000\r\n\r\n"
        )
        answer, first = _raw(port, head)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert first < 2 and b'"code":"payload_too_large"' in answer
        # Chunked, no length announced: counted as it arrives, refused past 1 MB.
        chunked = b"POST /api/v1/comptes/connexion HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        piece = b"x" * 65536
        body = (b"10000\r\n" + piece + b"\r\n") * 17 + b"0\r\n\r\n"
        answer, _ = _raw(port, chunked, body)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        # Shorter than announced: 408 within the (1 s) timeout, the connection closed; the page form too.
        for path in (b"/api/v1/comptes/connexion", b"/connexion"):
            head = (
                b"POST "
                + path
                + b" HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            )
            started = time.monotonic()
            answer, _ = _raw(port, head, b'{"email": ')
            assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
            assert 0.9 < time.monotonic() - started < 5
        # A body within the limit still works, and the server stays fast for everyone else.
        small = json.dumps({"email": "personne@example.org", "password": "x" * 20}).encode()
        head = (
            b"POST /api/v1/comptes/connexion HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: " + str(len(small)).encode() + b"\r\n\r\n"
        )
        answer, _ = _raw(port, head, small)
        assert answer.startswith((b"HTTP/1.1 401", b"HTTP/1.1 403")), answer[:200]  # read, then refused
        holders = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
        try:
            for sock in holders:  # five slow clients holding bodies open
                sock.sendall(head.replace(str(len(small)).encode(), b"5000") + b"{")
            assert _health(port) < 0.5
        finally:
            for sock in holders:
                sock.close()


def test_forwarded_for_is_believed_only_from_configured_proxies(settings: Settings, engine: Engine) -> None:
    def app_with_ip_echo(configured: Settings) -> FastAPI:
        app = create_app(configured, engine=engine)

        @app.get("/test/ip")
        def ip(request: Request) -> dict[str, str]:
            from passerelles.accounts.security import client_ip

            return {"ip": client_ip(request)}

        return app

    request = b"GET /test/ip HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 203.0.113.7\r\nConnection: close\r\n\r\n"
    with serving(app_with_ip_echo(settings), settings) as port:
        answer, _ = _raw(port, request)
        assert b'{"ip":"127.0.0.1"}' in answer, answer
    trusting = _settings(settings, forwarded_allow_ips="127.0.0.1")
    with serving(app_with_ip_echo(trusting), trusting) as port:
        answer, _ = _raw(port, request)
        assert b'{"ip":"203.0.113.7"}' in answer, answer


def test_serve_passes_the_proxy_settings_to_uvicorn() -> None:
    assert uvicorn_options(Settings(environment="test")) == {"proxy_headers": False, "timeout_keep_alive": 5}
    options = uvicorn_options(Settings(environment="test", forwarded_allow_ips="10.0.0.1, 10.1.0.0/16"))
    assert options["proxy_headers"] is True and options["forwarded_allow_ips"] == ["10.0.0.1", "10.1.0.0/16"]
