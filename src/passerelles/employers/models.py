"""Employers' space: structure profile (beside offers.Employer),
recruitment needs, applications, job-dating events (who acts for a structure, ``EmployerMembership``, is
with the accounts). Offers posted from the space are ``offers.JobOffer`` rows
with source « employeur »."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from passerelles.db import Base

APPLICATION_STATUSES = {
    "envoyee": "Envoyée",
    "vue": "Vue par l'employeur",
    "entretien": "Entretien proposé",
    "embauche": "Retenue (embauche)",
    "refusee": "Non retenue",
    "cloturee": "Offre pourvue ou expirée",
}
# Applications made « through my counsellor » wait for the counsellor before the employer sees them.
VALIDATIONS = {
    "attente": "À valider par le conseiller",
    "validee": "Transmise par le conseiller",
    "refusee": "Non transmise",
}


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
    # The person's file when they have one (a counsellor's record, or a signed-in person with a file); an
    # application made without an account or without a file has none and carries its own contact below.
    file_id: Mapped[int | None] = mapped_column(ForeignKey("person_file.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), index=True)
    applicant_name: Mapped[str | None] = mapped_column(String(200))
    applicant_email: Mapped[str | None] = mapped_column(String(254))
    applicant_phone: Mapped[str | None] = mapped_column(String(30))
    # The CV, stored under ``Settings.cv_dir`` by a random name (never the uploaded one).
    cv_name: Mapped[str | None] = mapped_column(String(64))
    cv_size: Mapped[int | None] = mapped_column(Integer)
    # The person chose to apply through their counsellor (who validates it and is the employer's contact).
    via_counsellor: Mapped[bool] = mapped_column(Boolean, default=False)
    validation: Mapped[str | None] = mapped_column(String(20), index=True)  # VALIDATIONS, None: direct
    # The person consents that their counsellor sees this application and hears of its statuses.
    counsellor_consent: Mapped[bool] = mapped_column(Boolean, default=False)
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
