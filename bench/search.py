"""Search benchmark (issues 4 and 19): the tantivy index, and in the same run its baselines, SQLite FTS5 and
PostgreSQL full-text, on the same documents and queries.

Usage:
    .venv/bin/python bench/search.py --database-url sqlite:////tmp/search-bench/bench.sqlite3 \
        [--work /tmp/search-bench] [--queries 600] [--skip-build | --index-dir DIR] [--skip-http]
        [--skip-fts] [--skip-pg] [--baseline-queries 200] [--pg-server URL] [--reuse-baselines]
    .venv/bin/python bench/search.py --database-url … --service-only [--queries 300] [--no-facets]
        (only the service step, on the existing index; results merged into the output file)

The database must hold the volume to measure: the national volume of ``bench/pages.py --scale``
(var/scale/sqlite/passerelles.sqlite3 and its published index, ``--index-dir var/scale/sqlite/index``), or one
prepared with the real importers (see docs/search.md, "Mesurer").

Steps, each in its own process so that its peak memory (VmHWM) is its own:
1. build: ``passerelles.search.index.rebuild`` from the database (time, size, peak RSS), unless --index-dir;
2. service: every query through ``IndexReplica.query`` (what pages and API call), without and with facets,
   p50/p95/p99 (target with facets: p95 ≤ 10 ms);
3. HTTP: uvicorn with 2 workers, 8 concurrent clients on GET /api/v1/search, p95 and requests/s;
4. baselines, in this run: the same documents (the same analysed tokens) in SQLite FTS5 and in PostgreSQL
   (weighted tsvector, GIN), each in its best form: AND of the query's terms with a prefix on the last one,
   ranked (bm25 / ts_rank), 20 rows, the same filters; typo correction, synonyms, the total and the facets
   are left out of the baselines (tantivy does them: the comparison favours the baselines). The first
   ``--baseline-queries`` queries go through FTS5, PostgreSQL, then tantivy again, one after the other, and
   the ratios of the p95 are printed and written.
Results: bench/results/search.json (with the machine load, since the 2 cores are shared).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import uvicorn_server

HERE = Path(__file__).resolve().parent

# --- query set ---------------------------------------------------------------------------------------

BASE = [
    "aide soignant",
    "aide-soignante",
    "infirmier",
    "infirmières",
    "AMP",
    "AES",
    "AVS",
    "ADVF",
    "DEAES",
    "DEAS",
    "IDE",
    "ASH",
    "EJE",
    "TISF",
    "ASG",
    "auxiliaire de puériculture",
    "educateur specialise",
    "moniteur educateur",
    "accompagnant educatif et social",
    "aide medico psychologique",
    "agent de service hospitalier",
    "assistante de vie",
    "auxiliaire de vie",
    "aide à domicile",
    "secrétaire médicale",
    "assistant médical",
    "médiateur social",
    "éducateur de jeunes enfants",
    "assistante sociale",
    "directeur ehpad",
    "ehpad",
    "travailler avec des personnes âgées",
    "handicap",
    "crèche",
    "aide soignante de nuit",
    "infirmier de nuit",
    "aide soignant lyon",
    "infirmier marseille",
    "auxiliaire de vie paris",
    "educateur specialise nord",
    "cdi aide soignant",
    "formation aide soignant",
    "formation accompagnant educatif et social",
    "vae deas",
    "agent hospitalier",
    "brancardier",
    "ambulancier",
    "puéricultrice",
    "technicien intervention sociale",
    "assistant de soins en gérontologie",
    "K1306",
    "J1501",
    "garde d'enfants",
    "nettoyage",
    "cuisinier",
]
TOWNS = [
    "Lyon",
    "Marseille",
    "Toulouse",
    "Lille",
    "Bordeaux",
    "Nantes",
    "Rennes",
    "Strasbourg",
    "Montpellier",
    "Nice",
    "Dijon",
    "Tours",
    "Limoges",
    "Clermont-Ferrand",
    "Rouen",
    "Amiens",
    "Brest",
    "Metz",
    "Grenoble",
]
DEPTS = ["13", "33", "59", "69", "75", "31", "44", "67", "34", "06", "76", "35", "38", "62", "93"]


def typo(word: str, r: random.Random) -> str:
    if len(word) < 5:
        return word
    i = r.randrange(1, len(word) - 1)
    op = r.choice("sdi")
    if op == "s":
        return word[:i] + r.choice("aeiourstn") + word[i + 1 :]
    if op == "d":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def make_queries(n: int, seed: int = 4) -> list[dict[str, Any]]:
    """A mixed set: plain, typos, filters (type, contract, time, département, dates), radius, sorts."""
    r = random.Random(seed)
    out: list[dict[str, Any]] = []
    while len(out) < n:
        q = r.choice(BASE)
        params: dict[str, Any] = {"q": q}
        kind = r.random()
        if kind < 0.25:
            words = q.split()
            j = r.randrange(len(words))
            words[j] = typo(words[j], r)
            params["q"] = " ".join(words)
            params["_kind"] = "typo"
        elif kind < 0.45:
            params["_kind"] = "filter"
            choice = r.random()
            if choice < 0.3:
                params["types"] = [r.choice(["offer", "training"])]
                params["departement"] = r.choice(DEPTS)
            elif choice < 0.6:
                params["types"] = ["offer"]
                params["contract"] = [r.choice(["CDI", "CDD", "MIS"])]
                params["working_time"] = [r.choice(["temps_plein", "temps_partiel"])]
            else:
                params["types"] = ["training"]
                params["start_from"] = "2026-12-01"
                params["start_to"] = "2027-06-30"
                params["modality"] = [r.choice(["presentiel", "mixte"])]
        elif kind < 0.65:
            params["_kind"] = "radius"
            params["commune"] = r.choice(TOWNS)
            params["radius_km"] = r.choice([5, 10, 20, 30, 50])
            if r.random() < 0.5:
                params["sort"] = "distance"
        else:
            params["_kind"] = "plain"
        out.append(params)
    return out


def percentiles(values: list[float]) -> dict[str, float]:
    v = sorted(values)

    def p(x: float) -> float:
        return round(v[min(len(v) - 1, int(x * len(v)))], 3)

    return {
        "p50_ms": p(0.50),
        "p95_ms": p(0.95),
        "p99_ms": p(0.99),
        "mean_ms": round(sum(v) / len(v), 3),
        "max_ms": round(v[-1], 3),
        "n": len(v),
    }


def hwm_mb() -> float:
    with open("/proc/self/status") as f:
        return round(next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024, 1)


def load() -> str:
    return Path("/proc/loadavg").read_text().strip()


# --- children ----------------------------------------------------------------------------------------


def child_build(url: str, root: str) -> dict[str, Any]:
    from passerelles.db import make_engine
    from passerelles.search.index import rebuild

    report = rebuild(make_engine(url), Path(root), threads=2)
    return {
        "seconds": round(report.seconds, 1),
        "documents": report.documents,
        "size_mb": round(report.size_bytes / 2**20, 1),
        "peak_rss_mb": hwm_mb(),
    }


def child_service(root: str, queries_path: str, facets: str, subset: str = "0") -> dict[str, Any]:
    from passerelles.search.schemas import SearchQuery
    from passerelles.search.services import IndexReplica

    replica = IndexReplica(Path(root))
    t0 = time.perf_counter()
    replica.engine()
    open_s = time.perf_counter() - t0
    queries = json.loads(Path(queries_path).read_text())
    requests = [
        SearchQuery(**{k: v for k, v in q.items() if not k.startswith("_")}, facets=facets == "1") for q in queries
    ]
    for rq in requests[:100]:  # warm-up: page cache and lazy structures
        replica.query(rq)
    times: list[float] = []
    cpu: list[float] = []  # process CPU time: far less sensitive than wall time to the shared cores' load
    by_kind: dict[str, list[float]] = {}
    totals = 0
    for q, rq in zip(queries, requests, strict=True):
        t, c = time.perf_counter(), time.process_time()
        page = replica.query(rq)
        ms = (time.perf_counter() - t) * 1000
        cpu.append((time.process_time() - c) * 1000)
        times.append(ms)
        by_kind.setdefault(q["_kind"], []).append(ms)
        totals += page.total > 0
    return {
        "open_s": round(open_s, 2),
        **percentiles(times),
        "by_kind": {k: percentiles(v) for k, v in by_kind.items()},
        "cpu": percentiles(cpu),
        **({"first_queries": percentiles(times[: int(subset)])} if int(subset) else {}),
        "queries_with_results": totals,
        "peak_rss_mb": hwm_mb(),
    }


WRK_SCRIPT = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT %%d %%d %%d %%f %%f %%f %%f\\n", summary.requests, e.connect + e.read + e.write + e.timeout + e.status,
    summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def child_http_wrk(port: str, queries_path: str, seconds: str) -> dict[str, Any]:
    """Concurrency 8 from wrk (C, Debian's package): the client takes little of the 2 shared cores."""
    import urllib.parse
    import urllib.request

    paths = ["/api/v1/search?" + urllib.parse.urlencode(p) for p in _http_params(queries_path)]
    for path in paths[:50]:  # warm-up
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as resp:
            resp.read()
    script = Path(queries_path).with_suffix(".lua")
    script.write_text(WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths))
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c8",
            f"-d{int(float(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    requests, errors, duration_us, p50, p95, p99, pmax = (float(x) for x in line.split()[1:])
    return {
        "p50_ms": round(p50 / 1000, 3),
        "p95_ms": round(p95 / 1000, 3),
        "p99_ms": round(p99 / 1000, 3),
        "max_ms": round(pmax / 1000, 3),
        "requests": int(requests),
        "errors": int(errors),
        "requests_per_s": round(requests / (duration_us / 1e6), 1),
        "concurrency": 8,
        "client": "wrk -t2 -c8",
    }


