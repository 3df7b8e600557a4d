"""Benchmark of the route planner: time per profile over the full rules graph (issue: p95 ≤ 10 ms).

Usage: .venv/bin/python bench/parcours.py [--profiles 300] [--database-url URL]
Builds a fresh SQLite database from the migrations and the reference data (no ROME needed), times
``plan()`` for a deterministic mix of profiles, writes bench/results/parcours.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from passerelles.db import make_engine, make_sessionmaker, migrate
from passerelles.pathways.schemas import Profile
from passerelles.pathways.services import build_rulebook, plan
from passerelles.reference.loader import load_reference
from passerelles.settings import PROJECT_ROOT


def profiles(book, n: int, seed: int = 7) -> list[Profile]:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    diplomas = sorted(book.certs) + sorted(book.general)
    occupations = sorted(book.occupations)
    out = []
    for _ in range(n):
        held = rng.sample(diplomas, rng.choice([0, 0, 1, 1, 2]))
        exp = [
            {"occupation": o, "years": rng.choice([0.5, 1, 2, 3, 5])}
            for o in rng.sample(occupations, rng.choice([0, 1, 1, 2]))
        ]
        out.append(
            Profile.model_validate(
                {
                    "diplomas": [{"slug": s} for s in held],
                    "experience": exp,
                    "age": rng.randint(16, 55),
                    "target": rng.choice([*occupations, None]) if rng.random() < 0.9 else None,
                }
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=300)
    parser.add_argument("--database-url")
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "bench" / "results" / "parcours.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        engine = make_engine(url)
        migrate(engine)
        with make_sessionmaker(engine)() as session:
            load_reference(session, PROJECT_ROOT / "data")
            session.commit()
            book = build_rulebook(session)
            batch = profiles(book, args.profiles)
            for p in batch[:20]:  # warm-up
                plan(session, p, book)
            timings, routes = [], 0
            by_kind: dict[str, list[float]] = {"cible": [], "suggestions": []}
            for p in batch:
                start = time.perf_counter()
                result = plan(session, p, book)
                elapsed = (time.perf_counter() - start) * 1000
                timings.append(elapsed)
                by_kind["cible" if p.target else "suggestions"].append(elapsed)
                routes += len(result.routes) if result else 0
    timings.sort()
    q = statistics.quantiles(timings, n=100)
    report = {
        "benchmark": "parcours",
        "profiles": len(timings),
        "routes_found": routes,
        "rules": {
            "certifications": len(book.certs),
            "occupations": len(book.occupations),
            "admissions": sum(len(v) for v in book.admissions.values()),
            "reductions": sum(len(v) for v in book.reductions.values()),
            "equivalences": len(book.equivalences),
            "vae": sum(len(v) for v in book.vae.values()),
        },
        "ms": {
            "p50": round(q[49], 3),
            "p95": round(q[94], 3),
            "p99": round(q[98], 3),
            "max": round(timings[-1], 3),
            "mean": round(statistics.fmean(timings), 3),
        },
        "by_kind_ms": {
            kind: {
                "count": len(v),
                "p50": round(statistics.median(v), 3),
                "p95": round(sorted(v)[max(0, int(len(v) * 0.95) - 1)], 3),
            }
            for kind, v in by_kind.items()
            if v
        },
        "target_p95_ms": 10,
        "database": url.split(":")[0],
        "python": platform.python_version(),
        "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
