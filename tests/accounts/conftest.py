"""Fixtures for accounts, caseloads, employers and alerts: a real SMTP server (aiosmtpd) on a free port,
a database with the project's reference data (cloned per test, SQLite and PostgreSQL), and a few people.
The helpers (``World``, ``login``, ``page_csrf``, ``Mailbox``) live in ``tests/support``."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from passerelles.accounts.mail import wait_for_pending
from passerelles.app import create_app
from passerelles.db import make_sessionmaker
from passerelles.settings import Settings
from tests.support.accounts import COMMUNES, World, build_world
from tests.support.databases import BACKENDS, DatabaseFactory, reference_clones
from tests.support.mail import Mailbox
from tests.support.net import free_port


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
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
    """The reference data and three communes (Lyon 1er, Villeurbanne, Marseille 1er), built once per engine."""
    return reference_clones(databases, COMMUNES).template(request.param)


@pytest.fixture(scope="session")
def world_template(reference_template: Engine, databases: DatabaseFactory) -> tuple[Engine, World]:
    """The reference database with the world's platforms and accounts, built once per engine and cloned
    for each test that asks for ``world`` (creating six accounts per test was most of the suite's time)."""
    engine = databases.clone(reference_template.dialect.name, reference_template)
    with make_sessionmaker(engine)() as session:
        w = build_world(session)
    engine.dispose()
    return engine, w


@pytest.fixture
def engine(request: pytest.FixtureRequest, reference_template: Engine, databases: DatabaseFactory) -> Iterator[Engine]:
    """A clone per test: of the reference database, or of the one with the ``world`` already in it.

    Released after the test, once the mails sent in the background are out (they use the database): its
    connections closed (tests that open many connections at once would otherwise exhaust PostgreSQL's
    clients), a SQLite file removed; PostgreSQL databases are dropped together at the end of the session."""
    template = reference_template
    if "world" in request.fixturenames:
        template = request.getfixturevalue("world_template")[0]
    engine = databases.clone(template.dialect.name, template)
    yield engine
    wait_for_pending()
    databases.release(engine)


@pytest.fixture
def settings(engine: Engine, smtp: tuple[Mailbox, int], tmp_path: Any) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        environment="test",
        smtp_port=smtp[1],
        base_url="http://testserver",
        upload_dir=tmp_path / "cv",  # the CVs of applications: never the project's var/
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


@pytest.fixture
def world(request: pytest.FixtureRequest, engine: Engine) -> World:
    return copy.deepcopy(request.getfixturevalue("world_template")[1])
