"""Test fixtures: real databases built from the Alembic migrations, on SQLite and on PostgreSQL.

PostgreSQL runs against the server at 127.0.0.1:5432 (user postgres, trust auth). Outside CI a missing
server skips those tests; under CI=true it is an error, so the PostgreSQL run cannot silently vanish.
"""

from __future__ import annotations

import os
import secrets
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from passerelles.app import create_app
from passerelles.db import make_engine, make_sessionmaker, migrate
from passerelles.reference.loader import load_reference
from passerelles.settings import PROJECT_ROOT, Settings

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
ROME_DIR = SHARED_DATA / "rome_v460"
GEO_DIR = SHARED_DATA / "geo_fr"
REFERENCE_DIR = PROJECT_ROOT / "data"
PG_ADMIN_URL = os.environ.get("PASSERELLES_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session", autouse=True)
def session_secret_key() -> Iterator[str]:
    """One random secret for the whole test session, seen by every ``Settings()`` (apps, CLI runs), as an
    operator's PASSERELLES_SECRET_KEY would be: signed links made by the CLI open in the app."""
    with pytest.MonkeyPatch.context() as mp:
        key = secrets.token_urlsafe(32)
        mp.setenv("PASSERELLES_SECRET_KEY", key)
        yield key


def _pg_available() -> bool:
    try:
        eng = create_engine(PG_ADMIN_URL)
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_ok() -> bool:
    ok = _pg_available()
    if not ok and os.environ.get("CI") == "true":
        pytest.fail("PostgreSQL à 127.0.0.1:5432 injoignable : sous CI=true, les tests PostgreSQL doivent tourner")
    return ok


class DatabaseFactory:
    """Creates empty migrated databases of a given backend, and drops them at the end."""

    def __init__(self, tmp: Path, pg_ok: bool) -> None:
        self.tmp = tmp
        self.pg_ok = pg_ok
        self.created: list[tuple[str, Engine]] = []

    def url(self, backend: str) -> str:
        name = f"passerelles_test_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.sqlite3')}"
        if not self.pg_ok:
            pytest.skip("PostgreSQL indisponible")
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    def __call__(self, backend: str) -> Engine:
        url = self.url(backend)
        engine = make_engine(url)
        migrate(engine)
        self.created.append((backend, engine))
        return engine

    def clone(self, backend: str, template: Engine) -> Engine:
        """A copy of a prepared database (file copy, or CREATE DATABASE … TEMPLATE), dropped at the end.

        ``template`` must have no open connection (dispose it after preparing it)."""
        name = f"passerelles_test_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            source = Path(str(template.url.database))
            target = source.with_name(name + ".sqlite3")
            shutil.copyfile(source, target)
            url = f"sqlite:///{target}"
        else:
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template.url.database}"'))
            admin.dispose()
            url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        engine = make_engine(url)
        self.created.append((backend, engine))
        return engine

    def close(self) -> None:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT") if self.pg_ok else None
        for backend, engine in self.created:
            name = engine.url.database
            engine.dispose()
            if backend == "postgresql" and admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if admin is not None:
            admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory, pg_ok: bool) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("db"), pg_ok)
    yield factory
    factory.close()


@pytest.fixture
def empty_engine(request: pytest.FixtureRequest, databases: DatabaseFactory) -> Engine:
    """A fresh migrated database for tests that write (importers); parametrised by ``backend``."""
    return databases(request.param)


@pytest.fixture(scope="session", params=BACKENDS)
def loaded_engine(request: pytest.FixtureRequest, databases: DatabaseFactory) -> Engine:
    """A database with the reference data, the whole ROME 4.60 export and the communes, shared read-only."""
    from passerelles.places.importer import import_communes
    from passerelles.rome.importer import import_rome

    engine = databases(request.param)
    with make_sessionmaker(engine)() as session:
        load_reference(session, REFERENCE_DIR)
        session.commit()
    import_rome(engine, str(ROME_DIR))
    import_communes(engine, GEO_DIR)
    return engine


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
def client_factory(loaded_engine: Engine):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    settings = Settings(database_url=loaded_engine.url.render_as_string(hide_password=False), environment="test")
    app = create_app(settings, engine=loaded_engine)
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(client_factory):  # type: ignore[no-untyped-def]
    return client_factory


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


# argon2id at its smallest cost (1 pass, 8 KiB, 1 lane) for the whole suite: hundreds of accounts are created
# and logged in. The production parameters are unchanged and asserted in tests/accounts/test_accounts.py.
TEST_PASSWORD_HASHER_PARAMETERS = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> None:
    from argon2 import PasswordHasher

    from passerelles.accounts.services import use_password_hasher

    use_password_hasher(PasswordHasher(**TEST_PASSWORD_HASHER_PARAMETERS))
