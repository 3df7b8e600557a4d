"""Who acts for a structure. A structure is claimed, not joined: SIRETs are public and the offers import
creates structures from feeds, so naming a SIRET gives nothing by itself.

- The account that creates a structure (its SIRET was unknown) is its administrator at once.
- An account that names a known structure gets a pending membership and no access to the structure's data
  until the structure's administrator accepts it from the space; for a structure nobody administers (made
  by a feed, or whose administrators left), until a link sent to the structure's known contact address is
  opened (single use), or a Passerelles administrator approves it.
- Every structure-scoped action goes through :func:`require_structure` (or :func:`active_structure_query`
  inside a query): an active membership, never ``Account.employer_id`` alone (kept equal to the structure
  of an active membership only, for display and exports).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, cast

from sqlalchemy import CursorResult, Select, select, update
from sqlalchemy.orm import Session

from passerelles.accounts.mail import send_mail
from passerelles.accounts.models import MEMBERSHIP_ROLES, MEMBERSHIP_STATUSES, Account, EmployerMembership
from passerelles.accounts.services import AccessDenied, InvalidInput, aware, digest, now
from passerelles.accounts.structures import administered_clause, is_administered
from passerelles.employers.schemas import ClaimOut, MembershipOut
from passerelles.offers.models import Employer
from passerelles.settings import Settings

CLAIM_LINK_HOURS = 72
CLAIM_RESEND_MINUTES = 60


def active_structure_query(account_id: int) -> Select[int]:
    """The structure an account acts for (no row unless its membership is active)."""
    return select(EmployerMembership.employer_id).where(
        EmployerMembership.account_id == account_id, EmployerMembership.status == "active"
    )


def require_structure(session: Session, actor: Account) -> int:
    """The one membership check of structure-scoped actions: the id of the structure the actor acts for."""
    if actor.role != "employeur":
        raise AccessDenied("Réservé aux employeurs.")
    employer_id = session.scalar(active_structure_query(actor.id))
    if employer_id is None:
        raise AccessDenied(_not_active_message(session, actor))
    return employer_id


def _not_active_message(session: Session, actor: Account) -> str:
    found = session.execute(
        select(EmployerMembership.status, Employer.name)
        .join(Employer, Employer.id == EmployerMembership.employer_id)
        .where(EmployerMembership.account_id == actor.id)
    ).first()
    if found is None:
        return "Votre compte n'est rattaché à aucune structure."
    return _claim_message(*found)


def _claim_message(status: str, name: str) -> str:
    """A claim not (or not yet) active, as its claimant reads it."""
    if status == "refused":
        return f"Votre demande de rattachement à {name} a été refusée."
    return f"Votre demande de rattachement à {name} est en attente de validation."


def _membership_out(m: EmployerMembership, account: Account, employer: Employer) -> MembershipOut:
    return MembershipOut(
        id=m.id,
        account_name=account.display_name,
        account_email=account.email,
        structure_id=employer.id,
        structure_name=employer.name,
        siret=employer.siret,
        status=m.status,
        status_label=MEMBERSHIP_STATUSES[m.status],
        role=m.role,
        role_label=MEMBERSHIP_ROLES[m.role],
        created_at=aware(m.created_at),
    )


def _mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


def own_claim(session: Session, actor: Account) -> ClaimOut:
    """The actor's own tie to a structure, whatever its state (the space shows a pending claim plainly)."""
    if actor.role != "employeur":
        raise AccessDenied("Réservé aux employeurs.")
    found = session.execute(
        select(EmployerMembership, Employer)
        .join(Employer, Employer.id == EmployerMembership.employer_id)
        .where(EmployerMembership.account_id == actor.id)
    ).first()
    if found is None:
        raise AccessDenied("Votre compte n'est rattaché à aucune structure.")
    m, employer = found
    administered = m.status == "pending" and is_administered(session, employer.id)
    active = m.status == "active"
    message = f"Vous agissez pour {employer.name}." if active else _claim_message(m.status, employer.name)
    return ClaimOut(
        structure_name=employer.name,
        siret=employer.siret,
        status=m.status,
        status_label=MEMBERSHIP_STATUSES[m.status],
        role=m.role,
        message=message,
        decided_by="structure" if administered else "verification",
        contact=_mask(employer.contact_email) if m.status == "pending" and employer.contact_email else None,
        invitation_sent=m.claim_sent_at is not None and m.status == "pending",
    )


# ------------------------------------------------------------------------------ the structure's administrator


def _structure_admin(session: Session, actor: Account) -> int:
    employer_id = require_structure(session, actor)
    role = session.scalar(select(EmployerMembership.role).where(EmployerMembership.account_id == actor.id))
    if role != "admin":
        raise AccessDenied("Seul l'administrateur de la structure valide les demandes de rattachement.")
    return employer_id


def structure_requests(session: Session, actor: Account) -> list[MembershipOut]:
    """Pending claims on the actor's structure (its administrator only)."""
    employer_id = _structure_admin(session, actor)
    return _pending(session, EmployerMembership.employer_id == employer_id)


def _pending(session: Session, *where: Any) -> list[MembershipOut]:
    rows = session.execute(
        select(EmployerMembership, Account, Employer)
        .join(Account, Account.id == EmployerMembership.account_id)
        .join(Employer, Employer.id == EmployerMembership.employer_id)
        .where(EmployerMembership.status == "pending", Account.is_active.is_(True), *where)
        .order_by(EmployerMembership.created_at, EmployerMembership.id)
        .limit(500)
    ).all()
    return [_membership_out(m, a, e) for m, a, e in rows]


