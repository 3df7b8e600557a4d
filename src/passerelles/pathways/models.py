"""Pathway rules (occupation access, admissions, reductions, equivalences, VAE) as written by the project.

Each rule is stored with its validated payload (``reference.schemas``) so the planner rebuilds its graph
from the database, the system of record.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from passerelles.db import Base


class PathwayRule(Base):
    __tablename__ = "pathway_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    position: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
