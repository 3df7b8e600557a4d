"""Load test of the counsellors' and employers' spaces: N simulated users (default 200: 150 counsellors,
50 employers) on PostgreSQL for D seconds (default 300) against uvicorn with several workers.
Target (issue 7): p95 ≤ 150 ms and no error. Writes bench/results/load.json.

Usage: .venv/bin/python bench/load.py [--users 200] [--duration 300] [--workers 2] [--think 1.0 3.0]
       [--output FILE] [--keep-database NAME]

Scaled-down checks: ``--users 50 --duration 60 --output /tmp/load.json --keep-database NAME`` seeds NAME
once with the full volumes (200 users' data) and simulates 50 of the users; later runs skip the seeding.

Each simulated user logs in once (argon2, before the measured window), then loops: think for a random
time in [think_min, think_max] seconds (a person reading the page), then makes one request chosen like
a working day's mix. Counsellors list their files, read one, add a note or a step, export, look at the
dashboard; employers list their offers, look at suggested candidates, list and answer applications.
Only loopback traffic; bounded in time; the server is stopped at the end. The machine is shared: the
load average before and after is recorded, and the CPU seconds used over the window by the server (uvicorn
and its workers), the client (this process) and the whole machine, with the server's CPU per request.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import uvicorn_server

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
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # planner statistics, as a database in service would have them
    engine.dispose()
    return {
        "users": [{"email": u["email"], "role": u["role"]} for u in users],
        "files": files,
        "offers": offers,
        "platforms": platforms,
    }


def descendants(pid: int) -> list[int]:
    """The process and its children, recursively (uvicorn's workers), from /proc."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in task.read_text().split()]
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes (0 for those gone), from /proc/<pid>/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / ticks, sum(values) / ticks


def data_from_database(url: str, counsellors: int, employers_n: int) -> dict[str, Any]:
    """Users, files and offers of a database seeded earlier (``--keep-database``): the first counsellors and
    employers, as many as simulated."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT email, role FROM account WHERE email LIKE '%@charge.example' ORDER BY id")
        ).all()
        files: dict[str, list[int]] = {}
        for email, fid in conn.execute(
            text("SELECT a.email, f.id FROM person_file f JOIN account a ON a.id = f.counsellor_id ORDER BY f.id")
        ):
            files.setdefault(email, []).append(fid)
        offers: dict[str, list[int]] = {}
        for email, oid in conn.execute(
            text(
                "SELECT a.email, o.id FROM job_offer o JOIN account a ON a.employer_id = o.employer_id"
                " WHERE o.source = 'employeur' ORDER BY o.id"
            )
        ):
            offers.setdefault(email, []).append(oid)
    engine.dispose()
    users = [{"email": e, "role": r} for e, r in rows if r == "conseiller"][:counsellors]
    users += [{"email": e, "role": r} for e, r in rows if r == "employeur"][:employers_n]
    return {"users": users, "files": files, "offers": offers}


def error_samples(errors: list[str], limit: int = 20) -> list[dict[str, Any]]:
    """One example per kind of error (request without its ids, status or exception), with its count."""
    kinds: dict[str, dict[str, Any]] = {}
    for message in errors:
        request, _, what = message.rpartition(": ")
        method, _, path = request.partition(" ")
        shape = "/".join("{id}" if part.isdigit() else part for part in path.split("/"))
        entry = kinds.setdefault(f"{method} {shape}: {what}", {"kind": f"{method} {shape}: {what}", "n": 0})
        entry["n"] += 1
        entry.setdefault("example", message)
    return sorted(kinds.values(), key=lambda e: -e["n"])[:limit]


class Stats:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.login_errors: list[str] = []

        self.errors_by: dict[str, int] = {}

    def add(self, name: str, seconds: float) -> None:
        self.latencies.setdefault(name, []).append(seconds * 1000)

    def error(self, name: str, message: str) -> None:
        self.errors.append(message)
        self.errors_by[name] = self.errors_by.get(name, 0) + 1


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0


class ClientError(Exception):
    """A request that got no HTTP answer; the class name (ReadTimeout, ConnectError…) is what is recorded."""


class ReadTimeout(ClientError):
    pass


class ConnectError(ClientError):
    pass


class RemoteProtocolError(ClientError):
    pass


class Answer:
    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content

    def json(self) -> Any:
        return json.loads(self.content)


class LightClient:
    """A minimal HTTP/1.1 keep-alive client over asyncio streams, one connection per simulated user.

    httpx costs ~4 ms of CPU per request, which at ~100 requests/s would take a fifth of this 2-core machine
    away from the server under test; this client costs a small fraction of that. It sends the session
    cookie and the CSRF header like a browser, reads Content-Length or chunked bodies, and gives up after
    ``timeout`` seconds (recorded as ReadTimeout)."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.headers: dict[str, str] = {}
        self.cookies: dict[str, str] = {}
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reused = False

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json_body: Any = None
    ) -> Answer:
        try:
            try:
                return await asyncio.wait_for(self._request(method, path, params, json_body), self.timeout)
            except (asyncio.IncompleteReadError, ConnectionResetError) as exc:
                # The server closed a kept-alive connection just as the request left, before answering
                # anything: like browsers, send it again once on a new connection.
                if not self.reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                    raise
                await self.aclose()
                return await asyncio.wait_for(self._request(method, path, params, json_body), self.timeout)
        except TimeoutError:
            await self.aclose()
            raise ReadTimeout() from None
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            await self.aclose()
            raise RemoteProtocolError(str(exc)) from exc

    async def _request(self, method: str, path: str, params: dict[str, Any] | None, json_body: Any) -> Answer:
        if self.reader is not None and self.reader.at_eof():
            await self.aclose()  # the server closed the idle connection (keep-alive timeout): open a new one
        self.reused = self.writer is not None
        if self.writer is None or self.reader is None:
            try:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            except OSError as exc:
                raise ConnectError(str(exc)) from exc
        target = path + ("?" + urlencode(params) if params else "")
        body = json.dumps(json_body).encode() if json_body is not None else b""
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: */*"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if json_body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length, chunked, close = 0, False, False
        for line in header_lines:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.lower() == "close":
                close = True
            elif name == "set-cookie":
                cookie, _, attributes = value.partition(";")
                key, _, val = cookie.partition("=")
                if "max-age=0" in attributes.lower().replace(" ", "") or not val.strip('"'):
                    self.cookies.pop(key.strip(), None)
                else:
                    self.cookies[key.strip()] = val
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size + 2))
            content = b"".join(p[:-2] for p in parts)
        else:
            content = await self.reader.readexactly(length)
        if close:
            await self.aclose()
        return Answer(status, content)

    async def aclose(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def log_in(
    host: str, port: int, user: dict[str, Any], gate: asyncio.Semaphore, stats: Stats
) -> LightClient | None:
    """Logins happen before the measured window, a few at a time (argon2 is deliberately costly)."""
    client = LightClient(host, port)
    async with gate:
        try:
            response = await client.request(
                "POST", "/api/v1/comptes/connexion", json_body={"email": user["email"], "password": PASSWORD}
            )
        except ClientError as exc:
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
    client: LightClient,
    user: dict[str, Any],
    data: dict[str, Any],
    stats: Stats,
    end: float,
    think: tuple[float, float],
    rng: random.Random,
) -> None:
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
                        {"json_body": {"text": "Appel de suivi, tout va bien."}},
                    ),
                    "step": (
                        "POST",
                        f"/api/v1/dossiers/{fid}/etapes",
                        {"json_body": {"kind": "immersion", "on": "2026-11-02"}},
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
                response = await client.request(method, path, **kwargs)
                elapsed = time.perf_counter() - started
                if response.status_code >= 400:
                    stats.error(f"{user['role']}:{choice}", f"{method} {path}: {response.status_code}")
            except ClientError as exc:
                elapsed = time.perf_counter() - started
                stats.error(f"{user['role']}:{choice}", f"{method} {path}: {type(exc).__name__}")
            stats.add(f"{user['role']}:{choice}", elapsed)
    finally:
        await client.aclose()


async def run_load(
    port: int, data: dict[str, Any], duration: float, think: tuple[float, float], seed_value: int, server_pid: int
) -> tuple[Stats, float, dict[str, Any]]:
    stats = Stats()
    gate = asyncio.Semaphore(4)
    clients = await asyncio.gather(*(log_in("127.0.0.1", port, user, gate, stats) for user in data["users"]))
    rng = random.Random(seed_value)
    # The measured window starts after the logins: CPU of the client (this process), of the server (uvicorn
    # and its workers) and of the whole machine (PostgreSQL and everything else included) over the window.
    server_pids = descendants(server_pid)
    client0, server0, (busy0, total0) = time.process_time(), cpu_seconds(server_pids), machine_busy()
    load_before = os.getloadavg()
    started = time.perf_counter()
    end = time.monotonic() + duration
    tasks = [
        user_loop(client, user, data, stats, end, think, random.Random(rng.random()))
        for client, user in zip(clients, data["users"], strict=True)
        if client is not None
    ]
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - started
    busy, total = machine_busy()
    cpu = {
        "client_s": round(time.process_time() - client0, 2),
        "server_s": round(cpu_seconds(server_pids) - server0, 2),
        "machine_busy_s": round(busy - busy0, 2),
        "machine_capacity_s": round(total - total0, 2),
        "loadavg_start": [round(x, 2) for x in load_before],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
    }
    return stats, wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--duration", type=float, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0))
    parser.add_argument("--files-per-counsellor", type=int, default=20)
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "bench" / "results" / "load.json")
    parser.add_argument(
        "--keep-database",
        default=None,
        help="seed this database once (for 200 users) and keep it; later runs reuse it and simulate --users of them",
    )
    args = parser.parse_args()
    counsellors = args.users * 3 // 4
    rng = random.Random(7)
    name = args.keep_database or f"passerelles_load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is not None
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        t0 = time.perf_counter()
        if exists:
            data = data_from_database(url, counsellors, args.users - counsellors)
        elif args.keep_database:
            seed(url, 150, 50, args.files_per_counsellor, rng)
            data = data_from_database(url, counsellors, args.users - counsellors)
        else:
            data = seed(url, counsellors, args.users - counsellors, args.files_per_counsellor, rng)
        seed_s = time.perf_counter() - t0
        env = os.environ | {"PASSERELLES_DATABASE_URL": url, "PASSERELLES_ENVIRONMENT": "test"}
        with uvicorn_server.running(env, workers=args.workers) as (port, server):
            load_before = os.getloadavg()
            stats, wall, cpu = asyncio.run(run_load(port, data, args.duration, tuple(args.think), 11, server.pid))
            load_after = os.getloadavg()
    finally:
        if not args.keep_database:
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
        "error_samples": error_samples(stats.errors),
        "by_request": {
            k: {
                "n": len(v),
                "p50_ms": round(statistics.median(v), 1),
                "p95_ms": pct(v, 0.95),
                "max_ms": round(max(v), 1),
                "errors": stats.errors_by.get(k, 0),
            }
            for k, v in sorted(stats.latencies.items())
        },
        "cpu": cpu
        | {
            "server_ms_per_request": round(cpu["server_s"] * 1000 / len(every), 2) if every else 0,
            "client_ms_per_request": round(cpu["client_s"] * 1000 / len(every), 2) if every else 0,
            "machine_busy_share": round(cpu["machine_busy_s"] / cpu["machine_capacity_s"], 3)
            if cpu["machine_capacity_s"]
            else 0,
            "note": "server = uvicorn and its workers; machine includes PostgreSQL and whatever else ran",
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
