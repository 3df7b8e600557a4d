"""HTML pages: job-offer search (« /emploi »), offer page, CSV export, and the labour-market panel that the
occupation page includes (``market_context``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from passerelles.errors import NotFound
from passerelles.exports import csv_stream
from passerelles.maps.services import around_offers
from passerelles.offers import services
from passerelles.offers.schemas import CONTRACTS, PUBLISHED_WITHIN, WORKING_TIMES, OfferQuery
from passerelles.places.services import place_index
from passerelles.trainings.services import form_options
from passerelles.web import DbSession, PathId, render
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

OFFER_LABELS = {"contracts": CONTRACTS, "working_times": WORKING_TIMES, "published_within": PUBLISHED_WITHIN}


def _criteria(q: OfferQuery, **changes: Any) -> dict[str, Any]:
    data = q.model_dump(mode="json")
    data.update(changes)
    defaults = {"tri": None, "elargir": 0, "page": 1}
    return {k: v for k, v in data.items() if defaults.get(k, object()) != v}


@router.get("/emploi")
def offers_page(request: Request, session: DbSession) -> Any:
    context: dict[str, Any] = {**OFFER_LABELS, **form_options(session), "errors": [], "results": None}
    place_res, place = read_place(session, request.query_params)
    context.update(place=place_res, place_text=request.query_params.get("commune", ""))
    try:
        q = parse_params(OfferQuery, request.query_params, lists=("contrat",))
    except FormErrors as exc:
        context.update(
            errors=exc.errors, crit=parse_valid_part(OfferQuery, request.query_params, exc.errors, lists=("contrat",))
        )
        return render_status(request, "offers/search.html", context, 422)
    if place_res.error:
        context.update(errors=[error_item("commune", place_res.error)], crit=q)
        return render_status(request, "offers/search.html", context, 422)
    q = q.model_copy(update=place)
    context["crit"] = q
    try:
        results = services.search_offers(session, q)
    except services.BadCriterion as exc:
        context["errors"] = [error_item(exc.field, exc.message)]
        return render_status(request, "offers/search.html", context, 422)
    level = len(results.widened)
    context["around"] = around_offers(session, q)
    context.update(
        results=results,
        # Criteria a widening dropped show as not set (the form searches what the list shows).
        crit=without_dropped(q, results.widened),
        restore_qs=lambda d: query_string(restore_criteria(q, results.widened, results.restore_level, d)),
        widen_qs=query_string(_criteria(q, elargir=level + 1, page=1)),
        narrow_qs=query_string(_criteria(q, elargir=0, page=1)),
        page_qs=lambda p: query_string(_criteria(q, elargir=level, page=p)),
        sort_qs=lambda t: query_string(_criteria(q, elargir=level, page=1, tri=t)),
        export_qs=query_string(_criteria(q, elargir=level, page=1)),
    )
    return render(request, "offers/search.html", context)


@router.get("/emploi/export.csv")
def offers_csv(request: Request, session: DbSession) -> Response:
    """Streamed: the header leaves at once, then the rows 500 at a time (criteria are checked first, so that
    a wrong one still gets its 422)."""
    try:
        q = parse_params(OfferQuery, request.query_params, lists=("contrat",))
        services.check_criteria(session, q)
    except FormErrors as exc:
        return Response(str(exc), status_code=422, media_type="text/plain; charset=utf-8")
    except services.BadCriterion as exc:
        return Response(exc.message, status_code=422, media_type="text/plain; charset=utf-8")
    make_session = request.app.state.sessionmaker

    def rows() -> Iterator[list[tuple[Any, ...]]]:
        with make_session() as own:  # the request's session closes when the response starts
            for batch in services.export_batches(own, q):
                yield [services.offer_csv_row(o) for o in batch]

    return StreamingResponse(
        csv_stream(services.OFFER_CSV_HEADER, rows()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="offres.csv"'},
    )


@router.get("/emploi/offres/{offer_id}")
def offer_page(offer_id: PathId, request: Request, session: DbSession) -> Any:
    offer = services.get_offer(session, offer_id)
    if offer is None:
        raise NotFound(f"Offre d'emploi introuvable : {offer_id}")
    labels = services.structure_labels(session)
    return render(request, "offers/offer.html", {**OFFER_LABELS, "o": offer, "structure_labels": labels})


def market_context(session: Session, slug: str, params: Mapping[str, str]) -> dict[str, Any]:
    """What ``offers/panel.html`` needs on an occupation page: the panel for the place chosen in the
    query string (région, département, or commune and radius), the form's choices, or an error."""
    place_res, place = read_place(session, params)
    rayon_text = (params.get("rayon") or "").strip()
    errors: list[dict[str, str]] = []
    rayon = None
    if rayon_text:
        if rayon_text.isdigit() and 1 <= int(rayon_text) <= 300:
            rayon = int(rayon_text)
        else:
            errors.append(error_item("rayon", "nombre de kilomètres entre 1 et 300 attendu"))
    if place_res.error:
        errors.append(error_item("commune", place_res.error))
    panel = None
    if not errors:
        try:
            panel = services.market_panel(
                session,
                slug,
                region=place["region"],
                departement=place["departement"],
                commune=place["commune"],
                rayon=rayon,
            )
        except services.BadCriterion as exc:
            errors.append(error_item(exc.field, exc.message))
    if panel is None and errors:
        panel = services.market_panel(session, slug)
    index = place_index(session)
    return {
        "market": panel,
        "market_errors": errors,
        "market_place": place | {"rayon": rayon_text, "text": params.get("commune", "")},
        "market_place_resolution": place_res,
        "market_regions": sorted(index.regions.items(), key=lambda x: x[1]),
        "market_departements": sorted((c, n) for c, (n, _) in index.departements.items()),
    }
