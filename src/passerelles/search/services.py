"""The search service behind one small interface (``SearchBackend``), used by pages, API and CLI.

The index is tantivy (``passerelles.search.index``), built from the database (the system of record);
the French analysis is ours (``passerelles.search.text``) and runs identically at index and query time.

- ``SearchBackend.search(query, types=, limit=)``: the short form (pathways, occupation pages, CLI).
- ``SearchBackend.query(SearchQuery) -> SearchPage``: filters, facets, radius, sorting, pages, snippets.
- ``SearchBackend.suggest(prefix)``: autocomplete on occupation and certification names.

``IndexReplica`` reads a published index directory and follows its ``CURRENT`` pointer (a new version is
picked up on the next search, or opened beside the current one in the background); ``build_index(session)``
builds one in memory from the database. Both answer with a ``SearchEngine`` (``passerelles.search.engine``),
one opened index version.
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from passerelles import heap
from passerelles.errors import Unavailable
from passerelles.search.engine import SearchEngine
from passerelles.search.fields import SCHEMA_VERSION
from passerelles.search.index import build_in_memory, current_version, hold, release
from passerelles.search.schemas import SearchPage, SearchQuery, SearchResult, Suggestion
from passerelles.search.synonyms import Synonyms, load_synonyms
from passerelles.settings import PROJECT_ROOT

# The sector dictionary under the default ``Settings.reference_dir``: the default of the ``synonyms_file``
# parameters below, which the application and the CLI may pass from their settings.
SYNONYMS_FILE = PROJECT_ROOT / "data" / "search" / "synonyms.yaml"


class SearchBackend(Protocol):
    def search(self, query: str, *, types: set[str] | None = None, limit: int = 20) -> list[SearchResult]: ...

    def query(self, request: SearchQuery) -> SearchPage: ...

    def suggest(self, prefix: str, *, limit: int = 8) -> list[Suggestion]: ...

    def document(self, key: str) -> dict[str, Any] | None: ...


# Searches that began on the previous version end well within this (seconds): then it can be freed.
RETIRE_SECONDS = 30.0


class IndexUnavailable(Unavailable):
    """No index version in a read node's directory yet (``passerelles index pull`` brings one): answered 503;
    every page that does not search still works, and a load balancer's health check keeps traffic away."""

    message = (
        "La recherche est momentanément indisponible sur ce serveur : son index n'est pas encore en place. "
        "Réessayez dans une minute."
    )


class IndexReplica:
    """A read-only replica of a published index directory; follows ``CURRENT`` when it changes.

    Each call looks at the pointer (one ``stat``, about a microsecond). When it changed, either the calling
    search opens the new version (``background=False``: what a CLI or a test expects), or (``background=True``,
    the web application) one thread opens it while every search keeps the version it has, which is dropped
    once the new one is in place: a switch under load makes no search wait or fail. The version read is
    held (``index.hold``) so that no publication removes it meanwhile."""

    def __init__(
        self,
        root: Path,
        synonyms: Synonyms | None = None,
        *,
        synonyms_file: Path = SYNONYMS_FILE,
        background: bool = False,
        retire_seconds: float = RETIRE_SECONDS,
    ) -> None:
        self.root = root
        self.retire_seconds = retire_seconds
        self._pointer_path = os.fspath(root / "CURRENT")  # a str: joining Paths on each call costs more than stat
        self.synonyms = synonyms or load_synonyms(synonyms_file)
        self.background = background
        self._lock = threading.Lock()  # the swap of engine, stamp, version
        self._open_lock = threading.Lock()  # one opening at a time
        self._stamp: tuple[int, int] | None = None
        self._engine: SearchEngine | None = None
        self._held: int | None = None
        self._opening = False
        self.version: str | None = None
        self.failure: str | None = None  # why the last version seen could not be opened

    def _pointer(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self._pointer_path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def _open(self, stamp: tuple[int, int] | None) -> SearchEngine:
        """Open the version ``CURRENT`` names and put it in place (called under ``_open_lock``)."""
        folder = current_version(self.root)
        if folder is None:
            raise IndexUnavailable(f"aucun index publié dans {self.root}")
        fd = hold(folder)
        try:
            engine = SearchEngine.open(folder, self.synonyms)
        except BaseException:
            release(fd)
            raise
        with self._lock:
            previous, self._held = self._held, fd
            self._engine, self._stamp, self.version, self.failure = engine, stamp, folder.name, None
        if previous is not None:
            release(previous)  # searches still running on it keep its files mapped
        return engine

    def _open_in_background(self, stamp: tuple[int, int] | None) -> None:
        try:
            with self._open_lock:
                left = weakref.ref(self._engine) if self._engine is not None else None
                self._open(stamp)
            # The old version's engine is freed once its searches end (tried again while one still holds it).
            heap.resettle_later(self.retire_seconds, gone=lambda: left is None or left() is None)
        except Exception as exc:  # the old version keeps serving; tried again at the next change
            with self._lock:
                self._stamp, self.failure = stamp, f"{type(exc).__name__}: {exc}"
        finally:
            self._opening = False

    def engine(self) -> SearchEngine:
        stamp = self._pointer()
        engine = self._engine
        if engine is not None and stamp == self._stamp:
            return engine
        if engine is not None and self.background:
            with self._lock:
                start = not self._opening and stamp != self._stamp
                if start:
                    self._opening = True
            if start:
                threading.Thread(target=self._open_in_background, args=(stamp,), daemon=True).start()
            return engine
        with self._open_lock:
            if self._engine is not None and stamp == self._stamp:
                return self._engine
            return self._open(stamp)

    def search(self, query: str, *, types: set[str] | None = None, limit: int = 20) -> list[SearchResult]:
        return self.engine().search(query, types=types, limit=limit)

    def query(self, request: SearchQuery) -> SearchPage:
        return self.engine().query(request)

    def suggest(self, prefix: str, *, limit: int = 8) -> list[Suggestion]:
        return self.engine().suggest(prefix, limit=limit)

    def document(self, key: str) -> dict[str, Any] | None:
        return self.engine().document(key)


def published(root: Path, database_url: str) -> bool:
    """A version is published in ``root``, was built from this database, with this code's schema (an index
    of an older schema lacks fields the queries read: it is rebuilt by ``passerelles index update``)."""
    folder = current_version(root)
    if folder is None:
        return False
    try:
        info = json.loads((folder / "info.json").read_text())
    except (OSError, ValueError):
        return False
    return bool(
        info.get("schema_version") == SCHEMA_VERSION
        and info.get("database") == make_url(database_url).render_as_string(hide_password=True)
    )


def build_index(session: Session, *, synonyms_file: Path = SYNONYMS_FILE) -> SearchEngine:
    """A search engine over an index built in memory from ``session``'s database."""
    index, places, suggest = build_in_memory(session)
    return SearchEngine(index, places, suggest, load_synonyms(synonyms_file))


def open_backend(
    session: Session,
    root: Path,
    database_url: str,
    *,
    synonyms_file: Path = SYNONYMS_FILE,
    background: bool = False,
) -> SearchBackend:
    """The published replica in ``root`` when it belongs to this database, else an index built in memory."""
    if published(root, database_url):
        return IndexReplica(root, synonyms_file=synonyms_file, background=background)
    return build_index(session, synonyms_file=synonyms_file)