def _http_params(queries_path: str) -> list[list[tuple[str, str]]]:
    queries = json.loads(Path(queries_path).read_text())
    names = {
        "types": "type",
        "contract": "contrat",
        "working_time": "temps",
        "modality": "modalite",
        "radius_km": "rayon",
        "start_from": "debut_min",
        "start_to": "debut_max",
        "sort": "tri",
    }
    urls = []
    for q in queries:
        params: list[tuple[str, str]] = []
        for k, v in q.items():
            if k.startswith("_"):
                continue
            for item in v if isinstance(v, list) else [v]:
                params.append((names.get(k, k), str(item)))
        urls.append(params)
    return urls


def child_http(port: str, queries_path: str, seconds: str) -> dict[str, Any]:
    import asyncio

    import httpx

    urls = _http_params(queries_path)
    times: list[float] = []
    errors = 0

    async def worker(i: int, client: httpx.AsyncClient, stop: float) -> None:
        nonlocal errors
        j = i
        while time.perf_counter() < stop:
            t = time.perf_counter()
            resp = await client.get("/api/v1/search", params=urls[j % len(urls)])
            times.append((time.perf_counter() - t) * 1000)
            errors += resp.status_code != 200
            j += 8

    async def run() -> float:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for params in urls[:50]:
                await client.get("/api/v1/search", params=params)
            start = time.perf_counter()
            stop = start + float(seconds)
            await asyncio.gather(*(worker(i, client, stop) for i in range(8)))
            return time.perf_counter() - start

    elapsed = asyncio.run(run())
    return {
        **percentiles(times),
        "requests": len(times),
        "errors": errors,
        "requests_per_s": round(len(times) / elapsed, 1),
        "concurrency": 8,
    }


