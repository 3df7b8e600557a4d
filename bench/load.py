"""Load test of the counsellors' and employers' spaces: N simulated users (default 200: 150 counsellors,
50 employers) on PostgreSQL for D seconds (default 300) against uvicorn with several workers.
Target (issue 7): p95 ≤ 150 ms and no error. Writes bench/results/load.json.

Usage: .venv/bin/python bench/load.py [--users 200] [--duration 300] [--workers 3] [--think 1.0 3.0]

Each simulated user logs in once (argon2, before the measured window), then loops: think for a random
time in [think_min, think_max] seconds (a person reading the page), then makes one request chosen like
a working day's mix. Counsellors list their files, read one, add a note or a step, export, look at the
dashboard; employers list their offers, look at suggested candidates, list and answer applications.
Only loopback traffic; bounded in time; the server is stopped at the end. The machine is shared: the
load average before and after is recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from passerelles.accounts import services as accounts
from passerelles.accounts.schemas import AccountCreate, PlatformIn, StructureIn
from passerelles.caseloads import services as caseloads
from passerelles.caseloads.schemas import FileIn, NoteIn, StepIn
from passerelles.db import make_engine, make_sessionmaker, migrate
from passerelles.employers import services as employers
from passerelles.employers.schemas import ApplicationIn, OfferIn
from passerelles.places.importer import import_communes
from passerelles.reference.loader import load_reference
from passerelles.settings import PROJECT_ROOT

PASSWORD = "mot de passe de charge"
ADMIN_URL = os.environ.get("PASSERELLES_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
COMMUNES = ["69381", "69382", "69383", "69266", "69123", "13201", "13202", "75101", "75056", "33063"]
TARGETS = ["aide-soignant", "accompagnant-educatif-et-social", "auxiliaire-de-puericulture", "infirmier"]
FIRST = ["Nadia", "Inès", "Léa", "Karim", "Tom", "Zoé", "Yasmine", "Marc", "Amina", "Lucas"]
LAST = ["Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Simon", "Michel", "Garcia", "David", "Roux"]


def luhn_siret(seed: int) -> str:
    base = f"{seed:013d}"
    for last in range(10):
        candidate = base + str(last)
        total = 0
        for i, ch in enumerate(reversed(candidate)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return candidate
    raise AssertionError


def seed(url: str, counsellors: int, employers_n: int, files_per: int, rng: random.Random) -> dict[str, Any]:
    engine = make_engine(url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    with factory() as session:
        load_reference(session, PROJECT_ROOT / "data")
        session.commit()
    geo = PROJECT_ROOT.parent / "shared" / "data" / "geo_fr"
    import_communes(engine, geo)
    users: list[dict[str, Any]] = []
    with factory() as session:
        platforms = [accounts.create_platform(session, None, PlatformIn(name=f"Plateforme {i}")).id for i in range(4)]
        password_hash = accounts.hash_password(PASSWORD)
        for i in range(counsellors):
            a = accounts.create_account(
                session,
                None,
                AccountCreate(
                    email=f"conseil{i}@charge.example",
                    display_name=f"Conseil {i}",
                    role="conseiller",
                    platform_id=platforms[i % 4],
                ),
                verified=True,
            )
            a.password_hash = password_hash
            users.append({"email": a.email, "role": "conseiller", "account": a})
        for i in range(employers_n):
            a = accounts.create_account(
                session,
                None,
                AccountCreate(
                    email=f"employeur{i}@charge.example",
                    display_name=f"Employeur {i}",
                    role="employeur",
                    structure=StructureIn(
                        name=f"EHPAD {i}",
                        siret=luhn_siret(7300000 + i),
                        structure_type="ehpad",
                        commune_code=rng.choice(COMMUNES),
                    ),
                ),
                verified=True,
            )
            a.password_hash = password_hash
            users.append({"email": a.email, "role": "employeur", "account": a})
        session.commit()
        files: dict[str, list[int]] = {}
        for u in users:
            if u["role"] != "conseiller":
                continue
            ids = []
            for _ in range(files_per):
                commune = rng.choice(COMMUNES)
                f = caseloads.create_file(
                    session,
                    u["account"],
                    FileIn(
                        first_name=rng.choice(FIRST),
                        last_name=rng.choice(LAST),
                        consent_accompagnement=True,
                        visible_employeurs=rng.random() < 0.6,
                        commune_code=commune,
                        profile={
                            "target": rng.choice(TARGETS),
                            "commune": commune,
                            "diplomas": [{"slug": rng.choice(["deaes", "deas", "bac"])}],
                        },  # type: ignore[arg-type]
                    ),
                )
                caseloads.add_step(
                    session,
                    u["account"],
                    f.id,
                    StepIn(kind="reunion_information", on=dt.date(2026, rng.randint(1, 10), 3)),
                )
                caseloads.add_note(
                    session, u["account"], f.id, NoteIn(text="Premier entretien : projet aide-soignant.")
                )
                ids.append(f.id)
            files[u["email"]] = ids
        session.commit()
        offers: dict[str, list[int]] = {}
        all_files = [(u["account"], fid) for u in users if u["role"] == "conseiller" for fid in files[u["email"]]]
        for u in users:
            if u["role"] != "employeur":
                continue
            ids = []
            for k in range(3):
                o = employers.post_offer(
                    session,
                    u["account"],
                    OfferIn(
                        title=f"Poste {k}",
                        occupation_slug=rng.choice(TARGETS),
                        contract_type="CDI",
                        commune_code=rng.choice(COMMUNES),
                    ),
                )
                ids.append(o.id)
                for counsellor, fid in rng.sample(all_files, 4):
                    employers.apply(session, counsellor, ApplicationIn(offer_id=o.id, file_id=fid))
            offers[u["email"]] = ids
        session.commit()
    engine.dispose()
    return {
        "users": [{"email": u["email"], "role": u["role"]} for u in users],
        "files": files,
        "offers": offers,
        "platforms": platforms,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stats:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.login_errors: list[str] = []

    def add(self, name: str, seconds: float) -> None:
        self.latencies.setdefault(name, []).append(seconds * 1000)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0


async def log_in(base: str, user: dict[str, Any], gate: asyncio.Semaphore, stats: Stats) -> httpx.AsyncClient | None:
    """Logins happen before the measured window, a few at a time (argon2 is deliberately costly)."""
    client = httpx.AsyncClient(base_url=base, timeout=30)
    async with gate:
        try:
            response = await client.post(
                "/api/v1/comptes/connexion", json={"email": user["email"], "password": PASSWORD}
            )
        except httpx.HTTPError as exc:
            stats.login_errors.append(f"{user['email']}: {type(exc).__name__}")
            await client.aclose()
            return None
    if response.status_code != 200:
        stats.login_errors.append(f"{user['email']}: {response.status_code}")
        await client.aclose()
        return None
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


async def user_loop(
    client: httpx.AsyncClient,
    user: dict[str, Any],
    data: dict[str, Any],
    stats: Stats,
    end: float,
    think: tuple[float, float],
    rng: random.Random,
) -> None:
    headers: dict[str, str] = {}
    try:
        await asyncio.sleep(rng.uniform(0, think[1]))  # spread the starts
        while time.monotonic() < end:
            await asyncio.sleep(rng.uniform(*think))
            if time.monotonic() >= end:
                break
            if user["role"] == "conseiller":
                fid = rng.choice(data["files"][user["email"]])
                choice = rng.choices(
                    ["list", "read", "note", "step", "page", "dashboard", "csv", "applications"],
                    [25, 30, 10, 5, 10, 5, 5, 10],
                )[0]
                request: tuple[str, str, dict[str, Any]] = {
                    "list": ("GET", "/api/v1/dossiers", {}),
                    "read": ("GET", f"/api/v1/dossiers/{fid}", {}),
                    "note": (
                        "POST",
                        f"/api/v1/dossiers/{fid}/notes",
                        {"json": {"text": "Appel de suivi, tout va bien."}},
                    ),
                    "step": (
                        "POST",
                        f"/api/v1/dossiers/{fid}/etapes",
                        {"json": {"kind": "immersion", "on": "2026-11-02"}},
                    ),
                    "page": ("GET", f"/conseil/dossiers/{fid}", {}),
                    "dashboard": (
                        "GET",
                        "/api/v1/tableau-de-bord",
                        {"params": {"debut": "2026-01-01", "fin": "2026-12-31"}},
                    ),
                    "csv": ("GET", "/conseil/dossiers.csv", {}),
                    "applications": ("GET", "/api/v1/candidatures", {}),
                }[choice]
            else:
                oid = rng.choice(data["offers"][user["email"]])
                choice = rng.choices(["offers", "candidates", "applications", "page", "space"], [25, 25, 30, 10, 10])[0]
                request = {
                    "offers": ("GET", "/api/v1/employeur/offres", {}),
                    "candidates": ("GET", f"/api/v1/employeur/offres/{oid}/candidats", {}),
                    "applications": ("GET", "/api/v1/candidatures", {"params": {"offre": oid}}),
                    "page": ("GET", f"/employeur/offres/{oid}", {}),
                    "space": ("GET", "/employeur", {}),
                }[choice]
            method, path, kwargs = request
            started = time.perf_counter()
            try:
                response = await client.request(method, path, headers=headers, **kwargs)
                elapsed = time.perf_counter() - started
                if response.status_code >= 400:
                    stats.errors.append(f"{method} {path}: {response.status_code}")
            except httpx.HTTPError as exc:
                elapsed = time.perf_counter() - started
                stats.errors.append(f"{method} {path}: {type(exc).__name__}")
            stats.add(f"{user['role']}:{choice}", elapsed)
    finally:
        await client.aclose()


async def run_load(
    base: str, data: dict[str, Any], duration: float, think: tuple[float, float], seed_value: int
) -> tuple[Stats, float]:
    stats = Stats()
    gate = asyncio.Semaphore(4)
    clients = await asyncio.gather(*(log_in(base, user, gate, stats) for user in data["users"]))
    rng = random.Random(seed_value)
    started = time.perf_counter()
    end = time.monotonic() + duration
    tasks = [
        user_loop(client, user, data, stats, end, think, random.Random(rng.random()))
        for client, user in zip(clients, data["users"], strict=True)
        if client is not None
    ]
    await asyncio.gather(*tasks)
    return stats, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--duration", type=float, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0))
    parser.add_argument("--files-per-counsellor", type=int, default=20)
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "bench" / "results" / "load.json")
    args = parser.parse_args()
    counsellors = args.users * 3 // 4
    rng = random.Random(7)
    name = f"passerelles_load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    server = None
    try:
        t0 = time.perf_counter()
        data = seed(url, counsellors, args.users - counsellors, args.files_per_counsellor, rng)
        seed_s = time.perf_counter() - t0
        port = free_port()
        env = os.environ | {"PASSERELLES_DATABASE_URL": url, "PASSERELLES_ENVIRONMENT": "test"}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "passerelles.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        load_before = os.getloadavg()
        stats, wall = asyncio.run(run_load(base, data, args.duration, tuple(args.think), 11))  # type: ignore[arg-type]
        load_after = os.getloadavg()
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()  # requests still queued after the window: stop without waiting for them
                server.wait(timeout=30)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    every = [v for values in stats.latencies.values() for v in values]
    result = {
        "benchmark": "load",
        "target": {"p95_ms": 150, "errors": 0},
        "database": "postgresql (127.0.0.1:5432)",
        "users": {"total": args.users, "counsellors": counsellors, "employers": args.users - counsellors},
        "duration_s": round(wall, 1),
        "think_time_s": list(args.think),
        "uvicorn_workers": args.workers,
        "seeded": {
            "files": sum(len(v) for v in data["files"].values()),
            "offers": sum(len(v) for v in data["offers"].values()),
            "seconds": round(seed_s, 1),
        },
        "requests": len(every),
        "requests_per_s": round(len(every) / wall, 1) if wall else 0,
        "p50_ms": round(statistics.median(every), 1) if every else 0,
        "p95_ms": pct(every, 0.95),
        "p99_ms": pct(every, 0.99),
        "max_ms": round(max(every), 1) if every else 0,
        "errors": len(stats.errors) + len(stats.login_errors),
        "login_errors": stats.login_errors[:20],
        "error_samples": sorted(set(stats.errors))[:20],
        "by_request": {
            k: {"n": len(v), "p50_ms": round(statistics.median(v), 1), "p95_ms": pct(v, 0.95)}
            for k, v in sorted(stats.latencies.items())
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in load_after],
            "note": "machine partagée (2 cœurs) : le client de charge tourne sur la même machine que le serveur",
        },
        "met": bool(every) and pct(every, 0.95) <= 150 and not stats.errors and not stats.login_errors,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(
        json.dumps(
            {k: result[k] for k in ("requests", "requests_per_s", "p50_ms", "p95_ms", "p99_ms", "errors", "met")},
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
