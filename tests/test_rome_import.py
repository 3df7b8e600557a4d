"""ROME 4 importer on the real 4.60 export (read in place), on SQLite and PostgreSQL."""

from __future__ import annotations

import http.server
import threading
import zipfile
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from passerelles.importing.report import ImportRefused
from passerelles.rome.importer import import_rome
from passerelles.rome.models import RomeAppellation, RomeFiche, RomeFicheItem, RomeMobility, RomeText
from tests.support.databases import BACKENDS, ROME_DIR

FICHES = "unix_referentiel_code_rome_v460_utf8.csv"
APPELLATIONS = "unix_referentiel_appellation_v460_utf8.csv"


def count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)) or 0)


def test_whole_export_is_loaded(loaded_engine: Engine) -> None:
    assert count(loaded_engine, RomeFiche) == 1584
    assert count(loaded_engine, RomeAppellation) == 13120
    assert count(loaded_engine, RomeMobility) == 14912
    assert count(loaded_engine, RomeText) == 11980
    assert count(loaded_engine, RomeFicheItem) == 104219


def test_reimport_changes_nothing(loaded_engine: Engine) -> None:
    report = import_rome(loaded_engine, str(ROME_DIR))
    totals = report.totals
    assert (totals.created, totals.updated, totals.removed, totals.rejected) == (0, 0, 0, 0)
    assert report.counts["rome_fiche"].unchanged == 1584
    assert report.counts["rome_appellation"].unchanged == 13120


def test_codes_keep_their_rome_version(loaded_engine: Engine) -> None:
    with loaded_engine.connect() as conn:
        aes = conn.execute(select(RomeFiche).where(RomeFiche.code_rome == "K1306")).one()
        amp = conn.execute(select(RomeAppellation).where(RomeAppellation.code_ogr == 10856)).one()
    assert aes.rome_version == "4.60"
    assert "Accompagnant" in aes.libelle
    # In ROME 3, K1301 was the AMP's fiche; in ROME 4.60 the AMP appellation belongs to K1306.
    assert (amp.code_rome, amp.rome_version) == ("K1306", "4.60")
    assert amp.libelle_long == "Aide médico-psychologique"


def _partial_export(tmp_path: Path, appellation_lines: list[bytes]) -> Path:
    """A copy of the export with only the two required files, extra raw lines appended to appellations."""
    export = tmp_path / "export"
    export.mkdir()
    (export / FICHES).symlink_to(ROME_DIR / FICHES)
    data = (ROME_DIR / APPELLATIONS).read_bytes()
    (export / APPELLATIONS).write_bytes(data + b"".join(appellation_lines))
    return export


@pytest.mark.parametrize("empty_engine", BACKENDS, indirect=True)
def test_broken_rows_are_reported_and_every_valid_row_loaded(tmp_path: Path, empty_engine: Engine) -> None:
    broken = [
        b'"999001","Trop court","K1306"\n',
        b'"999002","Aide inconnue","Aide inconnue","N9999","","","","","","SYNONYME","","N9999","N"\n',
        '"999003","Aide m\xe9dico","Aide m\xe9dico","K1306","","","","","","SYNONYME","","K1306","N"\n'.encode(
            "latin-1"
        ),
        b'"abc","Code faux","Code faux","K1306","","","","","","SYNONYME","","K1306","N"\n',
        b'"999005","Valide ajoutee","Valide ajoutee","K1306","","","","","","SYNONYME","","K1306","N"\n',
    ]
    report = import_rome(empty_engine, str(_partial_export(tmp_path, broken)))

    assert count(empty_engine, RomeFiche) == 1584
    assert count(empty_engine, RomeAppellation) == 13120 + 1
    rejects = {(r.source, r.position, r.field): r.reason for r in report.rejects}
    assert rejects == {
        (APPELLATIONS, "ligne 13122", "(ligne)"): "nombre de colonnes : 3 au lieu de 13",
        (APPELLATIONS, "ligne 13123", "code_rome"): "référence inconnue : fiche N9999",
        (APPELLATIONS, "ligne 13124", "libelle_appellation_long"): "encodage invalide (UTF-8 attendu)",
        (APPELLATIONS, "ligne 13125", "code_ogr"): "code OGR non numérique",
    }
    assert report.counts["rome_appellation"].rejected == 4
    assert report.counts["rome_appellation"].created == 13121
    assert any("absent" in w for w in report.warnings)  # optional files missing are said, not fatal


@pytest.mark.parametrize("empty_engine", ["sqlite"], indirect=True)
def test_dry_run_writes_nothing(tmp_path: Path, empty_engine: Engine) -> None:
    report = import_rome(empty_engine, str(_partial_export(tmp_path, [])), dry_run=True)
    assert report.counts["rome_fiche"].created == 1584
    assert count(empty_engine, RomeFiche) == 0


