"""HTML pages for occupations and ROME fiches."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from passerelles.errors import NotFound
from passerelles.occupations import services
from passerelles.offers.pages import market_context
from passerelles.pathways.services import how_to_become, what_next
from passerelles.rome.services import get_fiche
from passerelles.web import DbSession, Rules, render

router = APIRouter(include_in_schema=False)


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
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(services.occupation_url(target) + query, status_code=301)
    return render(
        request,
        "occupations/detail.html",
        {
            "o": occ,
            "f": occ.facts,
            "become": how_to_become(book, slug),
            "next_routes": what_next(book, slug),
            "book": book,
            **market_context(session, slug, request.query_params),
        },
    )
