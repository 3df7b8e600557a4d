"""RNCP sheets and their blocs de compétences, as imported from the France Compétences export.

These tables mirror the register; the project's own certifications (``certification``) are never written
from them: differences are listed (:func:`passerelles.rncp.services.differences`), not applied.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from passerelles.db import Base


class RncpSheet(Base):
    """One « fiche » of the register (``FICHE`` element of the export)."""

    __tablename__ = "rncp_sheet"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(12), unique=True)  # RNCP36004
    title: Mapped[str] = mapped_column(Text)
    title_key: Mapped[str] = mapped_column(String(300), index=True)  # the title folded (services.fold)
    acronym: Mapped[str | None] = mapped_column(String(60))
    level_eu: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str | None] = mapped_column(String(60))  # ETAT_FICHE: Publiée…
    registration: Mapped[str | None] = mapped_column(String(60))  # TYPE_ENREGISTREMENT
    decision_date: Mapped[dt.date | None] = mapped_column(Date)
    effect_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)  # DATE_FIN_ENREGISTREMENT
    certifiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{siret, name}]
    routes: Mapped[list[str]] = mapped_column(JSON, default=list)  # open access routes (see ROUTES)
    rome: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{code, label}]
    formacodes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{code, label}]
    row_hash: Mapped[str] = mapped_column(String(40))


class RncpBloc(Base):
    """One bloc de compétences of a sheet; ``title_key`` (its title folded) finds the same bloc elsewhere."""

    __tablename__ = "rncp_bloc"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)  # RNCP36004BC01
    sheet_number: Mapped[str] = mapped_column(String(12), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    title_key: Mapped[str] = mapped_column(String(200), index=True)
    row_hash: Mapped[str] = mapped_column(String(40))
