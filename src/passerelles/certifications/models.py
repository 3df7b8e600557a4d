"""Certifications (diplômes d'État, CQP, bac pro, BTS, titres…) with level, routes and replacements."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from passerelles.db import Base


class Certification(Base):
    __tablename__ = "certification"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(Text)
    acronym: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    level_eu: Mapped[int | None] = mapped_column(Integer, index=True)
    level_fr: Mapped[str | None] = mapped_column(String(3))
    duration_hours: Mapped[int | None] = mapped_column(Integer)
    months_min: Mapped[int | None] = mapped_column(Integer)
    months_max: Mapped[int | None] = mapped_column(Integer)
    min_age: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    row_hash: Mapped[str] = mapped_column(String(40))

    routes: Mapped[list[CertificationRoute]] = relationship(
        back_populates="certification", cascade="all, delete-orphan", order_by="CertificationRoute.position"
    )
    rncp_codes: Mapped[list[CertificationRncp]] = relationship(
        back_populates="certification", cascade="all, delete-orphan"
    )


class CertificationRncp(Base):
    __tablename__ = "certification_rncp"

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(12), index=True)
    verified: Mapped[bool] = mapped_column(Boolean)

    certification: Mapped[Certification] = relationship(back_populates="rncp_codes")


class CertificationRoute(Base):
    """An access route: initiale, continue, apprentissage, vae, distance."""

    __tablename__ = "certification_route"

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    route: Mapped[str] = mapped_column(String(20))
    available: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)

    certification: Mapped[Certification] = relationship(back_populates="routes")


class CertificationReplacement(Base):
    """``replacing`` took the place of ``replaced`` on ``date`` (DEAMP and DEAVS → DEAES in 2016)."""

    __tablename__ = "certification_replacement"

    id: Mapped[int] = mapped_column(primary_key=True)
    replaced_id: Mapped[int] = mapped_column(ForeignKey("certification.id", ondelete="CASCADE"), index=True)
    replacing_id: Mapped[int] = mapped_column(ForeignKey("certification.id", ondelete="CASCADE"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class OccupationCertification(Base):
    __tablename__ = "occupation_certification"

    id: Mapped[int] = mapped_column(primary_key=True)
    occupation_id: Mapped[int] = mapped_column(ForeignKey("occupation.id", ondelete="CASCADE"), index=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # principale | possible | evolution
    note: Mapped[str | None] = mapped_column(Text)
