"""Fixtures for accounts, caseloads, employers and alerts: a real SMTP server (aiosmtpd) on a free port,
a database with the project's reference data (cloned per test, SQLite and PostgreSQL), and a few people."""

from __future__ import annotations

import copy
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from passerelles.accounts import services
from passerelles.accounts.mail import wait_for_pending
from passerelles.accounts.schemas import AccountCreate, PlatformIn, StructureIn
from passerelles.accounts.security import SESSION_COOKIE
from passerelles.app import create_app
from passerelles.db import make_sessionmaker
from passerelles.places.models import Commune
from passerelles.reference.loader import load_reference
from passerelles.settings import Settings
from tests.conftest import BACKENDS, REFERENCE_DIR, DatabaseFactory

PASSWORD = "correct horse battery"
# Real communes (COG): Lyon 1er, Villeurbanne, Marseille 1er, with their coordinates.
COMMUNES = [
    ("69381", "Lyon 1er Arrondissement", "69", 45.7676, 4.8344),
    ("69266", "Villeurbanne", "69", 45.7719, 4.8902),
    ("13201", "Marseille 1er Arrondissement", "13", 43.2999, 5.3841),
]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        wait_for_pending()  # mails sent in the background (password reset) have arrived
        return [m for m in self.messages if m["To"] == address]

    def link(self, address: str, path: str) -> str:
        """The last link to ``path`` sent to ``address`` (path and query only)."""
        for message in reversed(self.to(address)):
            body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
            found = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"[^\s]*)", body)
            if found:
                return found.group(1)
        raise AssertionError(f"aucun lien {path} envoyé à {address}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def mailbox(smtp: tuple[Mailbox, int]) -> Mailbox:
    box, _port = smtp
    wait_for_pending()  # nothing from an earlier test arrives late
    box.messages.clear()
    return box


@pytest.fixture(scope="session", params=BACKENDS)
def reference_template(request: pytest.FixtureRequest, databases: DatabaseFactory) -> Engine:
    engine = databases(request.param)
    with make_sessionmaker(engine)() as session:
        load_reference(session, REFERENCE_DIR)
        for code, name, dep, lat, lon in COMMUNES:
            session.add(
                Commune(
                    code_insee=code,
                    name=name,
                    departement_code=dep,
                    postcodes=[],
                    latitude=lat,
                    longitude=lon,
                    row_hash="test",
                )
            )
        session.commit()
    engine.dispose()
    return engine


@pytest.fixture
def engine(request: pytest.FixtureRequest, reference_template: Engine, databases: DatabaseFactory) -> Iterator[Engine]:
    """A clone per test: of the reference database, or of the one with the ``world`` already in it.

    Its pooled connections are closed after the test (the database itself is dropped at the end of the
    session): tests that open many connections at once would otherwise exhaust PostgreSQL's clients."""
    template = reference_template
    if "world" in request.fixturenames:
        template = request.getfixturevalue("world_template")[0]
    engine = databases.clone(template.dialect.name, template)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(engine: Engine, smtp: tuple[Mailbox, int]) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        environment="test",
        smtp_port=smtp[1],
        base_url="http://testserver",
    )


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Any:
    return create_app(settings, engine=engine)


@pytest.fixture
def client(app: Any) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with make_sessionmaker(engine)() as session:
        yield session


@dataclass
class World:
    """Two platforms, a counsellor on each, a person, an employer and an administrator."""

    platform_a: int = 0
    platform_b: int = 0
    emails: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    employer_id: int = 0


@pytest.fixture(scope="session")
def world_template(reference_template: Engine, databases: DatabaseFactory) -> tuple[Engine, World]:
    """The reference database with the world's platforms and accounts, built once per engine and cloned
    for each test that asks for ``world`` (creating six accounts per test was most of the suite's time)."""
    engine = databases.clone(reference_template.dialect.name, reference_template)
    with make_sessionmaker(engine)() as session:
        w = _build_world(session)
    engine.dispose()
    return engine, w


@pytest.fixture
def world(request: pytest.FixtureRequest, engine: Engine) -> World:
    return copy.deepcopy(request.getfixturevalue("world_template")[1])


def _build_world(db: Session) -> World:
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
