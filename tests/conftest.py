"""Test fixtures: real databases built from the Alembic migrations, on SQLite and on PostgreSQL.

PostgreSQL runs against the server at 127.0.0.1:5432 (user postgres, trust auth). Outside CI a missing
server skips those tests; under CI=true it is an error, so the PostgreSQL run cannot silently vanish.
The helpers (database factory, template builders, world, mailbox…) live in ``tests/support``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from passerelles.accounts.services import use_password_hasher
from passerelles.app import create_app
from passerelles.settings import Settings
from tests.support.accounts import TEST_PASSWORD_HASHER_PARAMETERS
from tests.support.databases import BACKENDS, DatabaseFactory, build_loaded_database, pg_available


@pytest.fixture(scope="session", autouse=True)
def session_secret_key() -> Iterator[str]:
    """One random secret for the whole test session, seen by every ``Settings()`` (apps, CLI runs), as an
    operator's PASSERELLES_SECRET_KEY would be: signed links made by the CLI open in the app."""
    with pytest.MonkeyPatch.context() as mp:
        key = secrets.token_urlsafe(32)
        mp.setenv("PASSERELLES_SECRET_KEY", key)
        yield key


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> None:
    use_password_hasher(PasswordHasher(**TEST_PASSWORD_HASHER_PARAMETERS))


@pytest.fixture(scope="session")
def pg_ok() -> bool:
    ok = pg_available()
    if not ok and os.environ.get("CI") == "true":
        pytest.fail("PostgreSQL à 127.0.0.1:5432 injoignable : sous CI=true, les tests PostgreSQL doivent tourner")
    return ok


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory, pg_ok: bool) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("db"), pg_ok)
    yield factory
    factory.close()


@pytest.fixture
def empty_engine(request: pytest.FixtureRequest, databases: DatabaseFactory) -> Iterator[Engine]:
    """A fresh migrated database for tests that write (importers); parametrised by ``backend``."""
    engine = databases(request.param)
    yield engine
    databases.release(engine)


@pytest.fixture(scope="session", params=BACKENDS)
def loaded_engine(request: pytest.FixtureRequest, databases: DatabaseFactory) -> Engine:
    """A database with the reference data, the whole ROME 4.60 export and the communes, shared read-only."""
    return build_loaded_database(databases(request.param))


@pytest.fixture
def session(loaded_engine: Engine) -> Iterator[Session]:
    """A session on the loaded database whose writes are rolled back after the test."""
    connection = loaded_engine.connect()
    transaction = connection.begin()
    sess = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield sess
    finally:
        sess.close()
        transaction.rollback()
        connection.close()


@pytest.fixture(scope="session")
def loaded_client(loaded_engine: Engine) -> TestClient:
    """One client of an app on the loaded database, for the whole session."""
    settings = Settings(database_url=loaded_engine.url.render_as_string(hide_password=False), environment="test")
    app = create_app(settings, engine=loaded_engine)
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(loaded_client: TestClient) -> TestClient:
    return loaded_client


@pytest.fixture
def backend_name(loaded_engine: Engine) -> str:
    return loaded_engine.dialect.name


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly how many tests ran on each database engine (CI logs must show PostgreSQL ran)."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if getattr(report, "when", "call") not in ("call", "setup"):
                continue
            if outcome == "passed" and getattr(report, "when", "call") != "call":
                continue
            for engine in BACKENDS:
                if f"[{engine}" in nodeid or f"-{engine}]" in nodeid or f"-{engine}-" in nodeid:
                    counts.setdefault(engine, {}).setdefault(outcome, 0)
                    counts[engine][outcome] += 1
    for engine in BACKENDS:
        c = counts.get(engine, {})
        terminalreporter.write_line(
            f"Tests sur {engine} : {c.get('passed', 0)} réussis, {c.get('failed', 0)} en échec, "
            f"{c.get('skipped', 0)} sautés"
        )
