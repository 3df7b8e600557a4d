"""Consistency checks run by ``make lint``: a model change without its migration fails."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import passerelles.models  # noqa: F401  (registers every table)
from passerelles.db import Base, make_engine, migrate


def _on_dialect(dialect: str) -> Any:
    """Leave out what the models create on another database only (``Index(...).ddl_if(dialect=...)``)."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        ddl_if = getattr(obj, "_ddl_if", None)
        return ddl_if is None or ddl_if.dialect is None or ddl_if.dialect == dialect

    return include


def check_migrations() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'check.sqlite3'}")
        migrate(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": _on_dialect(conn.dialect.name)})
            diff = compare_metadata(context, Base.metadata)
        engine.dispose()
    return [str(d) for d in diff]


def main() -> int:
    if sys.argv[1:] != ["migrations"]:
        print("usage: python -m passerelles.checks migrations")
        return 2
    diff = check_migrations()
    if diff:
        print("Les modèles diffèrent des migrations ; créez une migration Alembic :")
        for d in diff:
            print(" -", d)
        return 1
    print("Migrations à jour.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
