"""Caseloads: who may read which file is decided here, for the API, the pages and the CLI alike.

- a counsellor reads the files they follow or that were shared with them, on their own platform only;
- a person reads their own file (the one linked to their account);
- an administrator manages accounts but does not read files; an employer never reads a file (they see
  candidates through ``employers.candidates``, and only those who consented).
A file outside the actor's reach is reported as absent (None), so ids reveal nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy.orm import Session

from passerelles.accounts.models import Account
from passerelles.accounts.schemas import control_characters
from passerelles.accounts.services import AccessDenied, InvalidInput, aware, now
from passerelles.caseloads.models import (
    CONSENT_PURPOSES,
    STEP_KINDS,
    Consent,
    FileAccess,
    FileAction,
    FileNote,
    FileShare,
    FileStep,
    OutcomeEvent,
    PersonFile,
)
from passerelles.caseloads.schemas import (
    AccessOut,
    ActionIn,
    ActionOut,
    ConsentOut,
    FileDetail,
    FileFilters,
    FileIn,
    FileSummary,
    NoteIn,
    NoteOut,
    StepIn,
    StepOut,
)
from passerelles.pathways.schemas import Profile
from passerelles.places.models import Commune

# ------------------------------------------------------------------------------------------ access rules


def _counsellor(actor: Account) -> Account:
    if actor.role != "conseiller" or actor.platform_id is None:
        raise AccessDenied("Réservé aux conseillers d'une plateforme.")
    return actor


def visible_files_clause(actor: Account) -> Any:
    """SQL condition: the files this actor may read."""
    if actor.role == "conseiller" and actor.platform_id is not None:
        shared = exists().where(FileShare.file_id == PersonFile.id, FileShare.counsellor_id == actor.id)
        return and_(PersonFile.platform_id == actor.platform_id, or_(PersonFile.counsellor_id == actor.id, shared))
    if actor.role == "personne":
        return PersonFile.account_id == actor.id
    return PersonFile.id.is_(None)  # nobody else reads files


def find_file(session: Session, actor: Account, file_id: int) -> PersonFile | None:
    return session.scalar(select(PersonFile).where(PersonFile.id == file_id, visible_files_clause(actor)))


def writable_file(session: Session, actor: Account, file_id: int) -> PersonFile | None:
    """Counsellors write; a person reads their file but changes only their consents (see below)."""
    _counsellor(actor)
    return find_file(session, actor, file_id)


def log_access(session: Session, actor: Account, file: PersonFile, action: str) -> None:
    session.add(FileAccess(file_id=file.id, account_id=actor.id, action=action, at=now()))


def _changed(session: Session, file: PersonFile, logged_for: Account | None = None) -> None:
    """After a change to a file: its last activity (the inactivity purge's clock), a « modification » line in
    its access log when made by ``logged_for``, and the rows written now."""
    file.last_activity_at = now()
    if logged_for is not None:
        log_access(session, logged_for, file, "modification")
    session.flush()


def has_consent(session: Session, file_id: int, purpose: str) -> bool:
    return (
        session.scalar(
            select(Consent.id).where(
                Consent.file_id == file_id, Consent.purpose == purpose, Consent.withdrawn_at.is_(None)
            )
        )
        is not None
    )


def _event(session: Session, file: PersonFile, kind: str, on: dt.date, step_id: int | None = None) -> None:
    session.add(
        OutcomeEvent(platform_id=file.platform_id, subject_key=file.outcome_key, kind=kind, on=on, step_id=step_id)
    )


# ---------------------------------------------------------------------------------------------- writing


def check_commune(session: Session, code: str | None, field: str = "commune_code") -> None:
    if code and session.get(Commune, code) is None:
        raise InvalidInput(field, f"Commune inconnue : {code}")


def create_file(session: Session, actor: Account, data: FileIn) -> PersonFile:
    _counsellor(actor)
    check_commune(session, data.commune_code)
    check_commune(session, data.profile.commune, "profile.commune")
    at = now()
    file = PersonFile(
        platform_id=actor.platform_id,
        counsellor_id=actor.id,
        first_name=data.first_name,
        last_name=data.last_name,
        email=data.email,
        phone=data.phone,
        commune_code=data.commune_code,
        profile=data.profile.model_dump(mode="json", exclude_defaults=True),
        target=data.profile.target,
        available_from=data.available_from,
        status="actif",
        outcome_key=secrets.token_hex(16),
        created_at=at,
        last_activity_at=at,
    )
    session.add(file)
    session.flush()
    session.add(Consent(file_id=file.id, purpose="accompagnement", given_at=at, recorded_by_id=actor.id))
    if data.visible_employeurs:
        session.add(Consent(file_id=file.id, purpose="visible_employeurs", given_at=at, recorded_by_id=actor.id))
    _event(session, file, "accompagnement", at.date())
    log_access(session, actor, file, "creation")
    session.flush()
    return file


def update_profile(session: Session, actor: Account, file_id: int, profile: Profile) -> PersonFile | None:
    file = writable_file(session, actor, file_id)
    if file is None:
        return None
    found = control_characters(profile.model_dump(mode="json"))
    if found:
        raise InvalidInput(found, "caractère de contrôle interdit")
    check_commune(session, profile.commune, "profile.commune")
    file.profile = profile.model_dump(mode="json", exclude_defaults=True)
    file.target = profile.target
    _changed(session, file, actor)
    return file


def add_step(session: Session, actor: Account, file_id: int, data: StepIn) -> FileStep | None:
    file = writable_file(session, actor, file_id)
    if file is None:
        return None
    if data.on > dt.date.today() + dt.timedelta(days=366):
        raise InvalidInput("on", "Date trop lointaine pour une étape réalisée.")
    step = add_step_internal(session, actor, file, data)
    _changed(session, file, actor)
    return step


def add_step_internal(session: Session, actor: Account, file: PersonFile, data: StepIn) -> FileStep:
    """Record a step the caller is entitled to record (checked by the caller: counsellor, or an employer
    hiring through an application, or a person applying)."""
    step = FileStep(
        file_id=file.id,
        kind=data.kind,
        on=data.on,
        detail=data.detail,
        in_post=data.in_post,
        author_id=actor.id,
        created_at=now(),
    )
    session.add(step)
    session.flush()
    _event(session, file, data.kind, data.on, step.id)
    if data.kind == "suivi_6_mois" and data.in_post:
        _event(session, file, "en_poste_6_mois", data.on, step.id)
    _changed(session, file)
    return step


def delete_step(session: Session, actor: Account, file_id: int, step_id: int) -> bool | None:
    """A counsellor removes a step recorded by mistake; the dashboard's events that came from it go too."""
    file = writable_file(session, actor, file_id)
    if file is None or not remove_step_internal(session, file, step_id):
        return None
    _changed(session, file, actor)
    return True


def remove_step_internal(session: Session, file: PersonFile, step_id: int) -> bool:
    """Withdraw a step of ``file`` and the dashboard's events that came from it (checked by the caller: a
    counsellor, or an employer whose hire is withdrawn). False when the file has no such step."""
    step = session.get(FileStep, step_id)
    if step is None or step.file_id != file.id:
        return False
    session.execute(delete(OutcomeEvent).where(OutcomeEvent.step_id == step.id))
    session.delete(step)
    _changed(session, file)
    return True


def add_note(session: Session, actor: Account, file_id: int, data: NoteIn) -> FileNote | None:
    file = writable_file(session, actor, file_id)
    if file is None:
        return None
    note = FileNote(file_id=file.id, author_id=actor.id, text=data.text, created_at=now())
    session.add(note)
    _changed(session, file, actor)
    return note


def add_action(session: Session, actor: Account, file_id: int, data: ActionIn) -> FileAction | None:
    file = writable_file(session, actor, file_id)
    if file is None:
        return None
    action = FileAction(file_id=file.id, text=data.text, due_on=data.due_on, created_at=now())
    session.add(action)
    _changed(session, file)
    return action


def complete_action(session: Session, actor: Account, file_id: int, action_id: int) -> FileAction | None:
    file = writable_file(session, actor, file_id)
    action = session.get(FileAction, action_id)
    if file is None or action is None or action.file_id != file.id:
        return None
    action.done_at = action.done_at or now()
    _changed(session, file)
    return action


def give_consent(session: Session, actor: Account, file_id: int, purpose: str) -> Consent | None:
    """Counsellors record a consent the person gave them; a person gives their own."""
    file = find_file(session, actor, file_id)
    if file is None or actor.role not in ("conseiller", "personne"):
        return None
    if purpose not in CONSENT_PURPOSES:
        raise InvalidInput("purpose", f"Finalité inconnue : {purpose}")
    current = session.scalar(
        select(Consent).where(Consent.file_id == file.id, Consent.purpose == purpose, Consent.withdrawn_at.is_(None))
    )
    if current is not None:
        return current
    consent = Consent(file_id=file.id, purpose=purpose, given_at=now(), recorded_by_id=actor.id)
    session.add(consent)
    _changed(session, file)
    return consent


def withdraw_consent(session: Session, actor: Account, file_id: int, purpose: str) -> bool | None:
    file = find_file(session, actor, file_id)
    if file is None or actor.role not in ("conseiller", "personne"):
        return None
    rows = session.scalars(
        select(Consent).where(Consent.file_id == file.id, Consent.purpose == purpose, Consent.withdrawn_at.is_(None))
    ).all()
    for consent in rows:
        consent.withdrawn_at = now()
    if purpose == "sante":
        file.health_notes = None  # no health data without its consent
    _changed(session, file)
    return bool(rows)


def set_health_notes(session: Session, actor: Account, file_id: int, text: str | None) -> PersonFile | None:
    file = writable_file(session, actor, file_id)
    if file is None:
        return None
    if text and not has_consent(session, file.id, "sante"):
        raise InvalidInput("health_notes", "Informations de santé : le consentement explicite de la personne manque.")
    file.health_notes = text or None
    _changed(session, file, actor)
    return file


def share_file(session: Session, actor: Account, file_id: int, counsellor_id: int) -> FileShare | None:
    file = writable_file(session, actor, file_id)
    if file is None:
        return None
    other = session.get(Account, counsellor_id)
    if other is None or other.role != "conseiller" or other.platform_id != file.platform_id:
        raise InvalidInput("counsellor_id", "Partage possible seulement avec un conseiller de la même plateforme.")
    existing = session.scalar(
        select(FileShare).where(FileShare.file_id == file.id, FileShare.counsellor_id == other.id)
    )
    if existing is not None or other.id == file.counsellor_id:
        return existing
    share = FileShare(file_id=file.id, counsellor_id=other.id, created_at=now())
    session.add(share)
    log_access(session, actor, file, "partage")
    session.flush()
    return share


def colleagues(session: Session, actor: Account) -> list[Account]:
    _counsellor(actor)
    return list(
        session.scalars(
            select(Account)
            .where(Account.role == "conseiller", Account.platform_id == actor.platform_id, Account.id != actor.id)
            .order_by(Account.display_name)
        )
    )


# ---------------------------------------------------------------------------------------------- reading


def _summary_columns() -> list[Any]:
    """The list's columns, in one query: the last step, the next action due and the visibility consent
    are correlated subqueries (indexed on file_id), the counsellor's name an outer join."""
    last_step = (
        select(FileStep.kind)
        .where(FileStep.file_id == PersonFile.id)
        .order_by(FileStep.on.desc(), FileStep.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    next_action = (
        select(func.min(FileAction.due_on))
        .where(FileAction.file_id == PersonFile.id, FileAction.done_at.is_(None))
        .scalar_subquery()
    )
    # A scalar subquery rather than EXISTS: PostgreSQL would hash EXISTS over the whole consent table.
    visible = (
        select(Consent.id)
        .where(
            Consent.file_id == PersonFile.id, Consent.purpose == "visible_employeurs", Consent.withdrawn_at.is_(None)
        )
        .limit(1)
        .scalar_subquery()
    )
    return [
        PersonFile.id,
        PersonFile.first_name,
        PersonFile.last_name,
        PersonFile.commune_code,
        PersonFile.status,
        Account.display_name,
        last_step.label("last_step"),
        next_action.label("next_action_on"),
        visible.label("visible"),
        PersonFile.last_activity_at,
    ]


def list_files(session: Session, actor: Account, filters: FileFilters, limit: int = 500) -> list[FileSummary]:
    _counsellor(actor)
    query = (
        select(*_summary_columns())
        .outerjoin(Account, Account.id == PersonFile.counsellor_id)
        .where(visible_files_clause(actor))
    )
    if filters.q:
        like = f"%{filters.q.lower()}%"
        query = query.where(
            or_(func.lower(PersonFile.first_name).like(like), func.lower(PersonFile.last_name).like(like))
        )
    if filters.status:
        query = query.where(PersonFile.status == filters.status)
    if filters.step:
        query = query.where(exists().where(FileStep.file_id == PersonFile.id, FileStep.kind == filters.step))
    if filters.action_due_before:
        query = query.where(
            exists().where(
                FileAction.file_id == PersonFile.id,
                FileAction.done_at.is_(None),
                FileAction.due_on <= filters.action_due_before,
            )
        )
    if filters.visible_employeurs is not None:
        consent = exists().where(
            Consent.file_id == PersonFile.id, Consent.purpose == "visible_employeurs", Consent.withdrawn_at.is_(None)
        )
        query = query.where(consent if filters.visible_employeurs else ~consent)
    rows = session.execute(query.order_by(PersonFile.last_name, PersonFile.first_name, PersonFile.id).limit(limit))
    return [
        FileSummary(
            id=r.id,
            first_name=r.first_name,
            last_name=r.last_name,
            commune_code=r.commune_code,
            status=r.status,
            counsellor=r.display_name,
            last_step=STEP_KINDS.get(r.last_step or ""),
            next_action_on=r.next_action_on,
            visible_employeurs=r.visible is not None,
            last_activity_at=aware(r.last_activity_at),
        )
        for r in rows
    ]


def file_detail(session: Session, actor: Account, file_id: int, *, log: str | None = "lecture") -> FileDetail | None:
    file = find_file(session, actor, file_id)
    if file is None:
        return None
    if log:
        log_access(session, actor, file, log)
    return detail_of(session, file)


def detail_of(session: Session, file: PersonFile) -> FileDetail:
    # Six queries; the summary's figures (last step, next action, visibility) come from the same rows.
    consents = list(
        session.scalars(select(Consent).where(Consent.file_id == file.id).order_by(Consent.given_at, Consent.id))
    )
    steps = list(
        session.scalars(select(FileStep).where(FileStep.file_id == file.id).order_by(FileStep.on, FileStep.id))
    )
    notes = list(
        session.scalars(select(FileNote).where(FileNote.file_id == file.id).order_by(FileNote.created_at, FileNote.id))
    )
    shares = list(session.scalars(select(FileShare.counsellor_id).where(FileShare.file_id == file.id)))
    actions = list(
        session.scalars(
            select(FileAction).where(FileAction.file_id == file.id).order_by(FileAction.due_on, FileAction.id)
        )
    )
    wanted = {n.author_id for n in notes if n.author_id} | set(shares) | ({file.counsellor_id} - {None})
    authors = dict(session.execute(select(Account.id, Account.display_name).where(Account.id.in_(wanted))).all())
    pending = [a.due_on for a in actions if a.done_at is None]
    summary = FileSummary(
        id=file.id,
        first_name=file.first_name,
        last_name=file.last_name,
        commune_code=file.commune_code,
        status=file.status,
        counsellor=authors.get(file.counsellor_id) if file.counsellor_id else None,
        last_step=STEP_KINDS.get(steps[-1].kind) if steps else None,
        next_action_on=min(pending) if pending else None,
        visible_employeurs=any(c.purpose == "visible_employeurs" and c.withdrawn_at is None for c in consents),
        last_activity_at=aware(file.last_activity_at),
    )
    return FileDetail(
        **summary.model_dump(),
        email=file.email,
        phone=file.phone,
        available_from=file.available_from,
        health_notes=file.health_notes,
        profile=Profile.model_validate(file.profile or {}),
        has_account=file.account_id is not None,
        invited_at=aware(file.invited_at) if file.invited_at and file.account_id is None else None,
        consents=[
            ConsentOut(
                id=c.id,
                purpose=c.purpose,
                given_at=aware(c.given_at),
                withdrawn_at=aware(c.withdrawn_at) if c.withdrawn_at else None,
            )
            for c in consents
        ],
        steps=[
            StepOut(id=s.id, kind=s.kind, label=STEP_KINDS[s.kind], on=s.on, detail=s.detail, in_post=s.in_post)
            for s in steps
        ],
        notes=[
            NoteOut(
                id=n.id,
                author=authors.get(n.author_id) if n.author_id else None,
                text=n.text,
                created_at=aware(n.created_at),
            )
            for n in notes
        ],
        actions=[ActionOut(id=a.id, text=a.text, due_on=a.due_on, done=a.done_at is not None) for a in actions],
        shared_with=[authors.get(i, "?") for i in shares],
    )


def own_files(session: Session, account_id: int) -> list[PersonFile]:
    """A person's files, the one in progress first, then the most recent (one account, several files over
    time: a file closed after a hire, a new one years later)."""
    return list(
        session.scalars(
            select(PersonFile)
            .where(PersonFile.account_id == account_id)
            .order_by((PersonFile.status == "actif").desc(), PersonFile.last_activity_at.desc(), PersonFile.id.desc())
        )
    )


def current_file(session: Session, account_id: int) -> PersonFile | None:
    """The person's file in progress (or their latest): the one applications and registrations go through."""
    files = own_files(session, account_id)
    return files[0] if files else None


def own_file(session: Session, actor: Account) -> FileDetail | None:
    if actor.role != "personne":
        raise AccessDenied("Réservé aux personnes accompagnées.")
    file = current_file(session, actor.id)
    return detail_of(session, file) if file else None


def access_log(session: Session, actor: Account, file_id: int) -> list[AccessOut] | None:
    file = find_file(session, actor, file_id)
    if file is None:
        return None
    rows = list(
        session.scalars(
            select(FileAccess).where(FileAccess.file_id == file.id).order_by(FileAccess.at.desc(), FileAccess.id.desc())
        )
    )
    wanted = {r.account_id for r in rows if r.account_id}
    names = dict(session.execute(select(Account.id, Account.display_name).where(Account.id.in_(wanted))).all())
    return [
        AccessOut(account=names.get(r.account_id) if r.account_id else None, action=r.action, at=aware(r.at))
        for r in rows
    ]
