"""Loading helpers shared by the record importers (LHÉO, offers): diff a batch against the store by
natural key and row hash, write only what changed, and close what a full feed no longer carries.

Each importer calls these inside one transaction per batch (``with engine.begin() as conn``), so an
interrupted import (even ``kill -9``) leaves every batch either fully written or not at all, and a
re-run converges on the same store.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from json.encoder import encode_basestring_ascii as _json_str
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Date, DateTime, Table, and_, bindparam, insert, or_, select, text, update
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement

from passerelles.importing.limits import ImportLimits
from passerelles.importing.report import EntityCounts, ImportRefused

CHUNK = 900  # stays under SQLite's bound-parameter limit for two-column keys


def row_hash(values: dict[str, Any]) -> str:
    """SHA-1 of the row's values as canonical JSON (keys sorted; dates in ISO 8601, decimals as text).

    orjson does it about five times faster than ``json``; what it cannot encode (a lone surrogate, an
    integer over 64 bits) falls back to ``json``, so that every row gets a hash."""
    try:
        payload = orjson.dumps(values, default=str, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError
        payload = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return hashlib.sha1(payload, usedforsecurity=False).hexdigest()


@functools.lru_cache(maxsize=64)
def _insert_plan(
    table: Table, dialect: Dialect, columns: tuple[str, ...]
) -> tuple[str, list[tuple[int, Callable[[Any], Any]]], dict[str, Any]] | None:
    """(statement, bind processors by position, constant defaults) for :func:`insert_rows`, or ``None``
    when the driver path does not apply (another driver, a column default computed in Python)."""
    if dialect.name not in ("sqlite", "postgresql") or dialect.driver not in ("pysqlite", "psycopg"):
        return None
    defaults: dict[str, Any] = {}
    for col in table.c:
        if col.name in columns or (col.primary_key and col.autoincrement in (True, "auto")):
            continue
        if col.default is None:
            continue  # the database's own default, or NULL: what SQLAlchemy would do too
        if not col.default.is_scalar:
            return None
        defaults[col.name] = getattr(col.default, "arg", None)
    names = [*columns, *defaults]
    quote = dialect.identifier_preparer.quote
    cols = ", ".join(quote(n) for n in names)
    if dialect.name == "postgresql":
        sql = f"COPY {quote(table.name)} ({cols}) FROM STDIN"
    else:
        # Table and column names come from the model (quoted); values are bound parameters.
        sql = f"INSERT INTO {quote(table.name)} ({cols}) VALUES ({', '.join('?' for _ in names)})"  # noqa: S608
    processors: list[tuple[int, Callable[[Any], Any]]] = []
    for i, name in enumerate(names):
        col_type = table.c[name].type
        proc: Callable[[Any], Any] | None = col_type.dialect_impl(dialect).bind_processor(dialect)
        if proc is not None:
            if isinstance(col_type, Date) and not isinstance(col_type, DateTime):
                # A date formatted as text (SQLite): few distinct values, each formatted once.
                proc = functools.lru_cache(maxsize=4096, typed=True)(proc)
            elif isinstance(col_type, JSON):
                proc = _plain_json(proc)
            processors.append((i, proc))
    return sql, processors, defaults


_JSON_SAMPLES: tuple[Any, ...] = ([], ["a", 'é \\ " \n \U0001f600 \ud800'], {}, {"k": "é", "é": "\x00"})


def _plain_json(proc: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``proc`` (a JSON column's bind processor) with a shortcut for a list of strings or a dict of
    strings, the usual values: the same text ``json.dumps`` writes, without its encoder's set-up. Only when
    ``proc`` writes exactly that text (SQLite, default serializer), else ``proc`` itself."""

    def process(value: Any) -> Any:
        kind = type(value)
        if kind is list:
            if not value:
                return "[]"
            if all(type(v) is str for v in value):
                return "[" + ", ".join(map(_json_str, value)) + "]"
        elif kind is dict and all(type(k) is str and type(v) is str for k, v in value.items()):
            return "{" + ", ".join(_json_str(k) + ": " + _json_str(v) for k, v in value.items()) + "}"
        return proc(value)

    try:
        same = all(proc(v) == process(v) == json.dumps(v) for v in _JSON_SAMPLES)
    except Exception:
        same = False
    return process if same else proc


