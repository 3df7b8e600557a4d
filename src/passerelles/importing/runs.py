"""Import runs (ROME exports, communes, LHÉO catalogues, job offers…): each run recorded, even a refused or failed one,
the latest per file shown by ``passerelles data status`` with its date, counts and freshness."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from passerelles.importing.models import ImportRun
from passerelles.importing.report import ImportReport

FEED_MAX_AGE_DAYS = 2  # a feed is loaded daily: one older than two days is due
FEEDS = {"lheo", "offres", "jobposting"}  # the others (ROME, communes…) are versions, not daily feeds


class FeedStatus(BaseModel):
    importer: str
    source: str
    version: str | None
    status: str
    full: bool
    finished_at: str
    seconds: float
    counts: dict[str, dict[str, int]]
    rejected: int
    message: str | None
    runs: int
    age_days: int
    fresh: bool | None


def feed_name(source: str | Path) -> str:
    """What a run is known by: the file's name, never its path on the machine (nor a URL's query)."""
    return str(source).split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1][:300]


def record_run(
    engine: Engine,
    importer: str,
    source: str | Path,
    started_at: dt.datetime,
    *,
    full: bool,
    report: ImportReport | None = None,
    refused: str | None = None,
    failed: str | None = None,
) -> None:
    """Keep one run: its report, or ``refused`` (why the input as a whole was refused), or ``failed`` (an
    unexpected error stopped it)."""
    counts = {name: c.model_dump() for name, c in report.counts.items()} if report else {}
    message = (refused or failed) if report is None else report.message
    status: str = report.status if report is not None else "failed" if failed else "refused"
    with engine.begin() as conn:
        conn.execute(
            insert(ImportRun).values(
                importer=importer,
                source=feed_name(source),
                version=report.version if report else None,
                status=status,
                full=full,
                started_at=started_at,
                finished_at=dt.datetime.now(dt.UTC),
                counts=counts,
                rejected=report.totals.rejected if report else 0,
                message=message[:2000] if message else None,
            )
        )


def feed_status(engine: Engine, now: dt.datetime | None = None) -> list[FeedStatus]:
    """The latest run of each feed (importer and file), most recent first, with the number of runs."""
    now = now or dt.datetime.now(dt.UTC)
    runs = ImportRun.__table__
    latest = (
        select(runs.c.importer, runs.c.source, func.max(runs.c.id).label("id"), func.count().label("runs"))
        .group_by(runs.c.importer, runs.c.source)
        .subquery()
    )
    query = select(runs, latest.c.runs).join(latest, runs.c.id == latest.c.id).order_by(runs.c.finished_at.desc())
    out = []
    with engine.connect() as conn:
        for r in conn.execute(query).mappings():
            finished, started = _aware(r["finished_at"]), _aware(r["started_at"])
            age = (now - finished).days
            out.append(
                FeedStatus(
                    importer=r["importer"],
                    source=r["source"],
                    version=r["version"],
                    status=r["status"],
                    full=r["full"],
                    finished_at=finished.isoformat(timespec="seconds"),
                    seconds=round((finished - started).total_seconds(), 1),
                    counts=r["counts"] or {},
                    rejected=r["rejected"],
                    message=r["message"],
                    runs=r["runs"],
                    age_days=age,
                    fresh=age <= FEED_MAX_AGE_DAYS if r["importer"] in FEEDS else None,
                )
            )
    return out


def _aware(stamp: dt.datetime) -> dt.datetime:
    """SQLite gives the stored UTC time back without its zone."""
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
