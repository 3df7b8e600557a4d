"""Issue 17 part 5: LHÉO registration periods, recruitment state, registration terms and information meetings
imported, shown on the session page and the comparison, filterable (« inscriptions ouvertes »); LHÉO
« léger » summaries imported as sessions linked to their full offer. Fixtures: ``tests/fixtures/lheo/``
(written by the project in the LHÉO 2.3 format). SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from passerelles.app import create_app
from passerelles.settings import Settings
from passerelles.trainings import services, sessions
from passerelles.trainings.lheo import ImportRefused, import_lheo
from passerelles.trainings.models import TrainingSession
from passerelles.trainings.schemas import TrainingQuery
from tests.support.databases import BACKENDS, Clones, DatabaseFactory
from tests.test_lheo import lheo_clones, store

FIXTURES = Path(__file__).parent / "fixtures" / "lheo"
CATALOGUE = FIXTURES / "inscriptions.xml"
INDEX = FIXTURES / "index-leger.xml"


@pytest.fixture(scope="module")
def clones(databases: DatabaseFactory) -> Clones:
    return lheo_clones(databases)


@pytest.fixture
def engine(request: pytest.FixtureRequest, clones: Clones, databases: DatabaseFactory) -> Iterator[Engine]:
    engine = clones(request.param)
    yield engine
    databases.release(engine)


def by_number(engine: Engine) -> dict[str, TrainingSession]:
    with Session(engine) as db:
        return {s.external_id.rsplit("/", 1)[-1]: s for s in db.scalars(select(TrainingSession))}


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_registration_fields_are_imported_and_bad_values_rejected(engine: Engine) -> None:
    report = import_lheo(engine, CATALOGUE)
    assert report.status == "ok"
    got = by_number(engine)
    s1, s2 = got["INS-1-S1"], got["INS-1-S2"]
    assert (s1.registration_start, s1.registration_end) == (dt.date(2026, 11, 1), dt.date(2026, 12, 15))
    assert s1.recruitment_state == "ouvert" and s2.recruitment_state == "suspendu"
    assert s1.registration_terms == "Dossier de candidature puis entretien de motivation"
    assert s1.information_dates == ["2026-11-18", "2026-12-02"] == s2.information_dates  # the action's, for each
    assert s1.information_address == "Salle 4, 2 avenue des Soins, 35000 Rennes"
    # A state outside dict-etat-recrutement: the XSD refuses its formation; a date that does not exist
    # rejects its action's sessions. Each reject names its place, field and reason.
    rejects = {r.position.split(" (")[0]: r for r in report.rejects}
    assert set(got) == {"INS-1-S1", "INS-1-S2"}
    state = rejects["formation INS-2"]
    assert state.field == "action/session/etat-recrutement" and "'7'" in state.reason
    meeting = next(r for r in report.rejects if "INS-3" in r.position)
    assert meeting.field == "action/date-information/date" and "date inexistante" in meeting.reason
    again = import_lheo(engine, CATALOGUE)
    assert again.counts["training_session"].unchanged == 2 and again.counts["training_session"].updated == 0


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_malformed_file_is_refused_and_store_unchanged(engine: Engine, tmp_path: Path) -> None:
    import_lheo(engine, CATALOGUE)
    before = store(engine)
    cut = tmp_path / "inscriptions.xml"
    cut.write_bytes(CATALOGUE.read_bytes()[:-30])
    with pytest.raises(ImportRefused, match=r"inscriptions\.xml.*tronqué"):
        import_lheo(engine, cut)
    light = tmp_path / "index-leger.xml"
    light.write_bytes(INDEX.read_bytes().replace(b"</resumes-offres>", b"</resume-offres>"))
    with pytest.raises(ImportRefused, match=r"index-leger\.xml"):
        import_lheo(engine, light)
    assert store(engine) == before


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_summary_is_linked_to_its_full_offer_whichever_comes_first(engine: Engine) -> None:
    first = import_lheo(engine, INDEX)  # the index before the catalogue: imported, linked later
    assert first.status == "ok" and first.rejects == [] and first.counts["training_session"].created == 1
    summary = next(s for s in by_number(engine).values() if s.source == "lheo-leger")
    assert summary.full_session_id is None and summary.registration_end == dt.date(2026, 12, 15)
    import_lheo(engine, CATALOGUE)
    got = by_number(engine)
    summary = next(s for s in got.values() if s.source == "lheo-leger")
    assert summary.full_session_id == got["INS-1-S1"].id
    again = import_lheo(engine, INDEX)
    assert again.counts["training_session"].unchanged == 1
    assert next(s for s in by_number(engine).values() if s.source == "lheo-leger").full_session_id == got["INS-1-S1"].id
    with Session(engine) as db:
        # The summary is not listed beside its full session; its page points at it.
        results = services.search_sessions(db, TrainingQuery(departement="35"), today=dt.date(2026, 11, 20))
        assert {i.id for i in results.items} == {got["INS-1-S1"].id, got["INS-1-S2"].id}
        detail = sessions.get_session_detail(db, summary.id)
        assert detail is not None and detail.summary_of == f"/formations/sessions/{got['INS-1-S1'].id}"


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_open_registrations_filter_compares_today_with_the_windows(engine: Engine) -> None:
    import_lheo(engine, CATALOGUE)
    got = by_number(engine)
    with Session(engine) as db:

        def open_on(day: dt.date) -> set[int]:
            results = services.search_sessions(db, TrainingQuery(departement="35", inscriptions=True), today=day)
            return set() if results.widened else {i.id for i in results.items}  # nothing: widened, criterion dropped

        assert open_on(dt.date(2026, 10, 31)) == set()  # not open yet
        assert open_on(dt.date(2026, 11, 1)) == {got["INS-1-S1"].id}
        assert open_on(dt.date(2026, 12, 15)) == {got["INS-1-S1"].id}
        assert open_on(dt.date(2026, 12, 16)) == set()  # over; S2 is suspended whatever the date
        assert sessions.registration_status(None, None, "suspendu", dt.date(2027, 4, 1)) == "suspendu"
        assert sessions.registration_status(dt.date(2027, 3, 1), None, None, dt.date(2027, 2, 1)) == "a-venir"
        assert sessions.registration_status(None, None, None, dt.date(2027, 2, 1)) is None


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_session_page_comparison_and_api_show_the_registration(engine: Engine) -> None:
    import_lheo(engine, CATALOGUE)
    import_lheo(engine, INDEX)
    got = by_number(engine)
    s1, s2 = got["INS-1-S1"].id, got["INS-1-S2"].id
    summary = next(s for s in got.values() if s.source == "lheo-leger").id
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False), environment="test")
    with TestClient(create_app(settings, engine=engine)) as client:
        page = client.get(f"/formations/sessions/{s1}").text
        assert "du 1 novembre 2026 au 15 décembre 2026" in page or "du 1er novembre 2026 au 15 décembre 2026" in page
        assert "Recrutement</dt><dd>ouvert" in page
        assert "Réunions d'information" in page and "Salle 4, 2 avenue des Soins" in page
        assert "Dossier de candidature puis entretien de motivation" in page
        assert "Recrutement</dt><dd>suspendu" in client.get(f"/formations/sessions/{s2}").text
        light = client.get(f"/formations/sessions/{summary}").text
        assert "voir l'offre complète" in light and f'href="/formations/sessions/{s1}"' in light
        compare = client.get(f"/formations/comparer?ids={s1},{s2}").text
        assert '<th scope="row">Inscription</th>' in compare and "Recrutement : suspendu" in compare
        api = client.get(f"/api/v1/formations/sessions/{s1}").json()
        assert api["registration_terms"].startswith("Dossier") and api["information_dates"] == [
            "2026-11-18",
            "2026-12-02",
        ]
        listing = client.get("/formations?departement=35&inscriptions=1")
        assert (
            listing.status_code == 200
            and 'id="f-inscriptions" name="inscriptions" type="checkbox" value="1" checked' in listing.text
        )
        assert client.get("/api/v1/formations?departement=35&inscriptions=1").status_code == 200
