"""The occupation page: live figures for the visitor's territory (the same counts as /formations and /emploi),
numbered source notes without internal ids, working notes kept for the data team, acronyms expanded once,
the map of sessions and offers, the pay chart; on a copy of the loaded database (both engines) with a few
hand-written sessions and offers around Lyon."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from passerelles.accounts import services as accounts
from passerelles.accounts.schemas import AccountCreate
from passerelles.app import create_app
from passerelles.certifications.models import Certification
from passerelles.cli import app as cli_app
from passerelles.db import make_sessionmaker
from passerelles.glossary.services import expand, load_glossary
from passerelles.offers.models import JobOffer
from passerelles.settings import PROJECT_ROOT, Settings
from passerelles.sources.models import Source
from passerelles.trainings.models import Provider, Training, TrainingSession
from tests.support.databases import DatabaseFactory

AES = "/metiers/accompagnant-educatif-et-social"
TODAY = dt.date.today()
NOW = dt.datetime.now(dt.UTC)
# (INSEE code, city, latitude, longitude)
LYON_7 = ("69387", "Lyon 7e Arrondissement", 45.7457, 4.8422)
VILLEURBANNE = ("69266", "Villeurbanne", 45.7719, 4.8902)
GRENOBLE = ("38185", "Grenoble", 45.182122, 5.721331)
PARIS = ("75056", "Paris", 48.86029, 2.344437)
PASSWORD = "correct horse battery"


def _seed(engine: Engine) -> None:
    with make_sessionmaker(engine)() as s:
        cert = {c.slug: c.id for c in s.scalars(select(Certification))}
        prov = Provider(external_id="p1", name="Institut Test", row_hash="x")
        s.add(prov)
        s.flush()
        training = Training(external_id="t1", title="Formation test", provider_id=prov.id, row_hash="x")
        s.add(training)
        s.flush()
        sessions = [("l1", "deaes", LYON_7), ("l2", "deaes", LYON_7), ("v1", "deaes", VILLEURBANNE)]
        sessions += [("g1", "deaes", GRENOBLE), ("p1", "deaes", PARIS), ("as", "deas", LYON_7)]
        for i, (name, slug, (code, city, lat, lon)) in enumerate(sessions):
            s.add(
                TrainingSession(
                    external_id=name,
                    training_id=training.id,
                    provider_id=prov.id,
                    certification_id=cert[slug],
                    title=f"{slug} {city}",
                    start_date=TODAY + dt.timedelta(days=20 + i),
                    commune_code=code,
                    city=city,
                    latitude=lat,
                    longitude=lon,
                    row_hash="x",
                )
            )
        offers = [("o1", "K1306", LYON_7), ("o2", "K1306", GRENOBLE), ("o3", "K1306", PARIS), ("o4", "J1501", LYON_7)]
        for name, rome, (code, city, lat, lon) in offers:
            s.add(
                JobOffer(
                    source="test",
                    external_id=name,
                    title=f"Offre {name}",
                    code_rome=rome,
                    commune_code=code,
                    city=city,
                    latitude=lat,
                    longitude=lon,
                    published_at=NOW - dt.timedelta(days=1),
                    contract_type="CDI",
                    row_hash="x",
                )
            )
        accounts.create_account(
            s,
            None,
            AccountCreate(email="admin@example.org", display_name="Admin", role="admin"),
            password=PASSWORD,
            verified=True,
        )
        s.commit()


@pytest.fixture(scope="module")
def seeded(loaded_engine: Engine, databases: DatabaseFactory) -> Iterator[Engine]:
    loaded_engine.dispose()  # a PostgreSQL template must have no open connection
    engine = databases.clone(loaded_engine.dialect.name, loaded_engine)
    _seed(engine)
    yield engine
    databases.release(engine)


def _client(engine: Engine) -> TestClient:
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, environment="test", base_url="http://testserver")
    return TestClient(create_app(settings, engine=engine), raise_server_exceptions=False)


@pytest.fixture
def web(seeded: Engine) -> TestClient:
    return _client(seeded)  # a fresh client: no cookie from another test


def visible_text(page: str) -> str:
    """What a reader sees: no tags, scripts, styles, SVG titles, or attribute values."""
    page = re.sub(r"<(script|style|title|desc)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _count(page: str) -> int:
    found = re.search(r'<h2 id="resultats-titre" class="count">([\d\s\u202f\u00a0]+)', page)
    assert found, "pas de décompte de résultats"
    return int(re.sub(r"\D", "", found.group(1)))


def test_live_figures_are_the_counts_of_the_linked_searches(web: TestClient) -> None:
    page = web.get(AES, params={"commune": "Lyon"}).text
    trainings = re.search(
        r'<a href="(/formations\?[^"]+)"><strong>(\d+)</strong> formations? à venir en Auvergne-Rhône-Alpes', page
    )
    offers = re.search(
        r'<a href="(/emploi\?[^"]+)"><strong>(\d+)</strong> offres? aujourd\'hui en Auvergne-Rhône-Alpes', page
    )
    assert trainings and offers
    assert int(trainings.group(2)) == 4  # Lyon ×2, Villeurbanne, Grenoble; not Paris, not the DEAS one
    assert int(offers.group(2)) == 2  # K1306 in Lyon and Grenoble
    assert _count(web.get(html_lib.unescape(trainings.group(1))).text) == int(trainings.group(2))
    assert _count(web.get(html_lib.unescape(offers.group(1))).text) == int(offers.group(2))
    assert "119" not in visible_text(page)  # the stale figure of the seed document is gone


def test_territory_is_remembered_in_a_cookie_and_forgotten_when_emptied(web: TestClient) -> None:
    first = web.get(AES, params={"commune": "69003"})
    assert first.cookies.get("territoire")
    again = web.get(AES).text  # no place in the URL: the cookie's
    assert "formations à venir en Auvergne-Rhône-Alpes" in again
    web.get(AES, params={"commune": ""})
    assert "à venir en France" in web.get(AES).text


def test_unknown_place_says_so_and_shows_france(web: TestClient) -> None:
    page = web.get(AES, params={"commune": "Nullepartville"}).text
    assert "Lieu non reconnu" in page and "à venir en France" in page


def test_no_internal_id_or_working_note_in_public_pages(web: TestClient, seeded: Engine) -> None:
    with Session(seeded) as s:
        ids = set(s.scalars(select(Source.slug)))
    assert "seed-onisep-amp" in ids
    for url in (AES + "?commune=Lyon", "/certifications/deaes", "/certifications/deeje", "/sources"):
        text = visible_text(web.get(url).text)
        leaked = sorted(i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text))
        assert not leaked, (url, leaked[:5])
        for note in ("à confirmer", "n'a été trouvé", "pas résolu", "reste à vérifier"):
            assert note not in text, (url, note)
    page = web.get(AES).text
    assert re.search(r'<a href="#note-1" title="[^"]+"><span class="sr-only">source </span>\[1\]</a>', page)
    assert re.search(r'<li id="note-1" value="1"><cite>[^<]+</cite>, [^<]+', page)


def test_data_team_sees_working_notes_in_sources_and_data_status(seeded: Engine) -> None:
    web = _client(seeded)
    assert "Notes pour l'équipe données" not in web.get("/sources").text
    response = web.post("/api/v1/comptes/connexion", json={"email": "admin@example.org", "password": PASSWORD})
    assert response.status_code == 200, response.text
    page = visible_text(web.get("/sources").text)
    assert "Notes pour l'équipe données" in page and "l'écart n'est pas résolu" in page
    assert "RNCP36004 à confirmer" in page
    url = seeded.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli_app, ["data", "status"], env={"PASSERELLES_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert "Notes pour l'équipe données" in result.output and "l'écart n'est pas résolu" in result.output


def test_each_acronym_is_expanded_on_its_first_use_only(web: TestClient) -> None:
    text = visible_text(web.get(AES).text)
    glossary = load_glossary(PROJECT_ROOT / "data" / "glossary.yaml")
    expanded = 0
    for term, (expansion, _) in glossary.terms.items():
        n = text.count(f"{term} ({expansion})")
        assert n <= 1, term
        expanded += n
        if n:  # later uses are the bare acronym, never expanded again
            assert text.index(f"{term} ({expansion})") <= text.index(term)
    assert expanded >= 5
    assert "EHPAD (établissement d'hébergement pour personnes âgées dépendantes)" in text or "EHPAD" not in text
    assert "(AMP (" not in text  # an acronym in brackets after its own expansion stays as it is


def test_expand_marks_and_expands_once() -> None:
    glossary = load_glossary(PROJECT_ROOT / "data" / "glossary.yaml")
    seen: set[str] = set()
    first = html_lib.unescape(expand("En MAS ou en FAM, puis en MAS.", glossary, seen))
    assert first.count("(maison d'accueil spécialisée)") == 1 and first.count("<abbr") == 3
    assert "(foyer d'accueil médicalisé)" in first
    assert "(maison" not in expand("Une MAS <b>", glossary, seen) and "&lt;b&gt;" in expand("<b>", glossary, seen)
    assert expand("diplôme (DEAES)", glossary, set()).count("(diplôme") == 0


def test_map_has_a_point_per_commune_with_sessions_and_a_text_alternative(web: TestClient) -> None:
    page = web.get(AES, params={"commune": "Lyon", "rayon": "20"}).text
    svg = re.search(
        r'<svg viewBox[^>]*role="img" aria-labelledby="([^" ]+) ([^"]+)" class="map">(.*?)</svg>', page, re.S
    )
    assert svg
    points = set(re.findall(r'data-commune="(\d+)"', svg.group(3)))
    assert points == {"69387", "69266"}  # Lyon 7e (sessions and an offer), Villeurbanne; not Grenoble (100 km)
    assert f'<title id="{svg.group(1)}">' in svg.group(3) and f'<desc id="{svg.group(2)}">' in svg.group(3)
    assert "3 sessions de formation à venir et 1 offre ouverte dans 2 communes" in page
    assert re.search(r"<th scope=\"row\">Villeurbanne \(69\)</th><td>1</td><td>0</td>", page)
    for url in ("/formations?commune=Lyon&rayon=20", "/emploi?commune=Lyon&rayon=20"):
        assert 'class="map"' in web.get(url).text, url
    assert 'class="map"' not in web.get("/formations").text


def test_pay_chart_is_an_svg_with_its_table(web: TestClient) -> None:
    page = web.get("/metiers/mediateur-social").text
    chart = re.search(r'<figure class="pay-chart".*?</figure>', page, re.S)
    assert chart
    bars = re.findall(r'<rect x="150"', chart.group(0))
    rows = re.findall(r'<tr><th scope="row">', chart.group(0))
    assert len(bars) == len(rows) >= 2 and "<title" in chart.group(0)
    labels = re.findall(r'<tr><th scope="row">([^<]+)', chart.group(0))
    assert "début" in labels[0].lower()  # earliest in a career first


def test_sections_fold_on_a_phone_without_script(web: TestClient) -> None:
    page = web.get(AES).text
    assert len(re.findall(r'<details class="fold[^"]*" id="', page)) >= 10
    # The place field's suggestions are the only script, an enhancement loaded from a file.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
