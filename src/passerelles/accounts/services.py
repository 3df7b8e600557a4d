"""Accounts: passwords (argon2), server-side sessions, e-mail tokens, login limits, access errors.

Services know nothing about HTTP: they take a database session and the settings, and raise the errors
below, which the web layer turns into 401/403/422/429 in the one error shape.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from passerelles.accounts.mail import in_background, send_mail
from passerelles.accounts.models import Account, AccountToken, LoginAttempt, Platform, UserSession
from passerelles.accounts.schemas import (
    AccountCreate,
    AccountOut,
    PlatformIn,
    RegisterIn,
    StructureIn,
    control_characters,
)
from passerelles.accounts.structures import join_on_creation
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
    """429. ``retry_after``: seconds to wait, or None for the login window."""

    def __init__(
        self, message: str = "Trop de tentatives de connexion ; réessayez plus tard.", retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


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
    it: the new account's membership is a claim (``structures.join_on_creation``)."""
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
        join_on_creation(session, account, employer[0], created=employer[1], by_admin=actor is not None)
    return account


def register(session: Session, settings: Settings, data: RegisterIn) -> Account | None:
    """Self-registration of a person or an employer; the address must then be verified by e-mail.

    An address that already has an account gets the same answer and the same work (a password hash, one
    mail), so that registration does not tell who has an account: the mail goes to the owner of the address,
    saying someone tried. Returns the new account, or None in that case."""
    if data.role == "employeur" and data.structure is None:
        raise InvalidInput("structure", "Un employeur indique sa structure (nom, SIRET, type).")
    if (
        data.role == "employeur"
        and data.structure
        and session.get(StructureType, data.structure.structure_type) is None
    ):
        # Checked before the address, so that this refusal too is the same for known and unknown addresses.
        raise InvalidInput("structure.structure_type", f"Type de structure inconnu : {data.structure.structure_type}")
    existing = get_account_by_email(session, data.email)
    if existing is not None:
        hash_password(data.password)  # the time a new account takes
        raw = issue_token(session, existing, "reset", hours=2)  # and a row written, like its e-mail token
        send_mail(
            settings,
            existing.email,
            "Passerelles : tentative de création de compte",
            f"Bonjour {existing.display_name},\n\nQuelqu'un a tenté de créer un compte Passerelles avec votre adresse. "
            "Vous avez déjà un compte : aucun autre n'a été créé.\n\nSi c'était vous et que vous avez oublié votre "
            f"mot de passe, choisissez-en un nouveau :\n{settings.base_url}/mot-de-passe/nouveau?jeton={raw}\n\n"
            "Ce lien est valable 2 heures. Sinon, ignorez ce message : votre compte n'a pas changé.\n",
        )
        return None
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
    """The token's account, the token used up; None if unknown, used, expired or of another purpose.

    Consumed by one conditional UPDATE (… WHERE used_at IS NULL): of simultaneous uses, one only changes
    the row (PostgreSQL re-checks the condition after the first commits; SQLite writes one at a time).
    Every other outstanding token of that account and purpose is revoked with it: an older link, or a
    second one sent meanwhile, no longer works."""
    at = now()
    found = session.execute(
        update(AccountToken)
        .where(AccountToken.token_hash == digest(raw), AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
        .values(used_at=at)
        .returning(AccountToken.account_id, AccountToken.expires_at)
    ).first()
    if found is None:
        return None
    account_id, expires_at = found
    if aware(expires_at) < at:
        return None
    session.execute(
        update(AccountToken)
        .where(AccountToken.account_id == account_id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
        .values(used_at=at)
    )
    return session.get(Account, account_id)


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


def request_password_reset(factory: sessionmaker[Session], settings: Settings, email: str) -> None:
    """Answer at once and do the work in the background: the look-up, the token and the mail. The answer and
    its timing are then the same for a known and an unknown address, and a mail server that is down is never
    seen by the requester (it is logged)."""
    in_background(_send_reset_link, factory, settings, email)


def _send_reset_link(factory: sessionmaker[Session], settings: Settings, email: str) -> None:
    with factory() as session:
        account = get_account_by_email(session, email)
        if account is None or not account.is_active:
            return
        raw = issue_token(session, account, "reset", hours=2)
        session.commit()
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


_check_slots: dict[int, threading.BoundedSemaphore] = {}
_check_slots_lock = threading.Lock()


def _password_check_slot(settings: Settings) -> threading.BoundedSemaphore:
    """The process's semaphore of concurrent password checks (one per configured size)."""
    with _check_slots_lock:
        size = settings.login_max_concurrent_checks
        return _check_slots.setdefault(size, threading.BoundedSemaphore(size))


def _failures(session: Session, key: str, since: dt.datetime, *, reset_by_success: bool) -> int:
    """Attempts of ``key`` in the window not known to have succeeded (failed or still being checked).

    For an account, a success ends its run of failures: its owner who mistyped then logged in starts
    afresh (someone guessing without the password never gets a success). For an address, successes never
    reset anything: logging in to one's own account between guesses on others does not help."""
    query = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.key == key, LoginAttempt.success.is_(False), LoginAttempt.at > since)
    )
    if reset_by_success:
        # The last success, in the same query (an inner alias: the outer rows are failures).
        success = aliased(LoginAttempt)
        last_success = (
            select(func.max(success.at)).where(success.key == key, success.success.is_(True)).scalar_subquery()
        )
        query = query.where(LoginAttempt.at > func.coalesce(last_success, since))
    return session.scalar(query) or 0


