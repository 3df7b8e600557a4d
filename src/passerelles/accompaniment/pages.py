"""« Être accompagné près de chez vous » (``/etre-accompagne``): a place in, the structures that help out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from passerelles.accompaniment import services
from passerelles.accompaniment.schemas import KINDS, NearbyQuery
from passerelles.places.services import UnknownPlace
from passerelles.web import DbSession, render
from passerelles.webforms import FormErrors, error_item, parse_params, render_status

router = APIRouter(include_in_schema=False)


@router.get("/etre-accompagne")
def nearby_page(request: Request, session: DbSession) -> Any:
    settings = request.app.state.settings
    about = services.platform_file(services.platforms_path(settings.reference_dir))
    context: dict[str, Any] = {
        "result": None,
        "errors": [],
        "kinds": KINDS,
        "about": about,
        "place": None,
        "field_error": None,
    }
    try:
        q = parse_params(NearbyQuery, request.query_params)
    except FormErrors as exc:
        context.update(errors=exc.errors, commune=request.query_params.get("commune", ""), rayon=30)
        return render_status(request, "accompaniment/nearby.html", context, 422)
    context.update(commune=q.commune or "", rayon=q.rayon)
    if not q.commune:
        return render(request, "accompaniment/nearby.html", context)
    context["place"] = services.read_place(session, q.commune)
    try:
        context["result"] = services.nearby(session, settings.reference_dir, commune=q.commune, radius_km=q.rayon)
    except UnknownPlace as exc:
        context.update(errors=[error_item("commune", exc.message)], field_error=exc.message)
        return render_status(request, "accompaniment/nearby.html", context, 422)
    return render(request, "accompaniment/nearby.html", context)
