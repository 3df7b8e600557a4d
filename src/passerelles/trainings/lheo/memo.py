"""The LHÉO reader's caches, all in one object (:data:`MEMO`), each bounded: what every catalogue repeats
(qualified tags, the layouts' paths, dates, the XSD), worked out once per process.

A cache that reaches its bound is emptied and fills again: a hostile file with millions of distinct tags
or dates costs time, not memory. The values kept are immutable (strings, tuples, dates) or never changed
(the XSD), so handing the same object to every record is safe.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, TypeVar

K = TypeVar("K")
V = TypeVar("V")

Steps = tuple[tuple[str, str | None, str | None], ...]  # a path's steps: (tag, attribute, value)


class Memo:
    """The reader's caches. Read them directly on the hot path (``MEMO.local_names.get(tag)``); add
    through :meth:`remember`, which keeps each under its bound."""

    def __init__(self, limit: int = 100_000, schemas: int = 2) -> None:
        self.limit = limit
        self.schema_limit = schemas
        self.local_names: dict[str, str | None] = {}  # qualified tag → local name, ``None``: an UNREAD element
        self.steps: dict[str, Steps] = {}  # layout path → its steps
        self.plain_paths: dict[str, tuple[str, ...] | None] = {}  # path → its tags, ``None``: not plain
        self.dates: dict[str, dt.date] = {}  # LHÉO date text → date
        self.schemas: dict[Path, Any] = {}  # XSD file → lxml XMLSchema

    def remember(self, cache: dict[K, V], key: K, value: V) -> V:
        """``cache[key] = value``, the cache emptied first when it is full; returns ``value``."""
        if len(cache) >= (self.schema_limit if cache is self.schemas else self.limit):
            cache.clear()
        cache[key] = value
        return value

    def caches(self) -> dict[str, dict[Any, Any]]:
        return {
            "local_names": self.local_names,
            "steps": self.steps,
            "plain_paths": self.plain_paths,
            "dates": self.dates,
            "schemas": self.schemas,
        }

    def clear(self) -> None:
        for cache in self.caches().values():
            cache.clear()


MEMO = Memo()
