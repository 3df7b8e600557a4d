"""Caseloads: who may read which file is decided here, for the API, the pages and the CLI alike.

- a counsellor reads the files they follow or that were shared with them, on their own platform only;
- a person reads their own file (the one linked to their account);
- an administrator manages accounts but does not read files; an employer never reads a file (they see
  candidates through ``employers.services``, and only those who consented).
A file outside the actor's reach is reported as absent (None), so ids reveal nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy.orm import Session

from passerelles.accounts import services as accounts
from passerelles.accounts.models import Account, LoginAttempt, Platform
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
    Dashboard,
    DashboardRow,
    FileDetail,
    FileFilters,
    FileIn,
    FileSummary,
    NoteIn,
    NoteOut,
    StepIn,
    StepOut,
)
from passerelles.exports import csv_text
from passerelles.pathways.schemas import Profile
from passerelles.places.models import Commune
from passerelles.settings import Settings

INDICATORS = {
    "accompagnees": "Personnes accompagnées",
    "entree_formation": "Entrées en formation",
    "diplome": "Diplômes obtenus",
    "embauche": "Embauches",
    "en_poste_6_mois": "En poste à 6 mois",
}


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


def _writable(session: Session, actor: Account, file_id: int) -> PersonFile | None:
    """Counsellors write; a person reads their file but changes only their consents (see below)."""
    _counsellor(actor)
    return find_file(session, actor, file_id)


def log_access(session: Session, actor: Account, file: PersonFile, action: str) -> None:
    session.add(FileAccess(file_id=file.id, account_id=actor.id, action=action, at=now()))


def _touch(file: PersonFile) -> None:
    file.last_activity_at = now()


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
    file = _writable(session, actor, file_id)
    if file is None:
        return None
    found = control_characters(profile.model_dump(mode="json"))
    if found:
        raise InvalidInput(found, "caractère de contrôle interdit")
    check_commune(session, profile.commune, "profile.commune")
    file.profile = profile.model_dump(mode="json", exclude_defaults=True)
    file.target = profile.target
    _touch(file)
    log_access(session, actor, file, "modification")
    return file


def add_step(session: Session, actor: Account, file_id: int, data: StepIn) -> FileStep | None:
    file = _writable(session, actor, file_id)
    if file is None:
        return None
    if data.on > dt.date.today() + dt.timedelta(days=366):
        raise InvalidInput("on", "Date trop lointaine pour une étape réalisée.")
    step = add_step_internal(session, actor, file, data)
    log_access(session, actor, file, "modification")
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
    _touch(file)
    return step


def delete_step(session: Session, actor: Account, file_id: int, step_id: int) -> bool | None:
    """A counsellor removes a step recorded by mistake; the dashboard's events that came from it go too."""
    file = _writable(session, actor, file_id)
    if file is None or not remove_step_internal(session, file, step_id):
        return None
    log_access(session, actor, file, "modification")
    session.flush()
    return True


def remove_step_internal(session: Session, file: PersonFile, step_id: int) -> bool:
    """Withdraw a step of ``file`` and the dashboard's events that came from it (checked by the caller: a
    counsellor, or an employer whose hire is withdrawn). False when the file has no such step."""
    step = session.get(FileStep, step_id)
    if step is None or step.file_id != file.id:
        return False
    session.execute(delete(OutcomeEvent).where(OutcomeEvent.step_id == step.id))
    session.delete(step)
    _touch(file)
    session.flush()
    return True


def add_note(session: Session, actor: Account, file_id: int, data: NoteIn) -> FileNote | None:
    file = _writable(session, actor, file_id)
    if file is None:
        return None
    note = FileNote(file_id=file.id, author_id=actor.id, text=data.text, created_at=now())
    session.add(note)
    _touch(file)
    log_access(session, actor, file, "modification")
    session.flush()
    return note


def add_action(session: Session, actor: Account, file_id: int, data: ActionIn) -> FileAction | None:
    file = _writable(session, actor, file_id)
    if file is None:
        return None
    action = FileAction(file_id=file.id, text=data.text, due_on=data.due_on, created_at=now())
    session.add(action)
    _touch(file)
    session.flush()
    return action


