"""The CLI against a real loaded database (both engines), through Typer's runner."""

from __future__ import annotations

import ast
import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def test_search_on_a_read_node_without_index_is_refused_plainly(loaded_engine: Engine, tmp_path: Path) -> None:
    env = {
        "PASSERELLES_DATABASE_URL": loaded_engine.url.render_as_string(hide_password=False),
        "PASSERELLES_SEARCH_REPLICA": "true",
        "PASSERELLES_SEARCH_INDEX_DIR": str(tmp_path / "index"),
    }
    result = runner.invoke(app, ["search", "aide-soignant"], env=env)
    assert result.exit_code == 2
    assert "passerelles index pull" in result.output and "Traceback" not in result.output


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
    from tests.support.databases import ROME_DIR

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


@pytest.mark.parametrize("empty_engine", ["sqlite", "postgresql"], indirect=True)
def test_data_status_lists_each_feed_with_its_latest_import(empty_engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.support.databases import SHARED_DATA

    lheo = SHARED_DATA / "lheo"
    sample = lheo / "exemple-photographe.xml"
    for extra in ([], ["--full"], ["--dry-run"]):  # a dry run writes nothing, not even its run
        code, out = run(empty_engine, "import", "lheo", str(sample), "--rejects", str(tmp_path / "r.jsonl"), *extra)
        assert code == 0, out
    code, out = run(empty_engine, "import", "lheo", str(lheo / "exemple-bts-onisep.xml"), "--dry-run")
    assert code == 0, out
    broken = tmp_path / "exemple-leger.xml"  # a léger index cut before its end: refused whole
    broken.write_bytes((lheo / "exemple-leger.xml").read_bytes()[:-40])
    code, out = run(empty_engine, "import", "lheo", str(broken))
    assert code == 2, out
    code, out = run(empty_engine, "data", "status", "--json")
    assert code == 0, out
    status = json.loads(out)
    assert {d["id"] for d in status["datasets"]} >= {"rome", "cog"}
    feeds = {f["source"]: f for f in status["imports"]}
    assert set(feeds) == {"exemple-photographe.xml", "exemple-leger.xml"}  # file names, never paths
    photo, light = feeds["exemple-photographe.xml"], feeds["exemple-leger.xml"]
    assert (photo["importer"], photo["status"], photo["runs"], photo["full"], photo["version"]) == (
        "lheo",
        "ok",
        2,
        True,
        "1.3",
    )
    assert photo["counts"]["training"] == {"created": 0, "updated": 0, "unchanged": 1, "removed": 0, "rejected": 0}
    assert photo["fresh"] is True and photo["age_days"] == 0
    assert light["status"] == "refused" and "tronqué" in light["message"] and light["counts"] == {}
    assert next(f["source"] for f in status["imports"]) == "exemple-leger.xml"  # the latest first
    code, out = run(empty_engine, "data", "status")
    assert code == 0 and "Flux importés" in out and "exemple-photographe.xml" in out and "refusé" in out


def test_each_command_lives_in_its_package_commands_module() -> None:
    # Issue 18: cli.py only assembles; every command is written in a package's commands.py.
    import typer

    def callbacks(command: Any, path: str) -> Iterator[tuple[str, Any]]:
        if hasattr(command, "list_commands"):
            ctx = type(command).context_class(command)
            for name in command.list_commands(ctx):
                yield from callbacks(command.get_command(ctx, name), f"{path} {name}".strip())
        else:
            yield path, command.callback

    found = dict(callbacks(typer.main.get_command(app), ""))
    assert {"init", "import rome", "import offres", "data status", "index rebuild", "parcours", "user create"} <= set(
        found
    )
    elsewhere = {path: f.__module__ for path, f in found.items() if not f.__module__.endswith(".commands")}
    assert elsewhere == {}


@pytest.mark.parametrize("module", ["cli", "app"])
def test_imports_come_first(module: str) -> None:
    # No import below the code of cli.py and app.py (they were at the bottom, for no cycle).
    tree = ast.parse(Path(importlib.import_module(f"passerelles.{module}").__file__ or "").read_text())
    kinds = [isinstance(node, ast.Import | ast.ImportFrom) for node in tree.body]
    assert True not in kinds[kinds.index(False, 1) :]  # after the docstring, imports, then no more
