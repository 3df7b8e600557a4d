"""Accounts: passwords (argon2), server-side sessions, e-mail tokens, login limits, access errors.

Services know nothing about HTTP: they take a database session and the settings, and raise the errors
below, which the web layer turns into 401/403/422/429 in the one error shape.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from passerelles.accounts.mail import send_mail
from passerelles.accounts.models import Account, AccountToken, LoginAttempt, Platform, UserSession
from passerelles.accounts.schemas import (
    AccountCreate,
    AccountOut,
    PlatformIn,
    RegisterIn,
    StructureIn,
    control_characters,
)
from passerelles.offers.models import Employer
from passerelles.reference.models import StructureType
from passerelles.settings import Settings

# argon2id with the library's defaults (RFC 9106 low-memory profile: t=3, m=64 MiB, p=4).
PRODUCTION_HASHER = PasswordHasher()


class _Hashing:
    """The hasher in use and a hash of a random password: verifying against it when the account does not
    exist keeps timing even. Only the test suite swaps the hasher (``use_password_hasher``)."""

    hasher: PasswordHasher = PRODUCTION_HASHER
    dummy_hash: str = PRODUCTION_HASHER.hash(secrets.token_urlsafe(16))


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Tests only: cheaper argon2 parameters so that hundreds of accounts are created in seconds."""
    _Hashing.hasher = hasher
    _Hashing.dummy_hash = hasher.hash(secrets.token_urlsafe(16))


class AccessDenied(Exception):
    """The actor may not do this (403)."""

    def __init__(self, message: str = "Accès refusé.") -> None:
        super().__init__(message)
        self.message = message


class NotAuthenticated(Exception):
    """No session (401; pages redirect to the login form)."""


class TooManyAttempts(Exception):
    def __init__(self, message: str = "Trop de tentatives de connexion ; réessayez plus tard.") -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(Exception):
    """Input refused, naming the field (422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(value: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes for timezone-aware columns: they were stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def keyed_digest(settings: Settings, raw: str) -> str:
    return hmac.new(settings.signing_key, raw.encode(), hashlib.sha256).hexdigest()[:64]


# ---------------------------------------------------------------------------------------------- passwords


def hash_password(password: str) -> str:
    return _Hashing.hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _Hashing.hasher.verify(stored or _Hashing.dummy_hash, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# ----------------------------------------------------------------------------------------------- accounts


def account_out(account: Account) -> AccountOut:
    return AccountOut(
        id=account.id,
        email=account.email,
        role=account.role,
        display_name=account.display_name,
        platform_id=account.platform_id,
        employer_id=account.employer_id,
        email_verified=account.email_verified_at is not None,
        active=account.is_active,
        created_at=aware(account.created_at),
    )


def get_account_by_email(session: Session, email: str) -> Account | None:
    if control_characters(email) or len(email) > 254:
        return None
    return session.scalar(select(Account).where(Account.email == email.strip().lower()))


def create_platform(session: Session, actor: Account | None, data: PlatformIn) -> Platform:
    if actor is not None and actor.role != "admin":
        raise AccessDenied("Seul un administrateur crée une plateforme.")
    if session.scalar(select(Platform).where(Platform.name == data.name)):
        raise InvalidInput("name", f"La plateforme « {data.name} » existe déjà.")
    platform = Platform(name=data.name, kind=data.kind, departement_code=data.departement_code, created_at=now())
    session.add(platform)
    session.flush()
    return platform


def list_platforms(session: Session) -> list[Platform]:
    return list(session.scalars(select(Platform).order_by(Platform.name)))


def _structure(session: Session, data: StructureIn) -> tuple[Employer, bool]:
    """The structure a SIRET names, and whether it was created now. Naming a known SIRET gives no access to
    it: the new account's membership is a claim (``employers.memberships.join_on_creation``)."""
    if session.get(StructureType, data.structure_type) is None:
        raise InvalidInput("structure.structure_type", f"Type de structure inconnu : {data.structure_type}")
    employer = session.scalar(select(Employer).where(Employer.siret == data.siret))
    if employer is not None:
        return employer, False
    employer = Employer(
        siret=data.siret, name=data.name, structure_type=data.structure_type, commune_code=data.commune_code
    )
    session.add(employer)
    session.flush()
    return employer, True


