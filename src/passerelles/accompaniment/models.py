"""Support structures and their services, as the data·inclusion schema (v1) describes them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from passerelles.db import Base


class SupportStructure(Base):
    __tablename__ = "support_structure"
    __table_args__ = (Index("ix_support_structure_position", "latitude", "longitude"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str] = mapped_column(String(200), unique=True)  # data·inclusion ``id`` (source--id)
    source: Mapped[str] = mapped_column(String(60))  # the original producer (``source`` of the schema)
    kind: Mapped[str] = mapped_column(String(30), index=True)  # accompaniment.schemas.KINDS
    name: Mapped[str] = mapped_column(String(150))
    description: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(300))
    postcode: Mapped[str | None] = mapped_column(String(5))
    commune_code: Mapped[str | None] = mapped_column(String(5), index=True)
    commune_name: Mapped[str | None] = mapped_column(String(100))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(2083))
    hours: Mapped[str | None] = mapped_column(Text)  # OpenStreetMap opening_hours, shown in French
    networks: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_url: Mapped[str | None] = mapped_column(String(2083))
    updated_on: Mapped[dt.date] = mapped_column(Date)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    row_hash: Mapped[str] = mapped_column(String(40))


class SupportService(Base):
    __tablename__ = "support_service"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str] = mapped_column(String(200), unique=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("support_structure.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(150))
    description: Mapped[str] = mapped_column(Text)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    modes: Mapped[list[str]] = mapped_column(JSON, default=list)  # en-presentiel, a-distance
    fees: Mapped[str | None] = mapped_column(String(20))
    access: Mapped[str | None] = mapped_column(Text)  # conditions_acces
    link: Mapped[str | None] = mapped_column(String(2083))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    hours: Mapped[str | None] = mapped_column(Text)
    row_hash: Mapped[str] = mapped_column(String(40))
