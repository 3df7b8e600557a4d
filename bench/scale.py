"""The national volume for the benchmarks, built once with the project's own commands and reused.

``bench/pages.py --scale`` calls :func:`ensure` for each database. In the cache directory (``var/scale/`` by
default, ``--scale-dir`` elsewhere):

- ``offres.jsonl`` (1 000 000 demonstration offers, seed 5), ``sessions.xml`` (LHÉO catalogue of 300 000
  sessions, seed 5) and ``offres-import.jsonl`` (200 000 offers, seed 6: the import run while the pages are
  measured), written by the project's generator (``passerelles.demo``);
- ``sqlite/`` (``passerelles.sqlite3``, ``index/``, ``var/``) and ``postgresql/`` (``index/``, ``var/``; the
  database itself is ``passerelles_scale`` on the PostgreSQL server given);
- ``manifest.json``: the parameters, and for each database its URL, index, the time of each step and the
  machine's load. A database whose manifest entry matches the parameters is not rebuilt.

Each database is built like an operator would: ``passerelles init``, ``passerelles import offres FILE --demo``,
``passerelles import lheo FILE --demo``, ``passerelles index rebuild`` (each step in its own process, timed).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PARAMETERS = {"offers": 1_000_000, "sessions": 300_000, "seed": 5, "import_offers": 200_000, "import_seed": 6}
DEFAULT_PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "passerelles_scale"
FILES = {"offers": "offres.jsonl", "sessions": "sessions.xml", "import_offers": "offres-import.jsonl"}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def cli_path() -> str:
    """The project's ``passerelles`` command beside this Python (its sources are those on PYTHONPATH)."""
    script = Path(sys.executable).parent / "passerelles"
    return str(script) if script.exists() else "passerelles"


def read_manifest(scale_dir: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((scale_dir / "manifest.json").read_text()))
    except (OSError, ValueError):
        return {}


def write_manifest(scale_dir: Path, manifest: dict[str, Any]) -> None:
    scale_dir.mkdir(parents=True, exist_ok=True)
    tmp = scale_dir / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, scale_dir / "manifest.json")


def ensure_files(scale_dir: Path) -> dict[str, Path]:
    """The three generated files, written when absent (an existing file of the manifest's parameters is kept)."""
    from passerelles.demo.offers import write_offers
    from passerelles.demo.sessions import write_lheo_catalogue

    scale_dir.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(scale_dir)
    files = manifest.setdefault("files", {})
    paths = {key: scale_dir / name for key, name in FILES.items()}
    p = PARAMETERS
    makers = {
        "offers": lambda path: write_offers(path, offers=p["offers"], seed=p["seed"]),
        "sessions": lambda path: write_lheo_catalogue(path, sessions=p["sessions"], seed=p["seed"]),
        "import_offers": lambda path: write_offers(path, offers=p["import_offers"], seed=p["import_seed"]),
    }
    for key, path in paths.items():
        if path.exists() and key in files:
            continue
        if not path.exists():
            print(f"Génération de {path}…", flush=True)
            start = time.perf_counter()
            counts = makers[key](path)
            files[key] = {"counts": counts, "seconds": round(time.perf_counter() - start, 1)}
        else:  # given beforehand (e.g. a link to a file generated with the same parameters)
            files[key] = {"counts": None, "seconds": None}
        files[key].update(file=path.name, bytes=path.stat().st_size, date=time.strftime("%Y-%m-%d"))
    manifest["parameters"] = PARAMETERS
    write_manifest(scale_dir, manifest)
    return paths


def pg_url(server_url: str, database: str) -> str:
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def pg_admin(server_url: str, sql: str) -> None:
    engine = create_engine(pg_url(server_url, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def pg_exists(server_url: str, database: str) -> bool:
    engine = create_engine(pg_url(server_url, "postgres"))
    try:
        with engine.connect() as conn:
            return bool(conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}))
    finally:
        engine.dispose()


def env_for(entry: dict[str, Any]) -> dict[str, str]:
    return {
        **os.environ,
        "PASSERELLES_DATABASE_URL": entry["database_url"],
        "PASSERELLES_SEARCH_INDEX_DIR": entry["index_dir"],
        "PASSERELLES_VAR_DIR": entry["var_dir"],
    }


