"""Per-endpoint cost of the load test's requests (bench/load.py), on PostgreSQL seeded the same way, one
request at a time, measured two ways:

- against uvicorn (one worker, like each worker of the load test): the server process's CPU per request,
  read from /proc (``server_cpu_ms``; the figure to compare between runs on a shared machine);
- in process (httpx's ASGI transport, sync endpoints run inline): CPU per request with ``time.process_time``
  (includes the in-process client's share, see the ``baseline:health`` row) and SQL statements per request.

The database server's own CPU is in neither. Writes bench/results/load_profile.json (or ``--output``).

Usage: .venv/bin/python bench/load_profile.py [--repeat 30] [--server-repeat 100] [--keep-database NAME]

``--keep-database NAME`` seeds the database NAME once (if it does not exist) and keeps it, so that
repeated runs skip the ~100 s of seeding (the load test's ``--keep-database`` makes the same database).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
from sqlalchemy import create_engine, event, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # bench/load.py: same seeding, same request mix
import uvicorn_server  # bench/uvicorn_server.py

from passerelles.app import create_app
from passerelles.db import make_engine
from passerelles.settings import PROJECT_ROOT, Settings


def requests_for(role: str, fid: int, oid: int) -> dict[str, tuple[str, str, dict[str, Any]]]:
    if role == "conseiller":
        return {
            "list": ("GET", "/api/v1/dossiers", {}),
            "read": ("GET", f"/api/v1/dossiers/{fid}", {}),
            "note": ("POST", f"/api/v1/dossiers/{fid}/notes", {"json": {"text": "Appel de suivi, tout va bien."}}),
            "step": ("POST", f"/api/v1/dossiers/{fid}/etapes", {"json": {"kind": "immersion", "on": "2026-11-02"}}),
            "page": ("GET", f"/conseil/dossiers/{fid}", {}),
            "dashboard": (
                "GET",
                "/api/v1/tableau-de-bord",
                {"params": {"debut": "2026-01-01", "fin": "2026-12-31"}},
            ),
            "csv": ("GET", "/conseil/dossiers.csv", {}),
            "applications": ("GET", "/api/v1/candidatures", {}),
        }
    return {
        "offers": ("GET", "/api/v1/employeur/offres", {}),
        "candidates": ("GET", f"/api/v1/employeur/offres/{oid}/candidats", {}),
        "applications": ("GET", "/api/v1/candidatures", {"params": {"offre": oid}}),
        "page": ("GET", f"/employeur/offres/{oid}", {}),
        "space": ("GET", "/employeur", {}),
    }


def server_profile(url: str, data: dict[str, Any], repeat: int) -> dict[str, dict[str, float]]:
    """The same requests against uvicorn (one worker, as in the load test), one at a time: the server
    process's CPU per request from /proc (10 ms ticks, hence many requests per endpoint)."""
    env = os.environ | {"PASSERELLES_DATABASE_URL": url, "PASSERELLES_ENVIRONMENT": "test"}
    with uvicorn_server.running(env) as (port, server):
        return asyncio.run(_server_requests(port, load.descendants(server.pid), data, repeat))


