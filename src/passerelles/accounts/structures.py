"""An employer account's tie to its structure, as account creation makes it: a new account that founds its
structure administers it at once, one that names a known structure starts with a pending claim (see
``employers.memberships`` for the claims' life). Here, below the employers' space, so that creating an
account needs nothing from it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from passerelles.accounts.models import Account, EmployerMembership
from passerelles.offers.models import Employer


def administered_clause(employer_id: Any) -> Any:
    """True when the structure has an administrator who can still log in."""
    # Aliases: the clause also filters queries over memberships and accounts (no auto-correlation to those).
    admin, account = aliased(EmployerMembership), aliased(Account)
    return (
        select(admin.id)
        .join(account, account.id == admin.account_id)
        .where(
            admin.employer_id == employer_id,
            admin.status == "active",
            admin.role == "admin",
            account.is_active.is_(True),
        )
        .exists()
    )


def is_administered(session: Session, employer_id: int) -> bool:
    return bool(session.scalar(select(administered_clause(employer_id))))


def join_on_creation(session: Session, account: Account, employer: Employer, *, created: bool, by_admin: bool) -> None:
    """The membership of a new employer account (called by ``accounts.services.create_account``), from the
    account's creation time.

    Active at once only for the structure's founder, or when a Passerelles administrator creates the account
    (their decision); a self-registration on a known SIRET is a pending claim."""
    administered = not created and is_administered(session, employer.id)
    active = created or by_admin
    at = account.created_at
    session.add(
        EmployerMembership(
            employer_id=employer.id,
            account_id=account.id,
            status="active" if active else "pending",
            role="member" if administered else "admin",
            created_at=at,
            decided_at=at if active else None,
            decided_how=("creation" if created else "admin") if active else None,
        )
    )
    account.employer_id = employer.id if active else None
    session.flush()
