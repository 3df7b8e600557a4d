"""Occupations (métiers) as the project describes them, linked to ROME fiches and certifications.

Scalar columns hold what is filtered, sorted and searched; ``profile`` holds the validated, sourced
sections of the fiche (activities, publics, workplaces, pay…) exactly as ``reference.schemas.Occupation``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from passerelles.db import Base


class Occupation(Base):
    __tablename__ = "occupation"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_feminine: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    nights: Mapped[bool | None] = mapped_column(Boolean)
    weekends: Mapped[bool | None] = mapped_column(Boolean)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    row_hash: Mapped[str] = mapped_column(String(40))

    names: Mapped[list[OccupationName]] = relationship(
        back_populates="occupation", cascade="all, delete-orphan", order_by="OccupationName.position"
    )
    rome_links: Mapped[list[OccupationRome]] = relationship(
        back_populates="occupation", cascade="all, delete-orphan", order_by="OccupationRome.position"
    )


class OccupationName(Base):
    __tablename__ = "occupation_name"

    id: Mapped[int] = mapped_column(primary_key=True)
    occupation_id: Mapped[int] = mapped_column(ForeignKey("occupation.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    feminine: Mapped[str | None] = mapped_column(String(200))
    acronym: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))  # current | former | synonym
    until: Mapped[int | None] = mapped_column(Integer)

    occupation: Mapped[Occupation] = relationship(back_populates="names")


class OccupationRome(Base):
    __tablename__ = "occupation_rome"

    id: Mapped[int] = mapped_column(primary_key=True)
    occupation_id: Mapped[int] = mapped_column(ForeignKey("occupation.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    rome_version: Mapped[str] = mapped_column(String(10))
    code_rome: Mapped[str] = mapped_column(String(5), index=True)
    appellation_ogr: Mapped[int | None] = mapped_column(Integer)
    main: Mapped[bool] = mapped_column(Boolean, default=True)

    occupation: Mapped[Occupation] = relationship(back_populates="rome_links")


class OnisepMetier(Base):
    """Onisep's occupation (``MET.xxx``) linked to a ROME 4 fiche: the Onisep ↔ ROME correspondence."""

    __tablename__ = "onisep_metier"

    onisep_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    code_rome: Mapped[str] = mapped_column(String(5), primary_key=True)
    libelle: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    row_hash: Mapped[str] = mapped_column(String(40))
