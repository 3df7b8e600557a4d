"""Real-browser fixtures: Debian's Chromium driven by Playwright, against a real uvicorn server.

The server runs in a thread on a free port, over a migrated SQLite database loaded with the reference data,
the ROME 4.60 export, the communes and a small generated demonstration set. No browser is downloaded:
Playwright drives ``/usr/bin/chromium`` (``apt-get install chromium``). axe-core comes from npm
(``npm ci``, pinned in package-lock.json) and is injected into each page.

Outside CI a missing Chromium or axe-core skips these tests; under ``CI=true`` it is a failure.
``PASSERELLES_BROWSER_URL`` points the journeys at a running server instead (e.g. the one ``make run`` starts).

The test server writes its mail into a development outbox (one ``.eml`` a message, read by the ``outbox``
fixture) and the CVs it receives into a temporary folder: nothing goes to SMTP nor into the worktree's var/.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from passerelles.accompaniment.importer import import_structures
from passerelles.accounts import services
from passerelles.accounts.schemas import AccountCreate, PlatformIn, StructureIn
from passerelles.app import create_app
from passerelles.db import make_sessionmaker
from passerelles.demo.generator import write_lheo_catalogue, write_offers
from passerelles.offers.importer import import_offers
from passerelles.outcomes.importer import import_inserjeunes
from passerelles.rncp.importer import import_rncp
from passerelles.settings import Settings
from passerelles.trainings.lheo import import_lheo
from tests.support.browser import (
    ARTIFACTS,
    AXE,
    AXE_REPORT,
    CHROMIUM,
    DEMO_OFFERS,
    DEMO_SESSIONS,
    SCREENSHOTS,
    AxeReport,
    missing,
)
from tests.support.databases import REFERENCE_DIR, SHARED_DATA, DatabaseFactory, build_loaded_database
from tests.support.mail import Outbox
from tests.support.net import free_port

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="session")
def browser_db(databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = build_loaded_database(databases("sqlite"))
    folder = tmp_path_factory.mktemp("demo")
    today = dt.date.today()
    catalogue, offers = folder / "catalogue.xml", folder / "offres.jsonl"
    write_lheo_catalogue(catalogue, sessions=DEMO_SESSIONS, seed=7, today=today, data_dir=SHARED_DATA)
    write_offers(offers, offers=DEMO_OFFERS, seed=7, today=today, data_dir=SHARED_DATA)
    import_lheo(engine, catalogue, is_demo=True, xsd=SHARED_DATA / "lheo" / "lheo-2.3.xsd")
    import_offers(engine, offers, fmt="france_travail", is_demo=True)
    import_structures(engine, REFERENCE_DIR / "demo" / "structures-data-inclusion.json", is_demo=True)
    # Rates and RNCP sheets from the project-written fixtures, so that the pages show them (issue 17).
    import_inserjeunes(engine, FIXTURES / "inserjeunes" / "inserjeunes-apprentissage-region-2022-2023.csv")
    import_rncp(engine, FIXTURES / "rncp" / "export-fiches-rncp-v4-1-2026-11-30.xml")
    return engine


@dataclass(frozen=True)
class ServerFolders:
    """Where the test server writes: its mail outbox and the CVs it receives."""

    outbox: Path
    uploads: Path


@pytest.fixture(scope="session")
def server_folders(tmp_path_factory: pytest.TempPathFactory) -> ServerFolders:
    return ServerFolders(outbox=tmp_path_factory.mktemp("outbox"), uploads=tmp_path_factory.mktemp("cv"))


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest, server_folders: ServerFolders) -> Iterator[str]:
    """A real uvicorn server in a thread; yields its base URL.

    ``PASSERELLES_BROWSER_URL=http://127.0.0.1:8000`` runs the same journeys against a server already
    running (``make run``, with the demonstration set it loads) instead."""
    import uvicorn

    external = os.environ.get("PASSERELLES_BROWSER_URL")
    if external:
        yield external.rstrip("/")
        return
    browser_db: Engine = request.getfixturevalue("browser_db")
    port = free_port()
    settings = Settings(
        base_url=f"http://127.0.0.1:{port}",  # the links of its e-mails lead back to it
        database_url=browser_db.url.render_as_string(hide_password=False),
        environment="test",
        mail_transport="outbox",
        outbox_dir=server_folders.outbox,
        upload_dir=server_folders.uploads,
    )
    app = create_app(settings, engine=browser_db)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("le serveur uvicorn de test n'a pas démarré")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def outbox(live_server: str, server_folders: ServerFolders) -> Iterator[Outbox]:
    """The mail the test server sent, read from its outbox (a server outside the tests keeps its own)."""
    if os.environ.get("PASSERELLES_BROWSER_URL"):
        pytest.skip("les courriels d'un serveur extérieur ne sont pas dans la boîte d'envoi des tests")
    yield Outbox(server_folders.outbox)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        missing(f"Chromium absent ({CHROMIUM}) : apt-get install -y chromium")
    if not AXE.exists():
        missing(f"axe-core absent ({AXE}) : npm ci")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server, locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture(scope="session")
def axe_report() -> Iterator[AxeReport]:
    report = AxeReport()
    yield report
    if report.pages:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        previous: dict[str, Any] = {}
        if AXE_REPORT.exists():
            try:
                previous = json.loads(AXE_REPORT.read_text(encoding="utf-8"))
            except ValueError:
                previous = {}
        previous.update(report.pages)
        AXE_REPORT.write_text(json.dumps(previous, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")


PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class People:
    counsellor: str
    employer: str


@pytest.fixture(scope="session")
def people(browser_db: Engine) -> People:
    """A platform, its counsellor and an employer with its structure, created through the services."""
    if os.environ.get("PASSERELLES_BROWSER_URL"):
        pytest.skip("les comptes sont créés dans la base du serveur de test, pas dans un serveur extérieur")
    with make_sessionmaker(browser_db)() as session:
        platform = services.create_platform(session, None, PlatformIn(name="Plateforme navigateur Rhône"))
        counsellor = AccountCreate(
            email="claire.navigateur@example.org",
            display_name="Claire Navigateur",
            role="conseiller",
            platform_id=platform.id,
        )
        employer = AccountCreate(
            email="drh.navigateur@example.org",
            display_name="EHPAD Les Glycines",
            role="employeur",
            structure=StructureIn(
                name="EHPAD Les Glycines", siret="73282932000074", structure_type="ehpad", commune_code="69266"
            ),
        )
        for data in (counsellor, employer):
            services.create_account(session, None, data, password=PASSWORD, verified=True)
        session.commit()
    return People(counsellor=counsellor.email, employer=employer.email)
