"""Employers and job offers: France Travail Offres d'emploi v2, schema.org JobPosting, employers' own
offers. An offer that disappears from a full feed or passes its end date is closed, never deleted."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
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
        # « /emploi » for an occupation: its open offers newest first (walked backwards, stopped after a page),
        # with the place of each, so that a département's or région's page is read in the index alone.
        Index(
            "ix_job_offer_open_rome",
            "closed_at",
            "code_rome",
            "published_at",
            "id",  # the page's order after the date (SQLite's rowid, said)
            "commune_code",
            "latitude",
            "longitude",
        ),
        Index("ix_job_offer_open_published", "closed_at", "published_at"),  # « /emploi »: open offers, newest first
        # « /emploi » around a commune: the latitude band of the circle, then the rest, read in the index alone.
        Index("ix_job_offer_open_place", "closed_at", "latitude", "longitude", "code_rome", "published_at"),
        # The same for one occupation (its ROME codes), with the contract and working time a search may ask:
        # only that occupation's offers of the band are read, from the index alone.
        Index(
            "ix_job_offer_open_rome_place",
            "code_rome",
            "latitude",
            "longitude",
            "contract_type",
            "working_time",
            "published_at",
            "closed_at",  # always NULL there: SQLite then reads the index alone
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
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


# ---------------------------------------------------------------- the labour-market panel's aggregates
# Kept up to date by whatever writes offers (``passerelles.offers.market``): the offers import recomputes
# them at its end, an offer written through the ORM (employers' space, expiry) adjusts them at its flush.
# One row per ROME code × département (the département of the offer's commune, "" when unknown) × what
# is counted, so that a panel for any union of départements is a sum over a few hundred rows.


class OfferMarketWeek(Base):
    """Offers published in a week (open or closed since): the panel's trend."""

    __tablename__ = "offer_market_week"

    code_rome: Mapped[str] = mapped_column(String(5), primary_key=True)
    departement: Mapped[str] = mapped_column(String(3), primary_key=True)
    week: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # its Monday
    offers: Mapped[int] = mapped_column(Integer)
    demo: Mapped[int] = mapped_column(Integer)


class OfferMarketOpen(Base):
    """Open offers by contract type and working time ("" when not given; any ROME code, "" when none): the
    panel's contracts, and the counts of « /emploi » (a few thousand rows where the offers are a million)."""

    __tablename__ = "offer_market_open"

    code_rome: Mapped[str] = mapped_column(String(5), primary_key=True)
    departement: Mapped[str] = mapped_column(String(3), primary_key=True)
    contract_type: Mapped[str] = mapped_column(String(10), primary_key=True)
    working_time: Mapped[str] = mapped_column(String(20), primary_key=True)
    offers: Mapped[int] = mapped_column(Integer)
    demo: Mapped[int] = mapped_column(Integer)


class OfferMarketPay(Base):
    """Pay of open offers, gross monthly full-time equivalent, as a histogram of ten-euro bins (``euros``:
    the amount rounded to ten euros): the low end of the range (``kind`` "l"), its high end ("h") and its
    middle ("m"). Deciles and median over any union of départements come out of the summed bins."""

    __tablename__ = "offer_market_pay"

    code_rome: Mapped[str] = mapped_column(String(5), primary_key=True)
    departement: Mapped[str] = mapped_column(String(3), primary_key=True)
    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    euros: Mapped[int] = mapped_column(Integer, primary_key=True)
    offers: Mapped[int] = mapped_column(Integer)


class OfferMarketEmployer(Base):
    """Open offers per employer (name, structure type and city as the offers give them, "" when not)."""

    __tablename__ = "offer_market_employer"

    code_rome: Mapped[str] = mapped_column(String(5), primary_key=True)
    departement: Mapped[str] = mapped_column(String(3), primary_key=True)
    employer_name: Mapped[str] = mapped_column(Text, primary_key=True)
    structure_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    city: Mapped[str] = mapped_column(String(200), primary_key=True)
    offers: Mapped[int] = mapped_column(Integer)


class OfferMarketCommune(Base):
    """Open offers per commune (any ROME code, "" when the offer has none): the maps of the occupation page
    and of « /emploi »."""

    __tablename__ = "offer_market_commune"

    code_rome: Mapped[str] = mapped_column(String(5), primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    departement: Mapped[str] = mapped_column(String(3), index=True)
    offers: Mapped[int] = mapped_column(Integer)
    demo: Mapped[int] = mapped_column(Integer)


class OfferMarketState(Base):
    """One row once the aggregates describe every offer in the store (a full refresh, or an empty store):
    until then the panel is computed from the offers themselves."""

    __tablename__ = "offer_market_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    refreshed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    offers: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)


# « /emploi », newest first (``published_at DESC NULLS LAST, id DESC``) among open offers, of all ROME codes or
# of one (then its communes read in the index, for a région): PostgreSQL walks these in order and stops after
# a page, where the ascending (closed_at, published_at) index made it sort every open offer. PostgreSQL only:
# SQLite reads that index backwards (its NULLs come last in a descending order) and has no NULLS LAST index.
_OPEN = JobOffer.closed_at.is_(None)
Index(
    "ix_job_offer_open_newest",
    JobOffer.published_at.desc().nulls_last(),
    JobOffer.id.desc(),
    postgresql_where=_OPEN,
).ddl_if(dialect="postgresql")
Index(
    "ix_job_offer_open_rome_newest",
    JobOffer.code_rome,
    JobOffer.published_at.desc().nulls_last(),
    JobOffer.id.desc(),
    JobOffer.commune_code,
    JobOffer.latitude,
    JobOffer.longitude,
    postgresql_where=_OPEN,
).ddl_if(dialect="postgresql")

# Offers written through the ORM adjust the aggregates at their flush: the listener must be registered
# wherever offers are (imported last: it reads the tables above).
import passerelles.offers.market  # noqa: E402, F401
