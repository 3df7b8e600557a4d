"""JSON API of the funding simulator."""

from __future__ import annotations

from fastapi import APIRouter, Request

from passerelles.errors import InvalidRequest
from passerelles.funding.rules import FundingBook, load_book
from passerelles.funding.schemas import FundingQuery, FundingResult
from passerelles.funding.services import FundingError, simulate
from passerelles.web import DbSession

router = APIRouter(tags=["financement"])
MESSAGE = "Demande de financement invalide."


def book_of(request: Request) -> FundingBook:
    """The funding rules of the application's reference directory (read again when the file changes)."""
    return load_book(request.app.state.settings.reference_dir)


@router.post(
    "/financement", response_model=FundingResult, responses={422: {"description": "Profil ou formation invalide"}}
)
def post_financement(query: FundingQuery, request: Request, session: DbSession) -> FundingResult:
    """Qui peut payer une formation, ce qui reste à payer et le revenu pendant la formation, règle et sources."""
    try:
        return simulate(session, book_of(request), query)
    except FundingError as exc:
        raise InvalidRequest.on(exc.field, exc.message, MESSAGE) from exc
