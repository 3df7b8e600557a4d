"""The shape of the feature services (issue 18): modules a newcomer can read, one home for each thing,
package dependencies pointing one way, no dead functions, and the planner's text true to its code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support.imports import imports

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "passerelles"

# The packages this layout covers, and the modules below their web layer (pages, routes and commands call
# services; nothing calls them back).
PACKAGES = ("accounts", "alerts", "caseloads", "employers", "pathways")
WEB_MODULES = {"pages.py", "routes.py", "commands.py"}
SERVICE_MODULES = [
    *(p for package in PACKAGES for p in sorted((SRC / package).glob("*.py")) if p.name not in WEB_MODULES),
    SRC / "trainings" / "services.py",
    SRC / "trainings" / "sessions.py",
]


def _rel(path: Path) -> str:
    return str(path.relative_to(SRC))


def _imports(path: Path) -> list[tuple[str, bool]]:
    """The passerelles modules a file imports, each with whether the import sits inside a function."""
    return [(i.module, i.in_function) for i in imports(path) if i.module.startswith("passerelles")]


@pytest.mark.parametrize("path", SERVICE_MODULES, ids=_rel)
def test_service_modules_stay_readable(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 600, f"{_rel(path)} has {lines} lines: split it along its sections"


@pytest.mark.parametrize("package", [*PACKAGES, "trainings"])
def test_no_import_hidden_inside_a_function(package: str) -> None:
    """An import inside a function hides a dependency (often a cycle) from the reader and the linters."""
    hidden = [
        f"{_rel(path)} imports {module}"
        for path in sorted((SRC / package).glob("*.py"))
        if path.name != "lheo.py"  # the LHÉO reader is another part of issue 18
        for module, in_function in _imports(path)
        if in_function
    ]
    assert hidden == []


def test_service_packages_depend_one_way() -> None:
    """Below the web layer, no package of the accounts/caseloads/employers/alerts/pathways group imports one
    that imports it back (directly or through others)."""
    edges: dict[str, set[str]] = {p: set() for p in PACKAGES}
    for path in SERVICE_MODULES:
        package = path.parent.name
        if package not in edges:
            continue
        for module, _ in _imports(path):
            target = module.split(".")[1] if "." in module else ""
            if target in edges and target != package:
                edges[package].add(target)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            here = todo.pop()
            for nxt in edges[here]:
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    cycles = sorted(f"{a} ⇄ {b}" for a in edges for b in edges[a] if reaches(b, a))
    assert cycles == []


def test_every_service_function_is_used() -> None:
    """A public function of a service module that nothing calls (code, templates, tests) is dead code."""
    corpus = "\n".join(
        p.read_text(encoding="utf-8")
        for base in (ROOT / "src", ROOT / "tests")
        for p in sorted(base.rglob("*"))
        if p.suffix in {".py", ".html"} and p.is_file()
    )
    unused = []
    for path in SERVICE_MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and not node.decorator_list:
                uses = len(re.findall(rf"\b{node.name}\b", corpus))
                if uses < 2:  # its own definition
                    unused.append(f"{_rel(path)}: {node.name}")
    assert unused == []


def test_planner_text_is_true_to_the_code() -> None:
    """The search is an A* (``Planner.remaining`` is its admissible estimate), as docs/architecture.md says;
    each constant's comment sits on the constant it explains."""
    from passerelles.pathways import planner

    assert "A*" in (planner.__doc__ or "")
    assert "remaining" in (planner.__doc__ or "")
    for path in [*sorted((SRC / "pathways").glob("*.py")), ROOT / "docs" / "architecture.md"]:
        assert "uniform-cost" not in path.read_text(encoding="utf-8").lower(), path.name
    source = Path(planner.__file__).read_text(encoding="utf-8")
    assert re.search(r"^STATE_VISITS = \d+  # paths kept through one set of diplomas", source, re.M)
    longer = ast.get_source_segment(source, next(n for n in ast.parse(source).body if _named(n, "longer_routes")))
    assert longer is not None and "diplomas" not in longer


def _named(node: ast.stmt, name: str) -> bool:
    return isinstance(node, ast.FunctionDef) and node.name == name
