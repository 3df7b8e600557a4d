"""Employers and job offers (filled by the offers importers; see issue on open data)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from passerelles.db import Base


class Employer(Base):
    __tablename__ = "employer"

    id: Mapped[int] = mapped_column(primary_key=True)
    siret: Mapped[str | None] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(Text)
    structure_type: Mapped[str | None] = mapped_column(String(40), index=True)  # ehpad, ime, mas…
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("commune.code_insee"), index=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class JobOffer(Base):
    __tablename__ = "job_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"))
    external_id: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(Text)
    code_rome: Mapped[str | None] = mapped_column(String(5), index=True)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employer.id"))
    contract_type: Mapped[str | None] = mapped_column(String(20))
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("commune.code_insee"), index=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
