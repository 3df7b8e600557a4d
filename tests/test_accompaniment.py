"""« Être accompagné » : the data·inclusion importer (extract → read → validate → load, bad records rejected by
id and field, hostile files refused), the page and the API near a place, on SQLite and PostgreSQL, over the
real communes of the COG."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from passerelles.accompaniment.hours import in_french
from passerelles.accompaniment.importer import MAX_BYTES, import_structures
from passerelles.accompaniment.models import SupportService, SupportStructure
from passerelles.accompaniment.services import platform_file, platforms_path
from passerelles.app import create_app
from passerelles.cli import app as cli
from passerelles.importing.report import ImportRefused
from passerelles.places.importer import import_communes
from passerelles.settings import PROJECT_ROOT, Settings
from tests.support.databases import BACKENDS, GEO_DIR, REFERENCE_DIR, Clones, DatabaseFactory, build_reference_database

FIXTURE = PROJECT_ROOT / "data" / "demo" / "structures-data-inclusion.json"


def _prepare(engine: Engine) -> None:
    build_reference_database(engine)
    import_communes(engine, GEO_DIR)


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, databases: DatabaseFactory) -> Iterator[Engine]:
    clones = Clones(databases, "reference+communes", _prepare)
    engine = clones(request.param)
    yield engine
    databases.release(engine)


@pytest.fixture
def client(engine: Engine) -> TestClient:
    import_structures(engine, FIXTURE, is_demo=True)
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False), environment="test")
    return TestClient(create_app(settings, engine=engine), raise_server_exceptions=False)


def _count(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)) or 0)


def _visible(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)))


def test_the_demonstration_fixture_is_schema_valid_and_loads_once(engine: Engine) -> None:
    first = import_structures(engine, FIXTURE, is_demo=True)
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert "DÉMONSTRATION" in data["description"]
    assert first.entity("structure").created == len(data["structures"]) and not first.rejects
    assert first.entity("service").created == len(data["services"])
    again = import_structures(engine, FIXTURE, is_demo=True)
    assert again.entity("structure").unchanged == len(data["structures"]) and again.entity("structure").created == 0
    with engine.connect() as conn:
        lyon = conn.execute(select(SupportStructure).where(SupportStructure.commune_code == "69383")).one()
    # The commune's centre from the COG when the record gives no coordinates; the kind from its network.
    assert lyon.kind == "france_travail" and lyon.latitude and 45.7 < lyon.latitude < 45.8 and lyon.is_demo


def test_bad_records_are_rejected_by_id_and_field_and_the_others_load(engine: Engine, tmp_path: Path) -> None:
    good = {"source": "test", "id": "test--ok", "nom": "Mission locale de Villeurbanne", "date_maj": "2026-10-01",
            "code_insee": "69266", "reseaux_porteurs": ["mission-locale"]}  # fmt: skip
    records = [
        good,
        {**good, "id": "test--sans-nom", "nom": None},
        {**good, "id": "test--cp", "code_insee": None, "code_postal": "6910"},
        {**good, "id": "test--mail", "courriel": "pas-une-adresse"},
        {**good, "id": "test--commune", "code_insee": "99999"},
        "pas un objet",
    ]
    service = {"source": "test", "date_maj": "2026-10-01", "description": "Accueil des jeunes."}
    services = [
        {**service, "structure_id": "test--ok", "id": "test--s1", "nom": "Accueil"},
        {**service, "structure_id": "test--inconnue", "id": "test--s2", "nom": "Orphelin"},
    ]
    path = tmp_path / "structures.json"
    path.write_text(json.dumps({"structures": records, "services": services}), encoding="utf-8")
    report = import_structures(engine, path)
    rejected = {(r.position, r.field) for r in report.rejects}
    assert ("structure n° 2 (id test--sans-nom)", "nom") in rejected
    assert ("structure n° 3 (id test--cp)", "code_postal") in rejected
    assert ("structure n° 4 (id test--mail)", "courriel") in rejected
    assert ("structure n° 5 (id test--commune)", "code_insee") in rejected
    assert ("structure n° 6", "(enregistrement)") in rejected
    assert ("service n° 2 (id test--s2)", "structure_id") in rejected
    assert all((r.reason and r.reason[0].islower()) or r.reason[0].isupper() for r in report.rejects)
    assert not any("Field required" in r.reason or "Input should" in r.reason for r in report.rejects)  # French
    assert _count(engine, SupportStructure) == 1 and _count(engine, SupportService) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe{}", "UTF-8"),
        (b"<structures/>", "ni JSON ni JSON Lines"),
        (b"[" * 100_000 + b"]" * 100_000, "imbriqué"),
        (b'{"autre": 1}', "liste de structures"),
    ],
)
def test_hostile_or_wrong_files_are_refused_whole(engine: Engine, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "structures.json"
    path.write_bytes(content)
    with pytest.raises(ImportRefused, match=message):
        import_structures(engine, path)
    assert _count(engine, SupportStructure) == 0


def test_a_huge_file_is_refused_before_it_is_read(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "enorme.json"
    with path.open("wb") as fh:  # sparse: no disk used
        fh.truncate(MAX_BYTES + 1)
    with pytest.raises(ImportRefused, match="trop gros"):
        import_structures(engine, path)


def test_too_many_rejects_refuse_the_file_and_change_nothing(engine: Engine, tmp_path: Path) -> None:
    bad = [{"source": "x", "id": f"x--{i}", "nom": "", "date_maj": "2026-01-01"} for i in range(40)]
    path = tmp_path / "mauvais.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(ImportRefused, match="refusé en entier"):
        import_structures(engine, path)
    assert _count(engine, SupportStructure) == 0


def test_the_page_near_lyon_lists_structures_by_kind_nearest_first(client: TestClient) -> None:
    page = client.get("/etre-accompagne", params={"commune": "Lyon", "rayon": 20})
    assert page.status_code == 200
    text = _visible(page.text)
    for name in ("Agence France Travail de Lyon 3e (exemple)", "Mission locale de Lyon (exemple)",
                 "Cap emploi du Rhône (exemple)", "CIO de Lyon (exemple)"):  # fmt: skip
        assert name in text
    assert "Marseille" not in text and "démonstration" in text
    assert "Du lundi au vendredi : 8 h 30 – 12 h 30, 13 h 30 – 16 h 30 ; fermé les jours fériés" in text
    # Nothing raw: no record id, no network slug, no opening_hours syntax, no theme code.
    for raw in ("passerelles-demo--", "france-travail", "Mo-Fr", "se-former--", "en-presentiel"):
        assert raw not in text
    assert "Trouver sa formation" in text and "En présentiel" in text
    order = [m.start() for m in re.finditer(r"France Travail|Missions locales|Cap emploi \(", text)]
    assert order == sorted(order)


def test_a_plateforme_des_metiers_de_l_autonomie_covers_its_departements(client: TestClient) -> None:
    melun = _visible(client.get("/etre-accompagne", params={"commune": "Melun"}).text)
    assert "Plateforme des métiers de l'autonomie de Seine-et-Marne et d'Essonne" in melun
    assert "01 82 33 03 20" in melun and "Le Moniteur de Seine-et-Marne" in melun
    lyon = _visible(client.get("/etre-accompagne", params={"commune": "Lyon"}).text)
    assert "Seine-et-Marne" not in lyon
    # A line that is no longer known to be open is not shown to the public.
    assert "0 801 010 808" not in melun
    data = platform_file(platforms_path(REFERENCE_DIR))
    assert any(line.phone == "0 801 010 808" and not line.current for line in data.lines)


def test_a_homonym_is_never_chosen_silently(client: TestClient) -> None:
    page = _visible(client.get("/etre-accompagne", params={"commune": "Saint-Denis"}).text)
    assert "Agence France Travail de Saint-Denis (exemple)" in page  # Saint-Denis (93), the most likely
    assert "Vouliez-vous dire" in page and "La Réunion" in page
    body = client.get("/api/v1/accompagnement", params={"commune": "Saint-Denis"}).json()
    assert any("974" in other for other in body["other_places"])
    # A département or a région is a place too: the structures of its communes.
    rhone = _visible(client.get("/etre-accompagne", params={"commune": "Rhône"}).text)
    assert "Cap emploi du Rhône (exemple)" in rhone and "Marseille" not in rhone


def test_the_api_twin_and_its_errors(client: TestClient) -> None:
    answer = client.get("/api/v1/accompagnement", params={"commune": "Villeurbanne", "rayon": 10})
    assert answer.status_code == 200
    body = answer.json()
    kinds = [s["kind"] for s in body["structures"]]
    assert kinds[0] == "france_travail" and "Villeurbanne" in body["structures"][0]["name"]
    distances = [s["distance_km"] for s in body["structures"] if s["kind"] == "france_travail"]
    assert distances == sorted(distances)
    unknown = client.get("/api/v1/accompagnement", params={"commune": "Zzyzxville"})
    assert unknown.status_code == 422 and unknown.json()["error"]["details"][0]["field"] == "commune"
    page = client.get("/etre-accompagne", params={"commune": "Zzyzxville"})
    assert page.status_code == 422 and 'value="Zzyzxville"' in page.text and "aria-invalid" in page.text


def test_the_cli_imports_and_refuses(engine: Engine, tmp_path: Path) -> None:
    env = {"PASSERELLES_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "PASSERELLES_VAR_DIR": str(tmp_path)}  # fmt: skip
    ok = CliRunner().invoke(cli, ["import", "structures", str(FIXTURE), "--demo", "--json"], env=env)
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output[ok.output.index("{") :])["counts"]["structure"]["created"] == 12
    broken = tmp_path / "casse.json"
    broken.write_bytes(b"\xff")
    refused = CliRunner().invoke(cli, ["import", "structures", str(broken)], env=env)
    assert refused.exit_code == 2 and "UTF-8" in refused.output


@pytest.mark.parametrize(
    ("osm", "french"),
    [
        ("Mo-Fr 08:30-12:30,13:30-17:00; Sa 09:00-12:00; PH off",
         "Du lundi au vendredi : 8 h 30 – 12 h 30, 13 h 30 – 17 h ; samedi : 9 h – 12 h ; fermé les jours fériés"),
        ("Mo,We,Fr 09:00-12:00", "Lundi, mercredi et vendredi : 9 h – 12 h"),
        ("24/7", "Tous les jours : 24 h sur 24"),
        ("n'importe quoi", None),
        ("", None),
    ],
)  # fmt: skip
def test_opening_hours_read_in_french(osm: str, french: str | None) -> None:
    assert in_french(osm) == french
