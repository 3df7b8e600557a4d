"""Load: batches of formations written with :func:`~passerelles.importing.sync.sync_rows`, one transaction
each, and the sessions a full feed no longer carries closed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from passerelles.importing.limits import ImportLimits
from passerelles.importing.report import EntityCounts, ImportRefused, ImportReport, Reject
from passerelles.importing.sync import (
    CHUNK,
    Bound,
    close_missing,
    defer_indexes,
    restore_indexes,
    row_hash,
    sync_rows,
    tune_for_bulk,
)
from passerelles.trainings.lheo.reader import ParsedFormation
from passerelles.trainings.lheo.rows import ENTITIES, KEY, PROVIDER, SESSION, TABLES, TRAINING


class Loader:
    """Writes batches of formations, one transaction each, and closes what a full feed no longer has."""

    def __init__(self, engine: Engine, origin: str, is_demo: bool, report: ImportReport, file_name: str) -> None:
        self.engine = engine
        self.origin = origin
        self.is_demo = is_demo
        self.report = report
        self.dry_run = report.dry_run
        self.file_name = file_name
        self.provider_ids: dict[str, int | None] = {}
        self.loaded_sessions: set[str] = set()
        self.committed = False  # a batch was written: the tables' indexes were deferred then, or not at all
        # Whether the store held closed sessions of the source when the import began (``None``: not asked
        # yet). Only :meth:`close_missing`, after the last batch, closes any: without closed sessions at the
        # start, no batch has one to reopen.
        self.any_closed: bool | None = None
        # The tables that held no row of the source when the import began (``None``: not asked yet): each
        # record is loaded once (duplicates are rejected before), so their keys need no look-up.
        self.absent: set[str] | None = None

    def load(self, batch: list[ParsedFormation]) -> None:
        try:
            self._load(batch)
        except DBAPIError:
            # A record the checks let through but the database refuses: find it, load the others.
            for one in batch:
                try:
                    self._load([one])
                except DBAPIError as exc:
                    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
                    self.report.reject(
                        "training",
                        Reject(
                            source=self.file_name,
                            position=f"{one.label} (ligne {one.line})",
                            field="formation",
                            reason=f"refusée par la base de données : {reason}",
                        ),
                    )

    def _load(self, batch: list[ParsedFormation]) -> None:
        counts = {name: EntityCounts() for name in ENTITIES}
        base = {"source": self.origin, "is_demo": self.is_demo}
        with self.engine.begin() as conn:
            tune_for_bulk(conn)
            if not self.committed and not self.dry_run:
                defer_indexes(conn, TABLES)
            if self.absent is None:
                self.absent = {
                    t.name
                    for t in TABLES
                    if conn.execute(select(t.c.id).where(t.c.source == self.origin).limit(1)).first() is None
                }
            providers: dict[str, dict[str, Any]] = {}
            for f in batch:
                ext = f.provider["external_id"]
                if ext not in self.provider_ids and ext not in providers:
                    providers[ext] = {**base, **f.provider}
            provider_ids = {
                key[1]: value
                for key, value in sync_rows(
                    conn,
                    PROVIDER,
                    KEY,
                    providers.values(),
                    counts["provider"],
                    dry_run=self.dry_run,
                    absent=PROVIDER.name in self.absent,
                ).items()
            }

            def provider_id(ext: str) -> int | None:
                return provider_ids[ext] if ext in provider_ids else self.provider_ids[ext]

            # The rows get their hash here, in place: sync_rows then takes them as they are (no copy), and
            # the values a reader converted ahead (``bound``, by the row's id) still match their row.
            bound: dict[int, Bound] = {}
            trainings = []
            for f in batch:
                row = {**base, **f.training, "provider_id": provider_id(f.provider["external_id"])}
                row["row_hash"] = row_hash(row)
                trainings.append(row)
                if f.training_bound is not None:
                    bound[id(row)] = f.training_bound
            training_ids = sync_rows(
                conn,
                TRAINING,
                KEY,
                trainings,
                counts["training"],
                dry_run=self.dry_run,
                bound=bound,
                absent=TRAINING.name in self.absent,
            )
            sessions = []
            for f in batch:
                training_id = training_ids[(self.origin, f.training["external_id"])]
                f_provider = provider_id(f.provider["external_id"])
                for s, ahead in zip(f.sessions, f.session_bounds or [None] * len(f.sessions), strict=True):
                    row = {**base, **s, "training_id": training_id, "provider_id": f_provider, "closed_at": None}
                    row["row_hash"] = row_hash(row)
                    sessions.append(row)
                    if ahead is not None:
                        bound[id(row)] = ahead
            closed = self._closed(conn, [s["external_id"] for s in sessions])
            sync_rows(
                conn,
                SESSION,
                KEY,
                sessions,
                counts["training_session"],
                dry_run=self.dry_run,
                return_ids=False,
                bound=bound,
                absent=SESSION.name in self.absent,
            )
            if closed:
                # Back in the feed: reopen. A row whose content did not change was counted unchanged.
                for row in sessions:
                    if row["external_id"] in closed and closed[row["external_id"]] == row["row_hash"]:
                        counts["training_session"].unchanged -= 1
                        counts["training_session"].updated += 1
                if not self.dry_run:
                    ids = list(closed)
                    for start in range(0, len(ids), CHUNK):
                        conn.execute(
                            update(SESSION)
                            .where(
                                SESSION.c.source == self.origin, SESSION.c.external_id.in_(ids[start : start + CHUNK])
                            )
                            .values(closed_at=None)
                        )
        # Committed: only now does the run remember what this batch wrote.
        self.committed = True
        self.provider_ids.update(provider_ids)
        self.loaded_sessions.update(s["external_id"] for s in sessions)
        for name, c in counts.items():
            total = self.report.entity(name)
            for key in ("created", "updated", "unchanged", "removed", "rejected"):
                setattr(total, key, getattr(total, key) + getattr(c, key))

    def _closed(self, conn: Any, external_ids: list[str]) -> dict[str, str]:
        closed: dict[str, str] = {}
        if self.any_closed is None:
            query = select(SESSION.c.id).where(SESSION.c.source == self.origin, SESSION.c.closed_at.is_not(None))
            self.any_closed = conn.execute(query.limit(1)).first() is not None
        if not self.any_closed:
            return closed
        for start in range(0, len(external_ids), CHUNK):
            rows = conn.execute(
                select(SESSION.c.external_id, SESSION.c.row_hash).where(
                    SESSION.c.source == self.origin,
                    SESSION.c.external_id.in_(external_ids[start : start + CHUNK]),
                    SESSION.c.closed_at.is_not(None),
                )
            )
            closed.update({ext: h for ext, h in rows})
        return closed

    def restore_indexes(self) -> None:
        if not self.dry_run:
            with self.engine.begin() as conn:
                restore_indexes(conn, TABLES)

    def close_missing(self, limits: ImportLimits | None) -> None:
        """Close the sessions this import did not load; more than ``limits`` allow: none, run refused."""
        try:
            with self.engine.begin() as conn:
                close_missing(
                    conn,
                    SESSION,
                    self.origin,
                    self.loaded_sessions,
                    self.report.entity("training_session"),
                    dry_run=self.dry_run,
                    limits=limits,
                    what="sessions ouvertes",
                )
        except ImportRefused as exc:
            self.report.status, self.report.message = "refused", str(exc)
