"""The person's rights over their data (RGPD): a copy of everything held (access, portability), erasure on
request or by the person, and the purge of files inactive for too long. Outcome events stay: they are keyed by
a random value that nothing links back to the person."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from passerelles.accounts import services as accounts
from passerelles.accounts.models import Account, LoginAttempt
from passerelles.accounts.services import AccessDenied, aware, now
from passerelles.alerts.models import SavedSearch
from passerelles.caseloads.models import PersonFile
from passerelles.caseloads.services import access_log, detail_of, own_files, writable_file
from passerelles.settings import Settings

FileData = Callable[[Session, PersonFile], dict[str, Any]]
# Files on disk that hang from a person's file, found by the packages above this one (the employers' space
# registers its CVs, ``employers.applications``): erased with the file, once the erasure is committed (a
# rolled-back erasure keeps them).
StoredFiles = Callable[[Session, Settings, PersonFile], list[Path]]
STORED_FILES: list[StoredFiles] = []
_PENDING = "passerelles.erased_files"


def _forget_stored(session: Session, settings: Settings, file: PersonFile) -> None:
    paths = [path for find in STORED_FILES for path in find(session, settings, file)]
    session.info.setdefault(_PENDING, []).extend(paths)


@event.listens_for(Session, "after_commit")
def _unlink_erased(session: Session) -> None:
    for path in session.info.pop(_PENDING, []):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_soft_rollback")
def _keep_erased(session: Session, _previous: Any) -> None:
    session.info.pop(_PENDING, None)


def export_own_data(session: Session, actor: Account, file_data: FileData) -> dict[str, Any]:
    """Everything Passerelles holds about the logged-in person (right of access, portability).

    ``file_data`` gives what packages above this one hold about the person's file (the employers' space:
    applications, job-dating registrations), so that caseloads need not import them."""
    data: dict[str, Any] = {
        "compte": accounts.account_out(actor).model_dump(mode="json"),
        "recherches_enregistrees": [
            {"type": s.kind, "criteres": s.criteria, "active": s.active}
            for s in session.scalars(select(SavedSearch).where(SavedSearch.account_id == actor.id))
        ],
    }
    files = own_files(session, actor.id) if actor.role == "personne" else []
    if files:
        file = files[0]  # the file in progress; earlier ones follow, whole
        data["dossier"] = detail_of(session, file).model_dump(mode="json")
        data |= file_data(session, file)
        data["journal_des_acces"] = [a.model_dump(mode="json") for a in access_log(session, actor, file.id) or []]
    if len(files) > 1:
        data["dossiers_precedents"] = [
            {
                "dossier": detail_of(session, earlier).model_dump(mode="json"),
                **file_data(session, earlier),
                "journal_des_acces": [a.model_dump(mode="json") for a in access_log(session, actor, earlier.id) or []],
            }
            for earlier in files[1:]
        ]
    return data


def _erase_account(session: Session, settings: Settings, account: Account) -> None:
    session.execute(
        delete(LoginAttempt).where(LoginAttempt.key == "account:" + accounts.keyed_digest(settings, account.email))
    )
    session.delete(account)


def erase_file(session: Session, settings: Settings, file: PersonFile, *, with_account: bool = True) -> None:
    """Delete the file and everything hanging from it (consents, steps, notes, actions, shares, access log,
    applications and their CVs on disk, registrations); outcome events stay, keyed by a random value that
    nothing links back."""
    account = session.get(Account, file.account_id) if file.account_id else None
    _forget_stored(session, settings, file)
    session.execute(delete(PersonFile).where(PersonFile.id == file.id))
    if with_account and account is not None:
        _erase_account(session, settings, account)
    session.flush()


def erase_on_request(session: Session, settings: Settings, actor: Account, file_id: int) -> bool:
    """A counsellor erases a file they follow, at the person's request."""
    file = writable_file(session, actor, file_id)
    if file is None:
        return False
    erase_file(session, settings, file)
    return True


def erase_self(session: Session, settings: Settings, actor: Account) -> None:
    """The logged-in person erases their own data (file and account)."""
    if actor.role != "personne":
        raise AccessDenied("Les comptes professionnels sont supprimés par un administrateur.")
    for file in own_files(session, actor.id):
        erase_file(session, settings, file, with_account=False)
    _erase_account(session, settings, actor)
    session.flush()


def purge_inactive(
    session: Session, settings: Settings, today: dt.datetime | None = None, dry_run: bool = False
) -> int:
    """Erase files with no activity for ``inactive_purge_days`` (two years by default)."""
    limit = (today or now()) - dt.timedelta(days=settings.inactive_purge_days)
    files = list(session.scalars(select(PersonFile).where(PersonFile.last_activity_at < limit)))
    if dry_run:
        return len(files)
    for file in files:
        account = session.get(Account, file.account_id) if file.account_id else None
        recent = account is not None and account.last_login_at is not None and aware(account.last_login_at) >= limit
        erase_file(session, settings, file, with_account=not recent)
    return len(files)
