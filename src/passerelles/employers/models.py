"""Employers' space: who acts for a structure (memberships), structure profile (beside offers.Employer),
recruitment needs, applications, job-dating events. Offers posted from the space are ``offers.JobOffer`` rows
with source « employeur »."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from passerelles.db import Base

APPLICATION_STATUSES = {
    "envoyee": "Envoyée",
    "vue": "Vue par l'employeur",
    "entretien": "Entretien proposé",
    "refusee": "Non retenue",
    "embauche": "Embauche",
}

MEMBERSHIP_STATUSES = {
    "pending": "En attente de validation",
    "active": "Validé",
    "refused": "Refusé",
}
MEMBERSHIP_ROLES = {"admin": "Administrateur de la structure", "member": "Membre"}


class EmployerMembership(Base):
    """An employer account's tie to its structure. A structure is claimed, not joined: a SIRET is public, so
    an account that names an existing structure starts « pending » and acts for it only once « active »
    (accepted by the structure's administrator, or, for a structure nobody administers, through its known
    contact address or by a Passerelles administrator). One structure per account."""

    __tablename__ = "employer_membership"
    __table_args__ = (
        UniqueConstraint("account_id"),
        Index("ix_employer_membership_employer_status", "employer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employer.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10))  # MEMBERSHIP_STATUSES
    role: Mapped[str] = mapped_column(String(10))  # MEMBERSHIP_ROLES
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    decided_how: Mapped[str | None] = mapped_column(String(20))  # creation | structure | invitation | admin | migration
    # A claim confirmed through the structure's contact address: digest of the single-use token sent there.
    claim_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    claim_sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class EmployerProfile(Base):
    __tablename__ = "employer_profile"

    employer_id: Mapped[int] = mapped_column(ForeignKey("employer.id", ondelete="CASCADE"), primary_key=True)
    description: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class RecruitmentNeed(Base):
    __tablename__ = "recruitment_need"

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employer.id", ondelete="CASCADE"), index=True)
    occupation_slug: Mapped[str] = mapped_column(String(80))
    positions: Mapped[int] = mapped_column(Integer)
    contract_type: Mapped[str] = mapped_column(String(10))
    start_on: Mapped[dt.date | None] = mapped_column(Date)
    nights: Mapped[bool] = mapped_column(Boolean, default=False)
    weekends: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Application(Base):
    __tablename__ = "application"
    __table_args__ = (UniqueConstraint("offer_id", "file_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("job_offer.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("person_file.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="envoyee", index=True)
    message: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Set while a hire is recorded in the person's file: one « embauche » step per application, whatever the
    # toggling of its status (the dashboard counts these steps).
    hired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    hire_step_id: Mapped[int | None] = mapped_column(ForeignKey("file_step.id", ondelete="SET NULL"))


class JobDatingEvent(Base):
    __tablename__ = "job_dating_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employer.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    on: Mapped[dt.date] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class JobDatingRegistration(Base):
    __tablename__ = "job_dating_registration"
    __table_args__ = (UniqueConstraint("event_id", "file_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("job_dating_event.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("person_file.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
