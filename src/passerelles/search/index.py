"""The index's life cycle: build, incremental update, publication (its fields: ``search.fields``; its
documents: ``search.documents`` and ``search.records``).

Layout of an index directory (``settings.search_index_dir``)::

    versions/<UTC stamp>-<n>/   one complete tantivy index + places.json, suggest.json, state.bin, info.json
    CURRENT                     the name of the version readers must use (replaced atomically)
    .lock                       held by the one process that writes (rebuild, update after an import)

A writer never touches a published version: it builds a new one (from scratch, or as hard links of the
current one plus new segments, since tantivy never rewrites a segment file), then swaps ``CURRENT`` with
``os.replace``. Readers (``passerelles.search.services.IndexReplica``) notice the new pointer and open
the new version; files of an older version stay readable by a process that still maps them.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import marshal
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tantivy
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from passerelles.search.documents import IndexDoc, reference_documents, suggestions
from passerelles.search.fields import SCHEMA_VERSION, build_schema
from passerelles.search.gazetteer import Places, read_places
from passerelles.search.records import CHUNK, add_records, record_hashes

KEEP_VERSIONS = 3


@contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_version(root: Path) -> Path | None:
    try:
        name = (root / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None
    path = root / "versions" / name
    return path if path.is_dir() else None


def _new_version_dir(root: Path) -> Path:
    (root / "versions").mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    n = 0
    while (root / "versions" / f"{stamp}-{n}").exists():
        n += 1
    path = root / "versions" / f"{stamp}-{n}"
    path.mkdir()
    return path


def publish(root: Path, version: Path) -> None:
    """Point readers at ``version`` (atomic rename), then drop versions older than the last few."""
    tmp = root / f"CURRENT.{os.getpid()}.tmp"
    tmp.write_text(version.name + "\n")
    with open(tmp) as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, root / "CURRENT")
    versions = sorted((p for p in (root / "versions").iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in versions[:-KEEP_VERSIONS]:
        if old != version:
            shutil.rmtree(old, ignore_errors=True)


@dataclass
class BuildReport:
    version: str
    mode: str  # rebuild | update | memory
    documents: int
    added: int
    deleted: int
    seconds: float
    size_bytes: int

    def as_text(self) -> str:
        return (
            f"Index {self.mode} : version {self.version}, {self.documents} documents "
            f"({self.added} ajoutés, {self.deleted} retirés), {self.seconds:.1f} s, "
            f"{self.size_bytes / 1e6:.1f} Mo"
        )


def _write_side_files(
    folder: Path, places: Places, suggest: list[list[str]], hashes: dict[str, str], info: dict[str, Any]
) -> None:
    (folder / "places.json").write_text(json.dumps(places.to_json(), ensure_ascii=False))
    (folder / "suggest.json").write_text(json.dumps(suggest, ensure_ascii=False))
    (folder / "state.bin").write_bytes(marshal.dumps(hashes))
    (folder / "info.json").write_text(json.dumps(info, ensure_ascii=False, indent=1))


def dir_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _heap(threads: int) -> int:
    return 200_000_000 * threads


def _url(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=False)


def fill_index(
    index: tantivy.Index, session: Session, places: Places, *, threads: int = 2, processes: int = 2
) -> tuple[int, list[IndexDoc], dict[str, str]]:
    """Write every document into an empty ``index``; returns (count, reference docs, record hashes)."""
    writer = index.writer(_heap(threads), threads)
    reference = list(reference_documents(session))
    for d in reference:
        writer.add_document(d.to_tantivy(places))
    hashes = record_hashes(session)
    count = len(reference) + add_records(writer, session, _url(session), processes=processes)
    writer.commit()
    writer.wait_merging_threads()
    return count, reference, hashes


def rebuild(engine: Engine, root: Path, *, threads: int = 2) -> BuildReport:
    """Build a complete new version from the database and publish it."""
    start = time.perf_counter()
    with writer_lock(root), Session(engine) as session:
        folder = _new_version_dir(root)
        places = read_places(session)
        index = tantivy.Index(build_schema(), path=str(folder))
        count, reference, hashes = fill_index(index, session, places, threads=threads)
        _write_side_files(folder, places, suggestions(reference, session), hashes, _info(engine, count))
        publish(root, folder)
    return BuildReport(folder.name, "rebuild", count, count, 0, time.perf_counter() - start, dir_size(folder))


def _info(engine: Engine, count: int) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "database": engine.url.render_as_string(hide_password=True),
        "built_at": dt.datetime.now(dt.UTC).isoformat(),
        "documents": count,
    }


def update(engine: Engine, root: Path, *, threads: int = 1) -> BuildReport:
    """A new version = the current one + what changed in the database since; published like a rebuild.

    Reference documents (occupations, certifications, ROME: a few thousand) are replaced wholesale;
    sessions and offers are compared by row hash, so an import of 1 000 offers rewrites 1 000 documents.
    Without a current version (or with an older schema), this is a rebuild.
    """
    start = time.perf_counter()
    current = current_version(root)
    if current is None or json.loads((current / "info.json").read_text()).get("schema_version") != SCHEMA_VERSION:
        return rebuild(engine, root, threads=max(threads, 2))
    with writer_lock(root), Session(engine) as session:
        current = current_version(root) or current
        folder = _new_version_dir(root)
        for f in current.iterdir():
            if f.is_file():
                # Segment files are immutable: links cost nothing. The meta files are rewritten by tantivy.
                if f.suffix == ".json" or f.name.startswith(".") or f.name == "state.bin":
                    shutil.copy2(f, folder / f.name)
                else:
                    os.link(f, folder / f.name)
        old: dict[str, str] = marshal.loads((folder / "state.bin").read_bytes())  # noqa: S302 (our own file)
        places = read_places(session)
        index = tantivy.Index.open(str(folder))
        writer = index.writer(_heap(threads), threads)
        reference = list(reference_documents(session))
        for kind in ("occupation", "certification"):
            writer.delete_documents_by_term("type", kind)
        for d in reference:
            writer.add_document(d.to_tantivy(places))
        new = record_hashes(session)
        gone = [k for k in old if k not in new or new[k] != old[k]]
        changed = {k for k, h in new.items() if old.get(k) != h}
        for k in gone:
            writer.delete_documents_by_term("key", k)
        added = add_records(writer, session, _url(session), changed, processes=2 if len(changed) > CHUNK else 1)
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        count = index.searcher().num_docs
        _write_side_files(folder, places, suggestions(reference, session), new, _info(engine, count))
        publish(root, folder)
    removed = len([k for k in old if k not in new])
    return BuildReport(folder.name, "update", count, added, removed, time.perf_counter() - start, dir_size(folder))


def build_in_memory(session: Session) -> tuple[tantivy.Index, Places, list[list[str]]]:
    """An index in RAM, for a process with no published index (tests, a CLI call on a fresh database)."""
    places = read_places(session)
    index = tantivy.Index(build_schema())
    _, reference, _ = fill_index(index, session, places, threads=1, processes=1)
    index.reload()
    return index, places, suggestions(reference, session)
