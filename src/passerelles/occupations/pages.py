"""HTML pages for occupations and ROME fiches."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from passerelles.errors import NotFound
from passerelles.labour.services import labour_context
from passerelles.maps.services import around_occupation
from passerelles.occupations import services
from passerelles.offers.pages import market_context
from passerelles.offers.services import occupation_rome_codes
from passerelles.pathways.services import how_to_become, what_next
from passerelles.places.services import place_index
from passerelles.rome.services import get_fiche
from passerelles.sources.services import SourceNotes
from passerelles.web import DbSession, Rules, render

router = APIRouter(include_in_schema=False)

# The visitor's territory, remembered between occupation pages (the place parameters, URL-encoded).
TERRITORY_COOKIE = "territoire"
TERRITORY_MAX_AGE = 180 * 24 * 3600


@router.get("/metiers")
def occupations_page(request: Request, session: DbSession) -> Any:
    return render(request, "occupations/list.html", {"occupations": services.list_occupations(session)})


@router.get("/metiers/rome/{code_rome}")
def rome_page(code_rome: str, request: Request, session: DbSession) -> Any:
    fiche = get_fiche(session, code_rome)
    if fiche is None:
        raise NotFound(f"Fiche ROME inconnue : {code_rome}")
    return render(request, "occupations/rome.html", {"fiche": fiche})


@router.get("/metiers/{slug}")
def occupation_page(slug: str, request: Request, session: DbSession, book: Rules) -> Any:
    occ = services.get_occupation(session, slug)
    if occ is None:
        # A former or other name of an occupation (« /metiers/aide-medico-psychologique »): its page.
        target = services.occupation_slug_for_name(session, slug)
        if target is None or target == slug:
            raise NotFound(f"Métier inconnu : {slug}")
        suffix = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(services.occupation_url(target) + suffix, status_code=301)
    query = request.query_params
    from_url = any(k in query for k in services.PLACE_PARAMS)
    if from_url:
        params = {k: query[k] for k in services.PLACE_PARAMS if k in query}
    else:
        params = dict(parse_qsl(request.cookies.get(TERRITORY_COOKIE, "")[:300]))
    index = place_index(session)
    where = services.territory(index, params)
    response = render(
        request,
        "occupations/detail.html",
        {
            "o": occ,
            "f": occ.facts,
            "become": how_to_become(book, slug),
            "next_routes": what_next(book, slug),
            "book": book,
            "notes": SourceNotes(occ.sources),
            "territory": where,
            "live": services.live_figures(session, slug, where.place, index),
            "pay_chart": services.pay_chart(occ.facts.pay),
            "around": around_occupation(session, slug, where.place),
            **market_context(session, slug, where.params if where.error is None else {}),
            **labour_context(
                session,
                occupation_rome_codes(session, slug) or [],
                where.place,
                index,
                request.app.state.settings.reference_dir,
            ),
        },
    )
    if from_url and where.chosen:
        response.set_cookie(
            TERRITORY_COOKIE, urlencode(where.params), max_age=TERRITORY_MAX_AGE, httponly=True, samesite="lax"
        )
    elif from_url and not where.params:  # the visitor emptied the field: forget the place
        response.delete_cookie(TERRITORY_COOKIE)
    return response
