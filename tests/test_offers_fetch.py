"""Issue 17 part 6: ``passerelles data fetch offres`` against a local France Travail server (real HTTP):
OAuth2 client credentials, one search per ROME code × département paged by ``range`` (206 +
``Content-Range``), a 429 retried after ``Retry-After``, the documented rate kept, incremental by creation
date, JSON Lines imported through the offers importer; the credentials never printed. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from passerelles.cli import app
from passerelles.importing.models import ImportRun
from passerelles.offers.client import FranceTravailClient
from passerelles.offers.fetch import OffersFetchError, fetch_offers
from passerelles.offers.models import JobOffer
from passerelles.settings import Settings
from tests.support.databases import BACKENDS, Clones, DatabaseFactory
from tests.support.francetravail import CLIENT_ID, SECRET, TOKEN, FakeOffersApi, offer, serving
from tests.test_lheo import lheo_clones

NOW = dt.datetime(2026, 12, 6, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def clones(databases: DatabaseFactory) -> Clones:
    return lheo_clones(databases)  # communes of Rennes, Saint-Malo (35), Lyon, Rillieux-la-Pape (69)…


@pytest.fixture
def engine(request: pytest.FixtureRequest, clones: Clones, databases: DatabaseFactory) -> Iterator[Engine]:
    engine = clones(request.param)
    yield engine
    databases.release(engine)


def catalogue() -> list[dict[str, Any]]:
    """320 offers for J1501 in Rennes (three pages), 5 for J1506 in Lyon, 4 in Paris (not searched)."""
    offers = [offer(i, "J1501", "35238", "2026-11-20T08:00:00Z") for i in range(320)]
    offers += [offer(400 + i, "J1506", "69123", "2026-11-25T08:00:00Z") for i in range(5)]
    offers += [offer(500 + i, "J1501", "75056", "2026-11-25T08:00:00Z") for i in range(4)]
    return offers


def settings_for(engine: Engine, server: FakeOffersApi, var: Path, **extra: Any) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        environment="test",
        var_dir=var,
        france_travail_client_id=CLIENT_ID,
        france_travail_client_secret=SECRET,
        france_travail_token_url=f"{server.url}{TOKEN}?realm=%2Fpartenaire",
        france_travail_api_url=f"{server.url}/partenaire/offresdemploi/v2",
        france_travail_rome_codes=["J1501", "J1506"],
        france_travail_departements=["35", "69"],
        **extra,
    )


def client_for(settings: Settings, sleeps: list[float]) -> FranceTravailClient:
    assert settings.france_travail_client_id and settings.france_travail_client_secret
    return FranceTravailClient(
        settings.france_travail_client_id,
        settings.france_travail_client_secret.get_secret_value(),
        token_url=settings.france_travail_token_url,
        api_url=settings.france_travail_api_url,
        scope=settings.france_travail_scope,
        sleep=sleeps.append,
    )


def open_offers(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(JobOffer).where(JobOffer.closed_at.is_(None))) or 0)


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_fetch_pages_each_rome_code_and_departement_then_imports(engine: Engine, tmp_path: Path) -> None:
    sleeps: list[float] = []
    with serving(catalogue()) as server:
        server.throttle = 1
        settings = settings_for(engine, server, tmp_path / "var")
        got = fetch_offers(engine, settings, now=NOW, client=client_for(settings, sleeps))
        assert (got.offers, got.searches, got.complete, got.since) == (325, 4, True, None)
        assert sleeps == [1.0]  # the 429's Retry-After honoured, then the same page again
        asked = [(q["codeROME"], q["departement"], q["range"]) for q in server.searches]
        assert asked == [
            ("J1501", "35", "0-149"),
            ("J1501", "35", "0-149"),
            ("J1501", "35", "150-299"),
            ("J1501", "35", "300-449"),
            ("J1501", "69", "0-149"),
            ("J1506", "35", "0-149"),
            ("J1506", "69", "0-149"),
        ]
        assert server.statuses == [429, 206, 206, 200, 204, 204, 200]
        assert server.tokens == 1
        assert all("minCreationDate" not in q for q in server.searches)  # the first fetch: every open offer
        lines = got.path.read_text(encoding="utf-8").splitlines()
        assert len(lines) == 325 and len({json.loads(line)["id"] for line in lines}) == 325
        assert got.report is not None and got.report.status == "ok"
        assert got.report.counts["job_offer"].created == 325 and open_offers(engine) == 325

        # The next fetch asks only for the offers created since the last success (less a day).
        server.searches.clear()
        server.offers.append(offer(900, "J1506", "69286", "2026-12-08T09:00:00Z"))
        later = NOW + dt.timedelta(days=3)
        again = fetch_offers(engine, settings, now=later, client=client_for(settings, sleeps))
        assert again.since == NOW - dt.timedelta(days=1)
        assert {(q["minCreationDate"], q["maxCreationDate"]) for q in server.searches} == {
            ("2026-12-05T02:00:00Z", "2026-12-09T02:00:00Z")
        }
        assert again.offers == 1 and again.report is not None
        assert again.report.counts["job_offer"].created == 1 and again.report.counts["job_offer"].removed == 0
        assert open_offers(engine) == 326  # incremental: nothing closed

        # Re-run the same window: the importer is idempotent.
        same = fetch_offers(engine, settings, now=later, client=client_for(settings, sleeps))
        assert same.report is not None and same.report.counts["job_offer"].unchanged == 1


def test_rate_limit_spaces_the_requests() -> None:
    clock = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(round(seconds, 6))
        clock[0] += seconds

    with serving(catalogue()) as server:
        client = FranceTravailClient(
            CLIENT_ID,
            SECRET,
            token_url=f"{server.url}{TOKEN}?realm=%2Fpartenaire",
            api_url=f"{server.url}/partenaire/offresdemploi/v2",
            scope="api_offresdemploiv2 o2dsoffre",
            sleep=sleep,
            clock=lambda: clock[0],
            rate=10,
        )
        with client:
            assert len(list(client.search({"codeROME": "J1501", "departement": "35"}))) == 320
    # Token + three pages at 10 a second: each request waits for its slot (the clock does not move by itself).
    assert client.requests == 4 and sleeps == [0.1, 0.1, 0.1]


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_credentials_are_never_printed(engine: Engine, tmp_path: Path) -> None:
    with serving(catalogue()) as server:
        server.broken = True
        settings = settings_for(engine, server, tmp_path / "var")
        with pytest.raises(OffersFetchError) as caught:
            fetch_offers(engine, settings, now=NOW)
        assert SECRET not in str(caught.value) and CLIENT_ID not in str(caught.value)
        env = {
            "PASSERELLES_DATABASE_URL": settings.database_url,
            "PASSERELLES_VAR_DIR": str(tmp_path / "var"),
            "PASSERELLES_FRANCE_TRAVAIL_CLIENT_ID": CLIENT_ID,
            "PASSERELLES_FRANCE_TRAVAIL_CLIENT_SECRET": SECRET,
            "PASSERELLES_FRANCE_TRAVAIL_TOKEN_URL": settings.france_travail_token_url,
            "PASSERELLES_FRANCE_TRAVAIL_API_URL": settings.france_travail_api_url,
            "PASSERELLES_FRANCE_TRAVAIL_ROME_CODES": '["J1501"]',
            "PASSERELLES_FRANCE_TRAVAIL_DEPARTEMENTS": '["35"]',
        }
        result = CliRunner().invoke(app, ["data", "fetch", "offres"], env=env)
        assert result.exit_code == 2
        assert "jeton refusé : HTTP 500" in result.output
        assert SECRET not in result.output and CLIENT_ID not in result.output
        server.broken = False
        ok = CliRunner().invoke(app, ["data", "fetch", "offres"], env=env)
        assert ok.exit_code == 0, ok.output
        assert SECRET not in ok.output and "320 offre(s)" in ok.output
    with engine.connect() as conn:
        messages = [m or "" for m in conn.scalars(select(ImportRun.message).where(ImportRun.importer == "offres"))]
    assert messages and all(SECRET not in m for m in messages)
    status = CliRunner().invoke(app, ["data", "status"], env=env)
    assert SECRET not in status.output and "france-travail.jsonl" in status.output
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.model_dump())