def complete_action(session: Session, actor: Account, file_id: int, action_id: int) -> FileAction | None:
    file = _writable(session, actor, file_id)
    action = session.get(FileAction, action_id)
    if file is None or action is None or action.file_id != file.id:
        return None
    action.done_at = action.done_at or now()
    _touch(file)
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
    _touch(file)
    session.flush()
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
    _touch(file)
    return bool(rows)


def set_health_notes(session: Session, actor: Account, file_id: int, text: str | None) -> PersonFile | None:
    file = _writable(session, actor, file_id)
    if file is None:
        return None
    if text and not has_consent(session, file.id, "sante"):
        raise InvalidInput("health_notes", "Informations de santé : le consentement explicite de la personne manque.")
    file.health_notes = text or None
    _touch(file)
    log_access(session, actor, file, "modification")
    return file


def share_file(session: Session, actor: Account, file_id: int, counsellor_id: int) -> FileShare | None:
    file = _writable(session, actor, file_id)
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


def close_file(session: Session, actor: Account, file_id: int) -> PersonFile | None:
    file = _writable(session, actor, file_id)
    if file is None:
        return None
    file.status = "clos"
    _touch(file)
    return file


def invite_person(session: Session, settings: Settings, actor: Account, file_id: int) -> Account | None:
    """Create the person's own account (their file's e-mail) and send the invitation."""
    file = _writable(session, actor, file_id)
    if file is None:
        return None
    if not file.email:
        raise InvalidInput("email", "Le dossier n'a pas d'adresse électronique.")
    if file.account_id is not None:
        raise InvalidInput("email", "La personne a déjà un compte.")
    account = accounts.get_account_by_email(session, file.email)
    if account is not None:
        raise InvalidInput("email", "Un compte existe déjà avec cette adresse.")
    from passerelles.accounts.schemas import AccountCreate

    account = accounts.create_account(
        session,
        None,
        AccountCreate(email=file.email, display_name=f"{file.first_name} {file.last_name}", role="personne"),
    )
    file.account_id = account.id
    accounts.send_invitation(session, settings, account)
    return account


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


CSV_COLUMNS = [
    "id",
    "nom",
    "prenom",
    "commune",
    "statut",
    "conseiller",
    "derniere_etape",
    "prochaine_action",
    "visible_employeurs",
]


def csv_rows(rows: list[FileSummary]) -> str:
    """The caseload export (formula cells neutralised by the shared CSV writer)."""
    return csv_text(
        CSV_COLUMNS,
        (
            [
                r.id,
                r.last_name,
                r.first_name,
                r.commune_code or "",
                r.status,
                r.counsellor or "",
                r.last_step or "",
                r.next_action_on.isoformat() if r.next_action_on else "",
                "oui" if r.visible_employeurs else "non",
            ]
            for r in rows
        ),
    )


def file_detail(session: Session, actor: Account, file_id: int, *, log: str | None = "lecture") -> FileDetail | None:
    file = find_file(session, actor, file_id)
    if file is None:
        return None
    if log:
        log_access(session, actor, file, log)
    return _detail(session, file)


def _detail(session: Session, file: PersonFile) -> FileDetail:
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


def own_file(session: Session, actor: Account) -> FileDetail | None:
    if actor.role != "personne":
        raise AccessDenied("Réservé aux personnes accompagnées.")
    file = session.scalar(select(PersonFile).where(PersonFile.account_id == actor.id))
    return _detail(session, file) if file else None


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


# ------------------------------------------------------------------------------------------- dashboard


