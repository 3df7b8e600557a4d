"""Accounts, platforms, server-side sessions, one-time tokens, login attempts, and employer memberships (an
employer account's tie to its structure: account creation makes the first one).

Secrets are never stored in clear: session ids and e-mail tokens are kept as SHA-256 digests, passwords
as argon2 hashes, and login attempts by a keyed digest of the e-mail or IP (no personal data kept there).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from passerelles.db import Base

ROLES = ("personne", "conseiller", "employeur", "admin")


class Platform(Base):
    """A plateforme des métiers de l'autonomie, or an agency, to which counsellors belong."""

    __tablename__ = "platform"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="plateforme")  # plateforme | agence
    departement_code: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platform.id"), index=True)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employer.id"), index=True)
    email_verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class UserSession(Base):
    __tablename__ = "user_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class AccountToken(Base):
    """Single-use e-mail tokens: address verification, password reset, invitation."""

    __tablename__ = "account_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # verify | reset
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """One row per login attempt, keyed by a keyed digest, so that limits hold across workers."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))  # "account:<hmac>" | "ip:<hmac>"
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    success: Mapped[bool] = mapped_column(Boolean, default=False)


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
