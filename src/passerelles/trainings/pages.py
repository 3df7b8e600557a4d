"""HTML pages: training search (« /formations »), session page, comparison, CSV and iCalendar exports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from passerelles.errors import NotFound
from passerelles.exports import csv_text
from passerelles.maps.services import around_trainings
from passerelles.trainings import services, sessions
from passerelles.trainings.schemas import FUNDERS, MODALITIES, RECRUITMENT, TrainingQuery
from passerelles.web import DbSession, PathId, Search, render
from passerelles.webforms import FormErrors, error_item, parse_params, parse_valid_part, query_string, render_status

router = APIRouter(include_in_schema=False)

TRAINING_LABELS = {"funders": FUNDERS, "modalities": MODALITIES, "recruitment": RECRUITMENT}


def _criteria(q: TrainingQuery, **changes: Any) -> dict[str, Any]:
    data = q.model_dump(mode="json")
    data.update(changes)
    defaults = {"tri": "date", "elargir": 0, "page": 1}
    return {k: v for k, v in data.items() if defaults.get(k, object()) != v}


@router.get("/formations")
def trainings_page(request: Request, session: DbSession, backend: Search) -> Any:
    context: dict[str, Any] = {**TRAINING_LABELS, **services.form_options(session), "errors": [], "results": None}
    try:
        q = parse_params(TrainingQuery, request.query_params)
    except FormErrors as exc:
        context.update(errors=exc.errors, crit=parse_valid_part(TrainingQuery, request.query_params, exc.errors))
        return render_status(request, "trainings/search.html", context, 422)
    context["crit"] = q
    try:
        results = services.search_sessions(session, q, backend=backend)
    except (services.BadCriterion, ValueError) as exc:
        field = getattr(exc, "field", "formulaire")
        context["errors"] = [error_item(field, getattr(exc, "message", str(exc)))]
        return render_status(request, "trainings/search.html", context, 422)
    level = len(results.widened)
    context["around"] = around_trainings(session, q)
    context.update(
        results=results,
        qs=query_string(_criteria(q, elargir=level)),
        widen_qs=query_string(_criteria(q, elargir=level + 1, page=1)),
        narrow_qs=query_string(_criteria(q, elargir=0, page=1)),
        page_qs=lambda p: query_string(_criteria(q, elargir=level, page=p)),
        sort_qs=lambda t: query_string(_criteria(q, elargir=level, page=1, tri=t)),
        export_qs=query_string(_criteria(q, elargir=level, page=1)),
    )
    return render(request, "trainings/search.html", context)


@router.get("/formations/export.csv")
def trainings_csv(request: Request, session: DbSession, backend: Search) -> Response:
    try:
        q = parse_params(TrainingQuery, request.query_params)
        results = services.export_sessions(session, q, backend=backend)
    except FormErrors as exc:
        return Response(str(exc), status_code=422, media_type="text/plain; charset=utf-8")
    except (services.BadCriterion, ValueError) as exc:
        return Response(getattr(exc, "message", str(exc)), status_code=422, media_type="text/plain; charset=utf-8")
    body = csv_text(sessions.SESSION_CSV_HEADER, (sessions.session_csv_row(i, FUNDERS) for i in results.items))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="formations.csv"'},
    )


def _comparison(request: Request, session: DbSession) -> tuple[Any, list[dict[str, str]]]:
    origin = (request.query_params.get("commune") or "").strip()[:120] or None
    try:
        ids = sessions.parse_ids(request.query_params.getlist("ids"))
        return sessions.compare_sessions(session, ids, origin=origin), []
    except services.BadCriterion as exc:
        return None, [error_item(exc.field, exc.message)]


@router.get("/formations/comparer")
def compare_page(request: Request, session: DbSession) -> Any:
    comparison, errors = _comparison(request, session)
    context: dict[str, Any] = {**TRAINING_LABELS, "comparison": comparison, "errors": errors}
    if comparison is not None:
        share = {"ids": ",".join(str(i) for i in comparison.ids), "commune": comparison.commune}
        context["share_qs"] = query_string(share)
        context["share_url"] = str(request.base_url).rstrip("/") + "/formations/comparer?" + context["share_qs"]
    return render_status(request, "trainings/compare.html", context, 422 if errors else 200)


@router.get("/formations/comparer/export.csv")
def compare_csv(request: Request, session: DbSession) -> Response:
    comparison, errors = _comparison(request, session)
    if comparison is None:
        return Response(errors[0]["reason"], status_code=422, media_type="text/plain; charset=utf-8")
    body = csv_text(sessions.SESSION_CSV_HEADER, (sessions.session_csv_row(s, FUNDERS) for s in comparison.sessions))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="comparaison-formations.csv"'},
    )


@router.get("/formations/sessions/{session_id}")
def session_page(session_id: PathId, request: Request, session: DbSession) -> Any:
    detail = sessions.get_session_detail(session, session_id)
    if detail is None:
        raise NotFound(f"Session de formation introuvable : {session_id}")
    return render(request, "trainings/session.html", {**TRAINING_LABELS, "s": detail})


@router.get("/formations/sessions/{session_id}/agenda.ics")
def session_ics(session_id: PathId, request: Request, session: DbSession) -> Response:
    detail = sessions.get_session_detail(session, session_id)
    if detail is None:
        raise NotFound(f"Session de formation introuvable : {session_id}")
    page_url = str(request.base_url).rstrip("/") + services.session_url(session_id)
    return Response(
        sessions.session_calendar(detail, page_url=page_url),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="session-{session_id}.ics"'},
    )
