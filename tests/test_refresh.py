"""Issue 17 part 7: ``passerelles data refresh``: every configured source fetched and imported, then the
search index, under a lock (a second refresh is refused), each run recorded; one failing source leaves the
others and the store intact; ``data status`` shows each source's freshness and last error. SQLite and
PostgreSQL, a local France Travail server and the project's LHÉO fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from passerelles.cli import app
from passerelles.offers.models import JobOffer
from passerelles.opendata.models import RefreshRun
from passerelles.opendata.refresh import RefreshLocked, refresh, refresh_lock, refresh_status
from passerelles.trainings.models import TrainingSession
from tests.support.databases import BACKENDS, Clones, DatabaseFactory
from tests.support.francetravail import SECRET, serving
from tests.test_lheo import lheo_clones, store
from tests.test_offers_fetch import catalogue, settings_for

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "tests" / "fixtures" / "lheo" / "inscriptions.xml"


@pytest.fixture(scope="module")
def clones(databases: DatabaseFactory) -> Clones:
    return lheo_clones(databases)


@pytest.fixture
def engine(request: pytest.FixtureRequest, clones: Clones, databases: DatabaseFactory) -> Iterator[Engine]:
    engine = clones(request.param)
    yield engine
    databases.release(engine)


def count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_one_failing_source_leaves_the_others_and_the_store_intact(engine: Engine, tmp_path: Path) -> None:
    cut = tmp_path / "coupe.xml"
    cut.write_bytes(CATALOGUE.read_bytes()[:-40])  # a catalogue cut before its end: refused whole
    indexed: list[Engine] = []
    with serving(catalogue()) as server:
        settings = settings_for(engine, server, tmp_path / "var", lheo_sources=[str(CATALOGUE), str(cut)])
        results = {r.source: r for r in refresh(engine, settings, update_index=indexed.append)}
        assert results["offres"].status == "ok" and results["offres"].counts["created"] == 325
        assert results["lheo"].status == "refused" and "coupe.xml" in (results["lheo"].message or "")
        assert results["index"].status == "ok" and indexed == [engine]
        # The good catalogue is in, nothing of the cut one.
        assert store(engine)["training_session"] == {"INS-1/INS-1-A/INS-1-S1", "INS-1/INS-1-A/INS-1-S2"}
        offers, sessions = count(engine, JobOffer), count(engine, TrainingSession)

        # The API down: the offers fail, the LHÉO catalogue is imported again, the offers stay as they were.
        server.broken = True
        settings = settings_for(engine, server, tmp_path / "var", lheo_sources=[str(CATALOGUE)])
        again = {r.source: r for r in refresh(engine, settings, update_index=indexed.append)}
        assert again["offres"].status == "failed" and "HTTP 500" in (again["offres"].message or "")
        assert SECRET not in (again["offres"].message or "")
        assert again["lheo"].status == "ok" and again["lheo"].counts["created"] == 0
        assert (count(engine, JobOffer), count(engine, TrainingSession)) == (offers, sessions)

    status = {s.source: s for s in refresh_status(engine)}
    assert status["offres"].last_status == "failed" and status["offres"].last_success is not None
    assert status["offres"].age_days == 0 and "HTTP 500" in (status["offres"].last_error or "")
    assert status["lheo"].last_status == "ok" and "coupe.xml" in (status["lheo"].last_error or "")
    assert status["offres"].runs == 2 and count(engine, RefreshRun) == 6  # lheo, offres, index, twice

    env = {"PASSERELLES_DATABASE_URL": settings.database_url}
    shown = CliRunner().invoke(app, ["data", "status"], env=env)
    assert shown.exit_code == 0 and "Rafraîchissement" in shown.output and "dernière erreur" in shown.output
    assert SECRET not in shown.output


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_a_second_refresh_is_refused_while_one_runs(engine: Engine, tmp_path: Path) -> None:
    var = tmp_path / "var"
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "PASSERELLES_DATABASE_URL": url, "PASSERELLES_VAR_DIR": str(var)}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    script = "import sys; from passerelles.cli import main; sys.argv = ['passerelles', 'data', 'refresh']; main()"
    command = [sys.executable, "-c", script]
    with serving(catalogue()) as server:
        settings = settings_for(engine, server, var)
        with refresh_lock(var):  # a refresh running (this process holds the lock)
            with pytest.raises(RefreshLocked, match="déjà en cours"):
                refresh(engine, settings)
            other = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
            assert other.returncode == 2, other.stderr
            assert "déjà en cours" in other.stderr and f"pid {os.getpid()}" in other.stderr
        assert count(engine, RefreshRun) == 0  # refused before anything ran
        # Once released, a refresh runs (nothing configured here but the defaults: recorded as skipped).
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert "non configuré" in done.stdout
    with engine.connect() as conn:
        assert set(conn.scalars(select(RefreshRun.status))) == {"skipped"}
