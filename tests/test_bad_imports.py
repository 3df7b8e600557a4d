"""Issue 14: a corpus of bad import files, built here from the real data read in place (the ROME 4.60
export, the LHÉO samples) and from the offers fixtures, each run through the CLI on SQLite and PostgreSQL.

Each file is either refused as a whole (exit 2, a French message naming the file and the reason, the store
unchanged: compared row by row before and after) or rejected record by record (a reject line with file,
position, field and reason; the other records imported). Every run is recorded in ``import_run``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Table, select
from typer.testing import CliRunner

from passerelles.cli import app
from passerelles.importing.models import ImportRun
from passerelles.offers.models import Employer, JobOffer
from passerelles.rome.importer import import_rome
from passerelles.rome.models import RomeAppellation, RomeFiche, RomeFicheItem, RomeItem, RomeMobility, RomeText
from passerelles.sources.models import Source
from passerelles.trainings.models import Provider, Training, TrainingSession
from tests.support.databases import BACKENDS, ROME_DIR, SHARED_DATA, Clones, DatabaseFactory, reference_clones

from .test_lheo import catalogue, formation_xml, lheo_clones, session_xml
from .test_offers_import import COMMUNE_ROWS, FT_FEED, ft_offers

FICHES = "unix_referentiel_code_rome_v460_utf8.csv"
APPELLATIONS = "unix_referentiel_appellation_v460_utf8.csv"
TEXTS = "unix_texte_v460_utf8.csv"
ROME_TABLES = [RomeFiche, RomeAppellation, RomeItem, RomeFicheItem, RomeMobility, RomeText, Source]
OFFER_TABLES = [JobOffer, Employer]
LHEO_TABLES = [Provider, Training, TrainingSession]
LHEO_DIR = SHARED_DATA / "lheo"

runner = CliRunner()


def cli(engine: Engine, *args: str, **settings: str) -> tuple[int, str]:
    env = {"PASSERELLES_DATABASE_URL": engine.url.render_as_string(hide_password=False), **settings}
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def fingerprint(engine: Engine, models: list[Any]) -> dict[str, tuple[int, str]]:
    """Each table's row count and a checksum of its rows (in key order)."""
    out = {}
    with engine.connect() as conn:
        for model in models:
            table: Table = model.__table__
            found = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = (len(found), hashlib.sha256(repr(found).encode()).hexdigest())
    return out


def runs(engine: Engine) -> list[tuple[str, str, str, str | None]]:
    """(importer, file, status, message) of each recorded run, oldest first."""
    with engine.connect() as conn:
        table = ImportRun.__table__
        query = select(table.c.importer, table.c.source, table.c.status, table.c.message).order_by(table.c.id)
        return [tuple(r) for r in conn.execute(query)]  # type: ignore[misc]


def refused(engine: Engine, models: list[Any], *args: str, match: str) -> str:
    """Run the CLI: exit 2, the message matches, the store is unchanged; the run is recorded as refused."""
    before = fingerprint(engine, models)
    code, out = cli(engine, *args)
    assert code == 2, out
    assert re.search(match, out), out
    assert fingerprint(engine, models) == before
    importer, _, status, message = runs(engine)[-1]
    assert (importer, status) == (args[1], "refused"), runs(engine)
    assert message and re.search(match, message), message
    return out