Bound = tuple[tuple[str, ...], list[Any]]  # (columns, their values as the driver takes them)


def bind_ahead(
    table: Table, dialect: Dialect, row: dict[str, Any], previous: tuple[dict[str, Any], Bound] | None = None
) -> Bound | None:
    """The values of ``row`` as :func:`insert_rows` would send them to the driver (the columns' bind
    processors applied), computed ahead, in a reader process: the loading process then converts only the
    columns added after (ids). ``None`` when the driver path does not apply.

    ``previous``: an earlier row of the same columns and what this function made of it. A value that is
    the very same object as the earlier row's (the values an action shares with its sessions, a date
    read again) takes the earlier conversion as it is; the earlier row's values must not have been
    changed in place since."""
    columns = tuple(row)
    plan = _insert_plan(table, dialect, columns)
    if plan is None:
        return None
    # One tuple object per set of columns: pickled once per message, however many rows share it.
    columns = _COLUMNS.setdefault(columns, columns)
    if len(_COLUMNS) > 1024:
        _COLUMNS.clear()
    values = list(row.values())
    if previous is not None and previous[1][0] is columns:
        before, done = list(previous[0].values()), previous[1][1]
        for i, proc in plan[1]:
            if i < len(values):
                value = values[i]
                values[i] = done[i] if value is before[i] else proc(value)
        return columns, values
    for i, proc in plan[1]:
        if i < len(values):
            values[i] = proc(values[i])
    return columns, values


_COLUMNS: dict[tuple[str, ...], tuple[str, ...]] = {}


def insert_rows(
    conn: Connection, table: Table, rows: list[dict[str, Any]], bound: dict[int, Bound] | None = None
) -> None:
    """INSERT ``rows`` (dicts with the same keys) in the connection's transaction, fast.

    SQLAlchemy's ``executemany`` spends more time building parameters than SQLite spends writing: here
    the values go through the columns' own bind processors (the same conversions SQLAlchemy applies), then
    straight to the driver: ``executemany`` on SQLite, ``COPY … FROM STDIN`` on PostgreSQL (psycopg).

    ``bound``: for some rows (by ``id(row)``), their first columns already converted by :func:`bind_ahead`;
    those columns must not have changed since."""
    if not rows:
        return
    columns = tuple(rows[0])
    plan = _insert_plan(table, conn.dialect, columns)
    if plan is None or any(len(r) != len(columns) for r in rows):
        for start in range(0, len(rows), 1000):
            conn.execute(insert(table), rows[start : start + 1000])
        return
    sql, processors, defaults = plan
    tail = list(defaults.values())
    data = []
    later: dict[int, list[tuple[int, Callable[[Any], Any]]]] = {}  # processors of the columns not bound ahead
    for r in rows:
        ahead = bound.get(id(r)) if bound else None
        if ahead is not None and columns[: len(ahead[0])] == ahead[0]:
            n = len(ahead[0])
            values = ahead[1] + [r[c] for c in columns[n:]]
            values += tail
            if n not in later:
                later[n] = [(i, proc) for i, proc in processors if i >= n]
            for i, proc in later[n]:
                values[i] = proc(values[i])
        else:
            values = [r[c] for c in columns]
            values += tail
            for i, proc in processors:
                values[i] = proc(values[i])
        data.append(values)
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    driver_error = conn.dialect.loaded_dbapi.Error
    cursor = dbapi.cursor()
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(sql) as copy:
                for values in data:
                    copy.write_row(values)
        else:
            cursor.executemany(sql, data)
    except driver_error as err:
        # The same exception SQLAlchemy raises, so that callers handle both paths alike.
        raise DBAPIError.instance(sql, None, err, driver_error, dialect=conn.dialect) from err
    finally:
        cursor.close()


BULK_CACHE_KIB = 128 * 1024


_STALE = text(
    "SELECT c.reltuples, s.n_mod_since_analyze FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid "
    "WHERE c.oid = CAST(:name AS regclass)"
)


