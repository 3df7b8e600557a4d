"""The application factory: settings in, app out; nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles

from passerelles import errors, heap, http
from passerelles.accompaniment import pages as accompaniment_pages
from passerelles.accompaniment import routes as accompaniment_routes
from passerelles.accounts import pages as account_pages
from passerelles.accounts import routes as account_routes
from passerelles.accounts import security as account_security
from passerelles.alerts import pages as alert_pages
from passerelles.alerts import routes as alert_routes
from passerelles.caseloads import pages as caseload_pages
from passerelles.caseloads import routes as caseload_routes
from passerelles.certifications import pages as certification_pages
from passerelles.certifications import routes as certification_routes
from passerelles.db import make_engine, make_sessionmaker
from passerelles.employers import pages as employer_pages
from passerelles.employers import routes as employer_routes
from passerelles.funding import pages as funding_pages
from passerelles.funding import routes as funding_routes
from passerelles.labour import routes as labour_routes
from passerelles.occupations import pages as occupation_pages
from passerelles.occupations import routes as occupation_routes
from passerelles.offers import pages as offer_pages
from passerelles.offers import routes as offer_routes
from passerelles.pathways import pages as pathway_pages
from passerelles.pathways import routes as pathway_routes
from passerelles.places import routes as place_routes
from passerelles.search import pages as search_pages
from passerelles.search import routes as search_routes
from passerelles.search.services import IndexReplica
from passerelles.settings import Settings
from passerelles.sources import pages as source_pages
from passerelles.styleguide import pages as styleguide_pages
from passerelles.trainings import pages as training_pages
from passerelles.trainings import routes as training_routes
from passerelles.web import get_search, make_templates, open_in_background, replica_of, warm_pages, warm_up

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Included in this order (the first route that matches answers).
API_ROUTES = (
    occupation_routes,
    certification_routes,
    search_routes,
    place_routes,
    pathway_routes,
    training_routes,
    offer_routes,
    funding_routes,
    accompaniment_routes,
    labour_routes,
)
ACCOUNT_API_ROUTES = (account_routes, caseload_routes, employer_routes, alert_routes)
PAGES = (
    search_pages,
    occupation_pages,
    certification_pages,
    source_pages,
    pathway_pages,
    training_pages,
    offer_pages,
    styleguide_pages,
    funding_pages,
    accompaniment_pages,
)
ACCOUNT_PAGES = (account_pages, caseload_pages, employer_pages, alert_pages)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """A read node (``search_replica``) opens its index replica as each worker starts; a process warms up
    before it serves (``settings.warm_up``; not in tests by default): its first pages then cost what the next
    ones do."""
    settings: Settings = app.state.settings
    if settings.search_replica:
        app.state.search = replica_of(settings)
        open_in_background(app.state.search)
    if settings.warm_up if settings.warm_up is not None else settings.environment != "test":
        await anyio.to_thread.run_sync(warm_up, app)
        await warm_pages(app)
    yield


def create_app(settings: Settings | None = None, *, engine: Any = None) -> FastAPI:
    settings = settings or Settings()
    app = http.App(
        lifespan=_lifespan,
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
    app.state.templates = make_templates(settings.reference_dir)
    app.state.search = None
    app.state.rulebook = None
    errors.install(app)

    api = APIRouter(prefix="/api/v1")
    for module in API_ROUTES:
        api.include_router(module.router)

    @api.get("/health", tags=["service"])
    async def health(request: Request) -> dict[str, str]:
        """État du service (sur un nœud de lecture : la version d'index servie, 503 sans index)."""
        if not settings.search_replica:
            return {"status": "ok"}
        backend = await get_search(request)
        if isinstance(backend, IndexReplica):
            backend.engine()  # opens the replica, or raises IndexUnavailable (503)
        return {"status": "ok", "index": str(getattr(backend, "version", None) or "")}

    for module in ACCOUNT_API_ROUTES:
        api.include_router(module.router)
    app.include_router(api)
    for module in PAGES:
        app.include_router(module.router)
    account_security.install(app)
    app.include_router(alert_pages.unsubscribe_router)
    for module in ACCOUNT_PAGES:
        app.include_router(module.router)
    if settings.mail_outbox is not None:  # development only: settings refuse the outbox in production
        app.include_router(account_pages.outbox_router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    http.install(app, settings, session_cookie=account_security.SESSION_COOKIE)
    app.add_middleware(heap.SettleAfterWarmUp)
    return app
