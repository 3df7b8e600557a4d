"""The imports a source file makes, read with ast (for the tests of the code's shape)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple


class Imported(NamedTuple):
    module: str  # ``import a.b`` gives a.b (one row a name), ``from a.b import c`` gives a.b
    line: int
    in_function: bool  # inside a function, at any depth
    top: bool  # a statement of the module's own body (not in a function, class or block)


def imports(path: Path) -> list[Imported]:
    """Every import of the file at ``path``, in the order of the source."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[Imported] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            top = node is tree
            if isinstance(child, ast.ImportFrom):
                found.append(Imported(child.module or "", child.lineno, in_function, top))
            elif isinstance(child, ast.Import):
                found.extend(Imported(a.name, child.lineno, in_function, top) for a in child.names)
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(tree, False)
    return found