def refresh_statistics(conn: Connection, table: Table) -> None:
    """PostgreSQL: ANALYZE ``table`` once it changed more than its size since its statistics were taken.

    An import that fills a table looks keys up in it batch after batch, with prepared statements: planned
    while the table was empty, they scan it whole, and the import slows down as it grows (300 000 LHÉO
    sessions: 180 s, most of it in the look-up of new formations' ids, with autovacuum off). New
    statistics make PostgreSQL plan them again. The table doubles between two ANALYZE (each samples at most
    30 000 rows): a handful per import."""
    if conn.dialect.name != "postgresql":
        return
    row = conn.execute(_STALE, {"name": table.name}).first()
    if row is not None and row[1] >= max(1000.0, row[0]):
        conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(table.name)}")


_CHANGED_SINCE_VACUUM = text(
    "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
    "AND n_ins_since_vacuum + n_dead_tup >= GREATEST(:least, :share * n_live_tup)"
)


def vacuum_after_import(engine: Engine, *, least: int = 10_000, share: float = 0.2) -> list[str]:
    """PostgreSQL: ``VACUUM (ANALYZE)`` the tables an import changed much (``least`` rows and ``share`` of
    the table since their last vacuum); the names of those vacuumed.

    The lists read the sessions and offers from their indexes alone (the listed partial indexes) only for
    pages the visibility map marks all-visible, which a vacuum sets: after a bulk import and before
    autovacuum comes by (never, where it is off), each row would be read from the table too."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        tables = list(conn.execute(_CHANGED_SINCE_VACUUM, {"least": least, "share": share}).scalars())
    if tables:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name in tables:
                conn.exec_driver_sql(f"VACUUM (ANALYZE) {conn.dialect.identifier_preparer.quote(name)}")
    return tables


def tune_for_bulk(conn: Connection) -> None:
    """Before a batch: on SQLite, a page cache of 128 MiB instead of 2 MiB, so that the indexes of a
    table of a million rows stay in memory while it grows (the pooled connection keeps the setting)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")