async def _server_requests(
    port: int, pids: list[int], data: dict[str, Any], repeat: int
) -> dict[str, dict[str, float]]:
    rng = random.Random(5)
    out: dict[str, dict[str, float]] = {}
    for role in ("conseiller", "employeur"):
        user = [u for u in data["users"] if u["role"] == role][5]
        client = await load.log_in("127.0.0.1", port, user, asyncio.Semaphore(1), load.Stats())
        assert client is not None
        for name in ["health", *requests_for(role, 0, 0)]:
            cpu0, wall0 = load.cpu_seconds(pids), time.perf_counter()
            for _ in range(repeat):
                fid = rng.choice(data["files"].get(user["email"], [0]))
                oid = rng.choice(data["offers"].get(user["email"], [0]))
                method, path, kwargs = (
                    ("GET", "/api/v1/health", {}) if name == "health" else requests_for(role, fid, oid)[name]
                )
                answer = await client.request(method, path, params=kwargs.get("params"), json_body=kwargs.get("json"))
                if answer.status_code >= 400:
                    raise SystemExit(f"{method} {path}: {answer.status_code} {answer.content[:300]!r}")
            key = "baseline:health" if name == "health" else f"{role}:{name}"
            out.setdefault(key, {})
            out[key] = {
                "server_cpu_ms": round((load.cpu_seconds(pids) - cpu0) * 1000 / repeat, 2),
                "server_wall_ms": round((time.perf_counter() - wall0) * 1000 / repeat, 1),
            }
        await client.aclose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30, help="requests per endpoint and role")
    parser.add_argument("--users", type=int, default=200, help="as in bench/load.py: sets the seeded volumes")
    parser.add_argument("--files-per-counsellor", type=int, default=20)
    parser.add_argument("--server-repeat", type=int, default=100, help="requests per endpoint against uvicorn")
    parser.add_argument("--keep-database", default=None, help="seed this database once and keep it")
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "bench" / "results" / "load_profile.json")
    args = parser.parse_args()
    admin = create_engine(load.ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = args.keep_database or f"passerelles_loadprof_{os.getpid()}"
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is not None
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = load.ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        seed_s = 0.0
        if exists:
            data = load.data_from_database(url, 150, 50)
        else:
            t0 = time.perf_counter()
            counsellors = args.users * 3 // 4
            load.seed(url, counsellors, args.users - counsellors, args.files_per_counsellor, random.Random(7))
            data = load.data_from_database(url, counsellors, args.users - counsellors)
            seed_s = time.perf_counter() - t0
        served = server_profile(url, data, args.server_repeat)
        result = profile(url, data, args.repeat)
        for key, row in served.items():
            result["by_request"].setdefault(key, {}).update(row)
    finally:
        if not args.keep_database:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    result["seed_seconds"] = round(seed_s, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    for key, row in result["by_request"].items():
        print(
            f"{key:26} in-process cpu {row['cpu_ms_median']:6.2f} ms  sql {row['sql_mean']:4.1f}"
            f"  | uvicorn cpu {row.get('server_cpu_ms', 0):6.2f} ms  wall {row.get('server_wall_ms', 0):6.1f} ms"
        )


async def _inline(
    func: Any, *args: Any, abandon_on_cancel: bool = False, cancellable: Any = None, limiter: Any = None
) -> Any:
    return func(*args)


def profile(url: str, data: dict[str, Any], repeat: int) -> dict[str, Any]:
    # Serial requests: run the sync endpoints and dependencies inline instead of in anyio's thread pool, so
    # that one thread does all the work and time.process_time is not blurred by thread hand-offs.
    anyio.to_thread.run_sync = _inline  # type: ignore[assignment]
    engine = make_engine(url)
    statements = [0]

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        statements[0] += 1

    settings = Settings(database_url=url, environment="test", data_dir=None)
    app = create_app(settings, engine=engine)
    load_before = os.getloadavg()
    cpu_start = time.process_time()
    rows = asyncio.run(_measure(app, data, repeat, statements))
    cpu_total = time.process_time() - cpu_start
    engine.dispose()
    return {
        "benchmark": "load_profile",
        "database": "postgresql (127.0.0.1:5432)",
        "method": "in-process ASGI calls (httpx.ASGITransport), endpoints run inline; CPU = time.process_time",
        "repeat": repeat,
        "files": sum(len(v) for v in data["files"].values()),
        "offers": sum(len(v) for v in data["offers"].values()),
        "by_request": {
            key: {
                "cpu_ms_median": round(statistics.median(s["cpu"]), 2),
                "cpu_ms_mean": round(statistics.fmean(s["cpu"]), 2),
                "sql_mean": round(statistics.fmean(s["sql"]), 1),
                "sql_max": max(s["sql"]),
                "wall_ms_p50": round(statistics.median(s["wall"]), 1),
            }
            for key, s in rows.items()
        },
        "cpu_seconds_total": round(cpu_total, 2),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        },
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


async def _measure(app: Any, data: dict[str, Any], repeat: int, statements: list[int]) -> dict[str, Any]:
    rng = random.Random(3)
    rows: dict[str, dict[str, list[float]]] = {}

    async def timed(
        client: httpx.AsyncClient, samples: dict[str, list[float]], method: str, path: str, **kw: Any
    ) -> None:
        statements[0] = 0
        c0, w0 = time.process_time(), time.perf_counter()
        response = await client.request(method, path, **kw)
        samples["cpu"].append((time.process_time() - c0) * 1000)
        samples["wall"].append((time.perf_counter() - w0) * 1000)
        samples["sql"].append(statements[0])
        if response.status_code >= 400:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text[:300]}")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as probe:
        samples: dict[str, list[float]] = {"cpu": [], "sql": [], "wall": []}
        for _ in range(repeat):
            await timed(probe, samples, "GET", "/api/v1/health")
        rows["baseline:health"] = samples
    for role in ("conseiller", "employeur"):
        users = [u for u in data["users"] if u["role"] == role]
        clients = []
        for user in rng.sample(users, min(5, len(users))):
            client = httpx.AsyncClient(transport=transport, base_url="http://bench")
            response = await client.post(
                "/api/v1/comptes/connexion", json={"email": user["email"], "password": load.PASSWORD}
            )
            response.raise_for_status()
            client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
            clients.append((client, user))
        for name in requests_for(role, 0, 0):
            samples = {"cpu": [], "sql": [], "wall": []}
            for i in range(repeat + 3):
                client, user = clients[i % len(clients)]
                fid = rng.choice(data["files"].get(user["email"], [0]))
                oid = rng.choice(data["offers"].get(user["email"], [0]))
                method, path, kwargs = requests_for(role, fid, oid)[name]
                await timed(client, samples, method, path, **kwargs)
            rows[f"{role}:{name}"] = {k: v[3:] for k, v in samples.items()}  # the first three warm up
        for client, _user in clients:
            await client.aclose()
    return rows


if __name__ == "__main__":
    main()
