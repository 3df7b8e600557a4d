"""Import benchmarks (issue: 300 000 LHÉO sessions ≤ 60 s and ≤ 1 GB; 1 000 000 offers ≤ 3 min).

Usage: .venv/bin/python bench/imports.py [--sessions 300000] [--offers 1000000] [--database-url URL]
    [--workers N] [--output FILE]
Generates seeded demonstration files (passerelles.demo.generator), validates the catalogue against the
LHÉO 2.3 XSD, then imports each into a fresh database migrated with Alembic, each import in its own
process so that its peak memory is its own (VmHWM of the loading process; each reader process, see
passerelles.importing.pipeline, reports its own peak too). A PostgreSQL URL names the server: a fresh
database is created there for each import, then dropped. The machine is shared: the load average
before and after each import is recorded with it, and so is the CPU time of the loading process and of
each reader (``cpu_s``, ``cpu_us_per_record``): on a shared machine, CPU time is the steadier measure.
Results: bench/results/imports.json (``--output`` elsewhere for a scaled-down run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from passerelles.settings import PROJECT_ROOT

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from passerelles.db import make_engine, make_sessionmaker, migrate
from passerelles.reference.loader import load_reference
from passerelles.settings import PROJECT_ROOT
kind, path, url, workers = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
workers = None if workers == "auto" else int(workers)
engine = make_engine(url)
migrate(engine)
with make_sessionmaker(engine)() as s:
    load_reference(s, PROJECT_ROOT / "data"); s.commit()
if len(sys.argv) > 5:
    from passerelles.places.importer import import_communes
    import_communes(engine, Path(sys.argv[5]))
import multiprocessing
peaks = multiprocessing.get_context("fork").Queue()
import multiprocessing.util
def _own_peak(_):  # every reader process reports its own peak memory and CPU time when it ends
    def report():
        hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
        own = resource.getrusage(resource.RUSAGE_SELF)
        peaks.put((hwm, own.ru_utime + own.ru_stime))
    multiprocessing.util.Finalize(None, report, exitpriority=100)
multiprocessing.util.register_after_fork(peaks, _own_peak)
start = time.perf_counter()
cpu0 = time.process_time()
if kind == "lheo":
    from passerelles.trainings.lheo import import_lheo
    report = import_lheo(engine, path, is_demo=True, workers=workers)
else:
    from passerelles.offers.importer import import_offers
    report = import_offers(engine, path, fmt="france_travail", is_demo=True, workers=workers)
elapsed = time.perf_counter() - start
cpu = time.process_time() - cpu0
children = resource.getrusage(resource.RUSAGE_CHILDREN)
t = report.totals
# VmHWM is this process's own peak (ru_maxrss can carry the parent's peak across fork + exec).
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
readers, reader_cpu = [], []
while not peaks.empty():
    peak, reader_s = peaks.get()
    readers.append(round(peak / 1024, 1))
    reader_cpu.append(round(reader_s, 2))
print(json.dumps({"seconds": round(elapsed, 2), "created": t.created, "updated": t.updated,
                  "rejected": t.rejected, "counts": {k: v.model_dump() for k, v in report.counts.items()},
                  "peak_rss_mb": round(hwm / 1024, 1), "reader_peak_rss_mb": readers,
                  "cpu_s": {"loader": round(cpu, 1), "readers": round(children.ru_utime + children.ru_stime, 1),
                            "each_reader": reader_cpu}}))
"""


def run_child(kind: str, path: Path, url: str, geo: Path | None, workers: str) -> dict[str, object]:
    args = [sys.executable, "-c", CHILD, kind, str(path), url, workers] + ([str(geo)] if geo else [])
    load_before = os.getloadavg()
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    result["load_average"] = {
        "before": [round(x, 2) for x in load_before],
        "after": [round(x, 2) for x in os.getloadavg()],
    }
    return result