def restore_indexes(conn: Connection, tables: Sequence[Table]) -> None:
    """Create the secondary indexes of ``tables`` that are missing (those :func:`defer_indexes` dropped:
    an import calls this when it ends, and when it starts, after an import killed before its end)."""
    if conn.dialect.name != "sqlite":
        return
    names = {name for (name,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
    for table in tables:
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            if index.name not in names:
                index.create(conn)


def defer_indexes(conn: Connection, tables: Sequence[Table]) -> None:
    """On SQLite, drop the secondary indexes of those ``tables`` that are empty, in the transaction of the
    first batch of an import, so that filling them costs less: building an index once at the end (a sort)
    costs much less than keeping it up to date row by row (one B-tree search per index and row; 30 % of
    the CPU of loading 200 000 offers, twice the wall time). Unique constraints stay, so that finding a
    batch's keys and refusing duplicates work as before.

    The import puts them back (:func:`restore_indexes`) after its last batch, in one transaction. A kill
    in between leaves whole batches, as always, and the store without these indexes until the next import
    (which restores them first): the tables were empty when they were dropped."""
    if conn.dialect.name != "sqlite":
        return
    for table in tables:
        if conn.execute(select(table.c.id).limit(1)).first() is None:
            for index in table.indexes:
                conn.exec_driver_sql(f"DROP INDEX IF EXISTS {conn.dialect.identifier_preparer.quote(str(index.name))}")


def _key_in(key_cols: list[Any], chunk: list[tuple[Any, ...]]) -> ColumnElement[bool]:
    """``key IN chunk`` that SQLite can answer from the key's index: a row-value IN list makes it scan the
    whole index for every chunk. Keys are grouped by their leading columns (one group per source)."""
    if len(key_cols) == 1:
        single: ColumnElement[bool] = key_cols[0].in_([k[0] for k in chunk])
        return single
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for k in chunk:
        groups.setdefault(k[:-1], []).append(k[-1])
    return or_(
        *(
            and_(*(c == v for c, v in zip(key_cols[:-1], prefix, strict=True)), key_cols[-1].in_(last))
            for prefix, last in groups.items()
        )
    )


def sync_rows(
    conn: Connection,
    table: Table,
    key: Sequence[str],
    rows: Iterable[dict[str, Any]],
    counts: EntityCounts,
    *,
    dry_run: bool = False,
    return_ids: bool = True,
    bound: dict[int, Bound] | None = None,
    absent: bool = False,
) -> dict[tuple[Any, ...], int | None]:
    """Insert new rows, update changed ones (by ``row_hash``), count the unchanged; return key → id.

    ``rows`` hold every column but ``id`` and ``row_hash``; the last row wins for a duplicated key.
    A row that already holds its ``row_hash`` is used as it is (not copied).
    In a dry run nothing is written and new rows map to ``None``.
    ``absent``: the caller knows that no key of ``rows`` is stored (e.g. the table held no row of the
    source when the import began, and the import writes each key once): they are not looked up.
    """
    refresh_statistics(conn, table)
    by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        if "row_hash" in r:
            values = r
        else:
            values = dict(r)
            values["row_hash"] = row_hash(values)
        by_key[tuple(values[k] for k in key)] = values
    existing: dict[tuple[Any, ...], tuple[int, str]] = {}
    keys = list(by_key)
    key_cols = [table.c[k] for k in key]
    for start in range(0, 0 if absent else len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        cond = _key_in(key_cols, chunk)
        for row in conn.execute(select(table.c.id, table.c.row_hash, *key_cols).where(cond)):
            existing[tuple(row[2:])] = (row[0], row[1])
    to_insert, to_update = [], []
    ids: dict[tuple[Any, ...], int | None] = {}
    unchanged = 0
    for k, values in by_key.items():
        old = existing.get(k)
        if old is None:
            to_insert.append(values)
            ids[k] = None
        else:
            ids[k] = old[0]
            if old[1] != values["row_hash"]:
                to_update.append({"_id": old[0], **values})
            else:
                unchanged += 1
    # Added once, not per row: the counts are a pydantic model, whose every assignment is validated.
    counts.created += len(to_insert)
    counts.updated += len(to_update)
    counts.unchanged += unchanged
    if dry_run:
        return ids
    insert_rows(conn, table, to_insert, bound)
    if to_insert and return_ids:  # ids of new rows, for their children (not needed by leaf tables)
        for start in range(0, len(keys), CHUNK):
            chunk = [k for k in keys[start : start + CHUNK] if ids[k] is None]
            if not chunk:
                continue
            cond = _key_in(key_cols, chunk)
            for row in conn.execute(select(table.c.id, *key_cols).where(cond)):
                ids[tuple(row[1:])] = row[0]
    if to_update:
        cols = [c for c in to_update[0] if c != "_id"]
        stmt = update(table).where(table.c.id == bindparam("_id")).values({c: bindparam(f"v_{c}") for c in cols})
        conn.execute(stmt, [{"_id": r["_id"], **{f"v_{c}": r[c] for c in cols}} for r in to_update])
    return ids


def close_missing(
    conn: Connection,
    table: Table,
    source: str,
    seen: set[str],
    counts: EntityCounts,
    *,
    reason: str = "absente du flux",
    now: dt.datetime | None = None,
    dry_run: bool = False,
    limits: ImportLimits | None = None,
    what: str = "lignes ouvertes",
) -> int:
    """Close (``closed_at``) the open rows of ``source`` whose ``external_id`` a full feed did not carry.

    ``limits``: more than they allow to close (of the open rows of the source) raises :class:`ImportRefused`
    and closes nothing (``None``: no limit, a purge the operator forced)."""
    now = now or dt.datetime.now(dt.UTC)
    open_ids = conn.execute(
        select(table.c.id, table.c.external_id).where(and_(table.c.source == source, table.c.closed_at.is_(None)))
    ).all()
    gone = [row_id for row_id, ext in open_ids if ext not in seen]
    if gone and limits is not None and limits.too_many_removed(len(gone), len(open_ids)):
        raise ImportRefused(limits.removal_refusal(what, len(gone), len(open_ids)))
    counts.removed += len(gone)
    if not dry_run:
        values: dict[str, Any] = {"closed_at": now}
        if "closed_reason" in table.c:
            values["closed_reason"] = reason
        for start in range(0, len(gone), CHUNK):
            conn.execute(update(table).where(table.c.id.in_(gone[start : start + CHUNK])).values(**values))
    return len(gone)
