"""CLI: ``passerelles import communes``, and the communes step of ``passerelles init``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from passerelles.clitools import DryRunOpt, Feed, JsonOpt, run_import
from passerelles.places.importer import import_communes
from passerelles.places.models import Commune
from passerelles.settings import Settings


def import_communes_cmd(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Répertoire contenant communes.json et laposte_hexasmal.csv.")],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    rejects: Annotated[Path | None, typer.Option(help="Écrire les rejets dans ce fichier JSON Lines.")] = None,
) -> None:
    """Importer les communes (COG INSEE) avec leurs coordonnées (base La Poste)."""
    run_import(
        ctx,
        Settings(),
        lambda engine: import_communes(engine, directory, dry_run=dry_run),
        as_json,
        rejects,
        Feed("communes", directory, True, dry_run),
    )


def init_communes(engine: Engine, geo_dir: Path) -> None:
    """``init``: import the communes once (``passerelles import communes`` updates them)."""
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(Commune)) or 0
    if count:
        typer.echo(f"{count} communes déjà en base (« passerelles import communes » pour mettre à jour).")
    else:
        typer.echo(f"Import des communes depuis {geo_dir}…")
        typer.echo(import_communes(engine, geo_dir).as_text(max_rejects=10))
