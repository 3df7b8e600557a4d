"""JSON API for the training offer: search, session, comparison."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from passerelles.errors import InvalidRequest, NotFound
from passerelles.trainings import services, sessions
from passerelles.trainings.schemas import Comparison, SessionDetail, TrainingQuery, TrainingResults
from passerelles.web import DbSession, PathId, Search
from passerelles.webforms import FormErrors, parse_params

router = APIRouter(tags=["formations"])


@router.get(
    "/formations",
    response_model=TrainingResults,
    responses={422: {"description": "Critère invalide (champ et raison dans details)"}},
)
def search_trainings(request: Request, session: DbSession, backend: Search) -> Any:
    """Sessions de formation à venir selon les critères de `/formations` (mêmes paramètres), avec élargissement."""
    try:
        q = parse_params(TrainingQuery, request.query_params)
        return services.search_sessions(session, q, backend=backend)
    except FormErrors as exc:
        raise InvalidRequest(exc.errors) from None
    except services.BadCriterion as exc:
        raise InvalidRequest.on(exc.field, exc.message) from None
    except ValueError as exc:
        raise InvalidRequest.on(getattr(exc, "field", "lieu"), str(exc)) from None


@router.get("/formations/comparer", response_model=Comparison)
def compare(request: Request, session: DbSession) -> Any:
    """De 2 à 4 sessions côte à côte (`ids=1,2,3`, `commune` facultative pour la distance)."""
    try:
        ids = sessions.parse_ids(request.query_params.getlist("ids"))
        origin = (request.query_params.get("commune") or "").strip()[:120] or None
        return sessions.compare_sessions(session, ids, origin=origin)
    except services.BadCriterion as exc:
        raise InvalidRequest.on(exc.field, exc.message) from None


@router.get("/formations/sessions/{session_id}", response_model=SessionDetail)
def get_session(session_id: PathId, session: DbSession) -> SessionDetail:
    """Une session : organisme, dates, lieu, admission, coût, financement, contact, source."""
    detail = sessions.get_session_detail(session, session_id)
    if detail is None:
        raise NotFound(f"Session de formation introuvable : {session_id}")
    return detail