def ensure(
    scale_dir: Path, backend: str, pg_server: str = DEFAULT_PG_SERVER, *, rebuild: bool = False
) -> dict[str, Any]:
    """The manifest entry of ``backend`` ("sqlite" or "postgresql"), built first if absent or of other parameters."""
    manifest = read_manifest(scale_dir)
    entry = manifest.get(backend)
    if entry and entry.get("parameters") == PARAMETERS and entry.get("complete") and not rebuild:
        return dict(entry)
    paths = ensure_files(scale_dir)
    folder = scale_dir / backend
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'passerelles.sqlite3'}"
    else:
        pg_admin(pg_server, f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        pg_admin(pg_server, f'CREATE DATABASE "{PG_DATABASE}"')
        url = pg_url(pg_server, PG_DATABASE)
    entry = {
        "parameters": PARAMETERS,
        "database_url": url,
        "index_dir": str(folder / "index"),
        "var_dir": str(folder / "var"),
        "complete": False,
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "steps": [],
    }
    manifest = read_manifest(scale_dir)
    manifest[backend] = entry
    write_manifest(scale_dir, manifest)
    env = env_for(entry)
    cli = cli_path()
    steps = [
        ["init"],
        ["import", "offres", str(paths["offers"]), "--demo"],
        ["import", "lheo", str(paths["sessions"]), "--demo"],
        ["index", "rebuild"],
    ]
    total = time.perf_counter()
    for args in steps:
        print(f"[{backend}] passerelles {' '.join(args)}", flush=True)
        before, start = load(), time.perf_counter()
        subprocess.run([cli, *args], env=env, check=True)
        entry["steps"].append(
            {
                "command": "passerelles " + " ".join(a if "/" not in a else Path(a).name for a in args),
                "seconds": round(time.perf_counter() - start, 1),
                "load_before": before,
                "load_after": load(),
            }
        )
        manifest = read_manifest(scale_dir)
        manifest[backend] = entry
        write_manifest(scale_dir, manifest)
    entry["seconds"] = round(time.perf_counter() - total, 1)
    entry["complete"] = True
    entry["built_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    manifest = read_manifest(scale_dir)
    manifest[backend] = entry
    write_manifest(scale_dir, manifest)
    return dict(entry)


def copy_for_writing(entry: dict[str, Any], backend: str, work: Path, pg_server: str) -> dict[str, Any]:
    """A writable copy of a built database and its index (the import measured must not change the cache):
    SQLite file copied, PostgreSQL database cloned (``CREATE DATABASE … TEMPLATE``); the index folder is
    copied and its ``info.json`` pointed at the copy, so that the copy's index is the published one."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    if backend == "sqlite":
        source = Path(make_url(entry["database_url"]).database or "")
        target = work / "passerelles.sqlite3"
        src = sqlite_connect(source)
        dst = sqlite_connect(target)
        with dst:
            src.backup(dst)  # consistent copy, WAL included
        src.close()
        dst.close()
        url = f"sqlite:///{target}"
    else:
        database = f"{PG_DATABASE}_import"
        pg_admin(pg_server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        source_db = make_url(entry["database_url"]).database
        pg_admin(pg_server, f'CREATE DATABASE "{database}" TEMPLATE "{source_db}"')
        url = pg_url(pg_server, database)
    shutil.copytree(entry["index_dir"], work / "index", ignore=shutil.ignore_patterns(".lock", "CURRENT.*.tmp"))
    for info in (work / "index" / "versions").glob("*/info.json"):
        data = json.loads(info.read_text())
        data["database"] = make_url(url).render_as_string(hide_password=True)
        info.write_text(json.dumps(data))
    return {**entry, "database_url": url, "index_dir": str(work / "index"), "var_dir": str(work / "var")}


def drop_copy(copy: dict[str, Any], backend: str, work: Path, pg_server: str) -> None:
    if backend == "postgresql":
        pg_admin(pg_server, f'DROP DATABASE IF EXISTS "{make_url(copy["database_url"]).database}" WITH (FORCE)')
    shutil.rmtree(work, ignore_errors=True)


def sqlite_connect(path: Path) -> Any:
    import sqlite3

    return sqlite3.connect(str(path))
