"""HTML pages: training search (« /formations »), session page, comparison, CSV and iCalendar exports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from passerelles.errors import NotFound
from passerelles.exports import csv_stream, csv_text
from passerelles.funding.routes import book_of
from passerelles.funding.services import profile_of, session_funding
from passerelles.maps.services import around_trainings
from passerelles.outcomes import services as outcomes
from passerelles.places.services import commune_of_field, place_index
from passerelles.trainings import services, sessions
from passerelles.trainings.schemas import FUNDERS, MODALITIES, RECRUITMENT, TrainingQuery
from passerelles.web import DbSession, PathId, Search, render
from passerelles.webforms import (
    FormErrors,
    error_item,
    parse_params,
    parse_valid_part,
    query_string,
    read_place,
    render_status,
)
from passerelles.widening.services import restore_criteria, without_dropped

router = APIRouter(include_in_schema=False)

TRAINING_LABELS = {"funders": FUNDERS, "modalities": MODALITIES, "recruitment": RECRUITMENT}


def _criteria(q: TrainingQuery, **changes: Any) -> dict[str, Any]:
    data = q.model_dump(mode="json")
    data.update(changes)
    defaults = {"tri": None, "elargir": 0, "page": 1}
    return {k: v for k, v in data.items() if defaults.get(k, object()) != v}


@router.get("/formations")
def trainings_page(request: Request, session: DbSession, backend: Search) -> Any:
    context: dict[str, Any] = {**TRAINING_LABELS, **services.form_options(session), "errors": [], "results": None}
    context["has_outcomes"] = outcomes.any_outcome(session)
    place_res, place = read_place(session, request.query_params)
    context.update(place=place_res, place_text=request.query_params.get("commune", ""))
    try:
        q = parse_params(TrainingQuery, request.query_params)
    except FormErrors as exc:
        context.update(errors=exc.errors, crit=parse_valid_part(TrainingQuery, request.query_params, exc.errors))
        return render_status(request, "trainings/search.html", context, 422)
    if place_res.error:
        context.update(errors=[error_item("commune", place_res.error)], crit=q)
        return render_status(request, "trainings/search.html", context, 422)
    q = q.model_copy(update=place)
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
        # Criteria a widening dropped show as not set (the form searches what the list shows).
        crit=without_dropped(q, results.widened),
        restore_qs=lambda d: query_string(restore_criteria(q, results.widened, results.restore_level, d)),
        qs=query_string(_criteria(q, elargir=level)),
        widen_qs=query_string(_criteria(q, elargir=level + 1, page=1)),
        narrow_qs=query_string(_criteria(q, elargir=0, page=1)),
        page_qs=lambda p: query_string(_criteria(q, elargir=level, page=p)),
        sort_qs=lambda t: query_string(_criteria(q, elargir=level, page=1, tri=t)),
        export_qs=query_string(_criteria(q, elargir=level, page=1)),
        rates=outcomes.insertion_rates(session, [i.id for i in results.items]) if context["has_outcomes"] else {},
    )
    return render(request, "trainings/search.html", context)


@router.get("/formations/export.csv")
def trainings_csv(request: Request, session: DbSession, backend: Search) -> Response:
    """Streamed: the header leaves at once, then the rows 500 at a time (criteria are checked first, so that
    a wrong one still gets its 422)."""
    try:
        q = parse_params(TrainingQuery, request.query_params)
        services.check_criteria(session, q, backend=backend)
    except FormErrors as exc:
        return Response(str(exc), status_code=422, media_type="text/plain; charset=utf-8")
    except (services.BadCriterion, ValueError) as exc:
        return Response(getattr(exc, "message", str(exc)), status_code=422, media_type="text/plain; charset=utf-8")
    make_session = request.app.state.sessionmaker

    def rows() -> Iterator[list[tuple[Any, ...]]]:
        with make_session() as own:  # the request's session closes when the response starts
            for batch in services.export_batches(own, q, backend=backend):
                yield [sessions.session_csv_row(i, FUNDERS) for i in batch]

    return StreamingResponse(
        csv_stream(sessions.SESSION_CSV_HEADER, rows()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="formations.csv"'},
    )


def _comparison(request: Request, session: DbSession) -> tuple[Any, list[dict[str, str]], Any]:
    """The comparison, its errors, and the reading of the commune field (homonyms offered, never chosen
    silently: « Saint-Denis » is Saint-Denis (93), La Réunion's offered)."""
    place, origin = commune_of_field(place_index(session), request.query_params.get("commune"))
    errors = [error_item("commune", place.error)] if place.error else []
    try:
        ids = sessions.parse_ids(request.query_params.getlist("ids"))
        return sessions.compare_sessions(session, ids, origin=origin), errors, place
    except services.BadCriterion as exc:
        return None, [error_item(exc.field, exc.message), *errors], place


def _with_outcomes(request: Request, session: DbSession, comparison: Any) -> tuple[Any, list[Any], bool]:
    """The InserJeunes rates of each compared session; ``tri=insertion`` puts the best first."""
    if comparison is None:
        return None, [], False
    found = outcomes.outcomes_of(session, comparison.sessions)
    if request.query_params.get("tri") != "insertion":
        return comparison, found, False
    order = outcomes.by_insertion(found)
    # The columns only: the shared address keeps the order chosen.
    ordered = comparison.model_copy(update={"sessions": [comparison.sessions[i] for i in order]})
    return ordered, [found[i] for i in order], True


@router.get("/formations/comparer")
def compare_page(request: Request, session: DbSession) -> Any:
    comparison, errors, place = _comparison(request, session)
    comparison, found, by_outcome = _with_outcomes(request, session, comparison)
    context: dict[str, Any] = {**TRAINING_LABELS, "comparison": comparison, "errors": errors, "place": place}
    context.update(outcomes=found, outcome_sort=by_outcome, outcome_scope=outcomes.SCOPE)
    context["place_text"] = request.query_params.get("commune", "")
    if comparison is not None:
        # Funding rows: for the profile given in the address (age, situation…), else a default one.
        profile, default = profile_of(request.query_params)
        book = book_of(request)
        context["funding"] = [
            session_funding(session, book, s.id, s.certification.slug if s.certification else None, profile)
            for s in comparison.sessions
        ]
        context["funding_default"] = default
        commune = place.choice.value if place.choice else None
        share = {"ids": ",".join(str(i) for i in comparison.ids), "commune": commune}
        context["share_qs"] = query_string(share)
        context["share_url"] = str(request.base_url).rstrip("/") + "/formations/comparer?" + context["share_qs"]
    return render_status(request, "trainings/compare.html", context, 422 if errors else 200)


@router.get("/formations/comparer/export.csv")
def compare_csv(request: Request, session: DbSession) -> Response:
    comparison, errors, _ = _comparison(request, session)
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
    outcome = outcomes.outcomes_of(session, [detail])[0]
    context = {**TRAINING_LABELS, "s": detail, "outcome": outcome, "outcome_scope": outcomes.SCOPE}
    return render(request, "trainings/session.html", context)


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
