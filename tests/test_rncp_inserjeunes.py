"""Issue 17, parts 3 and 4: the RNCP export of France Compétences and the InserJeunes rates of the DEPP and the
DARES, imported from files the project writes in their publishers' formats (tests/fixtures/rncp and
tests/fixtures/inserjeunes, each with a README saying so); reconciliation with the project's certifications,
shared blocs in the planner, rates on the session page, in the comparison and as a sort, on both engines."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select
from typer.testing import CliRunner

from passerelles.app import create_app
from passerelles.certifications.models import Certification
from passerelles.cli import app as cli
from passerelles.db import make_sessionmaker
from passerelles.importing.report import ImportRefused
from passerelles.outcomes.importer import import_inserjeunes
from passerelles.outcomes.models import TrainingOutcome
from passerelles.pathways.schemas import HeldDiploma, Profile
from passerelles.pathways.services import plan
from passerelles.rncp.importer import import_rncp
from passerelles.rncp.models import RncpBloc, RncpSheet
from passerelles.settings import Settings
from passerelles.trainings.models import Provider, Training, TrainingSession
from passerelles.trainings.schemas import TrainingQuery
from passerelles.trainings.services import search_sessions
from tests.support.databases import BACKENDS, Clones, DatabaseFactory, build_reference_database

FIXTURES = Path(__file__).parent / "fixtures"
RNCP = FIXTURES / "rncp" / "export-fiches-rncp-v4-1-2026-11-30.xml"
RNCP_CUT = FIXTURES / "rncp" / "export-fiches-rncp-v4-1-coupe.xml"
IJ = FIXTURES / "inserjeunes" / "inserjeunes-apprentissage-region-2022-2023.csv"
IJ_ESTABLISHMENT = FIXTURES / "inserjeunes" / "inserjeunes-etablissement-2022-2023.csv"
IJ_LATIN1 = FIXTURES / "inserjeunes" / "inserjeunes-latin1-2022-2023.csv"
TODAY = dt.date.today()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, databases: DatabaseFactory) -> Iterator[Engine]:
    engine = Clones(databases, "reference", build_reference_database)(request.param)
    yield engine
    databases.release(engine)


def _count(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)) or 0)


def _visible(html: str) -> str:
    return " ".join(
        unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S))).split()
    )


# ---------------------------------------------------------------- RNCP


def test_rncp_export_is_read_with_its_rejects_and_re_runs_unchanged(engine: Engine) -> None:
    report = import_rncp(engine, RNCP)
    assert report.version == "2026-11-30"
    assert report.counts["fiche"].created == 7 and report.counts["bloc"].created == 20
    rejects = {(r.position.split(" (")[0], r.field) for r in report.rejects}
    assert rejects == {
        ("fiche n° 8", "NOMENCLATURE_EUROPE/NIVEAU"),
        ("fiche n° 9", "NUMERO_FICHE"),
        ("fiche n° 10", "DATE_DECISION"),
    }
    assert all("ligne" in r.position and r.reason for r in report.rejects)
    with make_sessionmaker(engine)() as s:
        deaes = s.scalar(select(RncpSheet).where(RncpSheet.number == "RNCP36004"))
        assert deaes is not None and deaes.level_eu == 3 and deaes.active and deaes.end_date == dt.date(2026, 12, 31)
        assert "vae" in deaes.routes and "candidature" not in deaes.routes
        assert {"code": "K1302", "label": "Assistance auprès d'adultes"} in deaes.rome
        assert deaes.formacodes and deaes.certifiers[0]["name"].startswith("MINISTERE")
        codes = s.scalars(select(RncpBloc.code).where(RncpBloc.sheet_number == "RNCP36004").order_by(RncpBloc.position))
        assert list(codes) == [f"RNCP36004BC0{i}" for i in range(1, 6)]
    again = import_rncp(engine, RNCP)
    assert again.counts["fiche"].unchanged == 7 and again.counts["fiche"].created == 0
    assert again.counts["bloc"].unchanged == 20 and again.counts["bloc"].updated == 0


def test_rncp_differences_are_listed_never_written(engine: Engine) -> None:
    with make_sessionmaker(engine)() as s:
        before = {c.slug: (c.name, c.level_eu, c.status) for c in s.scalars(select(Certification))}
    report = import_rncp(engine, RNCP)
    text = "\n".join(report.warnings)
    assert "(RNCP36836) — niveau : « niveau 6 » dans la fiche du projet, « niveau 5 » au RNCP" in text
    assert "(RNCP36836) — voies : « VAE ouverte » dans la fiche du projet, « VAE fermée » au RNCP" in text
    assert "(RNCP36241) — état : « en vigueur »" in text and "28/02/2025" in text
    assert "Diplôme d'État d'aide-soignant (RNCP35830) — numéro RNCP : « non écrit »" in text
    # The old DEME sheet (inactive) beside the new one (active) is no difference: the new one is compared.
    assert "moniteur" not in text
    with make_sessionmaker(engine)() as s:
        after = {c.slug: (c.name, c.level_eu, c.status) for c in s.scalars(select(Certification))}
    assert after == before


def test_rncp_zip_as_published_is_read(engine: Engine, tmp_path: Path) -> None:
    archive = tmp_path / "export-fiches-rncp-v4-1-2026-11-30.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(RNCP, "export-fiches-rncp-v4-1-2026-11-30.xml")
    report = import_rncp(engine, archive)
    assert report.counts["fiche"].created == 7 and report.version == "2026-11-30"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "fichier tronqué"),
        (b'<?xml version="1.0"?>\n<!DOCTYPE FICHES [<!ENTITY x "boom">]>\n'
         b"<FICHES><FICHE><NUMERO_FICHE>&x;</NUMERO_FICHE></FICHE></FICHES>\n", "DOCTYPE"),
        (b'<?xml version="1.0"?>\n<FICHES><FICHE><NUMERO_FICHE>RNCP1</NUMERO_FICHE></FICHE><FICHE>'
         b"</FICHES>\n", "mal formé"),
        (b'<?xml version="1.0"?>\n<lheo><FICHE><NUMERO_FICHE>RNCP1</NUMERO_FICHE></FICHE></lheo>\n', "racine"),
        ("€".encode("cp1252") + b"<FICHES></FICHES>\n", "UTF-8"),
    ],
)  # fmt: skip
def test_a_bad_rncp_file_is_refused_whole_store_unchanged(
    engine: Engine, tmp_path: Path, content: bytes | None, reason: str
) -> None:
    import_rncp(engine, RNCP)
    counts = (_count(engine, RncpSheet), _count(engine, RncpBloc))
    path = RNCP_CUT
    if content is not None:
        path = tmp_path / "export-fiches-rncp-v4-1-2026-12-01.xml"
        path.write_bytes(content)
    with pytest.raises(ImportRefused, match=reason):
        import_rncp(engine, path)
    assert (_count(engine, RncpSheet), _count(engine, RncpBloc)) == counts


def test_shared_blocs_show_in_the_planner_with_the_register_as_source(engine: Engine) -> None:
    import_rncp(engine, RNCP)
    with make_sessionmaker(engine)() as s:
        result = plan(s, Profile(diplomas=[HeldDiploma(slug="deap")], target="aide-soignant"))
    assert result is not None
    reasons = [w.text for r in result.routes for st in r.steps if st.certification == "deas" for w in st.why]
    shared = [t for t in reasons if t.startswith("Blocs communs avec le DEAP")]
    assert shared, reasons
    assert (
        "3 blocs de compétences de même intitulé" in shared[0]
        and "RNCP35832 et RNCP35830" in shared[0]
        and "France Compétences" in shared[0]
    )


# ---------------------------------------------------------------- InserJeunes


def test_inserjeunes_rates_by_region_masked_values_rejects_and_re_run(engine: Engine) -> None:
    report = import_inserjeunes(engine, IJ)
    assert report.version == "2022-2023" and report.counts["taux"].created == 9
    assert {(r.position, r.field) for r in report.rejects} == {
        ("ligne 10", "Taux d'emploi 6 mois après la sortie"),
        ("ligne 11", "Région"),
    }
    assert any("non publiée(s)" in w for w in report.warnings)
    assert any("1 formation(s) sans certification" in w for w in report.warnings)
    with make_sessionmaker(engine)() as s:
        mc = s.scalar(select(TrainingOutcome).where(TrainingOutcome.formation_code == "01033099"))
        assert mc is not None and mc.employment_6m is None and mc.study_rate is None  # masked: unknown, not 0
        assert "Taux d'emploi 6 mois après la sortie" in mc.masked and mc.final_year == 14
        cap = s.scalar(
            select(TrainingOutcome).where(
                TrainingOutcome.formation_code == "50033299", TrainingOutcome.region_code == "11"
            )
        )
        assert cap is not None and (cap.employment_6m, cap.employment_12m, cap.study_rate) == (58, 64, 31)
        assert cap.value_added == 2 and cap.pathway == "apprentissage" and cap.millesime == "2022-2023"
        aepe = s.scalar(select(Certification.id).where(Certification.slug == "cap-aepe"))
        assert cap.certification_id == aepe
    again = import_inserjeunes(engine, IJ)
    assert again.counts["taux"].unchanged == 9 and again.counts["taux"].created == again.counts["taux"].updated == 0


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (IJ_ESTABLISHMENT, "par établissement"),
        (IJ_LATIN1, "UTF-8"),
        ("cut", "fichier tronqué"),
        ("comma", "colonne"),
        ("nomillesime", "millésime inconnu"),
    ],
)
def test_a_bad_inserjeunes_file_is_refused_whole_store_unchanged(
    engine: Engine, tmp_path: Path, path: Any, reason: str
) -> None:
    import_inserjeunes(engine, IJ)
    before = _count(engine, TrainingOutcome)
    text = IJ.read_text(encoding="utf-8")
    if path == "cut":
        path = tmp_path / "inserjeunes-2022-2023.csv"
        path.write_text(text[: len(text) // 2 - 5], encoding="utf-8")  # cut inside a row
    elif path == "comma":
        path = tmp_path / "inserjeunes-2022-2023.csv"
        path.write_text(text.replace(";", ","), encoding="utf-8")
    elif path == "nomillesime":
        path = tmp_path / "inserjeunes.csv"
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportRefused, match=reason):
        import_inserjeunes(engine, path)
    assert _count(engine, TrainingOutcome) == before


def test_the_cli_imports_both_refuses_bad_files_and_data_status_lists_the_differences(
    engine: Engine, tmp_path: Path
) -> None:
    env = {"PASSERELLES_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "PASSERELLES_VAR_DIR": str(tmp_path)}  # fmt: skip
    runner = CliRunner()
    dry = runner.invoke(cli, ["import", "rncp", str(RNCP), "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "Simulation" in dry.output and _count(engine, RncpSheet) == 0
    ok = runner.invoke(cli, ["import", "rncp", str(RNCP), "--json"], env=env)
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output[ok.output.index("{") :])["counts"]["fiche"]["created"] == 7
    cut = runner.invoke(cli, ["import", "rncp", str(RNCP_CUT)], env=env)
    assert cut.exit_code == 2 and "fichier tronqué" in cut.output
    ij = runner.invoke(cli, ["import", "inserjeunes", str(IJ)], env=env)
    assert ij.exit_code == 0 and re.search(r"taux\s+9\s", ij.output), ij.output
    bad = runner.invoke(cli, ["import", "inserjeunes", str(IJ_ESTABLISHMENT)], env=env)
    assert bad.exit_code == 2 and "par établissement" in bad.output
    status = runner.invoke(cli, ["data", "status"], env=env)
    assert status.exit_code == 0, status.output
    assert "Écarts entre les certifications du projet et le RNCP importé (4" in status.output
    assert "RNCP36836) — niveau" in status.output
    assert re.search(r"rncp\s.*importé", status.output) and re.search(r"inserjeunes\s.*refusé", status.output)
    as_json = json.loads(runner.invoke(cli, ["data", "status", "--json"], env=env).output)
    assert {d["field"] for d in as_json["rncp_differences"]} == {"niveau", "voies", "état", "numéro RNCP"}


# ---------------------------------------------------------------- pages


PARIS = ("75056", "Paris", 48.8566, 2.3522)
LYON = ("69123", "Lyon", 45.764, 4.8357)
MARSEILLE = ("13055", "Marseille", 43.2965, 5.3698)


def _seed(engine: Engine) -> dict[str, int]:
    with make_sessionmaker(engine)() as s:
        cert = {c.slug: c.id for c in s.scalars(select(Certification))}
        prov = Provider(external_id="ij-p", name="Institut Essai", row_hash="x")
        s.add(prov)
        s.flush()
        training = Training(external_id="ij-t", title="Formation essai", provider_id=prov.id, row_hash="x")
        s.add(training)
        s.flush()
        ids: dict[str, int] = {}
        for name, slug, (code, city, lat, lon), days in [
            ("aepe-paris", "cap-aepe", PARIS, 40),
            ("aepe-lyon", "cap-aepe", LYON, 30),
            ("assp-paris", "bac-pro-assp", PARIS, 20),
            ("deas-paris", "deas", PARIS, 10),
            ("sp3s-marseille", "bts-sp3s", MARSEILLE, 50),
        ]:
            row = TrainingSession(
                external_id=name, training_id=training.id, provider_id=prov.id, certification_id=cert[slug],
                title=f"Session {name}", start_date=TODAY + dt.timedelta(days=days), commune_code=code, city=city,
                latitude=lat, longitude=lon, row_hash="x", routes=["apprentissage"],
            )  # fmt: skip
            s.add(row)
            s.flush()
            ids[name] = row.id
        s.commit()
    return ids


@pytest.fixture(scope="module")
def seeded(loaded_engine: Engine, databases: DatabaseFactory) -> Iterator[tuple[Engine, dict[str, int]]]:
    loaded_engine.dispose()  # a PostgreSQL template must have no open connection
    engine = databases.clone(loaded_engine.dialect.name, loaded_engine)
    ids = _seed(engine)
    yield engine, ids
    databases.release(engine)


def _web(engine: Engine) -> TestClient:
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False), environment="test")
    return TestClient(create_app(settings, engine=engine), raise_server_exceptions=False)


def test_pages_read_well_without_rates_then_show_them(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = seeded
    with engine.begin() as conn:
        conn.execute(delete(TrainingOutcome))  # the other tests of this module may have imported them
    web = _web(engine)
    session_page = web.get(f"/formations/sessions/{ids['aepe-paris']}")
    assert session_page.status_code == 200 and "Que deviennent" not in session_page.text
    compare = web.get("/formations/comparer", params={"ids": f"{ids['aepe-paris']},{ids['deas-paris']}"})
    assert compare.status_code == 200 and "Insertion des jeunes" not in compare.text
    assert "meilleure insertion" not in web.get("/formations").text

    import_inserjeunes(engine, IJ)
    page = _visible(web.get(f"/formations/sessions/{ids['aepe-paris']}").text)
    assert "Que deviennent les jeunes formés à ce diplôme ?" in page
    assert (
        "En apprentissage : 58 % en emploi 6 mois après la sortie, 64 % à 12 mois ; 31 % poursuivent leurs études"
        in page
    )
    assert "valeur ajoutée +2 points" in page
    assert "sortis en 2022 et 2023" in page and "en Île-de-France" in page
    assert "particulier employeur" in page and "du CAP au BTS" in page
    assert "InserJeunes, DEPP et DARES" in page
    lyon = _visible(web.get(f"/formations/sessions/{ids['aepe-lyon']}").text)
    assert "63 % en emploi 6 mois" in lyon and "en Auvergne-Rhône-Alpes" in lyon
    # No rate for the DEAS (not in the file): no section, nothing empty.
    assert "Que deviennent" not in web.get(f"/formations/sessions/{ids['deas-paris']}").text


def test_the_comparison_shows_and_sorts_by_outcome(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = seeded
    import_inserjeunes(engine, IJ)
    web = _web(engine)
    order = [ids["deas-paris"], ids["aepe-paris"], ids["assp-paris"]]
    chosen = web.get("/formations/comparer", params={"ids": ",".join(map(str, order))})
    text = _visible(chosen.text)
    assert "Insertion des jeunes formés" in text and "Pas de chiffre publié pour cette certification" in text
    assert "58 % en emploi 6 mois après" in text and "61 % en emploi 6 mois après" in text
    assert "ce que comptent ces chiffres" in text
    ranked = web.get("/formations/comparer", params={"ids": ",".join(map(str, order)), "tri": "insertion"})
    titles = re.findall(r'<th scope="col"><a href="/formations/sessions/(\d+)"', ranked.text)
    assert [int(t) for t in titles] == [ids["assp-paris"], ids["aepe-paris"], ids["deas-paris"]]
    chosen_order = ",".join(map(str, order)).replace(",", "%2C")
    assert f'href="/formations/comparer?ids={chosen_order}">ordre choisi' in ranked.text


def test_the_training_search_sorts_by_best_outcome(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = seeded
    with make_sessionmaker(engine)() as s:  # no rate: the order « meilleure insertion » is the date's
        s.execute(delete(TrainingOutcome))
        s.commit()
        by_date = [i.id for i in search_sessions(s, TrainingQuery()).items]
        assert [i.id for i in search_sessions(s, TrainingQuery(tri="insertion")).items] == by_date
    import_inserjeunes(engine, IJ)
    with make_sessionmaker(engine)() as s:
        results = search_sessions(s, TrainingQuery(tri="insertion"))
        got = [i.id for i in results.items]
        around = search_sessions(s, TrainingQuery(tri="insertion", commune="75056", rayon=30))
    # BTS SP3S in PACA has no rate there (its Grand Est row was rejected): last with the DEAS, by date.
    assert got[:3] == [ids["aepe-lyon"], ids["assp-paris"], ids["aepe-paris"]]
    assert set(got[3:]) == {ids["deas-paris"], ids["sp3s-marseille"]}
    assert [i.id for i in around.items] == [ids["assp-paris"], ids["aepe-paris"], ids["deas-paris"]]
    page = _visible(_web(engine).get("/formations", params={"tri": "insertion"}).text)
    assert "Classées par le taux d'emploi" in page and "particulier employeur" in page
    # Page after page, the order is the same as on one page (rates skipped by their counts, then by date).
    with make_sessionmaker(engine)() as s:
        paged = [
            i.id
            for n in range(1, len(got) + 1)
            for i in search_sessions(s, TrainingQuery(tri="insertion", page=n), page_size=1).items
        ]
        pairs = [
            i.id
            for n in (1, 2, 3)
            for i in search_sessions(s, TrainingQuery(tri="insertion", page=n), page_size=2).items
        ]
    assert paged == got and pairs == got[:6]
    assert "63 % des jeunes formés à ce diplôme en emploi 6 mois après" in page
