"""Index replicas on read nodes (issue 19, docs/deployment.md): what bringing and switching a version costs.

Usage: .venv/bin/python bench/replica.py --source /work/national/index [--work /tmp/replica-bench]
       [--queries 600] [--output bench/results/replica.json]

``--source`` is a published index directory (the writer's); the national one holds ≈ 1.3 M documents.
Steps, in this process:
1. pull: ``index.pull`` of the source's current version into an empty node directory (time, bytes);
2. open: one ``SearchEngine.open`` of that version (what a node does once per switch);
3. pointer check: the cost of ``IndexReplica.engine()`` when nothing changed (one ``stat``), against the
   check as it was before (``Path`` join then ``stat``);
4. service p50/p95/p99 of the same queries (bench/search.py's set) through both checks, interleaved query
   by query so that the shared cores' load falls on both alike;
5. a switch under load: a thread searches without pause through a ``background=True`` replica while a new
   version is published; latency before and during the background opening, and no failed search.
Results: JSON (with the machine load before and after, since the 2 cores are shared).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import threading
import time
import timeit
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search import load, make_queries, percentiles

from passerelles.search.engine import SearchEngine
from passerelles.search.index import current_version, publish, pull
from passerelles.search.schemas import SearchQuery
from passerelles.search.services import IndexReplica

HERE = Path(__file__).resolve().parent


class BeforeReplica(IndexReplica):
    """The pointer check as it was before this change (a Path join on every call)."""

    def _pointer(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.root / "CURRENT")
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns)


def requests(n: int) -> list[SearchQuery]:
    return [SearchQuery(**{k: v for k, v in q.items() if not k.startswith("_")}, facets=False) for q in make_queries(n)]


def interleaved(root: Path, queries: list[SearchQuery]) -> dict[str, Any]:
    after, before = IndexReplica(root), BeforeReplica(root)
    after.engine()
    before._engine, before._stamp, before.version = after._engine, after._stamp, after.version  # one engine
    for rq in queries[:100]:
        after.query(rq)
    times: dict[str, list[float]] = {"before": [], "after": []}
    for i, rq in enumerate(queries):
        pair = [("before", before), ("after", after)]
        for name, replica in pair if i % 2 else reversed(pair):
            t = time.perf_counter()
            replica.query(rq)
            times[name].append((time.perf_counter() - t) * 1000)
    n = 100_000
    check = {
        "before_us": round(timeit.timeit(before.engine, number=n) / n * 1e6, 2),
        "after_us": round(timeit.timeit(after.engine, number=n) / n * 1e6, 2),
    }
    return {
        "pointer_check": check,
        "service_before": percentiles(times["before"]),
        "service": percentiles(times["after"]),
    }


def switch_under_load(root: Path, queries: list[SearchQuery]) -> dict[str, Any]:
    replica = IndexReplica(root, background=True)
    replica.engine()
    first = replica.version
    samples: list[tuple[float, float, str | None]] = []  # (start, ms, version)
    failures: list[str] = []
    stop = threading.Event()

    def search() -> None:
        i = 0
        while not stop.is_set():
            rq = queries[i % len(queries)]
            i += 1
            t = time.perf_counter()
            try:
                replica.query(rq)
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
            samples.append((t, (time.perf_counter() - t) * 1000, replica.version))

    thread = threading.Thread(target=search)
    thread.start()
    time.sleep(5)
    # A new version: a copy of the current one under a new name (what a pull brings), then published.
    folder = current_version(root)
    assert folder is not None
    new = folder.with_name(dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-9")
    shutil.copytree(folder, new, copy_function=os.link)
    switched_at = time.perf_counter()
    publish(root, new)
    while replica.version == first and time.perf_counter() - switched_at < 300:
        time.sleep(0.05)
    opened_s = time.perf_counter() - switched_at
    time.sleep(3)
    stop.set()
    thread.join()
    steady = [ms for t, ms, _ in samples if t < switched_at]
    during = [ms for t, ms, _ in samples if switched_at <= t < switched_at + opened_s]
    return {
        "background_open_s": round(opened_s, 2),
        "searches": len(samples),
        "failed": len(failures),
        "failures": failures[:5],
        "before_switch": percentiles(steady),
        "during_background_open": percentiles(during) if during else None,
        "served_new_version": replica.version == new.name,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", required=True)
    parser.add_argument("--work", default="/tmp/replica-bench")
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--output", default=str(HERE / "results" / "replica.json"))
    args = parser.parse_args()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    results: dict[str, Any] = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "load_before": load()}
    report = pull(args.source, work / "node")
    results["pull"] = {**report.__dict__, "seconds": round(report.seconds, 2)}
    folder = current_version(work / "node")
    assert folder is not None
    results["documents"] = json.loads((folder / "info.json").read_text())["documents"]
    t = time.perf_counter()
    engine = SearchEngine.open(folder, IndexReplica(work / "node").synonyms)
    results["open_s"] = round(time.perf_counter() - t, 2)
    del engine
    queries = requests(args.queries)
    results.update(interleaved(work / "node", queries))
    results["switch_under_load"] = switch_under_load(work / "node", queries)
    results["load_after"] = load()
    Path(args.output).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
