"""Shape rules (issue 18): only Settings reads the environment; no module imports a private name of another."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import passerelles
from passerelles.settings import Settings

SRC = Path(passerelles.__file__).parent


def test_only_settings_reads_the_environment() -> None:
    readers = [
        str(path.relative_to(SRC))
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "settings.py"
        and "migrations" not in path.parts
        and re.search(r"os\.environ|getenv\(", path.read_text(encoding="utf-8"))
    ]
    assert readers == []


def test_import_workers_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PASSERELLES_IMPORT_WORKERS", " ")
    assert Settings().import_workers is None  # set but empty: chosen by the size of the input
    monkeypatch.setenv("PASSERELLES_IMPORT_WORKERS", "0")
    assert Settings().import_workers == 0
    monkeypatch.setenv("PASSERELLES_IMPORT_WORKERS", "17")
    with pytest.raises(ValueError, match="PASSERELLES_IMPORT_WORKERS : nombre de 0 à 16"):
        Settings()


def test_paths_follow_their_directories(tmp_path: Path) -> None:
    (tmp_path / "lheo").mkdir()
    settings = Settings(reference_dir=tmp_path / "ref", data_dir=tmp_path)
    assert settings.synonyms_file == tmp_path / "ref" / "search" / "synonyms.yaml"
    assert settings.opendata_registry == tmp_path / "ref" / "opendata" / "registry.yaml"
    assert settings.lheo_xsd is None  # no schema in this data directory
    (tmp_path / "lheo" / "lheo-2.3.xsd").write_text("<schema/>")
    assert settings.lheo_xsd == tmp_path / "lheo" / "lheo-2.3.xsd"


def test_no_module_imports_a_private_name_of_another() -> None:
    # Issue 18: the CLI imported rome.importer's private _checksum; what is shared is public.
    private = [
        f"{path.relative_to(SRC)}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        if "migrations" not in path.parts
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"\s*from passerelles[\w.]* import .*\b_[a-z]", line)
    ]
    assert private == []