def fresh_database(url: str, kind: str) -> tuple[str, object]:
    """A new empty database on the server of a PostgreSQL ``url`` (and a function that drops it)."""
    from sqlalchemy import create_engine, text

    name = f"bench_imports_{kind}_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.rsplit("/", 1)[0] + "/" + name, drop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=300_000)
    parser.add_argument("--offers", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="PostgreSQL server URL (a database is created per import)")
    parser.add_argument("--workers", default="auto", help="reader processes: a number, or auto")
    parser.add_argument("--keep-files", type=Path, help="reuse/keep the generated files in this directory")
    parser.add_argument("--note", action="append", default=[], help="a remark kept with the results")
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "bench" / "results" / "imports.json")
    args = parser.parse_args()
    from lxml import etree

    from passerelles.demo.generator import write_lheo_catalogue, write_offers

    data_dir = PROJECT_ROOT.parent / "shared" / "data"
    geo = data_dir / "geo_fr" if (data_dir / "geo_fr").is_dir() else None
    results: dict[str, object] = {
        "benchmark": "imports",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep_files or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        catalogue = work / f"catalogue-{args.sessions}.xml"
        offers = work / f"offres-{args.offers}.jsonl"
        generated = work / f"generation-{args.sessions}-{args.offers}.json"
        if generated.is_file() and catalogue.is_file() and offers.is_file():
            generation = json.loads(generated.read_text(encoding="utf-8"))  # files kept from an earlier run
        else:
            t0 = time.perf_counter()
            counts = write_lheo_catalogue(catalogue, sessions=args.sessions, seed=1)
            gen_lheo = time.perf_counter() - t0
            t0 = time.perf_counter()
            schema = etree.XMLSchema(etree.parse(str(data_dir / "lheo" / "lheo-2.3.xsd")))
            parser = etree.XMLParser(huge_tree=True, resolve_entities=False)
            valid = schema.validate(etree.parse(str(catalogue), parser))
            validate_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            write_offers(offers, offers=args.offers, seed=1)
            gen_offers = time.perf_counter() - t0
            generation = {
                "lheo_s": round(gen_lheo, 2),
                "lheo_counts": counts,
                "xsd_valid": valid,
                "xsd_validation_s": round(validate_s, 2),
                "offers_s": round(gen_offers, 2),
            }
            generated.write_text(json.dumps(generation), encoding="utf-8")
        for kind, path, n in (("lheo", catalogue, args.sessions), ("offres", offers, args.offers)):
            if n == 0:
                continue
            drop = None
            if args.database_url:
                url, drop = fresh_database(args.database_url, kind)
            else:
                db = work / (kind + ".sqlite3")
                for leftover in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
                    leftover.unlink(missing_ok=True)  # from an interrupted run in a kept directory
                url = f"sqlite:///{db}"
            try:
                r = run_child(kind, path, url, geo, args.workers)
            finally:
                if drop is not None:
                    drop()  # type: ignore[operator]
            seconds = float(r["seconds"])  # type: ignore[arg-type]
            cpu_s: dict[str, float] = r["cpu_s"]  # type: ignore[assignment]
            results[kind] = {
                **r,
                "records": n,
                "rows_per_s": round(n / seconds),
                # CPU time per record (sessions for LHÉO, offers), of the loading process and of all readers:
                # wall times on the shared machine vary with its load, these much less.
                "cpu_us_per_record": {
                    "loader": round(cpu_s["loader"] * 1e6 / n, 1),
                    "readers": round(cpu_s["readers"] * 1e6 / n, 1),
                },
                "file_mb": round(path.stat().st_size / 2**20, 1),
                "database": url.split(":")[0],
                "workers": args.workers,
            }
        results["generation"] = generation
    results["targets"] = {"lheo_300k_s": 60, "lheo_peak_rss_mb": 1024, "offers_1m_s": 180}
    if args.note:
        results["notes"] = args.note
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
