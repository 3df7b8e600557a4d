"""HTML pages for certifications."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from fastapi import APIRouter, Request

from passerelles.certifications import services
from passerelles.certifications.schemas import LEVEL_LABELS
from passerelles.errors import NotFound
from passerelles.sources.services import SourceNotes
from passerelles.web import DbSession, render

router = APIRouter(include_in_schema=False)


@router.get("/certifications")
def certifications_page(request: Request, session: DbSession) -> Any:
    certs = services.list_certifications(session)
    groups = [
        (level, LEVEL_LABELS.get(level) if level else None, list(items))
        for level, items in groupby(certs, key=lambda c: c.level_eu)
    ]
    return render(request, "certifications/list.html", {"groups": groups})


@router.get("/certifications/{slug}")
def certification_page(slug: str, request: Request, session: DbSession) -> Any:
    cert = services.get_certification(session, slug)
    if cert is None:
        raise NotFound(f"Certification inconnue : {slug}")
    context = {"c": cert, "f": cert.facts, "notes": SourceNotes(cert.sources)}
    return render(request, "certifications/detail.html", context)
