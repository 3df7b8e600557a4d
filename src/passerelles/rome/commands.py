"""CLI: ``passerelles import rome``, and the ROME step of ``passerelles init``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from passerelles.clitools import DryRunOpt, Feed, ForceOpt, JsonOpt, refuse, run_import
from passerelles.importing.report import ImportRefused
from passerelles.importing.runs import record_run
from passerelles.rome.importer import detect_version, export_checksum, import_rome, loaded_checksum
from passerelles.settings import Settings


def import_rome_cmd(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Répertoire, archive .zip ou URL de l'export ROME 4.")],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    rejects: Annotated[Path | None, typer.Option(help="Écrire les rejets dans ce fichier JSON Lines.")] = None,
    force: ForceOpt = False,
) -> None:
    """Importer le référentiel ROME 4 (fiches, appellations, compétences, mobilités, textes)."""
    progress = None if as_json else lambda m: typer.echo(m, err=True)
    settings = Settings()
    limits = settings.import_limits
    run_import(
        ctx,
        settings,
        lambda engine: import_rome(engine, source, dry_run=dry_run, progress=progress, limits=limits, force=force),
        as_json,
        rejects,
        Feed("rome", source, True, dry_run),
    )


def init_rome(engine: Engine, settings: Settings) -> None:
    """``init``: import the ROME export of the data directory unless that very export is loaded already."""
    if settings.rome_dir is None:
        typer.echo(f"Pas d'export ROME dans {settings.data_dir}/rome_v460 : ROME non importé.")
        return
    started = dt.datetime.now(dt.UTC)
    try:
        suffix, version = detect_version(settings.rome_dir)
        if loaded_checksum(engine, version) == export_checksum(settings.rome_dir, suffix):
            typer.echo(f"ROME {version} déjà importé et inchangé.")
        else:
            typer.echo(f"Import du ROME {version} depuis {settings.rome_dir}…")
            rome = import_rome(engine, str(settings.rome_dir), limits=settings.import_limits)
            record_run(engine, "rome", settings.rome_dir, started, full=True, report=rome)
            typer.echo(rome.as_text(max_rejects=10))
    except ImportRefused as exc:
        record_run(engine, "rome", settings.rome_dir, started, full=True, refused=str(exc))
        refuse(f"export ROME refusé : {exc}")
