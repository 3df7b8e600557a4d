"""Benchmark of the training search sorted by « meilleure insertion » (InserJeunes) against the date order.

Usage: .venv/bin/python bench/insertion.py --database-url sqlite:////path/to/national-copy.sqlite3
The database must hold the sessions (e.g. a copy of the national-volume build, 300 000 sessions) and some
InserJeunes rates (`passerelles import inserjeunes tests/fixtures/inserjeunes/…csv`). Each search runs three
times; the median wall-clock time and the process CPU time are written to bench/results/insertion.json with
the machine load (`uptime`), since the CPU is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from sqlalchemy.orm import Session

from passerelles.db import make_engine
from passerelles.trainings.schemas import TrainingQuery
from passerelles.trainings.services import search_sessions

CASES = {
    "france": {},
    "ile-de-france": {"region": "11"},
    "paris-30km": {"commune": "75056", "rayon": 30},
    "cap-aepe": {"certification": "cap-aepe"},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "insertion.json")
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    results: dict[str, dict[str, float | int]] = {}
    with Session(engine) as session:
        for name, criteria in CASES.items():
            for sort in ("date", "insertion"):
                wall, cpu, total = [], [], 0
                for _ in range(3):
                    t, c = time.perf_counter(), time.process_time()
                    found = search_sessions(session, TrainingQuery(tri=sort, **criteria))  # type: ignore[arg-type]
                    wall.append(time.perf_counter() - t)
                    cpu.append(time.process_time() - c)
                    total = found.total
                results[f"{name}/{sort}"] = {
                    "median_s": round(statistics.median(wall), 3),
                    "cpu_s": round(statistics.median(cpu), 3),
                    "sessions": total,
                }
    load = os.getloadavg()
    out = {"load_average": [round(x, 2) for x in load], "cpus": os.cpu_count(), "results": results}
    args.output.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