def create_account(
    session: Session,
    actor: Account | None,
    data: AccountCreate,
    *,
    password: str | None = None,
    verified: bool = False,
) -> Account:
    """Create an account. ``actor`` None means the CLI (the operator of the machine)."""
    if actor is not None and actor.role != "admin":
        raise AccessDenied("Seul un administrateur crée des comptes.")
    if get_account_by_email(session, data.email):
        raise InvalidInput("email", "Un compte existe déjà avec cette adresse.")
    platform_id = None
    employer: tuple[Employer, bool] | None = None
    if data.role == "conseiller":
        if data.platform_id is None or session.get(Platform, data.platform_id) is None:
            raise InvalidInput("platform_id", "Un conseiller appartient à une plateforme existante.")
        platform_id = data.platform_id
    if data.role == "employeur":
        if data.structure is not None:
            employer = _structure(session, data.structure)
        elif data.employer_id is not None and (known := session.get(Employer, data.employer_id)) is not None:
            employer = known, False
        else:
            raise InvalidInput("structure", "Un employeur appartient à une structure (SIRET, type).")
    account = Account(
        email=data.email,
        password_hash=hash_password(password) if password else None,
        role=data.role,
        display_name=data.display_name,
        platform_id=platform_id,
        employer_id=None,  # set with an active membership only
        email_verified_at=now() if verified else None,
        is_active=True,
        created_at=now(),
    )
    session.add(account)
    session.flush()
    if employer is not None:
        from passerelles.employers.memberships import join_on_creation  # employers import this module

        join_on_creation(session, account, employer[0], created=employer[1], by_admin=actor is not None)
    return account


def register(session: Session, settings: Settings, data: RegisterIn) -> Account:
    """Self-registration of a person or an employer; the address must then be verified by e-mail."""
    if data.role == "employeur" and data.structure is None:
        raise InvalidInput("structure", "Un employeur indique sa structure (nom, SIRET, type).")
    create = AccountCreate(
        email=data.email,
        display_name=data.display_name,
        role=data.role,
        structure=data.structure if data.role == "employeur" else None,
    )
    account = create_account(session, None, create, password=data.password)
    send_verification(session, settings, account)
    return account


# ----------------------------------------------------------------------------------------- e-mail tokens


def issue_token(session: Session, account: Account, purpose: str, hours: int = 48) -> str:
    raw = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            token_hash=digest(raw),
            account_id=account.id,
            purpose=purpose,
            expires_at=now() + dt.timedelta(hours=hours),
        )
    )
    session.flush()
    return raw


def consume_token(session: Session, raw: str, purpose: str) -> Account | None:
    token = session.get(AccountToken, digest(raw))
    if token is None or token.purpose != purpose or token.used_at is not None or aware(token.expires_at) < now():
        return None
    token.used_at = now()
    return session.get(Account, token.account_id)


def send_verification(session: Session, settings: Settings, account: Account) -> None:
    raw = issue_token(session, account, "verify")
    send_mail(
        settings,
        account.email,
        "Passerelles : confirmez votre adresse",
        f"Bonjour {account.display_name},\n\nPour confirmer votre adresse, ouvrez ce lien :\n"
        f"{settings.base_url}/compte/verifier?jeton={raw}\n\nCe lien est valable 48 heures.\n",
    )


def send_invitation(session: Session, settings: Settings, account: Account) -> None:
    raw = issue_token(session, account, "reset", hours=72)
    send_mail(
        settings,
        account.email,
        "Passerelles : votre compte a été créé",
        f"Bonjour {account.display_name},\n\nUn compte Passerelles a été créé pour vous. Choisissez votre mot de "
        f"passe :\n{settings.base_url}/mot-de-passe/nouveau?jeton={raw}\n\nCe lien est valable 72 heures.\n",
    )


def verify_email(session: Session, raw: str) -> Account | None:
    account = consume_token(session, raw, "verify")
    if account is not None and account.email_verified_at is None:
        account.email_verified_at = now()
    return account


def request_password_reset(session: Session, settings: Settings, email: str) -> None:
    """Always silent about whether the address has an account."""
    account = get_account_by_email(session, email)
    if account is None or not account.is_active:
        return
    raw = issue_token(session, account, "reset", hours=2)
    send_mail(
        settings,
        account.email,
        "Passerelles : nouveau mot de passe",
        f"Bonjour {account.display_name},\n\nPour choisir un nouveau mot de passe, ouvrez ce lien :\n"
        f"{settings.base_url}/mot-de-passe/nouveau?jeton={raw}\n\nCe lien est valable 2 heures. "
        "Si vous n'avez rien demandé, ignorez ce message.\n",
    )


def reset_password(session: Session, raw: str, password: str) -> Account | None:
    account = consume_token(session, raw, "reset")
    if account is None:
        return None
    account.password_hash = hash_password(password)
    # The link came to the mailbox: the address is verified. Every open session is closed.
    account.email_verified_at = account.email_verified_at or now()
    session.execute(delete(UserSession).where(UserSession.account_id == account.id))
    return account