def _decide(
    session: Session, decided_by: Account | None, m: EmployerMembership, accept: bool, how: str, role: str
) -> MembershipOut:
    # Conditional update: two decisions on the same claim (two tabs, two administrators) apply once.
    result = cast(
        CursorResult[Any],
        session.execute(
            update(EmployerMembership)
            .where(EmployerMembership.id == m.id, EmployerMembership.status == "pending")
            .values(
                status="active" if accept else "refused",
                role=role,
                decided_at=now(),
                decided_by_id=decided_by.id if decided_by is not None else None,
                decided_how=how,
                claim_token_hash=None,
            )
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        raise InvalidInput("decision", "Cette demande a déjà été traitée.")
    session.refresh(m)
    account = session.get(Account, m.account_id)
    employer = session.get(Employer, m.employer_id)
    assert account is not None and employer is not None  # foreign keys
    account.employer_id = employer.id if accept else None
    session.flush()
    return _membership_out(m, account, employer)


def decide_as_structure(session: Session, actor: Account, membership_id: int, accept: bool) -> MembershipOut | None:
    """The structure's administrator accepts (as a member) or refuses a claim on their structure; None when the
    claim is not one of theirs (reported as absent)."""
    employer_id = _structure_admin(session, actor)
    m = session.get(EmployerMembership, membership_id)
    if m is None or m.employer_id != employer_id or m.status != "pending":
        return None
    return _decide(session, actor, m, accept, "structure", "member")


# ---------------------------------------------------------------------- structures nobody administers


def admin_requests(session: Session, actor: Account) -> list[MembershipOut]:
    """Pending claims on structures nobody administers: a Passerelles administrator may decide them."""
    if actor.role != "admin":
        raise AccessDenied("Réservé aux administrateurs.")
    return _pending(session, ~administered_clause(EmployerMembership.employer_id))


def decide_as_admin(session: Session, actor: Account, membership_id: int, accept: bool) -> MembershipOut | None:
    """A Passerelles administrator decides a claim on a structure nobody administers (the claimant becomes its
    administrator); a structure with an administrator decides its own claims (reported as absent here)."""
    if actor.role != "admin":
        raise AccessDenied("Réservé aux administrateurs.")
    m = session.get(EmployerMembership, membership_id)
    if m is None or m.status != "pending" or is_administered(session, m.employer_id):
        return None
    return _decide(session, actor, m, accept, "admin", "admin")


def send_claim_invitation(session: Session, settings: Settings, actor: Account) -> ClaimOut:
    """Send the claim to the structure's known contact address, with a single-use link that confirms it."""
    if actor.role != "employeur":
        raise AccessDenied("Réservé aux employeurs.")
    m = session.scalar(select(EmployerMembership).where(EmployerMembership.account_id == actor.id))
    if m is None or m.status != "pending":
        raise AccessDenied("Aucune demande de rattachement en attente.")
    employer = session.get(Employer, m.employer_id)
    assert employer is not None
    if is_administered(session, employer.id):
        raise AccessDenied("L'administrateur de la structure validera votre demande.")
    if not employer.contact_email:
        raise InvalidInput(
            "rattachement",
            "Aucune adresse de contact connue pour cette structure : un administrateur de Passerelles "
            "validera votre demande.",
        )
    if m.claim_sent_at is not None and aware(m.claim_sent_at) > now() - dt.timedelta(minutes=CLAIM_RESEND_MINUTES):
        raise InvalidInput("rattachement", "Une invitation vient d'être envoyée ; réessayez dans une heure.")
    raw = secrets.token_urlsafe(32)
    m.claim_token_hash, m.claim_sent_at = digest(raw), now()
    session.flush()
    send_mail(
        settings,
        employer.contact_email,
        f"Passerelles : {actor.display_name} demande à gérer {employer.name}",
        f"Bonjour,\n\n{actor.display_name} ({actor.email}) demande à gérer l'espace employeur de la structure "
        f"« {employer.name} » (SIRET {employer.siret}) sur Passerelles : candidatures reçues, candidats, offres.\n\n"
        "Cette adresse est l'adresse de contact connue de la structure. Si cette personne agit pour elle, "
        f"confirmez en ouvrant ce lien :\n{settings.base_url}/employeur/rattachement/confirmer?jeton={raw}\n\n"
        f"Ce lien ne sert qu'une fois et vaut {CLAIM_LINK_HOURS} heures. Sinon, ignorez ce message : rien ne "
        "sera partagé.\n",
    )
    return own_claim(session, actor)


def claim_for_token(session: Session, raw: str) -> MembershipOut | None:
    """The pending claim a confirmation link names (shown before it is confirmed), or None."""
    m = _claim_by_token(session, raw)
    if m is None:
        return None
    account, employer = session.get(Account, m.account_id), session.get(Employer, m.employer_id)
    assert account is not None and employer is not None
    return _membership_out(m, account, employer)


def _claim_by_token(session: Session, raw: str) -> EmployerMembership | None:
    if not raw or len(raw) > 200:
        return None
    m = session.scalar(select(EmployerMembership).where(EmployerMembership.claim_token_hash == digest(raw)))
    if m is None or m.status != "pending" or m.claim_sent_at is None:
        return None
    if aware(m.claim_sent_at) < now() - dt.timedelta(hours=CLAIM_LINK_HOURS):
        return None
    return m


def confirm_claim(session: Session, raw: str) -> MembershipOut | None:
    """The link sent to the contact address confirms the claim, once (the token is cleared by the same
    conditional update that activates the membership). The claimant administers a structure that had no
    administrator; otherwise they join it as a member."""
    m = _claim_by_token(session, raw)
    if m is None:
        return None
    role = "member" if is_administered(session, m.employer_id) else "admin"
    try:
        return _decide(session, None, m, True, "invitation", role)  # decided by the contact address
    except InvalidInput:
        return None
