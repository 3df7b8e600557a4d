"""Import benchmarks (issue: 300 000 LHÉO sessions ≤ 60 s and ≤ 1 GB; 1 000 000 offers ≤ 3 min).

Usage: .venv/bin/python bench/imports.py [--sessions 300000] [--offers 1000000] [--database-url URL]
Generates seeded demonstration files (passerelles.demo.generator), validates the catalogue against the
LHÉO 2.3 XSD, then imports each into a fresh database migrated with Alembic, each import in its own
process so that its peak memory (ru_maxrss) is its own. Results: bench/results/imports.json.
"""

from __future__ import annotations

import argparse
import json
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
kind, path, url = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
engine = make_engine(url)
migrate(engine)
with make_sessionmaker(engine)() as s:
    load_reference(s, PROJECT_ROOT / "data"); s.commit()
if len(sys.argv) > 4:
    from passerelles.places.importer import import_communes
    import_communes(engine, Path(sys.argv[4]))
start = time.perf_counter()
if kind == "lheo":
    from passerelles.trainings.lheo import import_lheo
    report = import_lheo(engine, path, is_demo=True)
else:
    from passerelles.offers.importer import import_offers
    report = import_offers(engine, path, fmt="france_travail", is_demo=True)
elapsed = time.perf_counter() - start
t = report.totals
# VmHWM is this process's own peak (ru_maxrss can carry the parent's peak across fork + exec).
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": round(elapsed, 2), "created": t.created, "updated": t.updated,
                  "rejected": t.rejected, "counts": {k: v.model_dump() for k, v in report.counts.items()},
                  "peak_rss_mb": round(hwm / 1024, 1)}))
"""


def run_child(kind: str, path: Path, url: str, geo: Path | None) -> dict[str, object]:
    args = [sys.executable, "-c", CHILD, kind, str(path), url] + ([str(geo)] if geo else [])
    out = subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=300_000)
    parser.add_argument("--offers", type=int, default=1_000_000)
    parser.add_argument("--database-url")
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
        work = Path(tmp)
        catalogue = work / "catalogue.xml"
        t0 = time.perf_counter()
        counts = write_lheo_catalogue(catalogue, sessions=args.sessions, seed=1)
        gen_lheo = time.perf_counter() - t0
        t0 = time.perf_counter()
        schema = etree.XMLSchema(etree.parse(str(data_dir / "lheo" / "lheo-2.3.xsd")))
        valid = schema.validate(etree.parse(str(catalogue), etree.XMLParser(huge_tree=True, resolve_entities=False)))
        validate_s = time.perf_counter() - t0
        offers = work / "offres.jsonl"
        t0 = time.perf_counter()
        write_offers(offers, offers=args.offers, seed=1)
        gen_offers = time.perf_counter() - t0
        for kind, path, n in (("lheo", catalogue, args.sessions), ("offres", offers, args.offers)):
            if n == 0:
                continue
            url = args.database_url or f"sqlite:///{work / (kind + '.sqlite3')}"
            r = run_child(kind, path, url, geo)
            seconds = float(r["seconds"])  # type: ignore[arg-type]
            results[kind] = {
                **r,
                "records": n,
                "rows_per_s": round(n / seconds),
                "file_mb": round(path.stat().st_size / 2**20, 1),
                "database": url.split(":")[0],
            }
        results["generation"] = {
            "lheo_s": round(gen_lheo, 2),
            "lheo_counts": counts,
            "xsd_valid": valid,
            "xsd_validation_s": round(validate_s, 2),
            "offers_s": round(gen_offers, 2),
        }
    results["targets"] = {"lheo_300k_s": 60, "lheo_peak_rss_mb": 1024, "offers_1m_s": 180}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