def dashboard(session: Session, actor: Account, platform_id: int | None, start: dt.date, end: dt.date) -> Dashboard:
    """Figures for funders, from anonymous outcome events: they survive the erasure of files."""
    if actor.role == "conseiller":
        if platform_id not in (None, actor.platform_id):
            raise AccessDenied("Tableau de bord de votre plateforme seulement.")
        platform_id = actor.platform_id
    elif actor.role != "admin":
        raise AccessDenied("Réservé aux conseillers et administrateurs.")
    platform = session.get(Platform, platform_id) if platform_id is not None else None
    if platform is None:
        raise InvalidInput("plateforme", "Plateforme inconnue.")
    if end < start:
        raise InvalidInput("fin", "La fin de période précède son début.")
    events = session.execute(
        select(OutcomeEvent.kind, OutcomeEvent.on, OutcomeEvent.subject_key).where(
            OutcomeEvent.platform_id == platform.id, OutcomeEvent.on >= start, OutcomeEvent.on <= end
        )
    ).all()
    counts = Counter(kind for kind, _on, _key in events)
    people = {key for _kind, _on, key in events}
    months: dict[tuple[int, int], dict[str, Any]] = defaultdict(lambda: {k: 0 for k in INDICATORS} | {"_people": set()})
    for kind, on, key in events:
        m = months[on.year, on.month]  # not strftime: thousands of events per call
        m["_people"].add(key)
        if kind in INDICATORS:
            m[kind] += 1
    by_month: list[dict[str, int | str]] = []
    for month in sorted(months):
        m = months[month]
        row: dict[str, int | str] = {"month": f"{month[0]:04d}-{month[1]:02d}", "accompagnees": len(m["_people"])}
        row |= {k: int(m[k]) for k in INDICATORS if k != "accompagnees"}
        by_month.append(row)
    rows = [DashboardRow(indicator="accompagnees", label=INDICATORS["accompagnees"], value=len(people))]
    rows += [
        DashboardRow(indicator=k, label=v, value=counts.get(k, 0)) for k, v in INDICATORS.items() if k != "accompagnees"
    ]
    return Dashboard(
        platform_id=platform.id, platform=platform.name, start=start, end=end, rows=rows, by_month=by_month
    )


# ------------------------------------------------------------------------------------------------ RGPD


def export_own_data(session: Session, actor: Account) -> dict[str, Any]:
    """Everything Passerelles holds about the logged-in person (right of access, portability)."""
    from passerelles.alerts.models import SavedSearch
    from passerelles.employers.models import Application, JobDatingRegistration

    data: dict[str, Any] = {
        "compte": accounts.account_out(actor).model_dump(mode="json"),
        "recherches_enregistrees": [
            {"type": s.kind, "criteres": s.criteria, "active": s.active}
            for s in session.scalars(select(SavedSearch).where(SavedSearch.account_id == actor.id))
        ],
    }
    file = (
        session.scalar(select(PersonFile).where(PersonFile.account_id == actor.id))
        if actor.role == "personne"
        else None
    )
    if file is not None:
        data["dossier"] = _detail(session, file).model_dump(mode="json")
        data["candidatures"] = [
            {"offre": a.offer_id, "statut": a.status, "date": aware(a.created_at).isoformat()}
            for a in session.scalars(select(Application).where(Application.file_id == file.id))
        ]
        data["job_datings"] = [
            r.event_id
            for r in session.scalars(select(JobDatingRegistration).where(JobDatingRegistration.file_id == file.id))
        ]
        data["journal_des_acces"] = [a.model_dump(mode="json") for a in access_log(session, actor, file.id) or []]
    return data


def _erase_account(session: Session, settings: Settings, account: Account) -> None:
    session.execute(
        delete(LoginAttempt).where(LoginAttempt.key == "account:" + accounts.keyed_digest(settings, account.email))
    )
    session.delete(account)


def erase_file(session: Session, settings: Settings, file: PersonFile, *, with_account: bool = True) -> None:
    """Delete the file and everything hanging from it (consents, steps, notes, actions, shares, access log,
    applications, registrations); outcome events stay, keyed by a random value that nothing links back."""
    account = session.get(Account, file.account_id) if file.account_id else None
    session.execute(delete(PersonFile).where(PersonFile.id == file.id))
    if with_account and account is not None:
        _erase_account(session, settings, account)
    session.flush()


def erase_on_request(session: Session, settings: Settings, actor: Account, file_id: int) -> bool:
    """A counsellor erases a file they follow, at the person's request."""
    file = _writable(session, actor, file_id)
    if file is None:
        return False
    erase_file(session, settings, file)
    return True


def erase_self(session: Session, settings: Settings, actor: Account) -> None:
    """The logged-in person erases their own data (file and account)."""
    if actor.role != "personne":
        raise AccessDenied("Les comptes professionnels sont supprimés par un administrateur.")
    file = session.scalar(select(PersonFile).where(PersonFile.account_id == actor.id))
    if file is not None:
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
