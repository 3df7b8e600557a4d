"""Saved searches and their e-mail alerts. An alert lists results newer than the last one sent; every
mail carries a one-click unsubscribe link signed with the secret key (no login needed to stop mails)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passerelles.accounts.mail import send_mail
from passerelles.accounts.models import Account
from passerelles.accounts.services import AccessDenied, InvalidInput, aware, check_signature, now, sign
from passerelles.alerts.models import SavedSearch
from passerelles.alerts.schemas import AlertItem, Criteria, SavedSearchIn, SavedSearchOut
from passerelles.certifications.models import Certification
from passerelles.offers.models import JobOffer
from passerelles.places.geo import haversine_km
from passerelles.places.models import Commune
from passerelles.settings import Settings
from passerelles.trainings.models import TrainingSession

MAX_SEARCHES = 20


def _out(s: SavedSearch) -> SavedSearchOut:
    return SavedSearchOut(
        id=s.id,
        kind=s.kind,
        criteria=Criteria.model_validate(s.criteria),
        active=s.active,
        created_at=aware(s.created_at),
        last_sent_at=aware(s.last_sent_at) if s.last_sent_at else None,
    )


def _max_id(session: Session, kind: str) -> int:
    model: Any = JobOffer if kind == "offres" else TrainingSession
    return int(session.scalar(select(func.max(model.id))) or 0)


def create(session: Session, actor: Account, data: SavedSearchIn) -> SavedSearchOut:
    if actor.role not in ("personne", "conseiller"):
        raise AccessDenied("Alertes réservées aux personnes et aux conseillers.")
    c = data.criteria
    if c.commune and session.get(Commune, c.commune) is None:
        raise InvalidInput("criteria.commune", f"Commune inconnue : {c.commune}")
    if (
        c.certification
        and session.scalar(select(Certification.id).where(Certification.slug == c.certification)) is None
    ):
        raise InvalidInput("criteria.certification", f"Certification inconnue : {c.certification}")
    count = session.scalar(select(func.count()).select_from(SavedSearch).where(SavedSearch.account_id == actor.id)) or 0
    if count >= MAX_SEARCHES:
        raise InvalidInput("kind", f"{MAX_SEARCHES} recherches enregistrées au plus.")
    saved = SavedSearch(
        account_id=actor.id,
        kind=data.kind,
        criteria=c.model_dump(mode="json", exclude_defaults=True),
        active=True,
        created_at=now(),
        last_seen_id=_max_id(session, data.kind),
    )
    session.add(saved)
    session.flush()
    return _out(saved)


def list_own(session: Session, actor: Account) -> list[SavedSearchOut]:
    rows = session.scalars(select(SavedSearch).where(SavedSearch.account_id == actor.id).order_by(SavedSearch.id))
    return [_out(s) for s in rows]


def delete_own(session: Session, actor: Account, search_id: int) -> bool:
    saved = session.get(SavedSearch, search_id)
    if saved is None or saved.account_id != actor.id:
        return False
    session.delete(saved)
    return True


def matches(session: Session, saved: SavedSearch, limit: int = 50) -> list[AlertItem]:
    """Results newer than the last alert, matching the criteria."""
    c = Criteria.model_validate(saved.criteria)
    centre = None
    if c.commune:
        commune = session.get(Commune, c.commune)
        if commune and commune.latitude is not None and commune.longitude is not None:
            centre = (commune.latitude, commune.longitude)
    items: list[AlertItem] = []
    if saved.kind == "offres":
        q = select(JobOffer).where(JobOffer.id > saved.last_seen_id, JobOffer.closed_at.is_(None))
        if c.q:
            q = q.where(func.lower(JobOffer.title).like(f"%{c.q.lower()}%"))
        if c.code_rome:
            q = q.where(JobOffer.code_rome == c.code_rome)
        if c.contract_type:
            q = q.where(JobOffer.contract_type == c.contract_type)
        for o in session.scalars(q.order_by(JobOffer.id).limit(2000)):
            if centre and (
                o.latitude is None
                or o.longitude is None
                or haversine_km(*centre, o.latitude, o.longitude) > c.radius_km
            ):
                continue
            items.append(AlertItem(id=o.id, title=o.title, where=o.city))
    else:
        s = select(TrainingSession).where(TrainingSession.id > saved.last_seen_id, TrainingSession.closed_at.is_(None))
        if c.q:
            s = s.where(func.lower(TrainingSession.title).like(f"%{c.q.lower()}%"))
        if c.certification:
            s = s.join(Certification, Certification.id == TrainingSession.certification_id).where(
                Certification.slug == c.certification
            )
        for t in session.scalars(s.order_by(TrainingSession.id).limit(2000)):
            if centre and (
                t.latitude is None
                or t.longitude is None
                or haversine_km(*centre, t.latitude, t.longitude) > c.radius_km
            ):
                continue
            items.append(AlertItem(id=t.id, title=t.title, where=t.city))
    return items[:limit]


def unsubscribe_link(settings: Settings, search_id: int) -> str:
    return f"{settings.base_url}/alertes/desabonnement?id={search_id}&sig={sign(settings, f'unsubscribe:{search_id}')}"


def unsubscribe(session: Session, settings: Settings, search_id: int, signature: str) -> bool:
    if not check_signature(settings, f"unsubscribe:{search_id}", signature):
        return False
    saved = session.get(SavedSearch, search_id)
    if saved is not None:
        saved.active = False
    return True  # an already deleted search is as good as unsubscribed


def send_alerts(session: Session, settings: Settings, offer_id: int | None = None) -> int:
    """Send each active saved search its new results (the cron). With ``offer_id`` (an offer just
    published), only the searches that this offer matches, at once, with all their new results."""
    sent = 0
    query = select(SavedSearch).where(SavedSearch.active.is_(True)).order_by(SavedSearch.id)
    if offer_id is not None:
        query = query.where(SavedSearch.kind == "offres", SavedSearch.last_seen_id < offer_id)
    for saved in session.scalars(query):
        items = matches(session, saved)
        if not items or (offer_id is not None and offer_id not in {i.id for i in items}):
            continue
        account = session.get(Account, saved.account_id)
        if account is None or not account.is_active:
            continue
        kind = "offres d'emploi" if saved.kind == "offres" else "sessions de formation"
        path = "emploi/offres" if saved.kind == "offres" else "formations/sessions"
        lines = "\n".join(
            f"- {i.title}{f' ({i.where})' if i.where else ''} : {settings.base_url}/{path}/{i.id}" for i in items
        )
        send_mail(
            settings,
            account.email,
            f"Passerelles : {len(items)} nouvelle(s) {kind}",
            f"Bonjour,\n\nNouveaux résultats pour votre recherche enregistrée :\n{lines}\n\n"
            f"Ne plus recevoir cette alerte (un clic) : {unsubscribe_link(settings, saved.id)}\n",
            headers={
                "List-Unsubscribe": f"<{unsubscribe_link(settings, saved.id)}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        saved.last_seen_id = max(i.id for i in items)
        saved.last_sent_at = now()
        sent += 1
    return sent
