"""The search's own filters on sessions (« voie », « modalité », « inscriptions ouvertes ») are held by the
listed sessions' indexes (migration 0019): the access routes as bits (``route_mask``), kept equal to the
JSON list by every writer (importer, ORM, Core insert) and by the migration on existing rows; on SQLite, a
count under such a filter is read from an index alone."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.orm import Session

from passerelles.db import alembic_config, make_engine
from passerelles.trainings import services as trainings
from passerelles.trainings.models import ROUTE_BITS, Training, TrainingSession, route_mask
from passerelles.trainings.schemas import TrainingQuery
from tests.support.databases import BACKENDS, DatabaseFactory

ROUTES = [[], ["initiale"], ["continue", "apprentissage"], ["initiale", "continue", "apprentissage", "vae"]]


def test_route_mask_has_one_bit_per_route() -> None:
    assert route_mask([]) == 0 and route_mask(None) == 0
    assert route_mask(["apprentissage", "inconnue"]) == ROUTE_BITS["apprentissage"]
    assert route_mask(ROUTES[3]) == 15 and len(set(ROUTE_BITS.values())) == 4


@pytest.fixture(params=BACKENDS)
def at_0018(request: pytest.FixtureRequest, databases: DatabaseFactory) -> Iterator[Engine]:
    """An empty database migrated up to 0018 only (before the route bits)."""
    url = databases.url(request.param)
    engine = make_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0018_listed_sessions")
    yield engine
    engine.dispose()


def test_the_migration_sets_the_bits_of_existing_sessions(at_0018: Engine) -> None:
    with at_0018.begin() as conn:
        conn.execute(text("INSERT INTO training (id, source, external_id, title, rncp, certifinfo, formacodes, nsf, rome_codes, is_demo, row_hash) VALUES (1, 'lheo', 'F', 'T', '[]', '[]', '[]', '[]', '[]', false, 'h')"))  # fmt: skip # noqa: E501
        for i, routes in enumerate(ROUTES):
            conn.execute(
                text(
                    "INSERT INTO training_session (source, external_id, training_id, title, routes, funding, contact,"
                    " is_demo, row_hash) VALUES ('lheo', :e, 1, 'S', :r, '[]', '{}', false, 'h')"
                ),
                {"e": f"S{i}", "r": str(routes).replace("'", '"')},
            )
    cfg = alembic_config(at_0018.url.render_as_string(hide_password=False))
    with at_0018.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with at_0018.connect() as conn:
        found = dict(conn.execute(text("SELECT external_id, route_mask FROM training_session")).all())
    assert found == {f"S{i}": route_mask(r) for i, r in enumerate(ROUTES)}
    assert found["S2"] == ROUTE_BITS["continue"] | ROUTE_BITS["apprentissage"]


@pytest.mark.parametrize("empty_engine", BACKENDS, indirect=True)
def test_orm_and_core_writers_keep_the_bits_with_the_routes(empty_engine: Engine) -> None:
    with Session(empty_engine) as db:
        training = Training(source="t", external_id="F", title="T", row_hash="h")
        db.add(training)
        db.flush()
        orm = TrainingSession(
            source="t", external_id="orm", training_id=training.id, title="S", routes=["vae"], row_hash="h"
        )
        db.add(orm)
        db.flush()
        orm.routes = ["initiale", "vae"]  # changed afterwards: the bits follow
        db.execute(
            insert(TrainingSession).values(
                source="t", external_id="core", training_id=training.id, title="S", routes=["continue"], row_hash="h"
            )
        )
        db.commit()
        found = dict(db.execute(select(TrainingSession.external_id, TrainingSession.route_mask)).all())
    assert found == {"orm": route_mask(["initiale", "vae"]), "core": ROUTE_BITS["continue"]}


@pytest.mark.parametrize("empty_engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "criteria",
    [{"voie": "apprentissage"}, {"inscriptions": True}, {"modalite": "distance"}, {"certification": "deaes"}],
)
def test_a_count_under_a_filter_reads_an_index_alone_on_sqlite(empty_engine: Engine, criteria: dict) -> None:
    """The count of a search under each filter, explained by SQLite: a covering index, never the table."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT COUNT"):
            statements.append((statement, parameters))

    from sqlalchemy import event

    from tests.support.databases import build_reference_database

    build_reference_database(empty_engine)
    # Sessions and their statistics, as on a store after an import (the planner chooses from them).
    with Session(empty_engine) as db:
        training = Training(source="t", external_id="F", title="T", row_hash="h")
        db.add(training)
        db.flush()
        day = dt.date(2027, 1, 4)
        db.execute(
            insert(TrainingSession),
            [
                {
                    "source": "t",
                    "external_id": f"S{i}",
                    "training_id": training.id,
                    "title": "S",
                    "start_date": day + dt.timedelta(days=i % 300),
                    "routes": ROUTES[i % 4],
                    "route_mask": route_mask(ROUTES[i % 4]),
                    "modality": ("presentiel", "distance")[i % 2],
                    "commune_code": f"{38000 + i % 500}",
                    "row_hash": "h",
                    "closed_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC) if i % 10 == 0 else None,
                }
                for i in range(2000)
            ],
        )
        db.commit()
    with empty_engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    event.listen(empty_engine, "before_cursor_execute", record)
    try:
        with Session(empty_engine) as db:
            trainings.search_sessions(db, TrainingQuery(**criteria), today=dt.date(2026, 12, 6))
    finally:
        event.remove(empty_engine, "before_cursor_execute", record)
    assert statements, "the search counts its sessions"
    with empty_engine.connect() as conn:
        for statement, parameters in statements:
            plan = " | ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
            if "training_session" in statement:
                assert "COVERING INDEX ix_training_session_listed" in plan, plan


