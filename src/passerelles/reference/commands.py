"""CLI: ``passerelles import reference``, and the reference step of ``passerelles init``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from passerelles.clitools import DryRunOpt, JsonOpt, open_engine, print_report, refuse
from passerelles.db import make_sessionmaker, migrate, session_scope
from passerelles.importing.report import ImportReport
from passerelles.reference.loader import load_reference
from passerelles.reference.reader import InvalidReferenceData
from passerelles.settings import Settings


def load(engine: Engine, directory: Path, *, dry_run: bool = False) -> ImportReport:
    """Load the project's YAML facts; invalid ones refuse the command (nothing written)."""
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            return load_reference(session, directory, dry_run=dry_run)
    except InvalidReferenceData as exc:
        refuse(f"données de référence invalides :\n{exc}")


def import_reference_cmd(
    ctx: typer.Context,
    directory: Annotated[Path | None, typer.Argument(help="Répertoire des fichiers YAML (data/ par défaut).")] = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Charger les faits rédigés par le projet (métiers, certifications, lieux, sources)."""
    settings = Settings()
    engine = open_engine(ctx, settings.database_url)
    migrate(engine)
    print_report(load(engine, directory or settings.reference_dir, dry_run=dry_run), as_json, None)
