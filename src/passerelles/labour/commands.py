"""CLI: ``passerelles import bmo`` (France Travail's BMO survey) and ``passerelles import tensions`` (Dares)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from passerelles.clitools import DryRunOpt, Feed, ForceOpt, JsonOpt, RejectsOpt, run_import
from passerelles.labour.importer import import_bmo, import_tensions
from passerelles.settings import Settings


def import_bmo_cmd(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(help="Classeur .xlsx de l'enquête « Besoins en main-d'œuvre » (open data de France Travail)."),
    ],
    dry_run: DryRunOpt = False,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    rejects: RejectsOpt = None,
) -> None:
    """Importer l'enquête BMO : projets de recrutement par métier et bassin d'emploi, dont difficiles et
    saisonniers."""
    settings = Settings()
    run_import(
        ctx,
        settings,
        lambda engine: import_bmo(engine, path, dry_run=dry_run, force=force, limits=settings.import_limits),
        as_json,
        rejects,
        Feed("bmo", path, False, dry_run, indexed=False),
    )


def import_tensions_cmd(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(help="Indicateurs de tension de la Dares par famille professionnelle et territoire (CSV)."),
    ],
    dry_run: DryRunOpt = False,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    rejects: RejectsOpt = None,
) -> None:
    """Importer les indicateurs de tension (Dares, France Travail) : tension et ses six facteurs par famille de
    métiers, en France, par région et par département."""
    settings = Settings()
    run_import(
        ctx,
        settings,
        lambda engine: import_tensions(engine, path, dry_run=dry_run, force=force, limits=settings.import_limits),
        as_json,
        rejects,
        Feed("tensions", path, False, dry_run, indexed=False),
    )