@pytest.mark.parametrize("empty_engine", ["sqlite"], indirect=True)
def test_unusable_input_is_refused(tmp_path: Path, empty_engine: Engine) -> None:
    with pytest.raises(ImportRefused, match="introuvable"):
        import_rome(empty_engine, str(tmp_path / "nowhere"))
    with pytest.raises(ImportRefused, match="ROME 4"):
        import_rome(empty_engine, str(tmp_path))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / FICHES).write_text('"code","libelle"\n"K1306","x"\n', encoding="utf-8")
    (bad / APPELLATIONS).symlink_to(ROME_DIR / APPELLATIONS)
    with pytest.raises(ImportRefused, match="en-tête inattendu"):
        import_rome(empty_engine, str(bad))
    assert count(empty_engine, RomeFiche) == 0


@pytest.mark.parametrize("empty_engine", ["sqlite"], indirect=True)
def test_import_from_url_of_a_zip_served_locally(tmp_path: Path, empty_engine: Engine) -> None:
    served = tmp_path / "www"
    served.mkdir()
    with zipfile.ZipFile(served / "rome.zip", "w") as zf:
        zf.write(ROME_DIR / FICHES, f"RefRomeCsv/{FICHES}")
        zf.write(ROME_DIR / APPELLATIONS, f"RefRomeCsv/{APPELLATIONS}")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/rome.zip"
        report = import_rome(empty_engine, url)
        with pytest.raises(ImportRefused, match="HTTP 404"):
            import_rome(empty_engine, url.replace("rome.zip", "missing.zip"))
    finally:
        server.shutdown()
        server.server_close()
    assert report.version == "4.60"
    assert count(empty_engine, RomeAppellation) == 13120


@pytest.mark.parametrize("empty_engine", BACKENDS, indirect=True)
def test_a_broken_fiche_or_missing_files_never_delete_what_is_stored(tmp_path: Path, empty_engine: Engine) -> None:
    import_rome(empty_engine, str(ROME_DIR))
    before = {m: count(empty_engine, m) for m in (RomeFiche, RomeAppellation, RomeFicheItem, RomeMobility, RomeText)}
    export = tmp_path / "partial"
    export.mkdir()
    (export / APPELLATIONS).symlink_to(ROME_DIR / APPELLATIONS)
    lines = (ROME_DIR / FICHES).read_text("utf-8").splitlines(keepends=True)
    k1306 = next(i for i, line in enumerate(lines) if line.startswith('"K1306"'))
    lines[k1306] = lines[k1306].rsplit(",", 2)[0] + "\n"  # two columns short: the row is broken
    long_row = next(i for i, line in enumerate(lines) if line.startswith('"J1501"'))
    cells = lines[long_row].rstrip("\n").split('","')
    cells[4] = "x" * 500  # transition_eco: longer than its column
    lines[long_row] = '","'.join(cells) + "\n"
    (export / FICHES).write_text("".join(lines), "utf-8")

    report = import_rome(empty_engine, str(export))

    positions = {(r.source, r.field): r for r in report.rejects if r.source == FICHES}
    assert len(positions) == 2, report.rejects
    assert positions[(FICHES, "(ligne)")].position == f"ligne {k1306 + 1}"
    assert positions[(FICHES, "transition_eco")].position == f"ligne {long_row + 1}"
    assert "valeur trop longue (500 caractères" in positions[(FICHES, "transition_eco")].reason
    assert any("K1306" in w and "conservées" in w for w in report.warnings)
    assert any("fichier absent" in w for w in report.warnings)
    assert report.totals.removed == 0 and report.totals.updated == 0
    after = {m: count(empty_engine, m) for m in before}
    assert after == before  # nothing lost: the rejected fiches and the unread files' rows are kept


@pytest.mark.parametrize("empty_engine", BACKENDS, indirect=True)
def test_removing_a_fiche_that_kept_rows_still_name_is_refused_whole(tmp_path: Path, empty_engine: Engine) -> None:
    # The export drops a fiche while the files of its items, texts and mobilities are absent: their stored
    # rows are kept, so the fiche cannot go. Refused as a whole, with a French reason; nothing changes.
    import_rome(empty_engine, str(ROME_DIR))
    before = {m: count(empty_engine, m) for m in (RomeFiche, RomeAppellation, RomeFicheItem, RomeMobility, RomeText)}
    export = tmp_path / "without-k1306"
    export.mkdir()
    for name, code in ((FICHES, '"K1306"'), (APPELLATIONS, None)):
        lines = (ROME_DIR / name).read_text("utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not (code and line.startswith(code)) and '"K1306"' not in line]
        (export / name).write_text("".join(kept), "utf-8")

    with pytest.raises(ImportRefused, match="base inchangée"):
        import_rome(empty_engine, str(export))

    assert {m: count(empty_engine, m) for m in before} == before
