"""Two read nodes on one PostgreSQL (issue 19, docs/deployment.md): two real uvicorn processes, each with its
own index directory (``PASSERELLES_SEARCH_REPLICA``), and a writer that imports and builds versions in a
third directory. While threads search on both nodes (API and pages) without pause, a version is published
by the writer and pulled by each node (``passerelles index pull``), then again while an import of a few
thousand offers runs against the same database: no request fails, and both nodes serve the new version.
Also: a node started before any index answers 503 on searches (its other pages work) until its first pull;
a node restarted opens the version it holds.

PostgreSQL only (the deployment's database); skipped without it, an error under CI=true (``pg_ok``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from passerelles import heap
from passerelles.demo.offers import write_offers
from passerelles.offers.importer.loader import import_offers
from passerelles.offers.models import JobOffer
from passerelles.places.importer import import_communes
from passerelles.search.index import current_version, hold, publish, pull, rebuild, release, update, writer_lock
from passerelles.search.services import IndexReplica
from passerelles.settings import PROJECT_ROOT
from tests.support.databases import GEO_DIR, SHARED_DATA, DatabaseFactory, build_reference_database

TODAY = dt.date(2026, 11, 2)
WORD = "Kerzéphyr"  # in no generated offer: findable once the version holding the new offer is served
CLI = "from passerelles.cli import main; main()"


def _prepare(engine: Engine) -> None:
    build_reference_database(engine)
    import_communes(engine, GEO_DIR)


@pytest.fixture(scope="module")
def shared_db(databases: DatabaseFactory, pg_ok: bool, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The one database of the deployment: reference data, every commune, 300 generated offers."""
    if not pg_ok:
        pytest.skip("PostgreSQL indisponible")
    engine = databases.clone("postgresql", databases.template("postgresql", "reference+communes", _prepare))
    offers = tmp_path_factory.mktemp("offres") / "offres.jsonl"
    write_offers(offers, offers=300, seed=21, today=TODAY, data_dir=SHARED_DATA)
    import_offers(engine, offers, fmt="france_travail", is_demo=True)
    engine.dispose()
    return engine


def _env(url: str, index: Path, var: Path, **more: str) -> dict[str, str]:
    return {
        **os.environ,
        "PASSERELLES_DATABASE_URL": url,
        "PASSERELLES_SEARCH_INDEX_DIR": str(index),
        "PASSERELLES_VAR_DIR": str(var),
        "PASSERELLES_ENVIRONMENT": "test",
        **more,
    }


START = time.monotonic()


def log(what: str) -> None:
    """Shown with a failure (pytest captures it): where the time went."""
    print(f"{time.monotonic() - START:6.1f} s  {what}", flush=True)


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CLI, *args], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    log(" ".join(args[:2]) + " : " + (done.stdout.strip() or done.stderr.strip()).splitlines()[-1][:160])
    return done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(base: str, path: str, params: dict[str, Any] | None = None) -> tuple[int, bytes]:
    url = base + path + ("?" + urlencode(params, doseq=True) if params else "")
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def health(base: str) -> tuple[int, dict[str, Any]]:
    try:
        status, body = get(base, "/api/v1/health")
    except OSError:
        return 0, {}
    return status, json.loads(body)


def wait_for(check: Callable[[], bool], what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"attendu en {seconds} s : {what}")


@contextmanager
def nodes(*envs: dict[str, str]) -> Iterator[list[str]]:
    """Read nodes, one uvicorn each on a free port, started together; their base URLs once each answers
    (200, or 503 without an index)."""
    servers, bases = [], []
    try:
        for env in envs:
            port = _free_port()
            command = [sys.executable, "-m", "uvicorn", "passerelles.app:create_app", "--factory"]
            command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
            servers.append(subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, start_new_session=True))
            bases.append(f"http://127.0.0.1:{port}")
        for base in bases:
            wait_for(lambda b=base: health(b)[0] in (200, 503), f"le nœud {base} répond")  # type: ignore[misc]
        log("nœuds prêts")
        yield bases
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
        for server in servers:
            server.wait(timeout=30)


