"""Shared web plumbing: database session dependency, templates, search backend."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from passerelles import formatting, heap
from passerelles.db import MAX_ID
from passerelles.glossary.services import expand, load_glossary
from passerelles.offers.schemas import CONTRACTS
from passerelles.pathways.rules import RuleBook, build_rulebook
from passerelles.places.services import place_index
from passerelles.search.services import IndexReplica, IndexUnavailable, SearchBackend, open_backend
from passerelles.widening.services import preload_rules

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# Ids in paths and queries are database integers (PostgreSQL ``integer``): a larger number is a 422, not an
# out-of-range error from the database.
PathId = Annotated[int, PathParam(ge=1, le=MAX_ID)]
QueryId = Annotated[int, Query(ge=1, le=MAX_ID)]
_lock = threading.Lock()
log = logging.getLogger("passerelles")


def get_session(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.sessionmaker()
    # The settings travel with the session: services that queue e-mails after a commit read them there.
    session.info["settings"] = request.app.state.settings
    try:
        yield session
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_session)]


async def get_search(request: Request) -> SearchBackend:
    """The search backend of the application, opened on first use (a search needs no database session:
    the index is read alone, so a request opens none)."""
    state = request.app.state
    if state.search is None:
        with _lock:
            if state.search is None:
                settings = state.settings
                if settings.search_replica:  # a read node: its own replica, never an index built in memory
                    state.search = replica_of(settings)
                else:
                    with state.sessionmaker() as session:
                        state.search = open_backend(
                            session,
                            settings.search_index_dir,
                            settings.database_url,
                            synonyms_file=settings.synonyms_file,
                            background=True,
                        )
                heap.settle()
    backend: SearchBackend = state.search
    return backend


Search = Annotated[SearchBackend, Depends(get_search)]


def replica_of(settings: Any) -> IndexReplica:
    """A read node's index: its replica, followed in the background."""
    return IndexReplica(settings.search_index_dir, synonyms_file=settings.synonyms_file, background=True)


def open_in_background(replica: IndexReplica) -> None:
    """Open the replica now (at the start of a worker) rather than at its first search, in a thread: the
    first searches wait for it only if they come before it is done."""

    def run() -> None:
        try:
            replica.engine()
        except Exception as exc:  # no index yet (IndexUnavailable): searches answer 503 until one arrives
            log.warning("Index non ouvert au démarrage : %s", exc)

    threading.Thread(target=run, name="index-warm-up", daemon=True).start()


def get_rules(request: Request, session: DbSession) -> RuleBook:
    state = request.app.state
    if state.rulebook is None:
        with _lock:
            if state.rulebook is None:
                state.rulebook = build_rulebook(session)
                heap.settle()
    book: RuleBook = state.rulebook
    return book


Rules = Annotated[RuleBook, Depends(get_rules)]


def warm_up(app: Any) -> None:
    """What the first requests of a process would each build once, built before it serves: the place index,
    the search backend (and a first search), the pathway rules (widening reads them too), the templates; then
    ``warm_pages`` asks each main page once (an occupation page among them)."""
    state = app.state
    with state.sessionmaker() as session:
        place_index(session)
        preload_rules(session)
        with _lock:
            if state.rulebook is None:
                state.rulebook = build_rulebook(session)
    if state.search is None:
        with _lock, state.sessionmaker() as session:
            settings = state.settings
            state.search = open_backend(
                session, settings.search_index_dir, settings.database_url, synonyms_file=settings.synonyms_file
            )
    try:
        state.search.search("aide soignant")  # the index's files read in, its first lookups remembered
    except IndexUnavailable as exc:  # a read node with no index yet: it answers 503 on searches until one arrives
        log.warning("Index non ouvert au démarrage : %s", exc)
    env = state.templates.env
    for name in env.list_templates(extensions=["html"]):  # compiled once, here rather than on a first view
        env.get_template(name)
    heap.settle()


# Each main page once, as a visitor would ask it, through the app itself before it serves (``{occupation}``,
# ``{session}``, ``{offer}``: the first of the store; ``{sessions}``: the first two): what a page builds on its
# first request (statements, schemas, the page's template and macros) is then built, and the first visitors
# pay what the next ones do.
WARM_PAGES = (
    "/",
    "/recherche?q=aide+soignant",
    "/metiers/{occupation}",
    "/formations",
    "/formations?metier={occupation}",
    "/formations/sessions/{session}",
    "/formations/comparer?ids={sessions}",
    "/emploi",
    "/emploi?metier={occupation}",
    "/emploi/offres/{offer}",
    "/parcours",
    "/financer",
    "/etre-accompagne",
    "/certifications",
)


async def warm_pages(app: Any) -> list[tuple[str, int]]:
    """Request WARM_PAGES through ``app`` (no network); (path, status) of each. A failure is logged, never
    raised: a page that cannot be warmed is built on its first request, as before."""
    import httpx
    from anyio import to_thread

    from passerelles.occupations.models import Occupation
    from passerelles.offers.models import JobOffer
    from passerelles.trainings.models import TrainingSession

    def firsts() -> dict[str, Any]:
        with app.state.sessionmaker() as session:
            two = list(session.scalars(select(TrainingSession.id).order_by(TrainingSession.id).limit(2)))
            return {
                "occupation": session.scalar(select(Occupation.slug).order_by(Occupation.slug).limit(1)),
                "session": two[0] if two else None,
                "sessions": ",".join(map(str, two)) if len(two) == 2 else None,
                "offer": session.scalar(select(JobOffer.id).order_by(JobOffer.id).limit(1)),
            }

    values = await to_thread.run_sync(firsts)
    done: list[tuple[str, int]] = []
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 0))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        for page in WARM_PAGES:
            if any("{" + name + "}" in page and value is None for name, value in values.items()):
                continue  # an empty store: no such page yet
            path = page.format(**values)
            try:
                response = await client.get(path)
                done.append((path, response.status_code))
            except Exception:  # the first visitor will build it
                log.warning("Préchauffage : %s a échoué", path, exc_info=True)
    return done


def make_templates(reference_dir: Path | None = None) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    glossary = load_glossary((reference_dir or Path(__file__).resolve().parents[2] / "data") / "glossary.yaml")

    @pass_context
    def acronyms(ctx: Context, text: str | None) -> Markup:
        """Text with its acronyms expanded on their first use on the page (``page_terms``, see ``render``)."""
        return expand(text, glossary, ctx.get("page_terms"))

    env.filters["sigles"] = acronyms
    env.globals["glossary"] = glossary
    env.filters["http_url"] = lambda v: v if isinstance(v, str) and v.startswith(("http://", "https://")) else None
    formatting.register(env)  # number, eur, date_fr, date_long, month, km, plural, salary
    env.globals["contract_labels"] = CONTRACTS
    env.globals["role_labels"] = ROLE_LABELS
    env.globals["platform_kinds"] = {"plateforme": "Plateforme des métiers de l'autonomie", "agence": "Agence"}
    env.globals["route_labels"] = {
        "initiale": "Formation initiale",
        "continue": "Formation continue",
        "apprentissage": "Apprentissage",
        "vae": "VAE (validation des acquis de l'expérience)",
        "distance": "Formation à distance",
    }
    return templates


ROLE_LABELS = {
    "personne": "Personne accompagnée",
    "conseiller": "Conseiller",
    "employeur": "Employeur",
    "admin": "Administrateur",
}


def render(request: Request, name: str, context: dict[str, Any]) -> Any:
    # ``page_terms``: acronyms already expanded on this page (filter ``sigles``), fresh for every render.
    return request.app.state.templates.TemplateResponse(request, name, {"page_terms": set(), **context})
