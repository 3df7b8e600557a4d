"""Training providers and sessions (filled by the LHÉO importer; see issue on open data)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from passerelles.db import Base


class Provider(Base):
    __tablename__ = "provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    siret: Mapped[str | None] = mapped_column(String(14), index=True)
    name: Mapped[str] = mapped_column(Text)
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("commune.code_insee"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class TrainingSession(Base):
    __tablename__ = "training_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    certification_id: Mapped[int | None] = mapped_column(ForeignKey("certification.id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    start_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("commune.code_insee"), index=True)
    modality: Mapped[str | None] = mapped_column(String(20))  # presentiel | distance | mixte
    route: Mapped[str | None] = mapped_column(String(20))  # initiale | continue | apprentissage | vae
    duration_hours: Mapped[int | None] = mapped_column(Integer)
    cost_eur: Mapped[float | None] = mapped_column(Numeric(10, 2))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