# What the threads ask, and what a good answer is: every answer must be a 200 and well formed.
def _api_search(body: bytes, least: int = 1) -> bool:
    page = json.loads(body)
    return isinstance(page["results"], list) and page["total"] >= least and all("title" in r for r in page["results"])


REQUESTS: list[tuple[str, dict[str, Any], Callable[[bytes], bool]]] = [
    ("/api/v1/search", {"q": "aide soignant"}, _api_search),
    ("/api/v1/search", {"q": "infirmier", "type": "offer", "facettes": "true"}, _api_search),
    ("/api/v1/search", {"q": "auxilliaire puericulture", "commune": "Lyon", "rayon": 50}, lambda b: _api_search(b, 0)),
    ("/api/v1/search/suggest", {"q": "aide"}, lambda b: isinstance(json.loads(b)["suggestions"], list)),
    ("/recherche", {"q": "aide soignant"}, lambda b: b'role="search"' in b and b.rstrip().endswith(b"</html>")),
    ("/recherche", {"q": "emploi infirmier", "contrat": "CDI"}, lambda b: b.rstrip().endswith(b"</html>")),
    ("/api/v1/health", {}, lambda b: json.loads(b)["status"] == "ok"),
]


@dataclass
class Load:
    """Threads asking both nodes without pause; every answer is checked."""

    bases: list[str]
    threads_per_node: int = 1
    done: int = 0
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _run(self, base: str, offset: int) -> None:
        i = offset
        while not self.stop.is_set():
            path, params, good = REQUESTS[i % len(REQUESTS)]
            i += 1
            try:
                status, body = get(base, path, params)
                ok = status == 200 and good(body)
                failure = None if ok else f"{base}{path} {params}: {status} {body[:200]!r}"
            except Exception as exc:  # a refused connection, a timeout, a malformed body: all failures
                failure = f"{base}{path} {params}: {type(exc).__name__}: {exc}"
            with self.lock:
                self.done += 1
                if failure:
                    self.failures.append(failure)

    @contextmanager
    def running(self) -> Iterator[Load]:
        threads = [
            threading.Thread(target=self._run, args=(base, k), daemon=True)
            for base in self.bases
            for k in range(self.threads_per_node)
        ]
        for t in threads:
            t.start()
        try:
            yield self
        finally:
            self.stop.set()
            for t in threads:
                t.join(timeout=60)


def served(base: str) -> str:
    return str(health(base)[1].get("index"))


def switch(writer: Path, nodes: list[tuple[Path, str]]) -> str:
    """Each node pulls the writer's current version (what its cron line runs: ``passerelles index pull``);
    returns that version once both nodes serve it."""
    version = current_version(writer)
    assert version is not None
    for root, _ in nodes:
        assert pull(str(writer), root).version == version.name
    for _, base in nodes:
        wait_for(lambda b=base: served(b) == version.name, f"{base} sert la version {version.name}")  # type: ignore[misc]
    log(f"les deux nœuds servent {version.name}")
    return version.name


def found(base: str, word: str) -> int:
    status, body = get(base, "/api/v1/search", {"q": word, "type": "offer"})
    assert status == 200
    return int(json.loads(body)["total"])


def offer_total(base: str) -> int:
    status, body = get(base, "/api/v1/search", {"type": "offer", "limit": 1})
    assert status == 200
    return int(json.loads(body)["total"])


def one_offer(path: Path) -> None:
    """One offer in the France Travail format, written by the project for this test, with a rare word."""
    write_offers(path, offers=1, seed=77, today=TODAY, data_dir=SHARED_DATA)
    row = json.loads(path.read_text().splitlines()[0])
    row["id"] = "DEMO-DEUX-NOEUDS-1"
    row["intitule"] = f"Aide-soignant de nuit à la résidence {WORD} (H/F)"
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n")


