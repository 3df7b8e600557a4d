"""``passerelles data refresh``: one command for operators (and cron) that fetches every configured source,
imports it and updates the search index, under a lock, each source's run recorded in ``refresh_run``.

- **Sources**, in this order, each only when configured: the official datasets of the registry that have a
  download address (``url`` in the registry, ``PASSERELLES_FETCH_URL_<ID>``), fetched then imported (ROME,
  communes, Onisep); the LHÉO catalogues of ``PASSERELLES_LHEO_SOURCES``; the France Travail offers
  (``PASSERELLES_FRANCE_TRAVAIL_CLIENT_ID``/``_SECRET``, incremental, see :mod:`passerelles.offers.fetch`).
  A source not configured is recorded as ``skipped``.
- **Isolation**: each source runs on its own; its failure (network, refused file, unexpected error) is
  recorded with its message and the next source runs. The importers never leave a refused file half
  written (a file is refused whole, store unchanged), so a failing source leaves the store as it was.
- **Lock**: an exclusive ``flock`` on ``var/refresh.lock`` (released by the system if the process dies),
  taken before anything else: a second refresh started meanwhile is refused at once (:class:`RefreshLocked`),
  whatever the database (SQLite or PostgreSQL).
- **Record**: one ``refresh_run`` row per source and run, plus one for the index update; the importers keep
  their own ``import_run`` rows too. ``passerelles data status`` shows each source's last success
  (freshness) and last error.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from passerelles.importing.report import ImportRefused, ImportReport
from passerelles.importing.runs import record_run
from passerelles.occupations.onisep import import_onisep
from passerelles.offers.fetch import OffersFetchError, fetch_offers, mask
from passerelles.opendata.fetch import FetchError, fetch
from passerelles.opendata.models import RefreshRun
from passerelles.opendata.registry import Dataset, load_registry
from passerelles.places.importer import import_communes
from passerelles.rome.importer.loader import import_rome
from passerelles.settings import Settings
from passerelles.trainings.lheo import import_lheo

LOCK_FILE = "refresh.lock"


class RefreshLocked(Exception):
    """Another refresh holds the lock."""


@dataclass
class SourceResult:
    source: str
    status: str  # ok, refused, failed, skipped
    message: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)


@contextmanager
def refresh_lock(var_dir: Path) -> Iterator[None]:
    """Hold ``var/refresh.lock`` for the duration, or raise :class:`RefreshLocked` at once."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            raise RefreshLocked(
                f"un rafraîchissement est déjà en cours ({holder or 'verrou ' + str(path)}) : celui-ci n'est pas lancé"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, depuis {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _totals(report: ImportReport) -> dict[str, Any]:
    t = report.totals
    return {"created": t.created, "updated": t.updated, "removed": t.removed, "rejected": t.rejected}


def _imported(
    engine: Engine, source: str, importer: str, name: str | Path, full: bool, run: Callable[[], ImportReport]
) -> SourceResult:
    """One import, kept in ``import_run`` as ``passerelles import`` keeps it."""
    started = dt.datetime.now(dt.UTC)
    try:
        report = run()
    except ImportRefused as exc:
        record_run(engine, importer, name, started, full=full, refused=str(exc))
        return SourceResult(source, "refused", str(exc))
    record_run(engine, importer, name, started, full=full, report=report)
    status = "ok" if report.status == "ok" else "refused"
    return SourceResult(source, status, report.message, _totals(report))


def _dataset(engine: Engine, settings: Settings, d: Dataset) -> Callable[[], SourceResult]:
    def run() -> SourceResult:
        data_dir = settings.data_dir
        if data_dir is None:
            return SourceResult(d.id, "skipped", "aucun répertoire de données (PASSERELLES_DATA_DIR)")
        try:
            got = fetch(d, data_dir, url=settings.fetch_url(d.id))
        except FetchError as exc:
            return SourceResult(d.id, "failed", str(exc))
        limits = settings.import_limits
        if d.importer == "rome":
            return _imported(
                engine, d.id, "rome", got.path, True, lambda: import_rome(engine, str(got.path), limits=limits)
            )
        if d.importer == "communes":
            folder = data_dir / d.target
            return _imported(engine, d.id, "communes", folder, True, lambda: import_communes(engine, folder))
        if d.importer == "onisep":
            return _imported(engine, d.id, "onisep", got.path, True, lambda: import_onisep(engine, got.path))
        return SourceResult(d.id, "ok", f"{got.bytes} octets téléchargés (aucun import)")

    return run


def _lheo(engine: Engine, settings: Settings) -> SourceResult:
    results = [
        _imported(
            engine,
            "lheo",
            "lheo",
            src,
            False,
            lambda src=src: import_lheo(  # type: ignore[misc]
                engine, src, xsd=settings.lheo_xsd, workers=settings.import_workers, limits=settings.import_limits
            ),
        )
        for src in settings.lheo_sources
    ]
    bad = [r for r in results if r.status != "ok"]
    counts: dict[str, Any] = {}
    for r in results:
        for k, v in r.counts.items():
            counts[k] = counts.get(k, 0) + v
    if bad:
        return SourceResult("lheo", bad[0].status, " ; ".join(r.message or "" for r in bad)[:2000], counts)
    return SourceResult("lheo", "ok", f"{len(results)} catalogue(s)", counts)


def _offers(engine: Engine, settings: Settings, client: Any = None) -> SourceResult:
    started = dt.datetime.now(dt.UTC)
    try:
        got = fetch_offers(engine, settings, client=client)
    except OffersFetchError as exc:
        record_run(engine, "offres", "france-travail.jsonl", started, full=False, refused=str(exc))
        return SourceResult("offres", "failed", str(exc))
    counts = {"offers": got.offers, "searches": got.searches, "requests": got.requests}
    if got.report is None:
        return SourceResult("offres", "ok", "aucune offre nouvelle", counts)
    full = got.since is None and got.complete
    record_run(engine, "offres", got.path, started, full=full, report=got.report)
    status = "ok" if got.report.status == "ok" else "refused"
    note = f"incomplet : recherches coupées à 1 150 offres ({', '.join(got.cut[:5])})" if got.cut else None
    return SourceResult("offres", status, got.report.message or note, {**counts, **_totals(got.report)})


def sources(
    engine: Engine, settings: Settings, *, offers_client: Any = None
) -> list[tuple[str, Callable[[], SourceResult]]]:
    """Every source this installation knows, each with its run (a ``skipped`` result when not configured)."""
    out: list[tuple[str, Callable[[], SourceResult]]] = []
    for d in load_registry(settings.opendata_registry).datasets:
        if d.importer and (settings.fetch_url(d.id) or d.url):
            out.append((d.id, _dataset(engine, settings, d)))
    if settings.lheo_sources:
        out.append(("lheo", lambda: _lheo(engine, settings)))
    else:
        out.append(("lheo", lambda: SourceResult("lheo", "skipped", "aucun catalogue (PASSERELLES_LHEO_SOURCES)")))
    if settings.france_travail_client_id and settings.france_travail_client_secret:
        out.append(("offres", lambda: _offers(engine, settings, offers_client)))
    else:
        out.append(("offres", lambda: SourceResult("offres", "skipped", "identifiants France Travail non configurés")))
    return out


def refresh(
    engine: Engine,
    settings: Settings,
    *,
    only: list[str] | None = None,
    update_index: Callable[[Engine], None] | None = None,
    offers_client: Any = None,
) -> list[SourceResult]:
    """Run every source (or ``only`` those), then ``update_index``; each recorded. Raises :class:`RefreshLocked`."""
    with refresh_lock(settings.var_dir):
        refresh_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        results = []
        for name, run in sources(engine, settings, offers_client=offers_client):
            if only and name not in only:
                continue
            started = dt.datetime.now(dt.UTC)
            try:
                result = run()
            except Exception as exc:  # one source's bug must not stop the others
                result = SourceResult(name, "failed", f"erreur inattendue ({type(exc).__name__}) : {str(exc)[:300]}")
            result.message = mask(result.message, settings) if result.message else None
            _record(engine, refresh_id, result, started)
            results.append(result)
        if update_index is not None and any(r.status in ("ok", "refused") for r in results):
            started = dt.datetime.now(dt.UTC)
            try:
                update_index(engine)
                result = SourceResult("index", "ok")
            except Exception as exc:
                result = SourceResult("index", "failed", f"mise à jour de l'index : {type(exc).__name__} : {exc}"[:500])
            _record(engine, refresh_id, result, started)
            results.append(result)
        return results


def _record(engine: Engine, refresh_id: str, result: SourceResult, started: dt.datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(RefreshRun).values(
                refresh_id=refresh_id,
                source=result.source,
                status=result.status,
                started_at=started,
                finished_at=dt.datetime.now(dt.UTC),
                message=result.message,
                counts=result.counts,
            )
        )


class SourceStatus(BaseModel):
    source: str
    last_status: str
    last_run: str
    last_success: str | None
    age_days: int | None  # since the last success
    last_error: str | None
    last_error_at: str | None
    runs: int


def refresh_status(engine: Engine, now: dt.datetime | None = None) -> list[SourceStatus]:
    """Each source of ``data refresh``: its last run, last success (freshness) and last error."""
    now = now or dt.datetime.now(dt.UTC)
    t = RefreshRun.__table__
    out = []
    with engine.connect() as conn:
        names = conn.execute(select(t.c.source, func.count()).group_by(t.c.source).order_by(t.c.source)).all()
        for source, runs in names:
            last = conn.execute(select(t).where(t.c.source == source).order_by(t.c.id.desc()).limit(1)).mappings().one()
            ok = conn.execute(
                select(t.c.finished_at).where(t.c.source == source, t.c.status == "ok").order_by(t.c.id.desc()).limit(1)
            ).scalar()
            error = (
                conn.execute(
                    select(t.c.message, t.c.finished_at)
                    .where(t.c.source == source, t.c.status.in_(("failed", "refused")))
                    .order_by(t.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
            ok_at = _aware(ok) if ok else None
            out.append(
                SourceStatus(
                    source=source,
                    last_status=last["status"],
                    last_run=_aware(last["finished_at"]).isoformat(timespec="seconds"),
                    last_success=ok_at.isoformat(timespec="seconds") if ok_at else None,
                    age_days=(now - ok_at).days if ok_at else None,
                    last_error=error["message"] if error else None,
                    last_error_at=_aware(error["finished_at"]).isoformat(timespec="seconds") if error else None,
                    runs=runs,
                )
            )
    return out


def _aware(stamp: dt.datetime) -> dt.datetime:
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
