"""``/composants``: every component of the site's style, with the markup to use, on one page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from passerelles.web import render

router = APIRouter(include_in_schema=False)


@router.get("/composants")
def components_page(request: Request) -> Any:
    return render(request, "styleguide/components.html", {})
