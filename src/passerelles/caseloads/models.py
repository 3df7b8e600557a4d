"""Counsellors' caseloads: a person's file, consents, timeline, notes, next actions, shares, access log,
and anonymous outcome events that the dashboard counts (they survive the erasure of a file)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from passerelles.db import Base

STEP_KINDS = {
    "reunion_information": "Réunion d'information",
    "immersion": "Immersion professionnelle",
    "candidature_formation": "Candidature à une formation",
    "entree_formation": "Entrée en formation",
    "diplome": "Diplôme obtenu",
    "candidature_offre": "Candidature à une offre",
    "embauche": "Embauche",
    "suivi_1_mois": "Suivi à 1 mois en poste",
    "suivi_3_mois": "Suivi à 3 mois en poste",
    "suivi_6_mois": "Suivi à 6 mois en poste",
}

CONSENT_PURPOSES = {
    "accompagnement": "Accompagnement par la plateforme (traitement du dossier)",
    "visible_employeurs": "Être proposé·e aux employeurs (profil visible, sans coordonnées)",
    "sante": "Informations de santé ou de handicap (facultatives)",
}


class PersonFile(Base):
    __tablename__ = "person_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"), index=True)
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), index=True)
    # The person's own account. One account may have several files over time (a closed one, a new one).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), index=True)
    # An existing account the counsellor invited to this file; it becomes ``account_id`` when the person accepts.
    invited_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), index=True)
    invited_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))
    commune_code: Mapped[str | None] = mapped_column(String(5), index=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # pathways.schemas.Profile
    target: Mapped[str | None] = mapped_column(String(80), index=True)  # profile.target, for matching offers
    available_from: Mapped[dt.date | None] = mapped_column(Date)
    health_notes: Mapped[str | None] = mapped_column(Text)  # only with the « sante » consent
    status: Mapped[str] = mapped_column(String(20), default="actif", index=True)  # actif | clos
    # A random key that links outcome events to a person without naming them; dropped with the file.
    outcome_key: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_activity_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class Consent(Base):
    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("person_file.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(30))
    given_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))


class FileStep(Base):
    __tablename__ = "file_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("person_file.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    on: Mapped[dt.date] = mapped_column(Date)
    detail: Mapped[str | None] = mapped_column(Text)
    in_post: Mapped[bool | None] = mapped_column(Boolean)  # follow-ups: still in the post?
    author_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class FileNote(Base):
    __tablename__ = "file_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("person_file.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class FileAction(Base):
    __tablename__ = "file_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("person_file.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class FileShare(Base):
    __tablename__ = "file_share"
    __table_args__ = (UniqueConstraint("file_id", "counsellor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("person_file.id", ondelete="CASCADE"), index=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class FileAccess(Base):
    """Who read or changed which file, and when (RGPD access log)."""

    __tablename__ = "file_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("person_file.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # lecture | modification | export
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class OutcomeEvent(Base):
    """An anonymous fact for the funders' figures: no link to a person once the file is erased."""

    __tablename__ = "outcome_event"
    __table_args__ = (Index("ix_outcome_event_platform_on", "platform_id", "on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"), index=True)
    subject_key: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # accompagnement | STEP_KINDS | en_poste_6_mois
    on: Mapped[dt.date] = mapped_column(Date)
    step_id: Mapped[int | None] = mapped_column(ForeignKey("file_step.id", ondelete="SET NULL"))
