"""The application factory: settings in, app out; nothing is built at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from passerelles import errors, http
from passerelles.certifications import pages as certification_pages
from passerelles.certifications import routes as certification_routes
from passerelles.db import make_engine, make_sessionmaker
from passerelles.occupations import pages as occupation_pages
from passerelles.occupations import routes as occupation_routes
from passerelles.offers import pages as offer_pages
from passerelles.offers import routes as offer_routes
from passerelles.pathways import pages as pathway_pages
from passerelles.pathways import routes as pathway_routes
from passerelles.search import pages as search_pages
from passerelles.search import routes as search_routes
from passerelles.settings import Settings
from passerelles.sources import pages as source_pages
from passerelles.trainings import pages as training_pages
from passerelles.trainings import routes as training_routes
from passerelles.web import make_templates

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None, *, engine: Any = None) -> FastAPI:
    settings = settings or Settings()
    app = http.App(
        title="Passerelles",
        description="API des métiers du soin et de l'accompagnement : métiers, certifications, recherche.",
        version="1.0.0",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    pool: dict[str, int] = {}
    if settings.database_url.startswith("postgresql"):
        pool = {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow}
    app.state.engine = engine or make_engine(settings.database_url, **pool)
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    app.state.templates = make_templates()
    app.state.search = None
    app.state.rulebook = None
    errors.install(app)

    api = APIRouter(prefix="/api/v1")
    api.include_router(occupation_routes.router)
    api.include_router(certification_routes.router)
    api.include_router(search_routes.router)
    api.include_router(pathway_routes.router)
    api.include_router(training_routes.router)
    api.include_router(offer_routes.router)

    @api.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        """État du service."""
        return {"status": "ok"}

    for module in _ACCOUNT_API:
        api.include_router(module.router)
    app.include_router(api)
    for module in (search_pages, occupation_pages, certification_pages, source_pages, pathway_pages):
        app.include_router(module.router)
    app.include_router(training_pages.router)
    app.include_router(offer_pages.router)
    _install_accounts(app)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    http.install(app, settings, session_cookie=account_security.SESSION_COOKIE)
    return app


# Accounts, caseloads, employers' space, alerts (issue 7): registered here, additively.
from passerelles.accounts import pages as account_pages  # noqa: E402
from passerelles.accounts import routes as account_routes  # noqa: E402
from passerelles.accounts import security as account_security  # noqa: E402
from passerelles.alerts import pages as alert_pages  # noqa: E402
from passerelles.alerts import routes as alert_routes  # noqa: E402
from passerelles.caseloads import pages as caseload_pages  # noqa: E402
from passerelles.caseloads import routes as caseload_routes  # noqa: E402
from passerelles.employers import pages as employer_pages  # noqa: E402
from passerelles.employers import routes as employer_routes  # noqa: E402

_ACCOUNT_API: list[Any] = [account_routes, caseload_routes, employer_routes, alert_routes]
_ACCOUNT_PAGES: list[Any] = [account_pages, caseload_pages, employer_pages, alert_pages]


def _install_accounts(app: FastAPI) -> None:
    account_security.install(app)
    app.include_router(alert_pages.unsubscribe_router)
    for module in _ACCOUNT_PAGES:
        app.include_router(module.router)
