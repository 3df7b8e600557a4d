"""The accounts tests' world (two platforms, their counsellors, a person, an employer, an administrator),
and how a test logs in and finds a page's CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from passerelles.accounts import services
from passerelles.accounts.schemas import AccountCreate, PlatformIn, StructureIn
from passerelles.accounts.security import SESSION_COOKIE
from tests.support.databases import commune

PASSWORD = "correct horse battery"
# argon2id at its smallest cost (1 pass, 8 KiB, 1 lane) for the whole suite: hundreds of accounts are created
# and logged in. The production parameters are unchanged and asserted in tests/accounts/test_accounts.py.
TEST_PASSWORD_HASHER_PARAMETERS = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
# Real communes (COG): Lyon 1er, Villeurbanne, Marseille 1er, with their coordinates.
COMMUNES = [
    commune("69381", "Lyon 1er Arrondissement", "69", 45.7676, 4.8344),
    commune("69266", "Villeurbanne", "69", 45.7719, 4.8902),
    commune("13201", "Marseille 1er Arrondissement", "13", 43.2999, 5.3841),
]


@dataclass
class World:
    """Two platforms, a counsellor on each, a person, an employer and an administrator."""

    platform_a: int = 0
    platform_b: int = 0
    emails: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    employer_id: int = 0


def build_world(db: Session) -> World:
    w = World()
    w.platform_a = services.create_platform(db, None, PlatformIn(name="Plateforme Rhône")).id
    w.platform_b = services.create_platform(db, None, PlatformIn(name="Plateforme Bouches-du-Rhône")).id
    people = {
        "admin": AccountCreate(email="admin@example.org", display_name="Admin", role="admin"),
        "conseiller_a": AccountCreate(
            email="claire.a@example.org", display_name="Claire Conseil", role="conseiller", platform_id=w.platform_a
        ),
        "conseiller_a2": AccountCreate(
            email="paul.a2@example.org", display_name="Paul Conseil", role="conseiller", platform_id=w.platform_a
        ),
        "conseiller_b": AccountCreate(
            email="bruno.b@example.org", display_name="Bruno Conseil", role="conseiller", platform_id=w.platform_b
        ),
        "employeur": AccountCreate(
            email="drh@ehpad-exemple.org",
            display_name="EHPAD Les Tilleuls",
            role="employeur",
            structure=StructureIn(
                name="EHPAD Les Tilleuls", siret="73282932000074", structure_type="ehpad", commune_code="69266"
            ),
        ),
        "personne": AccountCreate(email="nadia.personne@example.org", display_name="Nadia Benali", role="personne"),
    }
    for key, data in people.items():
        account = services.create_account(db, None, data, password=PASSWORD, verified=True)
        w.emails[key] = account.email
        w.ids[key] = account.id
        if key == "employeur":
            w.employer_id = account.employer_id or 0
    db.commit()
    return w


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the API; returns the session's CSRF token (cookies stay on the client)."""
    headers = {}
    if client.cookies.get(SESSION_COOKIE):
        me = client.get("/api/v1/comptes/moi")
        if me.status_code == 200:
            headers["X-CSRF-Token"] = me.json()["csrf_token"]
    response = client.post("/api/v1/comptes/connexion", json={"email": email, "password": password}, headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def page_csrf(client: TestClient, path: str) -> str:
    html = client.get(path).text
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, f"pas de jeton CSRF dans {path}"
    return found.group(1)
