"""Labour market (issue 17, parts 1 and 2): the BMO importer (France Travail's workbook) and the Dares tension
importer (CSV), on fixtures the project writes in the publishers' layouts (``tests/fixtures/bmo``,
``tests/fixtures/dares``): counts, rejects with position and field, idempotent re-runs, hostile and malformed
files refused whole with the store unchanged; then the occupation page for a territory, on SQLite and
PostgreSQL, over the real communes of the COG."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from passerelles.app import create_app
from passerelles.cli import app as cli
from passerelles.importing.report import ImportRefused
from passerelles.labour.importer import import_bmo, import_tensions
from passerelles.labour.models import BmoProject, TensionIndicator
from passerelles.labour.services import families_for, load_correspondence
from passerelles.opendata.registry import load_registry
from passerelles.opendata.status import dataset_status
from passerelles.places.importer import import_communes
from passerelles.settings import PROJECT_ROOT, Settings
from tests.support.databases import BACKENDS, GEO_DIR, REFERENCE_DIR, Clones, DatabaseFactory, build_reference_database
from tests.support.labour import HEADER, ROWS, with_doctype, write_bmo, write_zip_bomb

TENSIONS = PROJECT_ROOT / "tests" / "fixtures" / "dares" / "tensions_extrait.csv"


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
def bmo_file(tmp_path: Path) -> Path:
    return write_bmo(tmp_path / "Base_open_data_BMO_2026.xlsx")


def test_the_xxe_probe_is_a_real_one(tmp_path: Path) -> None:
    """The XXE probe of the test below really carries its DOCTYPE, in the data sheet."""
    probe = with_doctype(write_bmo(tmp_path / "a.xlsx"), tmp_path / "b.xlsx")
    with zipfile.ZipFile(probe) as archive:
        assert b"<!DOCTYPE worksheet" in archive.read("xl/worksheets/sheet2.xml")


def _count(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)) or 0)


def _visible(html: str) -> str:
    text = unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)))
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))


# ---------------------------------------------------------------- BMO


def test_bmo_imports_counts_and_reimports_idempotently(engine: Engine, bmo_file: Path) -> None:
    dry = import_bmo(engine, bmo_file, dry_run=True)
    assert dry.counts["projet"].created == len(ROWS) and _count(engine, BmoProject) == 0
    first = import_bmo(engine, bmo_file)
    assert first.status == "ok" and first.version == "2026"
    assert first.counts["projet"].created == len(ROWS) and first.counts["projet"].rejected == 0
    again = import_bmo(engine, bmo_file)
    c = again.counts["projet"]
    assert (c.created, c.updated, c.unchanged, c.removed) == (0, 0, len(ROWS), 0)
    with engine.connect() as conn:
        lyon = conn.execute(
            select(BmoProject).where(BmoProject.bassin_name == "Lyon", BmoProject.bmo_code == "V0Z60")
        ).one()
        ain = conn.execute(select(BmoProject).where(BmoProject.departement_code == "01")).one()
    # Codes written as numbers in the workbook are padded back; « * » (masked) is stored as unknown.
    assert (lyon.region_code, lyon.departement_code, lyon.bassin_code) == ("84", "69", "8428")
    assert (lyon.projects, lyon.difficult, lyon.seasonal) == (1240, 769, 60)
    assert (ain.projects, ain.difficult, ain.seasonal) == (None, None, None)
    assert any("masqué" in w for w in first.warnings)


def test_bmo_update_and_removal_of_a_corrected_year(engine: Engine, tmp_path: Path) -> None:
    import_bmo(engine, write_bmo(tmp_path / "a.xlsx"))
    corrected = [list(r) for r in ROWS[:-1]]
    corrected[0][11] = 1250  # Lyon's figure corrected by the publisher; the last row withdrawn
    report = import_bmo(engine, write_bmo(tmp_path / "b.xlsx", corrected))
    c = report.counts["projet"]
    assert (c.created, c.updated, c.removed) == (0, 1, 1)
    assert _count(engine, BmoProject) == len(ROWS) - 1


def test_bmo_bad_rows_are_rejected_with_position_field_and_reason(engine: Engine, tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[2][12] = 9999  # xmet > met
    rows[3][7] = "Rhône"  # a département name where the code goes
    rows.append(list(ROWS[0]))  # the same year, occupation and bassin twice
    other = [84, "ARA", 69, "Rhône", 8428, "Lyon"]
    rows += [[2026, f"V9Z{i:02d}", "Aides-soignants", "S", "Sociales", *other, 10 + i, 1, 0] for i in range(30)]
    report = import_bmo(engine, write_bmo(tmp_path / "rejets.xlsx", rows))
    by_field = {r.field: r for r in report.rejects}
    assert set(by_field) == {"xmet", "Dept", "(ligne)"}
    assert by_field["xmet"].position == "feuille BMO_2026_open_data, ligne 5"  # title row, header, then data
    assert "plus de projets difficiles" in by_field["xmet"].reason
    assert "ligne 3" in by_field["(ligne)"].reason
    assert report.counts["projet"].rejected == 3 and _count(engine, BmoProject) == len(rows) - 3


def _broken_files(tmp_path: Path, good: Path) -> dict[str, tuple[Path, str]]:
    text = tmp_path / "texte.xlsx"
    text.write_text("annee;Code métier BMO;met\n2026;V0Z60;12\n", encoding="utf-8")
    cut = tmp_path / "tronque.xlsx"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    no_xmet = write_bmo(tmp_path / "sans_xmet.xlsx", [r[:12] + r[13:] for r in ROWS],
                        header=[h for h in HEADER if h != "xmet"])  # fmt: skip
    other = write_bmo(tmp_path / "autre.xlsx", [["a", "b"]], header=["Nom", "Prénom"])
    empty = write_bmo(tmp_path / "vide.xlsx", [])
    many = [list(r) for r in ROWS] + [[2026, "V0Z60", "X", "S", "S", 84, "ARA", "??", "?", 8428, "Lyon", 1, 0, 0]] * 40
    rejected = write_bmo(tmp_path / "rejets.xlsx", many)
    bomb = write_zip_bomb(tmp_path / "bombe.xlsx")
    return {
        "text": (text, "pas un classeur Excel"),
        "cut": (cut, "tronqué"),
        "no_xmet": (no_xmet, "colonne(s) absente(s) : xmet"),
        "other": (other, "aucune feuille n'a l'en-tête"),
        "empty": (empty, "aucune ligne"),
        "rejects": (rejected, "refusé en entier"),
        "bomb": (bomb, "bombe de décompression"),
        "xxe": (with_doctype(good, tmp_path / "entites.xlsx"), "déclare un DOCTYPE"),
        "missing": (tmp_path / "absent.xlsx", "introuvable"),
    }


def test_bmo_malformed_or_hostile_files_are_refused_whole_store_unchanged(engine: Engine, tmp_path: Path) -> None:
    good = write_bmo(tmp_path / "bon.xlsx")
    import_bmo(engine, good)
    before = _count(engine, BmoProject)
    for name, (path, message) in _broken_files(tmp_path, good).items():
        with pytest.raises(ImportRefused) as refused:
            import_bmo(engine, path)
        assert message in str(refused.value), (name, str(refused.value))
        assert _count(engine, BmoProject) == before, name


# ---------------------------------------------------------------- tensions


def test_tensions_import_counts_and_reimport(engine: Engine) -> None:
    first = import_tensions(engine, TENSIONS)
    assert first.counts["indicateur"].created == 10 and first.counts["indicateur"].rejected == 0
    assert first.version == "2023"
    again = import_tensions(engine, TENSIONS)
    c = again.counts["indicateur"]
    assert (c.created, c.updated, c.unchanged) == (0, 0, 10)
    with engine.connect() as conn:
        region = conn.execute(select(TensionIndicator).where(TensionIndicator.geo_level == "reg")).one()
        corsica = conn.execute(select(TensionIndicator).where(TensionIndicator.geo_code == "2A")).one()
    assert (region.geo_code, region.category, region.labour_shortage, region.employment) == ("84", 5, 5, 52000)
    assert corsica.category is None and corsica.hiring_intensity is None and corsica.tension == 0.9


def test_tensions_bad_rows_and_bad_files(engine: Engine, tmp_path: Path) -> None:
    lines = TENSIONS.read_text(encoding="utf-8").splitlines()
    bad = [*lines, "V0Z60,100,0.1,7.0,,,,,,,2023,dep,fap 225,,38", "V0Z60,100,0.1,3.0,,,,,,,2023,canton,fap 225,,38"]
    bad += [f"V3Z80,100,0.1,3.0,1.0,1.0,1.0,1.0,1.0,1.0,2023,dep,fap 225,,{d:02d}" for d in range(1, 60)]
    path = tmp_path / "tensions.csv"
    path.write_text("\n".join(bad) + "\n", encoding="utf-8")
    report = import_tensions(engine, path)
    fields = {(r.position, r.field) for r in report.rejects}
    assert fields == {("ligne 12", "Catégorie Tension"), ("ligne 13", "niveau_geo")}
    stored = _count(engine, TensionIndicator)
    header = tmp_path / "entete.csv"
    header.write_text("fap;Tension;Année\nV0Z60;1;2023\n", encoding="utf-8")
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("\n".join(bad).encode("utf-8").replace("œ".encode(), "\x9c".encode("latin-1")) + b"\n")
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("\n".join(lines).encode("utf-16") + b"\n\x00")
    cut = tmp_path / "coupe.csv"
    cut.write_text("\n".join(lines), encoding="utf-8")  # no end of line after the last row
    many = tmp_path / "rejets.csv"
    wrong = [f"V0Z60,1,1,9.0,,,,,,,2023,dep,fap 225,,{d:02d}" for d in range(1, 90)]
    many.write_text("\n".join([lines[0], *wrong]) + "\n", encoding="utf-8")
    for path, message in (
        (header, "en-tête inattendu"),
        (latin, "en-tête inattendu"),
        (utf16, "UTF-16"),
        (cut, "tronqué"),
        (many, "refusé en entier"),
        (tmp_path / "absent.csv", "introuvable"),
    ):
        with pytest.raises(ImportRefused) as refused:
            import_tensions(engine, path)
        assert message in str(refused.value), (path.name, str(refused.value))
        assert _count(engine, TensionIndicator) == stored, path.name


# ---------------------------------------------------------------- CLI, data status


def test_the_cli_imports_reruns_and_refuses(engine: Engine, bmo_file: Path, tmp_path: Path) -> None:
    env = {"PASSERELLES_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "PASSERELLES_VAR_DIR": str(tmp_path), "PASSERELLES_SEARCH_INDEX_DIR": str(tmp_path / "search")}  # fmt: skip
    runner = CliRunner()
    ok = runner.invoke(cli, ["import", "bmo", str(bmo_file), "--json"], env=env)
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output[ok.output.index("{") :])["counts"]["projet"]["created"] == len(ROWS)
    again = runner.invoke(cli, ["import", "bmo", str(bmo_file)], env=env)
    assert again.exit_code == 0 and re.search(r"projet\s+0\s+0\s+7", again.output), again.output
    tensions = runner.invoke(cli, ["import", "tensions", str(TENSIONS)], env=env)
    assert tensions.exit_code == 0, tensions.output
    broken = tmp_path / "casse.xlsx"
    broken.write_bytes(b"PK\x03\x04 pas une archive")
    refused = runner.invoke(cli, ["import", "bmo", str(broken)], env=env)
    assert refused.exit_code == 2 and "Erreur" in refused.output and "casse.xlsx" in refused.output
    refused = runner.invoke(cli, ["import", "tensions", str(bmo_file)], env=env)
    assert refused.exit_code == 2
    assert _count(engine, BmoProject) == len(ROWS) and _count(engine, TensionIndicator) == 10
    rows = {r.id: r for r in dataset_status(load_registry(REFERENCE_DIR / "opendata" / "registry.yaml"), None, engine)}
    assert rows["bmo"].version == "2026" and rows["bmo"].records == {"bmo_project": len(ROWS)}
    assert rows["bmo"].fresh is True and rows["tensions"].version == "2023" and rows["tensions"].fresh is True
    status = runner.invoke(cli, ["data", "status"], env=env)
    assert status.exit_code == 0 and re.search(r"^bmo\s+à jour\s+version 2026", status.output, re.M), status.output
    assert re.search(r"^tensions\s+à jour\s+version 2023 .* tension_indicator 10$", status.output, re.M)


# ---------------------------------------------------------------- the occupation page


def test_the_correspondence_is_sourced_and_covers_the_sector() -> None:
    data = load_correspondence(REFERENCE_DIR)
    assert [f.fap for f in families_for(data, ["J1501"])] == ["V0Z60"]
    assert [f.fap for f in families_for(data, ["K1306"])] == ["T2A60"]  # ROME 4.0 fiche, through its parent K1302
    assert [f.fap for f in families_for(data, ["M1609"])] == ["L0Z60", "L3Z80"]
    assert families_for(data, ["K1413"]) == []  # deliberately tied to no family
    assert all(link.parent for f in data.families for link in f.rome if "rome-460-parent" in link.sources)


@pytest.fixture
def client(engine: Engine) -> TestClient:
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False), environment="test")
    return TestClient(create_app(settings, engine=engine), raise_server_exceptions=False)


def test_occupation_page_says_where_figures_come_from_when_nothing_is_imported(client: TestClient) -> None:
    text = _visible(client.get("/metiers/aide-soignant", params={"commune": "Lyon"}).text)
    assert "Potentiel d'embauche" in text and "Non disponible" in text and "Besoins en main-d'œuvre" in text
    assert "Métier en tension" not in text


def test_occupation_page_shows_hiring_potential_and_the_tension_badge(
    engine: Engine, client: TestClient, bmo_file: Path
) -> None:
    import_bmo(engine, bmo_file)
    import_tensions(engine, TENSIONS)
    text = _visible(client.get("/metiers/aide-soignant", params={"commune": "Lyon"}).text)
    assert "Bassin d'emploi de Lyon : 1 240 projets de recrutement en 2026, dont 62 % jugés difficiles" in text
    assert "Département Rhône (69) : 1 450 projets de recrutement en 2026" in text  # Lyon + Villefranche
    # The Ain's masked row is said, not counted: région = Rhône + Isère.
    assert "Région Auvergne-Rhône-Alpes : 1 980 projets de recrutement en 2026" in text
    assert "France entière : 4 080 projets" in text and "« Aides-soignants »" in text
    assert (
        "Métier en tension" in text
        and "la tension sur le marché du travail est très forte dans le département Rhône (69) en 2023" in text
    )
    assert "Manque de main-d'œuvre disponible" in text and "enquête « Besoins en main-d'œuvre » (BMO) 2026" in text
    assert "V0Z60" not in text and "8428" not in text  # no raw code in view
    # The live figures at the top of the page: the narrowest territory's projects and the badge.
    assert (
        "1 240 projets de recrutement en 2026 dans le bassin d'emploi de Lyon, dont 62 % jugés difficiles (enquête BMO"
        in text
    )
    assert "Métier en tension dans le département Rhône (69) en 2023 (Dares) : surtout manque de main-d'œuvre" in text
    # A région: no bassin, the région's figures; tension of the région.
    text = _visible(client.get("/metiers/aide-soignant", params={"region": "11"}).text)
    assert "Région Île-de-France : 2 100 projets" in text and "Bassin d'emploi" not in text
    assert "est très forte en France en 2023" in text  # no figure for Île-de-France: France's
    # An occupation of a family not in tension: no badge, its factors explained.
    text = _visible(client.get("/metiers/assistant-de-vie-dependance", params={"departement": "69"}).text)
    assert "Métier en tension" not in text and "est faible dans le département Rhône (69)" in text
    assert "980 projets de recrutement en 2026, dont 71 % jugés difficiles" in text
    # A family with no figure in the files, and an occupation tied to no family: each says why.
    text = _visible(client.get("/metiers/ergotherapeute", params={"commune": "Lyon"}).text)
    assert "l'enquête « Besoins en main-d'œuvre » (BMO) 2026 de France Travail ne donne pas de chiffre" in text
    assert "les indicateurs de tension 2023 de la Dares et de France Travail ne donnent pas de niveau" in text
    text = _visible(client.get("/metiers/directeur-etablissement-social").text)
    assert "ce métier ne correspond à aucun métier de l'enquête" in text


def test_the_api_gives_hiring_needs_and_tension_of_a_territory(
    engine: Engine, client: TestClient, bmo_file: Path
) -> None:
    url = "/api/v1/metiers/aide-soignant/besoins-de-recrutement"
    empty = client.get(url, params={"commune": "Lyon"})
    assert empty.status_code == 200 and empty.json()["hiring"] is None and empty.json()["tension"] is None
    import_bmo(engine, bmo_file)
    import_tensions(engine, TENSIONS)
    body = client.get(url, params={"commune": "Lyon"}).json()
    areas = {a["level"]: a for a in body["hiring"]["areas"]}
    assert body["hiring"]["year"] == 2026 and areas["bassin"]["projects"] == 1240
    assert areas["bassin"]["difficult_share"] == 62 and areas["departement"]["projects"] == 1450
    assert areas["region"]["projects"] == 1980 and areas["france"]["projects"] == 4080
    assert body["tension"]["in_tension"] is True and body["tension"]["year"] == 2023
    assert body["years"] == {"bmo": 2026, "tensions": 2023}
    assert client.get(url, params={"commune": "Nulle-Part-sur-Rien"}).status_code == 422
    assert client.get("/api/v1/metiers/inconnu/besoins-de-recrutement").status_code == 404
