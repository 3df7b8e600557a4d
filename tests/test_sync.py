"""The loading helpers' shortcuts (:mod:`passerelles.importing.sync`) give what SQLAlchemy's own bind
processors give: same JSON text, same dates, same values when a row reuses an earlier row's conversions."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.engine import Dialect

from passerelles.importing.sync import _insert_plan, bind_ahead
from passerelles.trainings.models import TrainingSession

SESSION = TrainingSession.__table__
DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": psycopg.dialect()}


def _row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source": "lheo",
        "is_demo": False,
        "address": "1 rue de la Paix",
        "latitude": 48.5,
        "routes": ["continue", "apprentissage"],
        "route_mask": 6,  # the importers write it beside the routes (else the driver path does not apply)
        "funding": [],
        "cost_eur": Decimal("12.50"),
        "cpf_eligible": True,
        "external_id": "F1/A1/S1",
        "title": "Soudeur",
        "start_date": dt.date(2027, 1, 11),
        "end_date": None,
        "contact": {"name": "Centre é", "email": "a@b.fr"},
    }
    row.update(changes)
    return row


@pytest.mark.parametrize(
    "value",
    [
        [],
        ["a"],
        ["é", 'guillemet " et \\', "ligne\nsuivante", "\U0001f600", "\ud800", "\x00"],
        {},
        {"name": "Centre de formation é", "phone": "01 02 03 04 05"},
        {"k": 1},  # not all strings: SQLAlchemy's own processor
        [["nested"]],
        ["a", 1],
        None,
    ],
)
def test_json_columns_are_written_as_sqlalchemy_writes_them(value: Any) -> None:
    dialect = sqlite.dialect()
    names = tuple(c.name for c in SESSION.c if c.name != "id")
    plan = _insert_plan(SESSION, dialect, names)
    assert plan is not None
    process = dict(plan[1])[names.index("routes")]
    assert process.__qualname__.startswith("_plain_json")  # the shortcut applies on SQLite
    own = SESSION.c.routes.type.dialect_impl(dialect).bind_processor(dialect)
    assert own is not None
    assert process(value) == own(value) == json.dumps(value)


@pytest.mark.parametrize("dialect", DIALECTS.values(), ids=DIALECTS.keys())
def test_reusing_the_previous_rows_conversions_changes_no_value(dialect: Dialect) -> None:
    first = _row()
    ahead = bind_ahead(SESSION, dialect, first)
    assert ahead is not None
    # The next session of the action: the shared values are the same objects, the others differ.
    second = {
        **first,
        "external_id": "F1/A1/S2",
        "start_date": dt.date(2027, 3, 8),
        "contact": {"name": "Autre"},
        "end_date": dt.date(2027, 3, 8),
    }
    reused = bind_ahead(SESSION, dialect, second, (first, ahead))
    fresh = bind_ahead(SESSION, dialect, dict(second))
    assert reused is not None and fresh is not None
    assert reused[0] == fresh[0]
    assert [_plain(v) for v in reused[1]] == [_plain(v) for v in fresh[1]]


def _plain(value: Any) -> Any:
    """psycopg's JSON wrapper compares by identity: compare what it wraps."""
    return getattr(value, "obj", value)


@pytest.mark.parametrize("empty_engine", ["postgresql"], indirect=True)
def test_a_table_filled_by_an_import_gets_new_statistics_on_postgresql(empty_engine: Any) -> None:
    """Look-ups prepared while a table was empty scan it whole: once it changed more than its size since
    its last statistics, the table is analysed (then not again until it changes as much)."""
    import time

    from sqlalchemy import insert, text

    from passerelles.importing.sync import refresh_statistics
    from passerelles.places.models import Region

    engine, table = empty_engine, Region.__table__
    query = text(
        "SELECT c.reltuples, s.last_analyze, s.n_mod_since_analyze FROM pg_class c "
        "JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = 'region'"
    )

    def stats() -> Any:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_stat_force_next_flush()"))
            return conn.execute(query).one()

    with engine.begin() as conn:
        conn.execute(table.delete())
        conn.execute(insert(table), [{"code": f"{i:03x}", "name": f"Région {i}"} for i in range(3000)])
    for _ in range(50):  # the writes reach the statistics shortly after the commit
        if stats()[2] >= 3000:
            break
        time.sleep(0.1)
    with engine.begin() as conn:
        refresh_statistics(conn, table)
    analysed = stats()
    assert analysed[1] is not None and analysed[0] >= 3000 and analysed[2] == 0
    with engine.begin() as conn:
        refresh_statistics(conn, table)  # nothing changed since: not analysed again
    assert stats()[1] == analysed[1]
