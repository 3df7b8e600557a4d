"""The documentation against the code (after datasette's ``tests/test_docs.py``): every command, route and
setting that README.md and docs/*.md name exists, and every command, route and setting is documented.

Commands are read from the ``sh`` blocks and from inline code starting with ``passerelles``; routes from
inline code holding a path (``/formations/sessions/{id}``, ``GET /api/v1/formations``); settings from every
``PASSERELLES_…`` name. The command tree is the assembled Typer app, the routes those of the FastAPI app.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
import typer
from fastapi.routing import iter_route_contexts

from passerelles.app import create_app
from passerelles.cli import app as cli_app
from passerelles.settings import PROJECT_ROOT, Settings

DOCS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]

# Routes nobody needs to read about, each with its reason.
UNDOCUMENTED_ROUTES = {
    "/docs/oauth2-redirect": "page technique de Swagger UI (FastAPI), sans usage ici",
}
# Variables that are no field of Settings, each with its reason (``_*``: a family of names).
NOT_SETTINGS = {
    "PASSERELLES_FETCH_URL_*": "une variable par jeu de données (PASSERELLES_FETCH_URL_ROME…), lue par Settings",
}

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ROUTE_SPAN = re.compile(r"^(?:(GET|POST|PUT|PATCH|DELETE) )?(/[^\s`]*)$")


# ---------------------------------------------------------------- reading the docs


def texts() -> Iterator[tuple[str, str]]:
    for path in DOCS:
        yield path.name, path.read_text(encoding="utf-8")


def prose(text: str) -> str:
    """The text without its fenced blocks."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def inline_code(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", prose(text))


def sh_lines(text: str) -> list[str]:
    lines = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M):
        lines += [line.split(" # ")[0].split("  #")[0].strip() for line in block.splitlines()]
    return lines


def command_mentions() -> list[tuple[str, str]]:
    """(file, text after ``passerelles``) for each command the docs name."""
    found = []
    for name, text in texts():
        for chunk in sh_lines(text) + inline_code(text):
            for part in chunk.split(";"):
                match = re.search(r"(?:^|\s)passerelles\s+(\S.*)$", part.strip())
                if match:
                    found.append((name, match.group(1).strip()))
    return found


def route_mentions() -> list[tuple[str, str | None, str]]:
    """(file, method or None, path without its query) for each route the docs name."""
    found = []
    for name, text in texts():
        for span in inline_code(text):
            match = ROUTE_SPAN.match(span.strip())
            if match:
                path = re.split(r"[?#]", match.group(2))[0].rstrip("…")
                found.append((name, match.group(1), path))
    return found


# ---------------------------------------------------------------- the code


def command_tree() -> Any:
    """The assembled command line (Typer's click tree: a group has ``commands``, a command ``params``)."""
    return typer.main.get_command(cli_app)