def rejects_of(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------- ROME 4.60, the real export


@pytest.fixture(scope="module")
def rome_templates(databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Clones:
    """Per backend: a database holding the two required files of the real export, cloned for each test."""
    folder = tmp_path_factory.mktemp("rome-template")
    return Clones(databases, "rome-minimal", lambda engine: import_rome(engine, str(export(folder))))


@pytest.fixture(params=BACKENDS)
def rome_engine(request: pytest.FixtureRequest, rome_templates: Clones, databases: DatabaseFactory) -> Iterator[Engine]:
    engine = rome_templates(request.param)
    yield engine
    databases.release(engine)


def export(folder: Path, **files: bytes) -> Path:
    """An export folder: the real fiches and appellations (read in place), ``files`` written instead."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in (FICHES, APPELLATIONS, *files):
        if name in files:
            (folder / name).write_bytes(files[name])
        elif not (folder / name).exists():
            (folder / name).symlink_to(ROME_DIR / name)
    return folder


def test_rome_bad_files_are_refused_and_change_nothing(rome_engine: Engine, tmp_path: Path) -> None:
    appellations = (ROME_DIR / APPELLATIONS).read_bytes()
    fiches = (ROME_DIR / FICHES).read_bytes()
    texts = (ROME_DIR / TEXTS).read_bytes()
    half = appellations.index(b"\n", len(appellations) // 2)
    corpus = {
        # Converted to Latin-1: 9 049 appellations would have been unreadable, and deleted.
        "latin1": ({APPELLATIONS: appellations.decode("utf-8").encode("latin-1", "replace")}, "encodage invalide"),
        "header": ({APPELLATIONS: appellations[: appellations.index(b"\n") + 1]}, "en-tête seul"),
        "cut-mid-line": ({FICHES: fiches[: fiches.index(b"\n", len(fiches) // 2) - 30]}, "fichier tronqué"),
        # Cut inside the last (quoted) value of a line: the csv module would read that row as whole.
        "cut-in-a-value": ({TEXTS: texts[: texts.index(b'"\n', len(texts) // 2) - 5]}, "fichier tronqué"),
        "utf16": ({APPELLATIONS: appellations.decode("utf-8").encode("utf-16")}, "encodage UTF-16"),
        # Cut at a line end: half of the 13 120 appellations gone, more than 20 %.
        "half": ({APPELLATIONS: appellations[: half + 1]}, r"lignes \(appellations\) sur 13\u202f120 .* --force"),
    }
    for name, (files, reason) in corpus.items():
        folder = export(tmp_path / name, **files)
        match = reason if name == "half" else f"{re.escape(next(iter(files)))} : .*{reason}"
        refused(rome_engine, ROME_TABLES, "import", "rome", str(folder), "--rejects", str(tmp_path / "r"), match=match)
    assert [r[:3] for r in runs(rome_engine)] == [("rome", name, "refused") for name in corpus]

    # A deliberate purge goes through with --force.
    gone = 13120 - appellations[: half + 1].count(b"\n") + 1
    code, out = cli(rome_engine, "import", "rome", str(tmp_path / "half"), "--force", "--json")
    assert code == 0, out
    assert json.loads(out)["counts"]["rome_appellation"]["removed"] == gone > 6000
    assert fingerprint(rome_engine, [RomeAppellation])["rome_appellation"][0] == 13120 - gone
    assert runs(rome_engine)[-1][:3] == ("rome", "half", "ok")


def test_rome_huge_cell_rejects_its_row_and_deletes_nothing(rome_engine: Engine, tmp_path: Path) -> None:
    appellations = (ROME_DIR / APPELLATIONS).read_bytes()
    amp = '"Aide médico-psychologique"'.encode()
    line = appellations[: appellations.index(amp)].count(b"\n") + 1
    huge = appellations.replace(amp, b'"' + b"x" * (20 * 1024 * 1024) + b'"', 1)
    before = fingerprint(rome_engine, ROME_TABLES[:-1])
    rejects = tmp_path / "rejets.jsonl"
    code, out = cli(
        rome_engine, "import", "rome", str(export(tmp_path / "huge", **{APPELLATIONS: huge})), "--rejects", str(rejects)
    )
    assert code == 0, out
    (reject,) = rejects_of(rejects)
    assert (reject["source"], reject["position"], reject["field"]) == (
        APPELLATIONS,
        f"ligne {line}",
        "libelle_appellation_long",
    )
    assert reject["reason"].startswith("valeur trop longue (20 971 520 caractères")
    assert fingerprint(rome_engine, ROME_TABLES[:-1]) == before  # the stored row is kept, not deleted
    assert runs(rome_engine)[-1][:3] == ("rome", "huge", "ok")


# ---------------------------------------------------------------- offers, from the fixtures


@pytest.fixture(params=BACKENDS)
def offers_engine(request: pytest.FixtureRequest, databases: DatabaseFactory, tmp_path: Path) -> Iterator[Engine]:
    """A database holding 120 open France Travail offers (the fixture's six, twenty times)."""
    engine = reference_clones(databases, COMMUNE_ROWS)(request.param)
    code, out = cli(engine, "import", "offres", str(write_jsonl(tmp_path / "base.jsonl", many())), "--full")
    assert code == 0, out
    yield engine
    databases.release(engine)


def many(n: int = 20) -> list[dict[str, Any]]:
    return [{**o, "id": f"{o['id']}-{i:02}"} for i in range(n) for o in ft_offers()]


def write_jsonl(path: Path, records: list[Any], encoding: str = "utf-8") -> Path:
    path.write_bytes("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode(encoding, "replace"))
    return path


def test_offer_bad_feeds_are_refused_and_change_nothing(offers_engine: Engine, tmp_path: Path) -> None:
    records = many()
    feed = write_jsonl(tmp_path / "feed.jsonl", records).read_bytes()
    array = json.dumps(records, ensure_ascii=False).encode()
    bad = [{**o, "dateCreation": "hier"} for o in records[:30]] + records[30:]
    corpus: dict[str, tuple[bytes, str]] = {
        # head -c 50% feed.jsonl: used to close half of the offers.
        "cut.jsonl": (feed[: len(feed) // 2 + 77], r"cut\.jsonl : JSON illisible, fichier tronqué"),
        "utf16.jsonl": (feed.decode("utf-8").encode("utf-16"), "utf16.jsonl : encodage UTF-16"),
        "utf16le.json": (array.decode("utf-8").encode("utf-16-le"), "utf16le.json : encodage UTF-16"),
        "latin1.jsonl": (feed.decode("utf-8").encode("latin-1", "replace"), r"latin1\.jsonl : .*encodage invalide"),
        "cut.json": (array[: len(array) // 2], r"cut\.json : JSON illisible, fichier tronqué"),
        "unclosed.json": (array[:-1], r"unclosed\.json : JSON illisible, fichier tronqué"),
        "rejects.jsonl": (write_jsonl(tmp_path / "r.jsonl", bad).read_bytes(), r"rejects\.jsonl : 30 enregistrement"),
        # Cut at a line end, a full feed: 60 of 120 open offers would be closed.
        "half.jsonl": (feed[: feed.index(b"\n", len(feed) // 2) + 1], r"offres ouvertes .* --force"),
    }
    for name, (content, match) in corpus.items():
        (tmp_path / name).write_bytes(content)
        out = refused(
            offers_engine,
            OFFER_TABLES,
            "import",
            "offres",
            str(tmp_path / name),
            "--full",
            "--rejects",
            str(tmp_path / "rejets.jsonl"),
            match=match,
        )
        assert "Traceback" not in out
    code, out = cli(offers_engine, "import", "offres", str(tmp_path / "half.jsonl"), "--full", "--force", "--json")
    assert code == 0, out
    gone = 120 - corpus["half.jsonl"][0].count(b"\n")
    assert json.loads(out)["counts"]["job_offer"]["removed"] == gone > 50
    with offers_engine.connect() as conn:
        assert len(conn.execute(select(JobOffer.id).where(JobOffer.closed_at.is_not(None))).all()) == gone
    # The share of rejects is a setting: at 50 %, the feed with 30 bad records of 120 goes through.
    rejects = tmp_path / "rejets.jsonl"
    code, out = cli(
        offers_engine,
        "import",
        "offres",
        str(tmp_path / "rejects.jsonl"),
        "--rejects",
        str(rejects),
        PASSERELLES_IMPORT_MAX_REJECTED_SHARE="0.5",
    )
    assert code == 0, out
    assert len(rejects_of(rejects)) == 30


def test_offer_bad_records_are_rejected_one_by_one(offers_engine: Engine, tmp_path: Path) -> None:
    first, second, *_ = ft_offers()
    deep = '{"id": "DEEP1", "intitule": ' + "[" * 100_000 + "]" * 100_000 + "}"
    lines = [json.dumps(first), deep, json.dumps({**second, "id": first["id"]}), json.dumps(second)]
    feed = tmp_path / "mixte.jsonl"
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejets.jsonl"
    code, out = cli(offers_engine, "import", "offres", str(feed), "--rejects", str(rejects))
    assert code == 0, out
    found = {(r["position"], r["field"]): r["reason"] for r in rejects_of(rejects)}
    assert found == {
        (
            "offre sans identifiant (ligne 2)",
            "(enregistrement)",
        ): "imbrication trop profonde (plus de 1 000 niveaux de listes ou d'objets)",
        (
            f"offre {first['id']} (ligne 3)",
            "id",
        ): "offre en double dans le flux : seule la première occurrence est gardée",
    }
    assert all(r["source"] == "mixte.jsonl" for r in rejects_of(rejects))
    assert runs(offers_engine)[-1][:3] == ("offres", "mixte.jsonl", "ok")

    # The same in a JSON array (the deep element skipped without being decoded), with a 33 MB field.
    big = {**first, "id": "BIG1", "description": "x" * (33 * 1024 * 1024)}
    array = tmp_path / "tableau.json"
    array.write_text(
        "[" + ",".join([json.dumps(first), deep, json.dumps(big), json.dumps({**second, "id": "NEW1"})]) + "]",
        encoding="utf-8",
    )
    code, out = cli(offers_engine, "import", "offres", str(array), "--rejects", str(rejects))
    assert code == 0, out
    found = {(r["position"], r["field"]): r["reason"] for r in rejects_of(rejects)}
    assert found[("offre sans identifiant (élément 2)", "(enregistrement)")].startswith("imbrication trop profonde")
    assert found[("offre BIG1 (élément 3)", "description")].startswith("texte trop long (34 603 008 caractères")
    with offers_engine.connect() as conn:
        assert conn.execute(select(JobOffer.id).where(JobOffer.external_id == "NEW1")).first() is not None


def test_rejects_go_to_the_configured_directory(offers_engine: Engine, tmp_path: Path) -> None:
    # Without --rejects, the rejects file goes under PASSERELLES_VAR_DIR (a setting, issue 18), not the clone.
    first = ft_offers()[0]
    feed = write_jsonl(tmp_path / "doublon.jsonl", [first, first])
    code, out = cli(offers_engine, "import", "offres", str(feed), PASSERELLES_VAR_DIR=str(tmp_path / "var"))
    assert code == 0, out
    (written,) = (tmp_path / "var" / "rejects").glob("*.jsonl")
    assert f"Rejets écrits dans {written}" in out and len(rejects_of(written)) == 1


def test_a_failed_run_is_recorded(offers_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from passerelles.offers.importer import loader as importer

    def broken(conn: Any) -> Any:
        raise RuntimeError("panne")

    monkeypatch.setattr(importer.CommuneIndex, "load", broken)  # a failure the importer does not expect
    code, _ = cli(offers_engine, "import", "offres", str(FT_FEED))
    assert code == 1
    assert runs(offers_engine)[-1] == ("offres", FT_FEED.name, "failed", "erreur inattendue (RuntimeError)")
    code, out = cli(offers_engine, "data", "status")
    assert code == 0 and "échoué" in out


# ---------------------------------------------------------------- LHÉO, the real samples


@pytest.fixture(params=BACKENDS)
def lheo_engine(request: pytest.FixtureRequest, databases: DatabaseFactory, tmp_path: Path) -> Iterator[Engine]:
    """A database holding the real BTS sample and 40 generated formations (one session each)."""
    engine = lheo_clones(databases)(request.param)
    for path in (LHEO_DIR / "exemple-bts-onisep.xml", write_xml(tmp_path / "catalogue.xml", range(40))):
        code, out = cli(engine, "import", "lheo", str(path))
        assert code == 0, out
    yield engine
    databases.release(engine)


def write_xml(path: Path, numbers: range, **kwargs: Any) -> Path:
    path.write_text(catalogue(*(formation_xml(f"G{i}", **kwargs) for i in numbers)), encoding="utf-8")
    return path


def test_lheo_bad_files_are_refused_and_change_nothing(lheo_engine: Engine, tmp_path: Path) -> None:
    sample = (LHEO_DIR / "exemple-bts-onisep.xml").read_bytes()
    whole = (tmp_path / "catalogue.xml").read_bytes()
    deep = formation_xml("G99").replace(
        "<contenu-formation>", "<contenu-formation>" + "<p>" * 100_000 + "</p>" * 100_000
    )
    dates = catalogue(*(formation_xml(f"G{i}", sessions=session_xml(f"G{i}-S1", start="20240230")) for i in range(40)))
    corpus: dict[str, tuple[bytes, str]] = {
        "coupe.xml": (sample[: len(sample) // 2], r"coupe\.xml : fichier tronqué"),
        "coupe-apres-formation.xml": (whole[: whole.index(b"</formation>", len(whole) // 2) + 12], "fichier tronqué"),
        "latin1.xml": (
            sample.decode("utf-8").encode("latin-1", "replace"),
            r"latin1\.xml : encodage invalide à la ligne \d+",
        ),
        "utf16.xml": (whole.decode("utf-8").encode("utf-16"), "UTF-16"),
        "profond.xml": (catalogue(deep).encode(), r"profond\.xml.*XML illisible|profond\.xml : .*(depth|profond)"),
        "dates.xml": (dates.encode(), r"dates\.xml : 40 enregistrement"),
        # A full feed with 10 of the 40 formations: 30 sessions would be closed.
        "dix.xml": (write_xml(tmp_path / "d.xml", range(10)).read_bytes(), r"31 sessions ouvertes .* --force"),
    }
    for name, (content, match) in corpus.items():
        (tmp_path / name).write_bytes(content)
        before = fingerprint(lheo_engine, LHEO_TABLES)
        code, out = cli(lheo_engine, "import", "lheo", str(tmp_path / name), "--full", "--rejects", str(tmp_path / "r"))
        assert code == 2, (name, out)
        assert re.search(match, out), (name, out)
        assert "Traceback" not in out
        assert fingerprint(lheo_engine, LHEO_TABLES) == before, name
        assert runs(lheo_engine)[-1][1:3] == (name, "refused")
    code, out = cli(lheo_engine, "import", "lheo", str(tmp_path / "dix.xml"), "--full", "--force", "--json")
    assert code == 0, out
    assert json.loads(out)["counts"]["training_session"]["removed"] == 31


def test_lheo_compressed_cut_file_is_refused(lheo_engine: Engine, tmp_path: Path) -> None:
    whole = (tmp_path / "catalogue.xml").read_bytes()
    path = tmp_path / "coupe.xml.gz"
    path.write_bytes(gzip.compress(whole[: len(whole) // 2]))
    refused(
        lheo_engine,
        LHEO_TABLES,
        "import",
        "lheo",
        str(path),
        "--full",
        match=r"coupe\.xml\.gz : fichier tronqué ou illisible",
    )
