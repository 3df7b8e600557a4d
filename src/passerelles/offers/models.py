"""Employers and job offers: France Travail Offres d'emploi v2, schema.org JobPosting, employers' own
offers. An offer that disappears from a full feed or passes its end date is closed, never deleted."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from passerelles.db import Base


class Employer(Base):
    __tablename__ = "employer"

    id: Mapped[int] = mapped_column(primary_key=True)
    siret: Mapped[str | None] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(Text)
    structure_type: Mapped[str | None] = mapped_column(String(40), index=True)  # ehpad, ime, mas…
    naf: Mapped[str | None] = mapped_column(String(10))
    commune_code: Mapped[str | None] = mapped_column(String(5), index=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # The structure's known contact address: claims of a structure nobody administers are confirmed there.
    contact_email: Mapped[str | None] = mapped_column(String(254))


class JobOffer(Base):
    __tablename__ = "job_offer"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_job_offer_open_rome", "closed_at", "code_rome"),
        Index("ix_job_offer_open_published", "closed_at", "published_at"),  # « /emploi »: open offers, newest first
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(40))  # france_travail | jobposting | employeur | demo
    external_id: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    code_rome: Mapped[str | None] = mapped_column(String(5), index=True)
    appellation: Mapped[str | None] = mapped_column(Text)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employer.id"), index=True)
    employer_name: Mapped[str | None] = mapped_column(Text)
    structure_type: Mapped[str | None] = mapped_column(String(40))
    contract_type: Mapped[str | None] = mapped_column(String(10), index=True)  # CDI, CDD, MIS, SAI, LIB, APP…
    contract_text: Mapped[str | None] = mapped_column(Text)
    working_time: Mapped[str | None] = mapped_column(String(20))  # temps_plein | temps_partiel
    hours_per_week: Mapped[float | None] = mapped_column(Float)
    salary_min: Mapped[float | None] = mapped_column(Float)
    salary_max: Mapped[float | None] = mapped_column(Float)
    salary_period: Mapped[str | None] = mapped_column(String(10))  # mois | an | heure
    salary_text: Mapped[str | None] = mapped_column(Text)
    night_work: Mapped[bool | None] = mapped_column(Boolean)
    weekend_work: Mapped[bool | None] = mapped_column(Boolean)
    commune_code: Mapped[str | None] = mapped_column(String(5), index=True)
    postcode: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    positions: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(Text)
    # Where to apply, as the feed gives it (France Travail ``contact.urlPostulation``/``courriel``,
    # schema.org ``applicationContact``); offers posted on Passerelles take applications directly.
    apply_url: Mapped[str | None] = mapped_column(Text)
    apply_email: Mapped[str | None] = mapped_column(String(254))
    # Offers posted from the employers' space: start date, diploma or certification required, how to apply.
    start_on: Mapped[dt.date | None] = mapped_column(Date)
    requirements: Mapped[str | None] = mapped_column(Text)
    how_to_apply: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    valid_through: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_reason: Mapped[str | None] = mapped_column(String(40))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    row_hash: Mapped[str] = mapped_column(String(40))