# --- FTS5 baseline -----------------------------------------------------------------------------------


def child_fts_build(url: str, path: str) -> dict[str, Any]:
    """The same documents, same analysed tokens, in SQLite FTS5 (+ a table of filterable attributes)."""
    import sqlite3

    from sqlalchemy.orm import Session

    from passerelles.db import make_engine
    from passerelles.search.documents import reference_documents
    from passerelles.search.gazetteer import read_places
    from passerelles.search.records import RecordContext, _chunks
    from passerelles.search.text import analyze

    t0 = time.perf_counter()
    Path(path).unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.executescript(
        """
        PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
        CREATE VIRTUAL TABLE doc_fts USING fts5(names, alt, body, place, tokenize='unicode61 remove_diacritics 0');
        CREATE TABLE doc (rowid INTEGER PRIMARY KEY, key TEXT, type TEXT, departement TEXT, contract TEXT,
            working_time TEXT, modality TEXT, start TEXT, lat REAL, lon REAL, weight REAL, payload TEXT);
        """
    )
    engine = make_engine(url)
    rows_f: list[tuple[Any, ...]] = []
    rows_d: list[tuple[Any, ...]] = []

    def flush() -> None:
        db.executemany("INSERT INTO doc_fts(rowid, names, alt, body, place) VALUES (?,?,?,?,?)", rows_f)
        db.executemany("INSERT INTO doc VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows_d)
        rows_f.clear()
        rows_d.clear()

    rowid = 0
    with Session(engine) as session:
        places = read_places(session)
        for d in reference_documents(session):
            rowid += 1
            joined = [" ".join(t for s in part for t in analyze(s)) for part in (d.names, d.alt, d.body)]
            rows_f.append((rowid, *joined, ""))
            rows_d.append(
                (
                    rowid,
                    d.key,
                    d.type,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    d.weight,
                    json.dumps({"title": d.title, "url": d.url}),
                )
            )
        # Sessions and offers: the very JSON documents tantivy receives (same analysed tokens).
        context = RecordContext(session, places)
        for kind, ids in _chunks(session, None):
            for raw in context.chunk(session, kind, ids):
                d = json.loads(raw)
                rowid += 1
                # Records keep their words in the tiered fields (fields.add_tiered: "aide~o20680", and a
                # marker "~o20680"): the words themselves, names (with alt) and body.
                names = " ".join(t.split("~")[0] for t in d.get("tn", "").split() if not t.startswith("~"))
                body = " ".join(t.split("~")[0] for t in d.get("tb", "").split())
                rows_f.append((rowid, d.get("names", names), d.get("alt", ""), d.get("body", body), d.get("place", "")))
                rows_d.append(
                    (
                        rowid,
                        d["key"],
                        d["type"],
                        d.get("departement"),
                        d.get("contract"),
                        d.get("working_time"),
                        d.get("modality"),
                        (d.get("start") or "")[:10] or None,
                        d.get("lat"),
                        d.get("lon"),
                        d.get("weight", 0.0),
                        d["payload"],
                    )
                )
                if len(rows_f) >= 20000:
                    flush()
    flush()
    db.executescript(
        """
        CREATE INDEX doc_type ON doc(type, departement); CREATE INDEX doc_geo ON doc(lat, lon);
        CREATE VIRTUAL TABLE doc_vocab USING fts5vocab(doc_fts, 'row');
        """
    )
    db.commit()
    db.close()
    return {
        "seconds": round(time.perf_counter() - t0, 1),
        "documents": rowid,
        "size_mb": round(Path(path).stat().st_size / 2**20, 1),
        "peak_rss_mb": hwm_mb(),
    }


def _baseline_context(url: str) -> tuple[Any, Any]:
    from sqlalchemy.orm import Session

    from passerelles.db import make_engine
    from passerelles.search.gazetteer import Gazetteer, read_places

    with Session(make_engine(url)) as session:
        places = read_places(session)
    return places, Gazetteer(places)


def _baseline_filters(q: dict[str, Any], places: Any, gazetteer: Any, ph: str) -> tuple[list[str], list[Any], Any]:
    """The query's filters as SQL over the attribute columns (``ph``: the driver's placeholder)."""
    import math

    where: list[str] = []
    args: list[Any] = []
    if q.get("types"):
        where.append(f"d.type IN ({','.join([ph] * len(q['types']))})")
        args += q["types"]
    for key, column in (
        ("departement", "departement"),
        ("contract", "contract"),
        ("working_time", "working_time"),
        ("modality", "modality"),
    ):
        value = q.get(key)
        if value:
            where.append(f"d.{column} = {ph}")
            args.append(value[0] if isinstance(value, list) else value)
    if q.get("start_from"):
        where.append(f"d.start BETWEEN {ph} AND {ph}")
        args += [q["start_from"], q["start_to"]]
    circle = None
    if q.get("commune"):
        code = gazetteer.commune(q["commune"])
        _n, _d, lat, lon, _p = places.communes[code]
        radius = q["radius_km"]
        dlat, dlon = radius / 111.2, radius / (111.32 * math.cos(math.radians(lat)))
        where.append(f"d.lat BETWEEN {ph} AND {ph} AND d.lon BETWEEN {ph} AND {ph}")
        args += [lat - dlat, lat + dlat, lon - dlon, lon + dlon]
        circle = (lat, lon, radius)
    return where, args, circle


def _in_circle(rows: list[Any], circle: Any, q: dict[str, Any]) -> list[Any]:
    """Rows (ranked; their lat, lon in columns 1, 2) in the circle, the 20 best (or nearest)."""
    from passerelles.places.geo import haversine_km

    if circle is None:
        return rows[:20]
    rows = [r for r in rows if haversine_km(circle[0], circle[1], r[1], r[2]) <= circle[2]]
    if q.get("sort") == "distance":
        rows.sort(key=lambda r: haversine_km(circle[0], circle[1], r[1], r[2]))
    return rows[:20]


def _timed(run: Any, queries: list[dict[str, Any]]) -> dict[str, Any]:
    for q in queries[:20]:  # warm-up: page cache
        run(q)
    times: list[float] = []
    by_kind: dict[str, list[float]] = {}
    with_results = 0
    for q in queries:
        t = time.perf_counter()
        found = run(q)
        ms = (time.perf_counter() - t) * 1000
        times.append(ms)
        by_kind.setdefault(q["_kind"], []).append(ms)
        with_results += found > 0
    return {
        **percentiles(times),
        "by_kind": {k: percentiles(v) for k, v in by_kind.items()},
        "queries_with_results": with_results,
        "peak_rss_mb": hwm_mb(),
    }


def child_fts_query(path: str, queries_path: str, url: str, n: str) -> dict[str, Any]:
    """SQLite FTS5 in its best form: AND of the query's analysed terms, prefix on the last one, ranked by
    bm25 (same field weights), 20 rows, the filters on an attribute table; no typo handling."""
    import sqlite3

    from passerelles.search.text import analyze

    places, gazetteer = _baseline_context(url)
    db = sqlite3.connect(path)
    queries = json.loads(Path(queries_path).read_text())[: int(n)]

    def run(q: dict[str, Any]) -> int:
        tokens = list(dict.fromkeys(analyze(q["q"])))
        if not tokens:
            return 0
        match = " AND ".join(f'"{t}"' for t in tokens[:-1]) + (" AND " if len(tokens) > 1 else "")
        match += f'"{tokens[-1]}"*'
        where, args, circle = _baseline_filters(q, places, gazetteer, "?")
        sql = (
            "SELECT d.rowid, d.lat, d.lon, d.payload FROM doc_fts JOIN doc d ON d.rowid = doc_fts.rowid "
            "WHERE doc_fts MATCH ?"
            + "".join(" AND " + w for w in where)
            + " ORDER BY bm25(doc_fts, 3.0, 1.6, 0.4, 1.0)"
            + (" LIMIT 20" if circle is None else "")
        )
        return len(_in_circle(db.execute(sql, [match, *args]).fetchall(), circle, q))

    return _timed(run, queries)


PG_FTS_DATABASE = "passerelles_bench_fts"


def child_pg_build(fts_path: str, server: str) -> dict[str, Any]:
    """The same analysed documents (from the FTS5 file) in PostgreSQL: a weighted ``tsvector`` ('simple'
    configuration: the tokens are already analysed) with a GIN index, and the attribute columns."""
    import sqlite3

    import psycopg
    from sqlalchemy.engine import make_url

    t0 = time.perf_counter()
    u = make_url(server)
    dsn = f"host={u.host or '127.0.0.1'} port={u.port or 5432} user={u.username or 'postgres'}"
    if u.password:
        dsn += f" password={u.password}"
    with psycopg.connect(dsn + " dbname=postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_FTS_DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{PG_FTS_DATABASE}"')
    src = sqlite3.connect(fts_path)
    with psycopg.connect(dsn + f" dbname={PG_FTS_DATABASE}") as conn:
        conn.execute(
            "CREATE UNLOGGED TABLE doc_raw (rowid integer, names text, alt text, body text, place text, type text, "
            "departement text, contract text, working_time text, modality text, start date, lat float8, "
            "lon float8, weight float8, payload text)"
        )
        rows = src.execute(
            "SELECT f.rowid, f.names, f.alt, f.body, f.place, d.type, d.departement, d.contract, d.working_time, "
            "d.modality, d.start, d.lat, d.lon, d.weight, d.payload FROM doc_fts f JOIN doc d ON d.rowid = f.rowid"
        )
        with conn.cursor().copy("COPY doc_raw FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.execute(
            "CREATE TABLE doc AS SELECT rowid, type, departement, contract, working_time, modality, start, lat, "
            "lon, weight, payload, setweight(to_tsvector('simple', coalesce(names, '')), 'A') || "
            "setweight(to_tsvector('simple', coalesce(alt, '')), 'B') || "
            "setweight(to_tsvector('simple', coalesce(place, '')), 'C') || "
            "setweight(to_tsvector('simple', coalesce(body, '')), 'D') AS tsv FROM doc_raw"
        )
        conn.execute("DROP TABLE doc_raw")
        conn.execute("CREATE INDEX doc_tsv ON doc USING gin (tsv)")
        conn.execute("CREATE INDEX doc_type ON doc (type, departement)")
        conn.execute("CREATE INDEX doc_geo ON doc (lat, lon)")
        conn.commit()
    with psycopg.connect(dsn + f" dbname={PG_FTS_DATABASE}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE doc")
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        count = conn.execute("SELECT count(*) FROM doc").fetchone()
    return {
        "seconds": round(time.perf_counter() - t0, 1),
        "documents": count[0] if count else 0,
        "size_mb": round((size[0] if size else 0) / 2**20, 1),
        "database": PG_FTS_DATABASE,
    }


def child_pg_query(server: str, queries_path: str, url: str, n: str) -> dict[str, Any]:
    """PostgreSQL full-text in its best form: ``to_tsquery`` AND of the analysed terms, prefix (``:*``) on
    the last one, ``ts_rank`` with the same field order of weights, 20 rows, GIN index; no typo handling."""
    import psycopg
    from sqlalchemy.engine import make_url

    from passerelles.search.text import analyze

    places, gazetteer = _baseline_context(url)
    u = make_url(server)
    dsn = f"host={u.host or '127.0.0.1'} port={u.port or 5432} user={u.username or 'postgres'} dbname={PG_FTS_DATABASE}"
    if u.password:
        dsn += f" password={u.password}"
    conn = psycopg.connect(dsn, autocommit=True)
    queries = json.loads(Path(queries_path).read_text())[: int(n)]

    def run(q: dict[str, Any]) -> int:
        tokens = list(dict.fromkeys(analyze(q["q"])))
        if not tokens:
            return 0
        tsquery = " & ".join(tokens[:-1]) + (" & " if len(tokens) > 1 else "") + tokens[-1] + ":*"
        where, args, circle = _baseline_filters(q, places, gazetteer, "%s")
        sql = (
            "SELECT d.rowid, d.lat, d.lon, d.payload FROM doc d, to_tsquery('simple', %s) query "
            "WHERE d.tsv @@ query"
            + "".join(" AND " + w for w in where)
            + " ORDER BY ts_rank('{0.13, 0.33, 0.53, 1.0}', d.tsv, query) DESC"
            + (" LIMIT 20" if circle is None else "")
        )
        return len(_in_circle(conn.execute(sql, [tsquery, *args]).fetchall(), circle, q))

    return _timed(run, queries)


CHILDREN = {
    "build": child_build,
    "service": child_service,
    "http": child_http,
    "http_wrk": child_http_wrk,
    "fts_build": child_fts_build,
    "fts_query": child_fts_query,
    "pg_build": child_pg_build,
    "pg_query": child_pg_query,
}


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def http_step(args: argparse.Namespace, root: Path, qpath: Path) -> dict[str, Any]:
    """uvicorn with 2 workers on the published index; 8 concurrent clients (wrk when installed)."""
    env = {
        **os.environ,
        "PASSERELLES_DATABASE_URL": args.database_url,
        "PASSERELLES_SEARCH_INDEX_DIR": str(root),
        "PASSERELLES_ENVIRONMENT": "production",
        "PASSERELLES_SECRET_KEY": secrets.token_hex(32),  # production refuses to start without one
    }
    with uvicorn_server.running(env, workers=2) as (port, _server):
        client = "http_wrk" if shutil.which("wrk") else "http"
        return {
            **run_child(client, str(port), str(qpath), str(args.http_seconds)),
            "workers": 2,
            "load_after": load(),
        }


def baselines_step(args: argparse.Namespace, root: Path, qpath: Path, queries: list[Any]) -> dict[str, Any]:
    """SQLite FTS5 and PostgreSQL full-text on the same documents and the first N queries, in this run;
    then tantivy again on those N queries (without and with facets), right after, for the ratios."""
    n = str(min(args.baseline_queries, len(queries)))
    out: dict[str, Any] = {
        "queries": int(n),
        "form": "AND of the query's analysed terms (the tantivy analyser's tokens), prefix on the last one, "
        "ranked (FTS5 bm25, PostgreSQL ts_rank, field weights as tantivy's), 20 rows, filters and radius "
        "on attribute columns (box in SQL, then distance)",
        "left_out": "typo correction, synonyms and acronyms (tantivy does them; the baselines do not), and "
        "the total count and facets tantivy's service returns: the comparison favours the baselines",
        "load_before": load(),
    }
    fts = args.work / "fts5.sqlite3"
    info = args.work / "fts5.json"
    if args.reuse_baselines and fts.exists() and info.exists():
        out["fts5_build"] = {**json.loads(info.read_text()), "reused": True}
    else:
        print("fts5 build…", file=sys.stderr)
        out["fts5_build"] = run_child("fts_build", args.database_url, str(fts))
        info.write_text(json.dumps(out["fts5_build"]))
    print("fts5 queries…", file=sys.stderr)
    out["fts5"] = {**run_child("fts_query", str(fts), str(qpath), args.database_url, n), "load_after": load()}
    if not args.skip_pg:
        pg_info = args.work / "pg-fts.json"
        if args.reuse_baselines and pg_info.exists():
            out["postgresql_build"] = {**json.loads(pg_info.read_text()), "reused": True}
        else:
            print("postgresql full-text build…", file=sys.stderr)
            out["postgresql_build"] = run_child("pg_build", str(fts), args.pg_server)
            pg_info.write_text(json.dumps(out["postgresql_build"]))
        print("postgresql full-text queries…", file=sys.stderr)
        out["postgresql"] = {
            **run_child("pg_query", args.pg_server, str(qpath), args.database_url, n),
            "load_after": load(),
        }
    print("tantivy on the same queries…", file=sys.stderr)
    subset = qpath.with_name("queries-baseline.json")
    subset.write_text(json.dumps(queries[: int(n)], ensure_ascii=False))
    out["tantivy"] = {**run_child("service", str(root), str(subset), "0"), "facets": False, "load_after": load()}
    out["tantivy_with_facets"] = {
        **run_child("service", str(root), str(subset), "1"),
        "facets": True,
        "load_after": load(),
    }
    for name in ("fts5", "postgresql"):
        if name in out:
            out[f"ratio_p95_{name}_over_tantivy"] = round(out[name]["p95_ms"] / out["tantivy"]["p95_ms"], 1)
            out[f"ratio_p95_{name}_over_tantivy_with_facets"] = round(
                out[name]["p95_ms"] / out["tantivy_with_facets"]["p95_ms"], 1
            )
            print(
                f"{name}: p95 {out[name]['p95_ms']} ms ; tantivy p95 {out['tantivy']['p95_ms']} ms "
                f"(avec facettes {out['tantivy_with_facets']['p95_ms']} ms) ; rapport "
                f"{out[f'ratio_p95_{name}_over_tantivy']}",
                file=sys.stderr,
            )
    return out


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(CHILDREN[sys.argv[2]](*sys.argv[3:])))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/search-bench"))
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--http-seconds", type=float, default=30)
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--skip-fts", action="store_true", help="no baselines (FTS5, PostgreSQL full-text)")
    parser.add_argument("--baseline-queries", type=int, default=200, help="the first N queries, for all three")
    parser.add_argument("--pg-server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--baselines-only", action="store_true", help="only the baselines step, merged into the output")
    parser.add_argument("--skip-http", action="store_true", help="no HTTP step")
    parser.add_argument("--skip-pg", action="store_true", help="no PostgreSQL full-text baseline")
    parser.add_argument("--reuse-baselines", action="store_true", help="keep the baselines' tables when present")
    parser.add_argument("--index-dir", type=Path, default=None, help="a published index of the database (no build)")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "search.json")
    parser.add_argument("--service-only", action="store_true", help="only the service step, existing index")
    parser.add_argument("--no-facets", action="store_true", help="with --service-only: skip the facet run")
    parser.add_argument("--http-only", action="store_true", help="only the HTTP step, existing index")
    args = parser.parse_args()
    root = args.index_dir or args.work / "index"
    args.work.mkdir(parents=True, exist_ok=True)
    queries = make_queries(args.queries)
    qpath = args.work / "queries.json"
    qpath.write_text(json.dumps(queries, ensure_ascii=False))
    previous = json.loads(args.output.read_text()) if args.output.exists() else {}
    results: dict[str, Any] = {
        "benchmark": "search",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "database": args.database_url.split(":")[0],
        "queries": {
            "count": len(queries),
            "by_kind": {k: sum(q["_kind"] == k for q in queries) for k in ("plain", "typo", "filter", "radius")},
        },
        "load_before": load(),
    }

    def save() -> None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    if args.service_only:
        results = {**previous, "service_only_run": {"date": results["date"], "queries": results["queries"]}}
        results["service_only_run"]["load_before"] = load()
        results["service"] = {
            **run_child("service", str(root), str(qpath), "0"),
            "facets": False,
            "load_after": load(),
        }
        if not args.no_facets:
            results["service_with_facets"] = {
                **run_child("service", str(root), str(qpath), "1"),
                "facets": True,
                "load_after": load(),
            }
        save()
        print(json.dumps({k: results[k] for k in ("service_only_run", "service", "service_with_facets")}, indent=2))
        return
    if args.baselines_only:
        results = {**previous, "baselines": baselines_step(args, root, qpath, queries)}
        save()
        return
    if args.http_only:
        results = {**previous, "http_only_run": {"date": results["date"], "load_before": load()}}
        results["http"] = http_step(args, root, qpath)
        save()
        print(json.dumps(results["http"], indent=2))
        return
    if args.index_dir:
        results["build"] = {"reused": str(args.index_dir)}
    elif args.skip_build and "build" in previous:
        results["build"] = previous["build"]
    else:
        print("build…", file=sys.stderr)
        results["build"] = {**run_child("build", args.database_url, str(root)), "load_after": load()}
    save()
    print("service…", file=sys.stderr)
    n = str(args.baseline_queries)
    results["service"] = {**run_child("service", str(root), str(qpath), "0", n), "facets": False, "load_after": load()}
    results["service_with_facets"] = {
        **run_child("service", str(root), str(qpath), "1", n),
        "facets": True,
        "load_after": load(),
    }
    save()
    if not args.skip_http:
        print("http…", file=sys.stderr)
        results["http"] = http_step(args, root, qpath)
        save()
    if not args.skip_fts:
        results["baselines"] = baselines_step(args, root, qpath, queries)
        save()
    results["targets"] = {
        "service_p95_ms": 5,
        "service_p99_ms": 15,
        "http_p95_ms": 25,
        "http_requests_per_s": 400,
        "build_s": 180,
        "peak_rss_mb": 2048,
        "service_with_facets_p95_ms": 10,
        "ratio_p95_baseline_over_tantivy": 10,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
