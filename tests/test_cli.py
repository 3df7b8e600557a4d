"""The CLI against a real loaded database (both engines), through Typer's runner."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from passerelles.cli import app

runner = CliRunner()


def run(engine: Engine, *args: str) -> tuple[int, str]:
    env = {"PASSERELLES_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("AMP", "accompagnant-educatif-et-social"),
        ("aide medico psychologique", "accompagnant-educatif-et-social"),
        ("auxilliaire de puericulture", "auxiliaire-de-puericulture"),
        ("infirmieres", "infirmier"),
    ],
)
def test_search_json_gives_expected_occupation_first(loaded_engine: Engine, query: str, expected: str) -> None:
    code, out = run(loaded_engine, "search", query, "--json")
    assert code == 0, out
    results = json.loads(out)
    assert results[0]["type"] == "occupation" and results[0]["id"] == expected
    assert {"type", "id", "title", "url", "rome_codes"} <= set(results[0])


def test_metier_and_certification_commands(loaded_engine: Engine) -> None:
    code, out = run(loaded_engine, "metier", "AMP", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["slug"] == "accompagnant-educatif-et-social"
    code, out = run(loaded_engine, "certification", "DEAES", "--json")
    assert code == 0 and json.loads(out)["slug"] == "deaes"
    code, out = run(loaded_engine, "certification", "deamp")
    assert code == 0 and "Remplacé par" in out
    code, out = run(loaded_engine, "metier", "zzzzqqq")
    assert code == 2


def test_import_rome_json_report_on_reimport(loaded_engine: Engine) -> None:
    from .conftest import ROME_DIR

    code, out = run(loaded_engine, "import", "rome", str(ROME_DIR), "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["counts"]["rome_fiche"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 1584,
        "removed": 0,
        "rejected": 0,
    }
    code, out = run(loaded_engine, "import", "rome", "/nonexistent/dir")
    assert code == 2