def test_two_nodes_switch_versions_under_load_and_during_an_import(shared_db: Engine, tmp_path: Path) -> None:
    url = shared_db.url.render_as_string(hide_password=False)
    writer, root_a, root_b = tmp_path / "writer", tmp_path / "node-a", tmp_path / "node-b"
    writer_env = _env(url, writer, tmp_path / "var-writer")
    env_a = _env(url, root_a, tmp_path / "var-a", PASSERELLES_SEARCH_REPLICA="true")
    env_b = _env(url, root_b, tmp_path / "var-b", PASSERELLES_SEARCH_REPLICA="true")
    rebuild(shared_db, writer)
    pull(str(writer), root_a)  # node B starts with no index at all

    with nodes(env_a, env_b) as (a, b):
        # A node without an index: searches say so (503, French, Retry-After), its other pages work.
        status, body = get(b, "/api/v1/search", {"q": "aide soignant"})
        error = json.loads(body)["error"]
        assert status == 503 and error["code"] == "unavailable" and "indisponible" in error["message"]
        assert health(b)[0] == 503
        assert get(b, "/recherche", {"q": "aide soignant"})[0] == 503
        assert get(b, "/")[0] == 200 and get(b, "/api/v1/occupations")[0] == 200
        both = [(root_a, a), (root_b, b)]
        first = switch(writer, both)
        assert found(a, WORD) == 0 and found(b, WORD) == 0
        before = offer_total(a)

        load = Load([a, b])
        with load.running():
            # 1. An import of one offer on the writer, its index updated, then a switch on both nodes.
            time.sleep(1)
            new = tmp_path / "une-offre.jsonl"
            one_offer(new)
            import_offers(shared_db, new, fmt="france_travail", is_demo=True)
            update(shared_db, writer)
            second = switch(writer, both)
            assert found(a, WORD) == 1 and found(b, WORD) == 1
            after_switch = load.done

            # 2. The same while an import of 2 000 offers (`passerelles import offres`) runs against the same
            # database: the version the writer built just before is switched on both nodes while the import
            # writes (the writer's lock, held here, keeps the import from ending before: its last step
            # updates the writer's index); then the version the import publishes.
            big = tmp_path / "offres.jsonl"
            write_offers(big, offers=2000, seed=22, today=TODAY, data_dir=SHARED_DATA)
            rebuild(shared_db, writer)
            shared_db.dispose()
            with writer_lock(writer):
                importing = subprocess.Popen(
                    [sys.executable, "-c", CLI, "import", "offres", str(big), "--demo"],
                    env=writer_env,
                    cwd=PROJECT_ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                try:
                    time.sleep(2)
                    third = switch(writer, both)
                    assert importing.poll() is None, "l'import devait encore tourner pendant la bascule"
                except BaseException:
                    importing.kill()
                    importing.wait()
                    raise
            output, _ = importing.communicate(timeout=600)
            assert importing.returncode == 0, output
            log("import de 2 000 offres : " + output.strip().splitlines()[-1][:160])
            fourth = switch(writer, both)
            assert len({first, second, third, fourth}) == 4
            time.sleep(1)

        log(f"{load.done} requêtes, {len(load.failures)} en échec")
        assert load.failures == [], load.failures[:5]
        assert after_switch > 10 and load.done > after_switch + 10, (after_switch, load.done)
        with Session(shared_db) as session:
            open_offers = session.scalar(select(func.count()).where(JobOffer.closed_at.is_(None)))
        shared_db.dispose()
        assert offer_total(a) == offer_total(b) == open_offers != before
        assert found(a, WORD) == 1 and found(b, WORD) == 1
        # The writer and the nodes keep the last versions (not one a process still reads), no half copy.
        for root in (writer, root_a, root_b):
            kept = [p.name for p in (root / "versions").iterdir()]
            assert fourth in kept and len(kept) <= 3 and not [k for k in kept if k.startswith(".")], kept

    # A node that restarts opens the version its directory holds.
    with nodes(env_b) as (b,):
        assert health(b) == (200, {"status": "ok", "index": fourth})
        assert found(b, WORD) == 1


def _refused(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CLI, *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_failed_pull_leaves_the_node_as_it_was(shared_db: Engine, tmp_path: Path) -> None:
    url = shared_db.url.render_as_string(hide_password=False)
    writer, mine = tmp_path / "writer", tmp_path / "node"
    rebuild(shared_db, writer)
    first = pull(str(writer), mine)
    held = current_version(mine)
    assert held is not None and held.name == first.version
    assert pull(str(writer), mine).as_text().startswith("Index déjà à jour")
    rebuild(shared_db, writer)
    broken = current_version(writer)
    assert broken is not None
    (broken / "meta.json").write_text("{")  # a version damaged on its way
    env = _env(url, mine, tmp_path / "var", PASSERELLES_SEARCH_REPLICA="true")
    done = _refused(env, "index", "pull", "--from", str(writer))
    assert done.returncode == 2 and "ce nœud garde sa version" in done.stderr, done.stderr
    assert current_version(mine) == held
    assert sorted(p.name for p in (mine / "versions").iterdir()) == [held.name]  # no half copy left
    assert "aucun index publié" in _refused(env, "index", "pull", "--from", str(tmp_path / "nulle-part")).stderr
    assert current_version(mine) == held
    built_here = _refused(env, "index", "rebuild")  # a read node never builds its own index
    assert built_here.returncode == 2 and "Nœud de lecture" in built_here.stderr
    assert current_version(mine) == held


def test_pull_through_rsync_shares_unchanged_segments(shared_db: Engine, tmp_path: Path) -> None:
    """The transport between machines (rsync, here between two local directories): an updated version
    brings only its new segment files, the others are hard links to the node's previous version."""
    writer, mine = tmp_path / "writer", tmp_path / "node"
    rebuild(shared_db, writer)
    first = pull(str(writer), mine, rsync=True)
    assert first.previous is None and first.linked_bytes == 0 and first.copied_bytes > 0
    update(shared_db, writer)  # nothing changed in the database: every segment is kept
    second = pull(str(writer), mine, rsync=True)
    assert second.previous == first.version and second.version != first.version
    assert second.linked_bytes > 0 and second.copied_bytes < first.copied_bytes
    assert current_version(mine) == mine / "versions" / second.version
    shared_db.dispose()


def test_a_version_some_process_reads_is_not_removed(tmp_path: Path) -> None:
    """``publish`` keeps the last three versions, and an older one as long as a process holds it (``hold``)."""
    root = tmp_path / "index"
    names = [f"20261206T0100{i:02d}-0" for i in range(6)]
    for name in names:
        (root / "versions" / name).mkdir(parents=True)
    fd = hold(root / "versions" / names[0])  # a worker still reading the oldest version
    publish(root, root / "versions" / names[5])
    assert sorted(p.name for p in (root / "versions").iterdir()) == [names[0], *names[3:]]
    release(fd)
    publish(root, root / "versions" / names[5])
    assert sorted(p.name for p in (root / "versions").iterdir()) == names[3:]
    assert current_version(root) == root / "versions" / names[5]


def test_the_version_a_process_left_is_freed(shared_db: Engine, tmp_path: Path) -> None:
    """After a switch in the background, the engine of the old version is freed (its memory, its mapped
    files), even though the first one was frozen out of the collector's way (``heap.settle``)."""
    root = tmp_path / "index"
    rebuild(shared_db, root)
    replica = IndexReplica(root, background=True, retire_seconds=0.2)
    old = weakref.ref(replica.engine())
    heap.settle()
    update(shared_db, root)
    replica.engine()  # sees the new pointer: opens it in a thread, answers with the old one meanwhile
    wait_for(lambda: replica.version == current_version(root).name, "la nouvelle version est ouverte", 60)  # type: ignore[union-attr]
    wait_for(lambda: old() is None, "l'ancienne version est libérée", 30)
    shared_db.dispose()
