"""One row per import run (ROME export, LHÉO catalogue, offers): what ``passerelles data status`` shows of them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from passerelles.db import Base


class ImportRun(Base):
    __tablename__ = "import_run"
    __table_args__ = (Index("ix_import_run_importer_source_finished", "importer", "source", "finished_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    importer: Mapped[str] = mapped_column(String(40))  # rome, lheo, offres, jobposting
    source: Mapped[str] = mapped_column(String(300))  # the file's name (never its path on the machine)
    version: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # ok, refused (some batches may be loaded), failed
    full: Mapped[bool] = mapped_column(default=False)  # a full feed: what it no longer holds was closed
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    counts: Mapped[dict[str, dict[str, int]]] = mapped_column(JSON, default=dict)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