def command_paths(command: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if prefix:
        yield prefix
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from command_paths(sub, (*prefix, name))


@cache
def app_routes() -> dict[str, set[str]]:
    """Path template → methods, for every route of the app (static files aside); the app is built once."""
    app = create_app(Settings(database_url="sqlite://", environment="test", mail_transport="outbox"))
    routes: dict[str, set[str]] = {}
    for route in iter_route_contexts(app.routes):
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path and methods:
            routes.setdefault(path, set()).update(set(methods) - {"HEAD", "OPTIONS"})
    return routes


def segments(path: str) -> list[str]:
    return ["{}" if s.startswith("{") else s for s in path.strip("/").split("/")] if path != "/" else []


def same_route(documented: str, template: str) -> bool:
    """A parameter of the route matches a value or any parameter name (``{id}`` for ``{session_id}``)."""
    a, b = segments(documented), segments(template)
    return len(a) == len(b) and all(x == y or y == "{}" for x, y in zip(a, b, strict=True))


def settings_names() -> set[str]:
    return {f"PASSERELLES_{name.upper()}" for name in Settings.model_fields}


# ---------------------------------------------------------------- commands


def resolve(words: list[str], root: Any) -> tuple[Any, list[str], str | None]:
    """Walk ``words`` down the command tree: (command reached, its path, the first unknown subcommand)."""
    node, path = root, []
    for word in words:
        if not hasattr(node, "commands"):
            break
        if word in node.commands:
            node = node.commands[word]
            path.append(word)
        elif re.fullmatch(r"[a-z][a-z-]*", word):
            return node, path, word
        else:
            break
    return node, path, None


def test_every_documented_command_exists() -> None:
    root = command_tree()
    problems = []
    for file, mention in command_mentions():
        first, *alternatives = [a.strip() for a in mention.split(" | ")]
        words = shlex.split(first.replace("…", "").replace("[", " ").replace("]", " "))
        node, path, unknown = resolve(words, root)
        if unknown:
            problems.append(f"{file} : « passerelles {mention} » — commande inconnue {' '.join([*path, unknown])}")
            continue
        options = {o for p in node.params for o in (*p.opts, *p.secondary_opts)}
        for word in words:
            option = word.split("=")[0]
            if option.startswith("--") and option not in options:
                problems.append(f"{file} : « passerelles {mention} » — option inconnue {option}")
        parent = root
        for word in path[:-1]:
            parent = parent.commands[word]
        for alternative in alternatives:  # passerelles index rebuild | update | status
            name = alternative.split()[0]
            if name not in getattr(parent, "commands", {}):
                problems.append(f"{file} : « passerelles {mention} » — commande inconnue {name}")
    assert not problems, "Commandes nommées dans la documentation mais absentes :\n" + "\n".join(problems)


def test_every_command_is_documented() -> None:
    root = command_tree()
    documented: set[tuple[str, ...]] = set()
    for _file, mention in command_mentions():
        first, *alternatives = [a.strip() for a in mention.split(" | ")]
        words = shlex.split(first.replace("…", "").replace("[", " ").replace("]", " "))
        _node, path, _unknown = resolve(words, root)
        documented.update(tuple(path[:i]) for i in range(1, len(path) + 1))
        documented.update((*path[:-1], alternative.split()[0]) for alternative in alternatives)
    missing = [" ".join(p) for p in command_paths(root) if p not in documented]
    assert not missing, "Commandes absentes de README.md et docs/ : passerelles " + ", passerelles ".join(missing)


# ---------------------------------------------------------------- routes


def test_every_documented_route_exists() -> None:
    routes = app_routes()
    problems = []
    for file, method, path in route_mentions():
        matching = [t for t in routes if same_route(path, t)]
        prefix = any(segments(t)[: len(segments(path))] == segments(path) for t in routes)
        if not matching and not prefix:
            problems.append(f"{file} : {path}")
        elif method and matching and not any(method in routes[t] for t in matching):
            problems.append(f"{file} : {method} {path} (méthodes : {sorted(set().union(*map(routes.get, matching)))})")
    assert not problems, "Adresses nommées dans la documentation mais absentes de l'application :\n" + "\n".join(
        problems
    )


def test_every_route_is_documented() -> None:
    documented = [path for _file, _method, path in route_mentions()]
    missing = [
        f"{' '.join(sorted(methods))} {template}"
        for template, methods in sorted(app_routes().items())
        if template not in UNDOCUMENTED_ROUTES and not any(same_route(path, template) for path in documented)
    ]
    assert not missing, "Adresses absentes de README.md et docs/ (docs/routes.md les liste) :\n" + "\n".join(missing)


def test_the_exceptions_are_real_routes() -> None:
    assert set(UNDOCUMENTED_ROUTES) <= set(app_routes())


# ---------------------------------------------------------------- settings


def test_every_documented_setting_exists() -> None:
    known = settings_names() | set(NOT_SETTINGS)
    problems = []
    for file, text in texts():
        for name in sorted(set(re.findall(r"PASSERELLES_[A-Z0-9_]*[A-Z0-9](?:_\*)?", text))):
            if name.endswith("_*"):
                if not any(k.startswith(name[:-1]) for k in known):
                    problems.append(f"{file} : {name}")
            elif name not in known and not any(k.endswith("_*") and name.startswith(k[:-1]) for k in known):
                problems.append(f"{file} : {name}")
    assert not problems, "Réglages nommés dans la documentation mais absents de Settings :\n" + "\n".join(problems)


def test_every_setting_is_in_the_readme_table() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    missing = sorted(name for name in settings_names() if f"`{name}`" not in table)
    assert not missing, "Réglages absents du tableau « Configuration » de README.md :\n" + "\n".join(missing)


@pytest.mark.parametrize("name", sorted(NOT_SETTINGS))
def test_the_settings_exceptions_are_documented(name: str) -> None:
    assert any(name in text for _file, text in texts()), name
