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

Several machines (docs/deployment.md): each read node has its own index directory, a replica that
``pull`` fills from the writer's (a mounted directory, or ``host:path`` through rsync): the new version is
copied beside the others (unchanged segment files hard-linked from the node's current version), checked,
renamed into ``versions/`` and published the same way. A process reading a version holds a shared
``flock`` on its directory (``hold``): ``publish`` never removes a version some process still reads.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import marshal
import os
import shutil
import subprocess
import tempfile
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
    """Point readers at ``version`` (atomic rename), then drop versions older than the last few that no
    process reads any more."""
    tmp = root / f"CURRENT.{os.getpid()}.tmp"
    tmp.write_text(version.name + "\n")
    with open(tmp) as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, root / "CURRENT")
    versions = sorted(
        (p for p in (root / "versions").iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name
    )
    for old in versions[:-KEEP_VERSIONS]:
        if old != version and not in_use(old):
            shutil.rmtree(old, ignore_errors=True)


def hold(version: Path) -> int:
    """A shared lock on ``version`` for as long as this process reads it (``release`` ends it; so does the
    process's end, even a crash): ``publish`` keeps a version that some process holds."""
    fd = os.open(version, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def release(fd: int) -> None:
    os.close(fd)  # closing the last descriptor drops the flock


def in_use(version: Path) -> bool:
    try:
        fd = os.open(version, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


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


# --- replicas on other machines -------------------------------------------------------------------------

# Rewritten by tantivy or by ``update`` for each version: always copied, never shared by hard link.
OWN_FILES = {"meta.json", ".managed.json", "info.json", "places.json", "suggest.json", "state.bin"}


class PullError(Exception):
    """The version could not be brought in: the node keeps serving the one it has."""


@dataclass
class PullReport:
    version: str
    previous: str | None
    copied_bytes: int
    linked_bytes: int
    seconds: float

    def as_text(self) -> str:
        if self.version == self.previous:
            return f"Index déjà à jour : version {self.version}"
        return (
            f"Index reçu : version {self.version} (précédente : {self.previous or 'aucune'}), "
            f"{self.copied_bytes / 1e6:.1f} Mo copiés, {self.linked_bytes / 1e6:.1f} Mo repris de la version "
            f"précédente, {self.seconds:.1f} s"
        )


def is_remote(source: str) -> bool:
    """``host:path`` or ``user@host:path`` (rsync's own notation); a path with a colon after a slash is local."""
    head = source.split("/", 1)[0]
    return ":" in head and not source.startswith("/")


def _rsync(args: list[str]) -> None:
    done = subprocess.run(["rsync", "--quiet", *args], capture_output=True, text=True, check=False)  # noqa: S603,S607
    if done.returncode != 0:
        raise PullError(f"rsync a échoué ({done.returncode}) : {done.stderr.strip()[:500]}")


def _source_current(source: str) -> str:
    if is_remote(source):
        with tempfile.TemporaryDirectory() as tmp:
            _rsync([f"{source.rstrip('/')}/CURRENT", f"{tmp}/CURRENT"])
            name = (Path(tmp) / "CURRENT").read_text().strip()
    else:
        try:
            name = (Path(source) / "CURRENT").read_text().strip()
        except OSError as exc:
            raise PullError(f"aucun index publié dans {source} ({exc.strerror})") from None
    if not name or "/" in name or name.startswith("."):
        raise PullError(f"pointeur CURRENT illisible dans {source}")
    return name


def _copy_local(src: Path, staging: Path, previous: Path | None) -> tuple[int, int]:
    copied = linked = 0
    for f in sorted(src.iterdir()):
        if not f.is_file():
            continue
        size = f.stat().st_size
        mine = previous / f.name if previous else None
        # Segment files are named by a UUID and never rewritten: same name and size is the same file.
        if f.name not in OWN_FILES and mine is not None and mine.is_file() and mine.stat().st_size == size:
            os.link(mine, staging / f.name)
            linked += size
        else:
            shutil.copy2(f, staging / f.name)
            copied += size
    return copied, linked


def _check(staging: Path) -> None:
    """The copy is a complete index of this code's schema, with as many documents as the writer counted."""
    try:
        info = json.loads((staging / "info.json").read_text())
        for name in ("places.json", "suggest.json"):
            json.loads((staging / name).read_text())
        index = tantivy.Index.open(str(staging))
        count = index.searcher().num_docs
    except Exception as exc:  # OSError, ValueError from tantivy or json: any of them means a bad copy
        raise PullError(f"copie incomplète ou illisible : {exc}") from None
    if info.get("schema_version") != SCHEMA_VERSION:
        raise PullError(
            f"version du schéma d'index {info.get('schema_version')} (ce code lit la version {SCHEMA_VERSION}) : "
            "mettre à jour le code du nœud et de l'écrivain ensemble"
        )
    if count != info.get("documents"):
        raise PullError(f"{count} documents lus, {info.get('documents')} annoncés : copie incomplète")


def pull(source: str, root: Path, *, rsync: bool | None = None) -> PullReport:
    """Bring the version published in ``source`` (another index directory: a path, or ``host:path`` through
    rsync) into ``root`` and publish it there. A failure leaves ``root`` as it was (``PullError``).

    ``rsync`` forces the transport (by default: rsync for ``host:path``, a copy in Python for a path)."""
    start = time.perf_counter()
    rsync = is_remote(source) if rsync is None else rsync
    name = _source_current(source)
    with writer_lock(root):
        previous = current_version(root)
        if previous is not None and previous.name == name:
            return PullReport(name, name, 0, 0, time.perf_counter() - start)
        versions = root / "versions"
        versions.mkdir(parents=True, exist_ok=True)
        staging = versions / f".incoming-{name}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            if rsync:
                link = [f"--link-dest={previous.resolve()}"] if previous else []
                _rsync(["--archive", "--delete", *link, f"{source.rstrip('/')}/versions/{name}/", f"{staging}/"])
                sizes = {f.name: f.stat() for f in staging.iterdir() if f.is_file()}
                linked = sum(s.st_size for s in sizes.values() if s.st_nlink > 1)
                copied = sum(s.st_size for s in sizes.values()) - linked
            else:
                src = Path(source) / "versions" / name
                try:
                    copied, linked = _copy_local(src, staging, previous)
                except FileNotFoundError:
                    raise PullError(f"la version {name} a disparu de {source} pendant la copie : réessayer") from None
            _check(staging)
            target = versions / name
            if target.exists():  # brought in before, then left: the fresh copy replaces it
                shutil.rmtree(target)
            os.rename(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        publish(root, target)
    return PullReport(name, previous.name if previous else None, copied, linked, time.perf_counter() - start)
