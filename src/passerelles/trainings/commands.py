"""CLI: ``passerelles import lheo``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from passerelles.clitools import DemoOpt, DryRunOpt, Feed, ForceOpt, JsonOpt, RejectsOpt, run_import
from passerelles.settings import Settings
from passerelles.trainings.lheo import import_lheo


def import_lheo_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Catalogue LHÉO (XML 1.3, 2.2 ou 2.3).")],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    full: Annotated[bool, typer.Option(help="Flux complet : fermer les sessions absentes.")] = False,
    demo: DemoOpt = False,
    rejects: RejectsOpt = None,
    force: ForceOpt = False,
) -> None:
    """Importer une offre de formation au format LHÉO."""
    settings = Settings()
    run_import(
        ctx,
        settings,
        lambda engine: import_lheo(
            engine,
            path,
            dry_run=dry_run,
            full=full,
            is_demo=demo,
            xsd=settings.lheo_xsd,
            workers=settings.import_workers,
            limits=settings.import_limits,
            force=force,
        ),
        as_json,
        rejects,
        Feed("lheo", path, full, dry_run),
    )