@pytest.mark.parametrize("empty_engine", BACKENDS, indirect=True)
def test_an_import_that_changed_a_table_much_vacuums_it_on_postgresql(empty_engine: Engine) -> None:
    """After a bulk import, PostgreSQL reads the listed indexes alone only once a vacuum has marked the pages
    all-visible: the import vacuums the tables it changed much (autovacuum may be off, as on this machine)."""
    from passerelles.importing.sync import vacuum_after_import

    postgresql = empty_engine.dialect.name == "postgresql"
    with empty_engine.connect() as conn:
        conn.execute(insert(Training).values(source="t", external_id="F", title="T", row_hash="h"))
        conn.commit()
        if postgresql:  # this backend's statistics in shared memory as soon as it is idle
            conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")
            conn.commit()
    if not postgresql:
        assert vacuum_after_import(empty_engine, least=1) == []
        return
    inserted = text("SELECT n_ins_since_vacuum FROM pg_stat_user_tables WHERE relname = 'training'")
    for _ in range(50):
        with empty_engine.connect() as conn:
            if conn.scalar(inserted):
                break
        time.sleep(0.1)
    assert vacuum_after_import(empty_engine, least=1_000_000) == []  # too few changes
    assert "training" in vacuum_after_import(empty_engine, least=1)
    with empty_engine.connect() as conn:
        vacuumed = conn.scalar(text("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'training'"))
    assert vacuumed is not None
    assert "training" not in vacuum_after_import(empty_engine, least=1)  # nothing changed since


@pytest.mark.parametrize("empty_engine", BACKENDS, indirect=True)
def test_counts_are_kept_until_the_sessions_change(empty_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A count is kept for the same conditions, and forgotten when a session is written here (ORM), when
    an import ran elsewhere (a new import run), or after COUNT_TTL_S; a write that bypasses all three (a Core
    update in another process) shows after COUNT_TTL_S at most."""
    from passerelles.importing.models import ImportRun
    from passerelles.trainings import counts

    counts.forget_counts()
    open_ = [TrainingSession.closed_at.is_(None)]
    with Session(empty_engine) as db:
        training = Training(source="t", external_id="F", title="T", row_hash="h")
        db.add(training)
        db.flush()
        db.add(TrainingSession(source="t", external_id="S1", training_id=training.id, title="S", row_hash="h"))
        db.commit()
        assert counts.count_sessions(db, open_) == 1
        # Another process closes it (Core, no import run): this process still says 1, for a while.
        with empty_engine.begin() as conn:
            conn.execute(text("UPDATE training_session SET closed_at = CURRENT_TIMESTAMP"))
        assert counts.count_sessions(db, open_) == 1
        # An import elsewhere records its run: the count is taken again.
        with empty_engine.begin() as conn:
            conn.execute(insert(ImportRun).values(importer="lheo", source="x", status="ok", started_at=dt.datetime.now(dt.UTC), finished_at=dt.datetime.now(dt.UTC)))  # fmt: skip # noqa: E501
        assert counts.count_sessions(db, open_) == 0
        # A session written here through the ORM.
        db.add(TrainingSession(source="t", external_id="S2", training_id=training.id, title="S", row_hash="h"))
        db.commit()
        assert counts.count_sessions(db, open_) == 1
        # Time passes.
        with empty_engine.begin() as conn:
            conn.execute(text("UPDATE training_session SET closed_at = NULL"))
        assert counts.count_sessions(db, open_) == 1
        later = time.monotonic() + counts.COUNT_TTL_S + 1
        monkeypatch.setattr(counts, "_clock", lambda: later)
        assert counts.count_sessions(db, open_) == 2


def test_an_import_lowers_its_own_priority_never_raises_it() -> None:
    """On a machine that also serves pages, an import runs at niceness PASSERELLES_IMPORT_NICE (10) at
    least; a process already lower stays so (in a child process: the test's own priority is left alone)."""
    import subprocess
    import sys

    code = (
        "import os; from passerelles.clitools import lower_priority; "
        "lower_priority(10); a = os.nice(0); lower_priority(5); b = os.nice(0); lower_priority(0); "
        "print(a, b, os.nice(0))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["10", "10", "10"]
