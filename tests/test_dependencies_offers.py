"""Package dependencies point one way: the offers' services and importer, the commune resolver and the
demonstration generator import at module level only (no import inside a function to dodge a cycle) and
never from the web layer (pages, routes, form helpers, Starlette, FastAPI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.imports import imports

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


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_at_module_level_and_not_the_web_layer(path: Path) -> None:
    for name, line, _in_function, top in imports(path):
        assert not name.startswith(WEB) and not name.endswith((".pages", ".routes")), (
            f"{path.name}:{line} imports {name} (web layer)"
        )
        if name.startswith("passerelles"):
            assert top, f"{path.name}:{line} imports {name} inside a function"
