"""Benchmark of the main pages: server time per page, p95 target ≤ 50 ms, on the data set `make run` loads.

Usage: .venv/bin/python bench/pages.py [--requests 60] [--database-url URL]
       .venv/bin/python bench/pages.py --scale [--scale-dir var/scale] [--databases sqlite,postgresql]
           [--pg-server URL] [--cold-samples 6] [--requests 40] [--build-only] [--no-import]
Runs against the database `make run` prepares (default: var/passerelles.sqlite3, with the reference data,
ROME 4.60, communes and the demonstration set; run `make init` first). The ASGI app runs in-process
(Starlette's TestClient): the time measured is the server's, from request to full response body, without
network; the process CPU time of each request is recorded too, as the machine is shared and wall-clock
times swing with its load. Each page is warmed up (indexes built once per process), then requested with several query
variants in turn. Writes bench/results/pages.json with the machine load (`uptime`), since the CPU is shared.

``--scale``: the same pages at national volume (1 000 000 offers, 300 000 sessions), on SQLite and PostgreSQL,
see bench/scale_pages.py; results in bench/results/pages-scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from passerelles.app import create_app
from passerelles.db import make_engine
from passerelles.offers.models import JobOffer
from passerelles.settings import PROJECT_ROOT, Settings
from passerelles.trainings.models import TrainingSession

TARGET_P95_MS = 50


def pages(session_ids: list[int], offer_id: int) -> dict[str, list[str]]:
    ids = ",".join(str(i) for i in session_ids[:3])
    return {
        "accueil": ["/"],
        "recherche": ["/recherche?q=aide-soignant", "/recherche?q=AMP", "/recherche?q=educateur specialise"],
        "fiche-metier (avec panneau marché du travail)": [
            "/metiers/aide-soignant",
            "/metiers/aide-soignant?region=84",
            "/metiers/infirmier?departement=69",
            "/metiers/accompagnant-educatif-et-social?commune=Grenoble&rayon=30",
        ],
        "formations": [
            "/formations",
            "/formations?metier=aide-soignant&region=84",
            "/formations?certification=deaes&commune=Lyon&rayon=30&tri=distance",
            "/formations?q=aide-soignant&departement=38&voie=apprentissage",
            "/formations?certification=cafdes&departement=48",
            "/formations?inscriptions=1",
            "/formations?metier=aide-soignant&tri=insertion",
        ],
        "session": [f"/formations/sessions/{i}" for i in session_ids[:3]],
        "comparaison": [f"/formations/comparer?ids={ids}", f"/formations/comparer?ids={ids}&commune=Lyon"],
        "emploi": [
            "/emploi",
            "/emploi?metier=aide-soignant&region=84",
            "/emploi?metier=infirmier&commune=Lyon&rayon=30&contrat=CDI&temps=temps_plein",
            "/emploi?depuis=7&tri=date",
        ],
        "offre": [f"/emploi/offres/{offer_id}"],
        "parcours": [
            "/parcours",
            "/parcours?diplome=DEAS&cible=infirmier",
            "/parcours?diplome=deas&cible=assistant-medical",
        ],
        "financer": [
            "/financer",
            "/financer?age=45&situation=demandeur-emploi&indemnise=true&certification=deaes&region=84",
        ],
        "etre-accompagne": ["/etre-accompagne?commune=Lyon", "/etre-accompagne?commune=Melun"],
        "certifications": ["/certifications"],
    }


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=60, help="requests per page (spread over its variants)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "bench" / "results" / "pages.json")
    parser.add_argument("--scale", action="store_true", help="national volume (bench/scale_pages.py)")
    args, rest = parser.parse_known_args()
    if args.scale:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import scale_pages

        given = set(sys.argv)
        requests = args.requests if "--requests" in given else None
        output = args.output if any(a.startswith("--output") for a in given) else None
        return int(scale_pages.main(rest, requests=requests, output=output))
    if rest:
        parser.error(f"options inconnues : {' '.join(rest)}")
    settings = Settings(**({"database_url": args.database_url} if args.database_url else {}), environment="test")
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        sessions = conn.scalar(select(func.count()).select_from(TrainingSession)) or 0
        offers = conn.scalar(select(func.count()).select_from(JobOffer)) or 0
        session_ids = list(
            conn.scalars(
                select(TrainingSession.id)
                .where(TrainingSession.certification_id.is_not(None))
                .order_by(TrainingSession.id)
                .limit(3)
            )
        )
        offer_id = conn.scalar(select(func.min(JobOffer.id)))
    if not sessions or not offers or offer_id is None:
        print("Base sans sessions ni offres : lancez d'abord `make init` (charge le jeu de démonstration).")
        return 2
    client = TestClient(create_app(settings, engine=engine))
    load_before = _load()
    results: dict[str, dict[str, object]] = {}
    for name, urls in pages(session_ids, offer_id).items():
        for url in urls:  # warm-up: indexes and caches are built once per process
            response = client.get(url)
            if response.status_code != 200:
                print(f"{url} → {response.status_code}", file=sys.stderr)
                return 1
        timings, cpu = [], []
        for i in range(args.requests):
            url = urls[i % len(urls)]
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
            if response.status_code != 200:
                print(f"{url} → {response.status_code}", file=sys.stderr)
                return 1
        q = statistics.quantiles(timings, n=100)
        qc = statistics.quantiles(cpu, n=100)
        results[name] = {
            "urls": urls,
            "requests": len(timings),
            "p50_ms": round(q[49], 2),
            "p95_ms": round(q[94], 2),
            "max_ms": round(max(timings), 2),
            "cpu_p50_ms": round(qc[49], 2),
            "cpu_p95_ms": round(qc[94], 2),
            "meets_target": q[94] <= TARGET_P95_MS,
            "cpu_meets_target": qc[94] <= TARGET_P95_MS,
        }
        print(f"{name:48} p50 {q[49]:7.2f} ms   p95 {q[94]:7.2f} ms   CPU p95 {qc[94]:7.2f} ms", flush=True)
    report = {
        "benchmark": "pages",
        "target_p95_ms": TARGET_P95_MS,
        "all_meet_target": all(r["meets_target"] for r in results.values()),
        "all_meet_target_in_cpu_time": all(r["cpu_meets_target"] for r in results.values()),
        "data_set": {"training_sessions": sessions, "job_offers": offers},
        "database": settings.database_url.split(":")[0],
        "measure": "in-process ASGI (TestClient): request to full body, no network; wall-clock time, and the "
        "process CPU time of the same request (less sensitive to other jobs on the shared CPU)",
        "load_average_before": load_before,
        "load_average_after": _load(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "pages": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
