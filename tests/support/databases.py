"""Test databases: real ones built from the Alembic migrations, on SQLite and on PostgreSQL.

``DatabaseFactory`` creates them (empty and migrated, or cloned from a prepared template) and removes them;
``build_reference_database`` and ``build_loaded_database`` are the one way to fill a template: the project's
reference data and a few communes, or the whole ROME 4.60 export and every commune on top.

PostgreSQL runs against the server at 127.0.0.1:5432 (user postgres, trust auth); ``PASSERELLES_TEST_PG_URL``
points elsewhere.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, NullPool, create_engine, insert, text

from passerelles.db import make_engine, make_sessionmaker, migrate
from passerelles.places.importer import import_communes
from passerelles.places.models import Commune
from passerelles.reference.loader import load_reference
from passerelles.rome.importer import import_rome
from passerelles.settings import PROJECT_ROOT

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
ROME_DIR = SHARED_DATA / "rome_v460"
GEO_DIR = SHARED_DATA / "geo_fr"
REFERENCE_DIR = PROJECT_ROOT / "data"
PG_ADMIN_URL = os.environ.get("PASSERELLES_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]
# DROP DATABASE waits for a checkpoint, which writes to disk what the databases still there hold: dropped one
# at a time, the 80 databases of tests/accounts took 50 to 80 s at the end of the session. Dropped all at once,
# they share one checkpoint with nothing of theirs left to write; this many connections are left to others.
SPARE_CONNECTIONS = 30


def pg_available() -> bool:
    try:
        eng = create_engine(PG_ADMIN_URL, poolclass=NullPool)
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return True
    except Exception:
        return False


class DatabaseFactory:
    """Creates migrated databases of a given backend (empty, or copies of a prepared template) and removes
    them: a SQLite file as soon as its test releases it, the PostgreSQL databases all at once at the end."""

    def __init__(self, tmp: Path, pg_ok: bool) -> None:
        self.tmp = tmp
        self.pg_ok = pg_ok
        self.created: list[tuple[str, Engine]] = []
        self.templates: dict[tuple[str, str], Engine] = {}
        self.admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)

    def _admin(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def url(self, backend: str) -> str:
        """The URL of a new empty database (not migrated)."""
        name = f"passerelles_test_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.sqlite3')}"
        if not self.pg_ok:
            pytest.skip("PostgreSQL indisponible")
        self._admin(f'CREATE DATABASE "{name}"')
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    def __call__(self, backend: str) -> Engine:
        """A new empty database, migrated to the latest revision."""
        url = self.url(backend)
        engine = make_engine(url)
        migrate(engine)
        self.created.append((backend, engine))
        return engine

    def clone(self, backend: str, template: Engine) -> Engine:
        """A copy of a prepared database (file copy, or CREATE DATABASE … TEMPLATE).

        ``template`` must have no open connection (dispose it after preparing it)."""
        name = f"passerelles_test_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            source = Path(str(template.url.database))
            target = source.with_name(name + ".sqlite3")
            shutil.copyfile(source, target)
            url = f"sqlite:///{target}"
        else:
            self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template.url.database}"')
            url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        engine = make_engine(url)
        self.created.append((backend, engine))
        return engine

    def template(self, backend: str, name: str, prepare: Callable[[Engine], object]) -> Engine:
        """The database ``prepare`` filled, built once per session and backend under ``name``, disposed
        (SQLite folds its WAL into the file; PostgreSQL copies only a template nobody is connected to)."""
        key = (backend, name)
        if key not in self.templates:
            engine = self(backend)  # skips when PostgreSQL is unavailable
            prepare(engine)
            engine.dispose()
            self.templates[key] = engine
        return self.templates[key]

    def release(self, engine: Engine) -> None:
        """The test is done with ``engine``: its connections are closed now, a SQLite file is removed now."""
        engine.dispose()
        if engine.dialect.name == "sqlite" and engine.url.database:
            for suffix in ("", "-wal", "-shm"):
                Path(engine.url.database + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        """Close every engine and drop the PostgreSQL databases, all at once (they share the checkpoints)."""
        names = []
        for backend, engine in self.created:
            engine.dispose()
            if backend == "postgresql" and engine.url.database:
                names.append(engine.url.database)
        if names:
            names = self._largest_first(names)  # past the first round, what is left has been written already
            with ThreadPoolExecutor(max_workers=min(len(names), self._free_connections())) as pool:
                list(pool.map(lambda name: self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'), names))
        self.admin.dispose()

    def _largest_first(self, names: list[str]) -> list[str]:
        query = text("select datname from pg_database where datname = any(:names) order by pg_database_size(oid) desc")
        with self.admin.connect() as conn:
            return list(conn.scalars(query, {"names": names}))

    def _free_connections(self) -> int:
        """How many connections the drops may open at once: the server's free ones, less a spare for others."""
        query = "select current_setting('max_connections')::int - (select count(*) from pg_stat_activity)"
        with self.admin.connect() as conn:
            free = int(conn.scalar(text(query)) or 0)
        return max(4, free - SPARE_CONNECTIONS)


class Clones:
    """Copies of one template, per backend: each call gives a fresh database (built once, copied per test)."""

    def __init__(self, databases: DatabaseFactory, name: str, prepare: Callable[[Engine], object]) -> None:
        self.databases = databases
        self.name = name
        self.prepare = prepare

    def template(self, backend: str) -> Engine:
        return self.databases.template(backend, self.name, self.prepare)

    def __call__(self, backend: str) -> Engine:
        return self.databases.clone(backend, self.template(backend))


def commune(
    code_insee: str,
    name: str,
    departement_code: str,
    latitude: float,
    longitude: float,
    postcodes: Sequence[str] = (),
    population: int | None = None,
) -> dict[str, Any]:
    """One row of the ``commune`` table, as the tests' templates hold it."""
    return {
        "code_insee": code_insee,
        "name": name,
        "departement_code": departement_code,
        "postcodes": list(postcodes),
        "population": population,
        "latitude": latitude,
        "longitude": longitude,
        "row_hash": "test",
    }


def build_reference_database(engine: Engine, communes: Iterable[Mapping[str, Any]] = ()) -> Engine:
    """Fill a migrated database with the project's reference data (régions, départements, …) and ``communes``
    (rows made by ``commune``): what most tests need, in a fraction of the whole communes import."""
    with make_sessionmaker(engine)() as session:
        load_reference(session, REFERENCE_DIR)
        session.commit()
    rows = [dict(row) for row in communes]
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(Commune), rows)
    return engine


def build_loaded_database(engine: Engine) -> Engine:
    """Fill a migrated database with the reference data, the whole ROME 4.60 export and every commune."""
    build_reference_database(engine)
    import_rome(engine, str(ROME_DIR))
    import_communes(engine, GEO_DIR)
    return engine


def reference_clones(databases: DatabaseFactory, communes: Sequence[Mapping[str, Any]]) -> Clones:
    """Copies of a database holding the reference data and ``communes`` (one template per list of communes,
    shared by every module that asks for the same list)."""
    rows = [dict(row) for row in communes]
    return Clones(databases, f"reference+{rows!r}", lambda engine: build_reference_database(engine, rows))
