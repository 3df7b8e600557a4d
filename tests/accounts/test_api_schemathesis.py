"""Property-based tests of the JSON API from its OpenAPI document (schemathesis against the ASGI app):
no input, however odd, gives a server error, and documented successful answers match their schema.
Run logged in as a counsellor (cookie session and CSRF header), so the protected endpoints are reached.

Schemathesis's own pytest plugin does not run under pytest 9 here, so each operation's hypothesis
strategy is driven directly (same generation, same checks)."""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import response_schema_conformance

from passerelles.accounts.security import SESSION_COOKIE
from tests.accounts.conftest import World, login


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
