"""HTML pages: home and search results (filters and facets in a plain GET form: works without JS)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from pydantic import ValidationError

from passerelles.errors import validation_details
from passerelles.occupations.services import list_occupations
from passerelles.search.facets import FACET_TITLES
from passerelles.search.fields import FACET_FIELDS
from passerelles.search.gazetteer import UnknownPlace
from passerelles.search.schemas import FIELD_PARAMS, SearchQuery
from passerelles.web import DbSession, Search, render
from passerelles.webforms import read_place

router = APIRouter(include_in_schema=False)

# Form fields: the API's query parameters (``QUERY_PARAMS``); lists are repeated parameters.
LIST_PARAMS = ("type", "niveau", "voie", "modalite", "contrat", "temps")
ONE_PARAMS = ("region", "departement", "commune", "rayon", "debut_min", "debut_max", "publie_depuis", "tri", "page")
# Facet (index field) → the form field that filters on it.
FACET_PARAM = {facet: FIELD_PARAMS["types" if facet == "type" else facet] for facet in FACET_FIELDS}
SORTS = {
    "pertinence": "Pertinence",
    "distance": "Distance",
    "date_debut": "Date de début",
    "date_publication": "Date de publication",
}


@router.get("/")
def home(request: Request, session: DbSession) -> Any:
    return render(request, "home.html", {"occupations": list_occupations(session)})


@router.get("/recherche")
def search_page(request: Request, backend: Search, session: DbSession) -> Any:
    params = request.query_params
    q = params.get("q", "").strip()[:200]
    data: dict[str, Any] = {"q": q, "per_page": 20}
    for name in LIST_PARAMS:
        values = [v for v in params.getlist(name) if v][:20]
        if values:
            data[name] = values
    for name in ONE_PARAMS:
        value = params.get(name, "").strip()
        if value:
            data[name] = value[:120]
    error = None
    page = None
    # The place field: a commune (its INSEE code goes to the index), a département or a région.
    place_res, _ = read_place(session, params, areas=False)
    if place_res.choice is not None:
        data.pop("commune", None)
        data[place_res.choice.kind] = place_res.choice.code
    try:
        query = SearchQuery.model_validate(data)
        if (q or len(data) > 2) and not place_res.error:
            page = backend.query(query)
    except ValidationError as exc:
        details = validation_details(exc.errors(), FIELD_PARAMS)
        error = "Filtre invalide : " + "; ".join(f"{d['field']} : {d['reason']}" for d in details)
        query = SearchQuery(q=q)
    except UnknownPlace as exc:
        error = str(exc)[:1].upper() + str(exc)[1:]
        query = SearchQuery(q=q)
    kept = [(k, v) for k, v in params.multi_items() if k != "page" and v]
    context = {
        "q": q,
        "query": query,
        "page": page,
        "results": page.results if page else [],
        "error": error,
        "facet_titles": FACET_TITLES,
        "facet_param": FACET_PARAM,
        "sorts": SORTS,
        "has_demo": bool(page and any(r.is_demo for r in page.results)),
        "page_url": lambda n: "/recherche?" + urlencode([*kept, ("page", str(n))]),
        "pages": (page.total + query.per_page - 1) // query.per_page if page else 0,
        "today": dt.date.today(),
        "place": place_res,
        "place_text": params.get("commune", ""),
    }
    return render(request, "search.html", context)
