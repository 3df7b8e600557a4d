"""Counts of sessions kept a minute per process (``count_sessions``).

A national list counts tens of thousands of index entries, and the same few searches are asked over and
over; the sessions change with imports. A count is kept COUNT_TTL_S seconds for the same conditions, and
forgotten sooner when the sessions change: an import in another process (the newest import's id, and the
newest session's, are part of the key), an import in this process (``forget_counts`` at its end), sessions
written through the ORM here (a flush that touches one)."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import ColumnElement, event, func, select
from sqlalchemy.orm import Session

from passerelles.importing.models import ImportRun
from passerelles.trainings.models import TrainingSession

COUNT_TTL_S = 60.0
MAX_KEPT = 2048
_counts: dict[tuple[Any, ...], tuple[float, int]] = {}
_lock = threading.Lock()
_clock = time.monotonic


def count_sessions(session: Session, conds: list[ColumnElement[bool]]) -> int:
    """The sessions matching ``conds``, counted, or found among the recent counts."""
    statement = select(func.count()).select_from(TrainingSession).where(*conds)
    bind = session.get_bind()
    compiled = statement.compile(bind)
    newest = session.execute(
        select(select(func.max(TrainingSession.id)).scalar_subquery(), select(func.max(ImportRun.id)).scalar_subquery())
    ).one()
    key = (str(getattr(bind, "url", id(bind))), str(compiled), repr(sorted(compiled.params.items())), tuple(newest))
    clock = _clock()
    found = _counts.get(key)
    if found is not None and found[0] > clock:
        return found[1]
    total = session.scalar(statement) or 0
    with _lock:
        if len(_counts) >= MAX_KEPT:
            _counts.clear()
        _counts[key] = (clock + COUNT_TTL_S, total)
    return total


def forget_counts() -> None:
    with _lock:
        _counts.clear()


@event.listens_for(Session, "after_flush")
def _sessions_written(session: Session, _context: Any) -> None:
    if _counts and any(
        isinstance(obj, TrainingSession) for objs in (session.new, session.dirty, session.deleted) for obj in objs
    ):
        forget_counts()
