"""The search service behind one small interface (``SearchBackend``), used by pages, API and CLI.

The index is tantivy (``passerelles.search.index``), built from the database (the system of record);
the French analysis is ours (``passerelles.search.text``) and runs identically at index and query time.

- ``SearchBackend.search(query, types=, limit=)``: the short form (pathways, occupation pages, CLI).
- ``SearchBackend.query(SearchQuery) -> SearchPage``: filters, facets, radius, sorting, pages, snippets.
- ``SearchBackend.suggest(prefix)``: autocomplete on occupation and certification names.

``IndexReplica`` reads a published index directory and follows its ``CURRENT`` pointer (a new version is
picked up on the next search); ``build_index(session)`` builds one in memory from the database. Both
answer with a ``SearchEngine`` (``passerelles.search.engine``), one opened index version.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from passerelles.search.engine import SearchEngine
from passerelles.search.fields import SCHEMA_VERSION
from passerelles.search.index import build_in_memory, current_version
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


class IndexReplica:
    """A read-only replica of a published index directory; follows ``CURRENT`` when it changes."""

    def __init__(self, root: Path, synonyms: Synonyms | None = None, *, synonyms_file: Path = SYNONYMS_FILE) -> None:
        self.root = root
        self.synonyms = synonyms or load_synonyms(synonyms_file)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._engine: SearchEngine | None = None
        self.version: str | None = None

    def _pointer(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.root / "CURRENT")
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def engine(self) -> SearchEngine:
        stamp = self._pointer()
        if self._engine is None or stamp != self._stamp:
            with self._lock:
                if self._engine is None or stamp != self._stamp:
                    folder = current_version(self.root)
                    if folder is None:
                        raise FileNotFoundError(f"aucun index publié dans {self.root}")
                    self._engine = SearchEngine.open(folder, self.synonyms)
                    self._stamp, self.version = stamp, folder.name
        return self._engine

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
    session: Session, root: Path, database_url: str, *, synonyms_file: Path = SYNONYMS_FILE
) -> SearchBackend:
    """The published replica in ``root`` when it belongs to this database, else an index built in memory."""
    if published(root, database_url):
        return IndexReplica(root, synonyms_file=synonyms_file)
    return build_index(session, synonyms_file=synonyms_file)
