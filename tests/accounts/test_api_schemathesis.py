"""Property-based tests of the JSON API from its OpenAPI document (schemathesis against the ASGI app):
no input, however odd, gives a server error, and documented successful answers match their schema.
Run logged in as a counsellor (cookie session and CSRF header), so the protected endpoints are reached.
A second pass sends hostile values (huge integers, NaN and infinities, NUL, unpaired surrogates) to every
parameter and every JSON property of every operation, each by the role it is for: none may give a 500.

Schemathesis's own pytest plugin does not run under pytest 9 here, so each operation's hypothesis
strategy is driven directly (same generation, same checks)."""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import response_schema_conformance

from passerelles.accounts.security import SESSION_COOKIE
from passerelles.webforms import FIELD_LABELS
from tests.support.accounts import World, login


def test_api_never_fails_on_generated_input(app: Any, world: World) -> None:
    client = TestClient(app)
    token = login(client, world.emails["conseiller_a"])
    headers = {"X-CSRF-Token": token}
    cookies = {SESSION_COOKIE: client.cookies.get(SESSION_COOKIE)}
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
        )
        def run(case: Any) -> None:
            if case.path in ("/api/v1/moi", "/api/v1/comptes/deconnexion") or case.path.startswith(
                "/api/v1/comptes/connexion"
            ):
                return  # would end the session the other cases use (covered in test_accounts)
            response = case.call(headers=headers, cookies=cookies)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} → {response.status_code}")
                return
            if 200 <= response.status_code < 300:
                case.validate_response(response, checks=[response_schema_conformance])

        run()
    assert operations > 40
    assert not failures, "\n".join(sorted(set(failures)))


# Hostile values (issue 14), sent to every parameter of every operation of the OpenAPI document: numbers beyond
# the database's integers, NaN and infinities, NUL, and an unpaired UTF-16 surrogate (in a URL, its UTF-8
# bytes %ED%A0%80, which are not valid UTF-8; in JSON, the escape "\ud800"). Written percent-encoded for URLs.
URL_VALUES = [
    "3000000000",
    "9223372036854775808",
    "-3000000000",
    "1" + "0" * 30,
    "nan",
    "inf",
    "-Infinity",
    "1e400",
    "%00",
    "a%00b",
    "%ED%A0%80",
]
BODY_VALUES: list[Any] = [
    3_000_000_000,
    2**63,
    -(2**63),
    10**30,
    float("nan"),
    float("inf"),
    "nan",
    "-Infinity",
    "\ud800",
    "a\udfffb",
    "\x00",
    "x\x00y",
]
# Query parameters read by hand from the query string (the forms' criteria), hence not in the document.
FORM_QUERY = [*sorted(FIELD_LABELS), "statut", "etape", "action_avant", "offre", "plateforme"]


def _schema_properties(body: Any) -> list[str]:
    schema = body.optimized_schema
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = schema.get("x-bundled", {}).get(name, schema)
    return sorted(schema.get("properties", {}))


def test_api_never_fails_on_hostile_values(app: Any, world: World) -> None:
    # Each operation is called by the role it is for, so that hostile values get past the access checks.
    clients: dict[str, tuple[TestClient, str]] = {}
    for role in ("conseiller_a", "employeur", "admin"):
        client = TestClient(app, raise_server_exceptions=False)
        clients[role] = (client, login(client, world.emails[role]))
    clients["anonyme"] = (TestClient(app, raise_server_exceptions=False), "")
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    sent = 0

    def send(method: str, url: str, content: str | None = None) -> None:
        nonlocal sent
        sent += 1
        client, token = clients[_role(url)]
        headers = {"X-CSRF-Token": token, "content-type": "application/json"}
        response = client.request(method, url, content=content, headers=headers)
        if response.status_code >= 500:
            failures.append(f"{method} {url} {(content or '')[:120]} → {response.status_code}")

    for result in schema.get_all_operations():
        operation = result.ok()
        method, path = operation.method.upper(), operation.path
        if path in ("/api/v1/moi", "/api/v1/comptes/deconnexion"):
            continue  # would end the session the other requests use
        names = [p.name for p in operation.path_parameters]
        filled = path
        for name in names:
            filled = filled.replace("{" + name + "}", "1")
        for name in names:
            for value in URL_VALUES:
                send(method, _fill(path, names, name, value))
        query = [p.name for p in operation.query] or (FORM_QUERY if method == "GET" and not names else [])
        for name in query:
            for value in URL_VALUES:
                send(method, f"{filled}?{name}={value}")
        for body in operation.body:
            if body.media_type != "application/json":
                continue
            base = _base_body(operation)
            for name in _schema_properties(body):
                for value in BODY_VALUES:
                    send(method, filled, json.dumps({**base, name: value}))
            send(method, filled, '{"a": NaN}')
    assert sent > 2000
    assert not failures, "\n".join(sorted(set(failures)))


def _role(url: str) -> str:
    if url.startswith("/api/v1/comptes/"):
        return "anonyme"  # logging in (and failing to) must not touch the sessions of the others
    if url.startswith("/api/v1/admin/"):
        return "admin"
    if url.startswith(("/api/v1/employeur/", "/api/v1/job-datings", "/api/v1/candidatures/")):
        return "employeur"
    return "conseiller_a"


def _fill(path: str, names: list[str], target: str, value: str) -> str:
    for name in names:
        path = path.replace("{" + name + "}", value if name == target else "1")
    return path


def _base_body(operation: Any) -> dict[str, Any]:
    """A body valid for the document (the simplest hypothesis finds), so that one hostile property is
    what the server meets, past the schema's other checks."""
    found: dict[str, Any] = {}

    @given(case=operation.as_strategy())
    @settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    def first(case: Any) -> None:
        if not found and isinstance(case.body, dict):
            found.update(case.body)

    first()
    return found
