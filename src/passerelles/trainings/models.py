"""Training offer, as the Carif-Oref network exchanges it in LHÉO: an organisation (provider) offers
a formation (title, objective, certification), run as actions (place, modality, duration, cost, access
conditions) with sessions (dates, recruitment state). We keep the formation and flatten action+session
into ``TrainingSession``: one row per session a person can join."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from passerelles.db import Base


class Provider(Base):
    __tablename__ = "provider"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(40), default="lheo")
    external_id: Mapped[str] = mapped_column(String(120))
    siret: Mapped[str | None] = mapped_column(String(14), index=True)
    name: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(200))
    commune_code: Mapped[str | None] = mapped_column(String(5), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(Text)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    row_hash: Mapped[str] = mapped_column(String(40))


class Training(Base):
    __tablename__ = "training"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(40), default="lheo")
    external_id: Mapped[str] = mapped_column(String(120))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    objective: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    certification_id: Mapped[int | None] = mapped_column(ForeignKey("certification.id"), index=True)
    rncp: Mapped[list[str]] = mapped_column(JSON, default=list)
    certifinfo: Mapped[list[str]] = mapped_column(JSON, default=list)
    formacodes: Mapped[list[str]] = mapped_column(JSON, default=list)
    nsf: Mapped[list[str]] = mapped_column(JSON, default=list)
    rome_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    level_eu: Mapped[int | None] = mapped_column(Integer)
    # LHÉO « léger » (``resume-offre``): where the full offer is published (``file``/``href``), and the full
    # offer itself once it is in the store (set by :func:`passerelles.trainings.lheo.summaries.link_summaries`).
    offer_url: Mapped[str | None] = mapped_column(Text)
    # A plain id, no foreign key: added to a national store by ALTER TABLE ADD COLUMN, without rebuilding the
    # table on SQLite; trainings and sessions are never deleted (closed), so the id stays valid.
    full_training_id: Mapped[int | None] = mapped_column(Integer, index=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    row_hash: Mapped[str] = mapped_column(String(40))


# The sessions the lists show: open, and not a summary (LHÉO léger) linked to its full offer's session. Their
# partial indexes end with these two columns (always NULL there): SQLite (3.40) reads an index alone only when
# it holds every column the query names, those of the index's WHERE included.
LISTED_SQL = "closed_at IS NULL AND full_session_id IS NULL"
LISTED_COLUMNS = ("closed_at", "full_session_id")
# The search's own filters that the listed indexes hold too (« voie », « modalité », « inscriptions ouvertes »):
# with them, a count or page under such a filter is read from the index alone as well.
LISTED_FILTERS = ("route_mask", "modality", "recruitment_state", "registration_start", "registration_end")
# The access routes as bits of ``route_mask`` (the JSON list ``routes`` cannot be held by an index).
ROUTE_BITS = {"initiale": 1, "continue": 2, "apprentissage": 4, "vae": 8}


def route_mask(routes: Any) -> int:
    """The bits of ``routes`` (a list of access routes; unknown ones ignored)."""
    return sum(bit for route, bit in ROUTE_BITS.items() if route in (routes or ()))


def _route_mask_default(context: Any) -> int:  # a Core insert that names the routes but not their mask
    return route_mask(context.get_current_parameters().get("routes"))


_LISTED: dict[str, Any] = {"sqlite_where": text(LISTED_SQL), "postgresql_where": text(LISTED_SQL)}


class TrainingSession(Base):
    __tablename__ = "training_session"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        # « /formations » counts and pages the sessions shown (open, not a linked summary: ``LISTED``) of some
        # certifications by start date, in some départements (a prefix of the commune code); the maps count
        # them per commune, with whether any is demonstration data. Partial indexes holding only the sessions
        # shown answer all of these from the index alone (the whole row was read for ``full_session_id``).
        # In date order, with what a page filters on and reads: PostgreSQL walks it and stops after a page.
        Index(
            "ix_training_session_listed_start",
            "start_date",
            "id",  # the page's order (SQLite's rowid, said for PostgreSQL: read without the table)
            "commune_code",
            "certification_id",
            "is_demo",
            "latitude",
            "longitude",
            *LISTED_FILTERS,
            *LISTED_COLUMNS,
            **_LISTED,
        ),
        Index(
            "ix_training_session_listed_cert",
            "certification_id",
            "start_date",
            "commune_code",
            "is_demo",
            "latitude",
            "longitude",
            *LISTED_FILTERS,
            *LISTED_COLUMNS,
            **_LISTED,
        ),
        # A département's map: its communes are a range of codes.
        Index(
            "ix_training_session_listed_commune",
            "commune_code",
            "start_date",
            "certification_id",
            "is_demo",
            *LISTED_FILTERS,
            *LISTED_COLUMNS,
            **_LISTED,
        ),
        # Around a commune, for some certifications: only their sessions of the circle's latitude band.
        Index(
            "ix_training_session_listed_cert_place",
            "certification_id",
            "latitude",
            "longitude",
            "start_date",
            "commune_code",
            "is_demo",
            "duration_hours",
            *LISTED_FILTERS,
            *LISTED_COLUMNS,
            **_LISTED,
        ),
        # Around a commune: the latitude band of the circle, then what the search, its map and its orders read.
        Index(
            "ix_training_session_listed_place",
            "latitude",
            "longitude",
            "start_date",
            "certification_id",
            "commune_code",
            "is_demo",
            "duration_hours",
            *LISTED_FILTERS,
            *LISTED_COLUMNS,
            **_LISTED,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(40), default="lheo")
    external_id: Mapped[str] = mapped_column(String(160))
    training_id: Mapped[int] = mapped_column(ForeignKey("training.id"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), index=True)
    certification_id: Mapped[int | None] = mapped_column(ForeignKey("certification.id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    start_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    registration_start: Mapped[dt.date | None] = mapped_column(Date)
    registration_end: Mapped[dt.date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(200))
    commune_code: Mapped[str | None] = mapped_column(String(5), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    modality: Mapped[str | None] = mapped_column(String(20))  # presentiel | distance | mixte
    routes: Mapped[list[str]] = mapped_column(JSON, default=list)  # initiale, continue, apprentissage, vae
    # ``routes`` as bits (ROUTE_BITS), for the listed indexes; the importers write it beside ``routes``.
    route_mask: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("0"), default=_route_mask_default
    )
    duration_hours: Mapped[int | None] = mapped_column(Integer)
    duration_text: Mapped[str | None] = mapped_column(Text)
    rhythm: Mapped[str | None] = mapped_column(Text)
    cost_eur: Mapped[float | None] = mapped_column(Numeric(10, 2))
    cost_text: Mapped[str | None] = mapped_column(Text)
    funding: Mapped[list[str]] = mapped_column(JSON, default=list)
    cpf_eligible: Mapped[bool | None] = mapped_column(Boolean)
    admission: Mapped[str | None] = mapped_column(Text)
    prerequisites: Mapped[str | None] = mapped_column(Text)
    recruitment_state: Mapped[str | None] = mapped_column(String(40))
    registration_terms: Mapped[str | None] = mapped_column(Text)  # modalites-inscription (session)
    # date-information (action, up to 3, ISO dates) and adresse-information: the information meetings.
    # The database's default (no Python one: the importers' driver path, importing.sync, needs none).
    information_dates: Mapped[list[str]] = mapped_column(JSON, nullable=False, server_default=text("'[]'"))
    information_address: Mapped[str | None] = mapped_column(Text)
    # A session of an LHÉO « léger » summary: the full offer's session it summarises (same start), once
    # that offer is in the store; such a summary is left out of the lists (the full session stands for it).
    full_session_id: Mapped[int | None] = mapped_column(Integer, index=True)  # a plain id (see Training)
    places: Mapped[int | None] = mapped_column(Integer)
    contact: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    row_hash: Mapped[str] = mapped_column(String(40))

    @validates("routes")
    def _keep_route_mask(self, _key: str, routes: list[str]) -> list[str]:
        self.route_mask = route_mask(routes)
        return routes
