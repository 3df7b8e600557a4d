"""E-mails that follow a change of the employers' space (an application sent, its status changed, an offer
closed): queued on the database session and sent in the background once the change is committed, never
for a change rolled back, and never making the request wait for the mail server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from passerelles.accounts.mail import in_background, send_mail
from passerelles.accounts.models import Account, EmployerMembership
from passerelles.settings import Settings

KEY = "passerelles_notices"


@dataclass(frozen=True)
class Notice:
    to: str
    subject: str
    body: str


def notify(session: Session, settings: Settings, to: str | None, subject: str, body: str) -> None:
    """Queue one e-mail to ``to`` (nothing when there is no address), sent after the next commit."""
    if not to:
        return
    queued: tuple[Settings, list[Notice]] = session.info.setdefault(KEY, (settings, []))
    queued[1].append(Notice(to, subject, body))


def employer_addresses(session: Session, employer_id: int | None) -> list[str]:
    """The active members of a structure, who answer its applications."""
    if employer_id is None:
        return []
    return list(
        session.scalars(
            select(Account.email)
            .join(EmployerMembership, EmployerMembership.account_id == Account.id)
            .where(
                EmployerMembership.employer_id == employer_id,
                EmployerMembership.status == "active",
                Account.is_active.is_(True),
            )
        )
    )


def _send(settings: Settings, notice: Notice) -> None:
    send_mail(settings, notice.to, notice.subject, notice.body)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    queued: Any = session.info.pop(KEY, None)
    if queued:
        for notice in queued[1]:  # one job each: a refused address does not stop the others
            in_background(_send, queued[0], notice)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    session.info.pop(KEY, None)
