"""The rows the import writes: the store's tables, the read-only records the reader makes, and the
:class:`RowBinder` that converts them for the driver ahead.

The reader's speed rests on two tricks that a change in place would break silently:

- a record's row values are converted for the driver in the reader process
  (:func:`~passerelles.importing.sync.bind_ahead`); the loader then sends those converted values, not the
  record's own;
- values are shared by object identity (an action's values with each of its sessions, a contact equal to
  the session before), and converted once for all the records holding them.

So a record is a :class:`FrozenRecord` from the moment it is checked: a change after it is bound would be
stored with the values converted before it, and every change in place raises instead. :class:`RowBinder`
binds frozen records only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn, cast

from sqlalchemy import Table
from sqlalchemy.engine import Dialect

from passerelles.importing.sync import Bound, bind_ahead
from passerelles.trainings.models import Provider, Training, TrainingSession

PROVIDER = cast(Table, Provider.__table__)
TRAINING = cast(Table, Training.__table__)
SESSION = cast(Table, TrainingSession.__table__)
KEY = ("source", "external_id")
ENTITIES = ("provider", "training", "training_session")
TABLES = (PROVIDER, TRAINING, SESSION)


def _refuse(record: FrozenRecord) -> NoReturn:
    key = record.get("external_id")
    which = f" « {key} »" if key else ""
    raise TypeError(f"record{which} is read-only once checked: build a new one ({{**record, …}})")


class FrozenRecord(dict[str, Any]):
    """A record's values once read and checked: a dict (``{**record}``, ``record[key]``, pickling and JSON
    as fast as a dict's) whose every change in place raises :class:`TypeError`."""

    __slots__ = ()

    def __setitem__(self, key: str, value: object) -> NoReturn:
        _refuse(self)

    def __delitem__(self, key: str) -> NoReturn:
        _refuse(self)

    def __ior__(self, other: object) -> NoReturn:  # type: ignore[misc]
        _refuse(self)

    def update(self, *args: object, **kwargs: object) -> NoReturn:
        _refuse(self)

    def setdefault(self, *args: object) -> NoReturn:
        _refuse(self)

    def pop(self, *args: object) -> NoReturn:
        _refuse(self)

    def popitem(self) -> NoReturn:
        _refuse(self)

    def clear(self) -> NoReturn:
        _refuse(self)

    def __reduce__(self) -> tuple[type[FrozenRecord], tuple[dict[str, Any]]]:
        # A dict subclass is unpickled key by key through __setitem__: rebuild it from a plain dict instead.
        return FrozenRecord, (dict(self),)


class RowBinder:
    """Converts frozen records for the driver ahead (``None`` without a dialect, or where the driver path
    does not apply): the row is ``{**base, **record}``, as the loader builds it before its own columns.

    ``chained=True``: the record follows the last one bound (a session after the one before in its action);
    a value that is the very same object as that one's takes its conversion as it is."""

    def __init__(self, base: Mapping[str, Any] | None, dialect: Dialect | None) -> None:
        self.base = dict(base or {})
        self.dialect = dialect
        self._last: tuple[dict[str, Any], Bound] | None = None

    def bind(self, table: Table, record: FrozenRecord, *, chained: bool = False) -> Bound | None:
        if type(record) is not FrozenRecord:
            raise TypeError("only a checked, read-only record (FrozenRecord) may be converted ahead")
        if self.dialect is None:
            return None
        row = {**self.base, **record}
        bound = bind_ahead(table, self.dialect, row, self._last if chained else None)
        if bound is not None:
            self._last = (row, bound)
        return bound
