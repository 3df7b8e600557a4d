"""One row per source and run of ``passerelles data refresh``: what ``passerelles data status`` shows as each
source's freshness (its last successful run) and last error."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from passerelles.db import Base


class RefreshRun(Base):
    __tablename__ = "refresh_run"
    __table_args__ = (Index("ix_refresh_run_source_finished", "source", "finished_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    refresh_id: Mapped[str] = mapped_column(String(40))  # the refresh this source was run by (UTC stamp)
    source: Mapped[str] = mapped_column(String(40))  # offres, lheo, rome…, or "index" (the search index update)
    status: Mapped[str] = mapped_column(String(20))  # ok, refused, failed, skipped
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    message: Mapped[str | None] = mapped_column(Text)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
