"""Job-dating events: an employer creates them for their structure; a person, or their counsellor, registers
the person's file (within capacity); the employer sees who registered (first name and initial)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passerelles.accounts.models import Account
from passerelles.accounts.services import AccessDenied, InvalidInput, now
from passerelles.caseloads import services as caseloads
from passerelles.caseloads.models import PersonFile
from passerelles.employers.applications import short_name
from passerelles.employers.memberships import require_structure
from passerelles.employers.models import (
    JobDatingEvent,
    JobDatingRegistration,
)
from passerelles.employers.schemas import (
    EventIn,
    EventOut,
)
from passerelles.offers.models import Employer


def create_event(session: Session, actor: Account, data: EventIn) -> JobDatingEvent:
    employer_id = require_structure(session, actor)
    if data.on < dt.date.today():
        raise InvalidInput("on", "La date est passée.")
    event = JobDatingEvent(employer_id=employer_id, created_at=now(), **data.model_dump())
    session.add(event)
    session.flush()
    return event


def list_events(session: Session, actor: Account) -> list[EventOut]:
    if actor.role not in ("personne", "conseiller", "employeur"):
        raise AccessDenied()
    query = select(JobDatingEvent, Employer.name).join(Employer, Employer.id == JobDatingEvent.employer_id)
    if actor.role == "employeur":
        query = query.where(JobDatingEvent.employer_id == require_structure(session, actor))
    else:
        query = query.where(JobDatingEvent.on >= dt.date.today())
    rows = session.execute(query.order_by(JobDatingEvent.on, JobDatingEvent.id)).all()
    counts = dict(
        session.execute(
            select(JobDatingRegistration.event_id, func.count()).group_by(JobDatingRegistration.event_id)
        ).all()
    )
    mine: set[int] = set()
    if actor.role == "personne":
        own = [f.id for f in caseloads.own_files(session, actor.id)]
        mine = set(
            session.scalars(select(JobDatingRegistration.event_id).where(JobDatingRegistration.file_id.in_(own)))
        )
    out = []
    for event, employer_name in rows:
        names: list[str] = []
        if actor.role == "employeur":
            names = [
                short_name(f)
                for f in session.scalars(
                    select(PersonFile)
                    .join(JobDatingRegistration, JobDatingRegistration.file_id == PersonFile.id)
                    .where(JobDatingRegistration.event_id == event.id)
                )
            ]
        out.append(
            EventOut(
                id=event.id,
                title=event.title,
                on=event.on,
                place=event.place,
                capacity=event.capacity,
                employer_name=employer_name,
                registered=counts.get(event.id, 0),
                registered_names=names,
                mine=event.id in mine,
            )
        )
    return out


def register_event(session: Session, actor: Account, event_id: int, file_id: int | None) -> bool | None:
    event = session.get(JobDatingEvent, event_id)
    if event is None or event.on < dt.date.today():
        return None
    if actor.role == "personne":
        file = caseloads.current_file(session, actor.id)
    elif actor.role == "conseiller":
        file = caseloads.find_file(session, actor, file_id or 0)
        if file is None:
            return None
    else:
        raise AccessDenied("Réservé aux personnes et à leurs conseillers.")
    if file is None:
        raise InvalidInput("file_id", "Il faut un dossier d'accompagnement pour s'inscrire.")
    if session.scalar(
        select(JobDatingRegistration).where(
            JobDatingRegistration.event_id == event.id, JobDatingRegistration.file_id == file.id
        )
    ):
        return True
    taken = session.scalar(
        select(func.count()).select_from(JobDatingRegistration).where(JobDatingRegistration.event_id == event.id)
    )
    if (taken or 0) >= event.capacity:
        raise InvalidInput("event_id", "Complet.")
    session.add(JobDatingRegistration(event_id=event.id, file_id=file.id, created_at=now()))
    session.flush()
    return True