# ------------------------------------------------------------------------------------------- logging in


def _failures(session: Session, key: str, since: dt.datetime) -> int:
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.key == key, LoginAttempt.success.is_(True))
    )
    start = max(since, aware(last_success)) if last_success else since
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.key == key, LoginAttempt.success.is_(False), LoginAttempt.at > start)
        )
        or 0
    )


def authenticate(session: Session, settings: Settings, email: str, password: str, ip: str) -> Account:
    """Check a password under per-account and per-IP limits kept in the database (all workers see them).

    Raises TooManyAttempts before checking anything once a limit is reached, AccessDenied on failure."""
    email = email.strip().lower()
    account_key = "account:" + keyed_digest(settings, email)
    ip_key = "ip:" + keyed_digest(settings, ip)
    since = now() - dt.timedelta(minutes=settings.login_window_minutes)
    if (
        _failures(session, account_key, since) >= settings.login_max_failures_account
        or _failures(session, ip_key, since) >= settings.login_max_failures_ip
    ):
        raise TooManyAttempts()
    account = get_account_by_email(session, email)
    # Release the database connection while argon2 works (tens of milliseconds, 64 MiB): under a burst of
    # logins, connections would otherwise wait on hashing.
    session.commit()
    ok = verify_password(account.password_hash if account else None, password)
    ok = ok and account is not None and account.is_active
    at = now()
    session.add(LoginAttempt(key=account_key, at=at, success=ok))
    session.add(LoginAttempt(key=ip_key, at=at, success=ok))
    if not ok or account is None:
        session.commit()  # the failure must count even though the request fails
        raise AccessDenied("Adresse ou mot de passe incorrect.")
    if account.email_verified_at is None:
        session.commit()
        raise AccessDenied("Adresse non confirmée : ouvrez le lien reçu par courriel.")
    if account.password_hash and _Hashing.hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.last_login_at = at
    return account


def open_session(session: Session, settings: Settings, account: Account) -> tuple[str, str]:
    """A new session id (never one the browser brought: no fixation) and its CSRF token."""
    raw = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    at = now()
    session.add(
        UserSession(
            id_hash=digest(raw),
            account_id=account.id,
            csrf_token=csrf,
            created_at=at,
            last_seen_at=at,
            expires_at=at + dt.timedelta(hours=settings.session_hours),
        )
    )
    session.execute(delete(UserSession).where(UserSession.expires_at < at))
    session.flush()
    return raw, csrf


def load_session(session: Session, raw: str) -> tuple[UserSession, Account] | None:
    if not raw or len(raw) > 100:
        return None
    # One query for the session and its account: this runs on every request of a logged-in user.
    found = session.execute(
        select(UserSession, Account)
        .join(Account, Account.id == UserSession.account_id)
        .where(UserSession.id_hash == digest(raw))
    ).first()
    if found is None:
        return None
    row, account = found
    if aware(row.expires_at) < now() or not account.is_active:
        return None
    return row, account


def deactivate_account(session: Session, actor: Account, account_id: int) -> Account | None:
    """An administrator deactivates an account: it can no longer log in and its open sessions end at once.
    Nothing else is deleted (a counsellor's files stay with the platform; erasure is a separate act)."""
    require_role(actor, "admin")
    account = session.get(Account, account_id)
    if account is None:
        return None
    if account.id == actor.id:
        raise InvalidInput("account_id", "Vous ne pouvez pas désactiver votre propre compte.")
    account.is_active = False
    session.execute(delete(UserSession).where(UserSession.account_id == account.id))
    session.flush()
    return account


def close_session(session: Session, raw: str) -> None:
    session.execute(delete(UserSession).where(UserSession.id_hash == digest(raw)))


def require_role(actor: Account | None, *roles: str) -> Account:
    if actor is None:
        raise NotAuthenticated()
    if roles and actor.role not in roles:
        raise AccessDenied()
    return actor


def constant_time_equal(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def sign(settings: Settings, payload: str) -> str:
    return hmac.new(settings.signing_key, payload.encode(), hashlib.sha256).hexdigest()[:32]


def check_signature(settings: Settings, payload: str, signature: str) -> bool:
    return hmac.compare_digest(sign(settings, payload), signature or "")


def cli_create_admin(session: Session, email: str, name: str, password: str) -> Any:
    return create_account(
        session, None, AccountCreate(email=email, display_name=name, role="admin"), password=password, verified=True
    )
