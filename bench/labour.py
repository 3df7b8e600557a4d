"""Import benchmark of the BMO workbook and the Dares tension indicators at national size.

Usage: .venv/bin/python bench/labour.py [--rows 60000] [--database-url URL] [--output FILE]
Writes a workbook of ``--rows`` generated rows (demonstration figures, in the layout of France Travail's
open-data file: the national survey has some 60 000 rows, 200 occupations × 400 bassins where non-empty)
and a tension CSV of the Dares' size (about 50 000 rows: 225 + 87 families × France, 18 régions, 101
départements), imports each twice (first load, then the idempotent re-run) into a fresh database migrated
with Alembic, each run in its own process so that its peak memory (VmHWM) is its own. A PostgreSQL URL names
the server: a fresh database is created there, then dropped. Results: bench/results/labour.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from passerelles.settings import PROJECT_ROOT

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from passerelles.db import make_engine, migrate
from passerelles.labour.importer import import_bmo, import_tensions
kind, path, url = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
engine = make_engine(url)
migrate(engine)
run = import_bmo if kind == "bmo" else import_tensions
out = []
for attempt in ("first", "again"):
    t0, c0 = time.perf_counter(), time.process_time()
    report = run(engine, path)
    seconds, cpu = round(time.perf_counter() - t0, 2), round(time.process_time() - c0, 2)
    counts = {k: v.model_dump() for k, v in report.counts.items()}
    out.append({"run": attempt, "seconds": seconds, "cpu_s": cpu, "counts": counts})
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"runs": out, "peak_rss_mb": round(peak / 1024, 1)}))
"""


def write_workbook(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    rng = random.Random(17)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("BMO_2026_open_data")
    sheet.append(["annee", "Code métier BMO", "Nom métier BMO", "Famille_met", "Lbl_fam_met", "REG", "NOM_REG",
                  "Dept", "NomDept", "BE26", "NOMBE26", "met", "xmet", "smet"])  # fmt: skip
    codes = [f"{chr(65 + i % 22)}{i % 10}Z{40 + i % 60:02d}" for i in range(200)]
    bassins = [(84 if b < 200 else 11, 1 + b % 95, 1000 + b) for b in range(400)]
    n = 0
    for code in codes:
        for region, dept, bassin in bassins:
            if n >= rows:
                break
            met = rng.choice(["*", rng.randint(3, 2000)])
            xmet = "*" if met == "*" else rng.randint(0, met)
            smet = "*" if met == "*" else rng.randint(0, met)
            sheet.append([2026, code, f"Métier {code}", "S", "Famille", region, "Région", dept, "Département",
                          bassin, f"Bassin {bassin}", met, xmet, smet])  # fmt: skip
            n += 1
    book.save(path)


def write_tensions(path: Path) -> int:
    rng = random.Random(23)
    lines = ["fap,Emploi moyen,Tension ,Catégorie Tension,Intensité d'embauches,Lien formation-emploi,"
             "Manque de main-d'œuvre disponible,Non-durabilité de l'emploi,Conditions de travail contraignantes,"
             "Inadéquation géographique,Année,niveau_geo,niveau_fap,reg,dep"]  # fmt: skip
    places = [("nat", "", "")] + [("reg", f"{r}.0", "") for r in range(1, 19)]
    places += [("dep", "", f"{d:02d}") for d in range(1, 96)] + [("dep", "", d) for d in ("2A", "2B", "971", "974")]
    for year in (2022, 2023):
        for level, size in (("fap 225", 225), ("fap 87", 87)):
            for i in range(size):
                fap = f"{chr(65 + i % 22)}{i % 10}Z" + (f"{i % 100:02d}" if size == 225 else "")
                for geo, reg, dep in places:
                    q = ",".join(f"{rng.randint(1, 5)}.0" for _ in range(7))
                    lines.append(
                        f"{fap},{rng.randint(100, 90000)},{rng.uniform(-2, 2):.6f},{q},{year},{geo},{level},{reg},{dep}"
                    )
    unique = list(dict.fromkeys(lines))
    path.write_text("\n".join(unique) + "\n", encoding="utf-8")
    return len(unique) - 1


def run(kind: str, path: Path, url: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src")}
    load = os.getloadavg()[0]
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(path), url], capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(out.stderr)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {"load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2), **result}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "bench" / "results" / "labour.json")
    args = parser.parse_args()
    results: dict[str, object] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "date": time.strftime("%Y-%m-%d"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        workbook = Path(tmp) / "Base_open_data_BMO_2026.xlsx"
        write_workbook(workbook, args.rows)
        tensions = Path(tmp) / "tensions.csv"
        tension_rows = write_tensions(tensions)
        for kind, path, rows in (("bmo", workbook, args.rows), ("tensions", tensions, tension_rows)):
            if args.database_url:
                import psycopg

                name = f"bench_labour_{os.getpid()}"
                admin = args.database_url.replace("postgresql+psycopg://", "postgresql://")
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')
                url = args.database_url.rsplit("/", 1)[0] + "/" + name
                try:
                    results[kind] = {"rows": rows, "bytes": path.stat().st_size, "engine": "postgresql",
                                     **run(kind, path, url)}  # fmt: skip
                finally:
                    with psycopg.connect(admin, autocommit=True) as conn:
                        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            else:
                url = f"sqlite:///{tmp}/{kind}.sqlite3"
                results[kind] = {"rows": rows, "bytes": path.stat().st_size, "engine": "sqlite", **run(kind, path, url)}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
