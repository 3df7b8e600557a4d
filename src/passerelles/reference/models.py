"""Small reference tables written by the project (structure types of employers)."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from passerelles.db import Base


class StructureType(Base):
    __tablename__ = "structure_type"

    slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    acronym: Mapped[str | None] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
