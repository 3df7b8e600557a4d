"""``passerelles data status``: each registered dataset with its file, version, load date, counts and freshness."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from passerelles.importing.models import ImportRun
from passerelles.labour.models import BmoProject, TensionIndicator
from passerelles.occupations.models import OnisepMetier
from passerelles.opendata.registry import Registry
from passerelles.places.models import Commune
from passerelles.sources.models import Source


class DatasetStatus(BaseModel):
    id: str
    title: str
    licence: str
    files: list[str]
    fetched_at: str | None
    version: str | None
    loaded_at: str | None
    records: dict[str, int]
    age_days: int | None
    fresh: bool | None


def _counts(engine: Engine, importer: str | None) -> tuple[dict[str, int], str | None, str | None]:
    with engine.connect() as conn:
        if importer == "rome":
            row = conn.execute(
                select(Source.version, Source.loaded_at, Source.counts)
                .where(Source.slug.like("rome-%"), Source.version.is_not(None))
                .order_by(Source.version.desc())
            ).first()
            if row is None:
                return {}, None, None
            return (
                dict(row.counts or {}),
                row.version,
                row.loaded_at.isoformat(timespec="seconds") if row.loaded_at else None,
            )
        if importer == "communes":
            return {"commune": int(conn.scalar(select(func.count()).select_from(Commune)) or 0)}, None, None
        if importer == "onisep":
            return {"onisep_metier": int(conn.scalar(select(func.count()).select_from(OnisepMetier)) or 0)}, None, None
        if importer in ("bmo", "tensions"):
            # One survey (or set of indicators) a year: the version is the latest year held, the load date that
            # of the latest run that wrote something.
            model = BmoProject if importer == "bmo" else TensionIndicator
            count, year = conn.execute(select(func.count(), func.max(model.year))).one()
            loaded = conn.scalar(
                select(func.max(ImportRun.finished_at)).where(ImportRun.importer == importer, ImportRun.status == "ok")
            )
            return (
                {model.__tablename__: int(count or 0)},
                str(year) if year else None,
                _iso(loaded) if loaded and count else None,
            )
    return {}, None, None


def _iso(stamp: dt.datetime) -> str:
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)).isoformat(timespec="seconds")


def dataset_status(
    registry: Registry, data_dir: Path | None, engine: Engine, now: dt.datetime | None = None
) -> list[DatasetStatus]:
    now = now or dt.datetime.now(dt.UTC)
    out = []
    for d in registry.datasets:
        folder = data_dir / d.target if data_dir else None
        files: list[str] = []
        fetched_at = None
        if folder and folder.is_dir():
            if d.filename:
                files = [d.filename] if (folder / d.filename).is_file() else []
            else:
                files = sorted(p.name for p in folder.glob("*.xlsx" if d.format == "xlsx" else "*.csv"))
            meta_path = folder / f".{d.id}.fetch.json"
            if meta_path.is_file():
                meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
                fetched_at = meta.get("fetched_at")
            elif files:
                newest = max((folder / f).stat().st_mtime for f in files)
                fetched_at = dt.datetime.fromtimestamp(newest, dt.UTC).isoformat(timespec="seconds")
        records, version, loaded_at = _counts(engine, d.importer)
        reference = loaded_at or fetched_at
        age = None
        if reference:
            stamp = dt.datetime.fromisoformat(reference)
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=dt.UTC)
            age = (now - stamp).days
        out.append(
            DatasetStatus(
                id=d.id,
                title=d.title,
                licence=d.licence,
                files=files[:5] + ([f"… {len(files) - 5} de plus"] if len(files) > 5 else []),
                fetched_at=fetched_at,
                version=version,
                loaded_at=loaded_at,
                records=records,
                age_days=age,
                fresh=None if age is None else age <= d.max_age_days,
            )
        )
    return out
