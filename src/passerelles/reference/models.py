"""Small reference tables written by the project (structure types of employers)."""

from __future__ import annotations

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from passerelles.db import Base


class StructureType(Base):
    __tablename__ = "structure_type"

    slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    acronym: Mapped[str | None] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)


class PublicService(Base):
    """A public service shown as "Pour aller plus loin" on occupation pages (data/public_services.yaml)."""

    __tablename__ = "public_service"

    slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[str]] = mapped_column(JSON)