def authenticate(session: Session, settings: Settings, email: str, password: str, ip: str) -> Account:
    """Check a password under per-account and per-IP limits kept in the database (all workers see them).

    Raises TooManyAttempts (429) when the process already runs its maximum of password checks, or when a
    limit is reached, AccessDenied (403) on failure. The attempt is recorded and committed before it is
    counted, and counted before the password is checked: of N simultaneous attempts, the one that counts
    last sees all N, so no more than the limit are ever checked. A success then marks its attempt."""
    slot = _password_check_slot(settings)
    if not slot.acquire(blocking=False):
        raise TooManyAttempts("Trop de connexions en cours ; réessayez dans un instant.", retry_after=1)
    try:
        return _authenticate(session, settings, email, password, ip)
    finally:
        slot.release()


def _authenticate(session: Session, settings: Settings, email: str, password: str, ip: str) -> Account:
    email = email.strip().lower()
    account_key = "account:" + keyed_digest(settings, email)
    ip_key = "ip:" + keyed_digest(settings, ip)
    session.commit()  # nothing of the caller's read transaction mixes with the attempt's own
    at = now()
    attempts = [LoginAttempt(key=account_key, at=at, success=False), LoginAttempt(key=ip_key, at=at, success=False)]
    session.add_all(attempts)
    session.commit()  # recorded and visible to every other attempt before anything is counted
    since = at - dt.timedelta(minutes=settings.login_window_minutes)
    # Own attempt included: the limit-th failure is still checked, the next one is refused.
    over = (
        _failures(session, account_key, since, reset_by_success=True) > settings.login_max_failures_account
        or _failures(session, ip_key, since, reset_by_success=False) > settings.login_max_failures_ip
    )
    account = None if over else get_account_by_email(session, email)
    # Release the database connection while argon2 works (tens of milliseconds, 64 MiB): under a burst of
    # logins, connections would otherwise wait on hashing.
    session.commit()
    if over:
        raise TooManyAttempts()
    ok = verify_password(account.password_hash if account else None, password)
    ok = ok and account is not None and account.is_active
    if not ok or account is None:
        raise AccessDenied("Adresse ou mot de passe incorrect.")
    session.execute(update(LoginAttempt).where(LoginAttempt.id.in_([a.id for a in attempts])).values(success=True))
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
    """Two tokens compared in constant time. Text that is not ASCII (a header or cookie may carry any
    Latin-1, a query any Unicode) is never a token: hmac.compare_digest would raise on it."""
    return bool(a) and bool(b) and str(a).isascii() and str(b).isascii() and hmac.compare_digest(str(a), str(b))


def sign(settings: Settings, payload: str) -> str:
    return hmac.new(settings.signing_key, payload.encode(), hashlib.sha256).hexdigest()[:32]


def check_signature(settings: Settings, payload: str, signature: str) -> bool:
    return constant_time_equal(sign(settings, payload), signature)
