"""Counts of sessions kept a minute per process (``count_sessions``; ``kept`` for other figures of them).

A national list counts tens of thousands of index entries, and the same few searches are asked over and
over; the sessions change with imports. A count is kept COUNT_TTL_S seconds for the same conditions, and
forgotten sooner when the sessions change: an import in another process (the newest import's id, and the
newest session's, are part of the key), an import in this process (``forget_counts`` at its end), sessions
written through the ORM here (a flush that touches one)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, event, func, select
from sqlalchemy.orm import Session

from passerelles.importing.models import ImportRun
from passerelles.trainings.models import TrainingSession

COUNT_TTL_S = 60.0
MAX_KEPT = 2048
T = TypeVar("T")
_counts: dict[tuple[Any, ...], tuple[float, Any]] = {}
_lock = threading.Lock()
_clock = time.monotonic


def count_sessions(session: Session, conds: list[ColumnElement[bool]]) -> int:
    """The sessions matching ``conds``, counted, or found among the recent counts."""
    statement = select(func.count()).select_from(TrainingSession).where(*conds)
    compiled = statement.compile(session.get_bind())
    key = ("count", str(compiled), repr(sorted(compiled.params.items())))
    return int(kept(session, key, lambda: session.scalar(statement) or 0))


def kept(session: Session, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()``, or its value kept for ``key`` (and this database, while its sessions are unchanged)."""
    bind = session.get_bind()
    newest = session.execute(
        select(select(func.max(TrainingSession.id)).scalar_subquery(), select(func.max(ImportRun.id)).scalar_subquery())
    ).one()
    full = (str(getattr(bind, "url", id(bind))), *key, tuple(newest))
    clock = _clock()
    found = _counts.get(full)
    if found is not None and found[0] > clock:
        return cast(T, found[1])
    value = compute()
    with _lock:
        if len(_counts) >= MAX_KEPT:
            _counts.clear()
        _counts[full] = (clock + COUNT_TTL_S, value)
    return value


def forget_counts() -> None:
    with _lock:
        _counts.clear()


@event.listens_for(Session, "after_flush")
def _sessions_written(session: Session, _context: Any) -> None:
    if _counts and any(
        isinstance(obj, TrainingSession) for objs in (session.new, session.dirty, session.deleted) for obj in objs
    ):
        forget_counts()
