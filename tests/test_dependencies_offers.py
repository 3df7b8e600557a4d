"""Package dependencies point one way: the offers' services and importer, the commune resolver and the
demonstration generator import at module level only (no import inside a function to dodge a cycle) and
never from the web layer (pages, routes, form helpers, Starlette, FastAPI)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "passerelles"
MODULES = sorted(
    [
        SRC / "offers" / "services.py",
        SRC / "places" / "resolver.py",
        *(SRC / "offers" / "importer").glob("*.py"),
        *(SRC / "demo").glob("*.py"),
    ]
)
WEB = ("passerelles.webforms", "passerelles.web", "starlette", "fastapi")


def imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return [node.module or ""]
    return [alias.name for alias in node.names]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_at_module_level_and_not_the_web_layer(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        for name in imported(node):
            assert not name.startswith(WEB) and not name.endswith((".pages", ".routes")), (
                f"{path.name}:{node.lineno} imports {name} (web layer)"
            )
            if name.startswith("passerelles"):
                assert id(node) in top, f"{path.name}:{node.lineno} imports {name} inside a function"
