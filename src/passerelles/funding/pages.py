"""The « Financer une formation » page: a GET form and its result (works without JavaScript)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from passerelles.certifications.models import Certification
from passerelles.funding.routes import book_of
from passerelles.funding.schemas import SITUATIONS, FundingQuery
from passerelles.funding.services import FundingError, simulate
from passerelles.places.models import Region
from passerelles.web import DbSession
from passerelles.webforms import FormErrors, error_item, parse_params, render_status

router = APIRouter(include_in_schema=False)
FIELDS = tuple(FundingQuery.model_fields)


@router.get("/financer")
def financer_page(request: Request, session: DbSession) -> Any:
    params = request.query_params
    form = {name: params.get(name, "") for name in FIELDS}
    submitted = any(params.get(name, "").strip() for name in ("age", "situation", "certification"))
    errors: list[dict[str, str]] = []
    result = None
    if submitted:
        try:
            query = parse_params(FundingQuery, params)
            result = simulate(session, book_of(request), query)
        except FormErrors as exc:
            errors = exc.errors
        except FundingError as exc:
            errors = [error_item(exc.field, exc.message)]
    certifications = session.execute(
        select(Certification.slug, Certification.name, Certification.acronym)
        .where(Certification.status == "active")
        .order_by(Certification.name)
    ).all()
    context = {
        "form": form,
        "errors": errors,
        "result": result,
        "situations": SITUATIONS,
        "certifications": certifications,
        "regions": session.execute(select(Region.code, Region.name).order_by(Region.name)).all(),
    }
    return render_status(request, "funding/financer.html", context, 422 if errors else 200)
