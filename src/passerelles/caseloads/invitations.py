"""Giving a person access to their file: a new account with a link to choose a password, or an invitation
of their existing account that they accept or refuse in their space (one account, several files over time)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from passerelles.accounts import services as accounts
from passerelles.accounts.mail import send_mail
from passerelles.accounts.models import Account, Platform
from passerelles.accounts.schemas import AccountCreate
from passerelles.accounts.services import AccessDenied, InvalidInput, aware, now
from passerelles.caseloads.models import FileAccess, PersonFile
from passerelles.caseloads.schemas import InvitationOut
from passerelles.caseloads.services import log_access, writable_file
from passerelles.settings import Settings


def invite_person(session: Session, settings: Settings, actor: Account, file_id: int) -> Account | None:
    """Give the person of a file their own access: a new account (their file's e-mail) with a link to choose a
    password, or, when an account of a person already has that address, an invitation to attach this file to
    it, which the person accepts or refuses in their space (nothing of the file is shown to them before)."""
    file = writable_file(session, actor, file_id)
    if file is None:
        return None
    if not file.email:
        raise InvalidInput("email", "Le dossier n'a pas d'adresse électronique.")
    if file.account_id is not None:
        raise InvalidInput("email", "La personne a déjà un compte.")
    account = accounts.get_account_by_email(session, file.email)
    if account is not None:
        if account.role != "personne" or not account.is_active:
            raise InvalidInput("email", "Cette adresse est celle d'un compte professionnel ou désactivé : impossible.")
        file.invited_account_id, file.invited_at = account.id, now()
        log_access(session, actor, file, "invitation")
        platform = session.get(Platform, file.platform_id)
        where = platform.name if platform else "une plateforme"
        send_mail(
            settings,
            account.email,
            "Passerelles : un dossier d'accompagnement vous attend",
            f"Bonjour {account.display_name},\n\n{actor.display_name} ({where}) "
            "vous propose de suivre votre dossier d'accompagnement depuis votre compte Passerelles.\n"
            f"Acceptez ou refusez dans votre espace :\n{settings.base_url}/espace/personne\n\n"
            "Si vous ne connaissez pas cette plateforme, refusez : rien ne sera partagé.\n",
        )
        return account
    account = accounts.create_account(
        session,
        None,
        AccountCreate(email=file.email, display_name=f"{file.first_name} {file.last_name}", role="personne"),
    )
    file.account_id = account.id
    accounts.send_invitation(session, settings, account)
    return account


def pending_invitations(session: Session, actor: Account) -> list[InvitationOut]:
    """The files a counsellor invited this person's account to, not answered yet: who invites, from where."""
    if actor.role != "personne":
        return []
    rows = session.execute(
        select(PersonFile.id, PersonFile.invited_at, Platform.name, Account.display_name)
        .join(Platform, Platform.id == PersonFile.platform_id)
        .outerjoin(Account, Account.id == PersonFile.counsellor_id)
        .where(PersonFile.invited_account_id == actor.id, PersonFile.account_id.is_(None))
        .order_by(PersonFile.invited_at.desc())
    ).all()
    return [
        InvitationOut(file_id=r[0], invited_at=aware(r[1]) if r[1] else None, platform=r[2], counsellor=r[3])
        for r in rows
    ]


def answer_invitation(session: Session, actor: Account, file_id: int, accept: bool) -> PersonFile | None:
    """Accept (the file becomes the person's: they read it in their space) or refuse (the invitation is gone)."""
    if actor.role != "personne":
        raise AccessDenied("Réservé aux personnes accompagnées.")
    file = session.scalar(
        select(PersonFile).where(
            PersonFile.id == file_id, PersonFile.invited_account_id == actor.id, PersonFile.account_id.is_(None)
        )
    )
    if file is None:
        return None
    file.invited_account_id, file.invited_at = None, None
    if accept:
        file.account_id = actor.id
        file.last_activity_at = now()
    session.add(
        FileAccess(file_id=file.id, account_id=actor.id, action="rattachement" if accept else "refus", at=now())
    )
    session.flush()
    return file
