"""CLI: ``passerelles import rncp`` (France Compétences export of the RNCP)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from passerelles.clitools import DryRunOpt, Feed, JsonOpt, RejectsOpt, run_import
from passerelles.rncp.importer import import_rncp
from passerelles.settings import Settings


def import_rncp_cmd(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(help="Export RNCP de France Compétences : export-fiches-rncp-v4-1-AAAA-MM-JJ.zip (ou son XML)."),
    ],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    rejects: RejectsOpt = None,
) -> None:
    """Importer les fiches RNCP (blocs de compétences, voies d'accès, codes ROME et Formacode) et lister les
    écarts avec les certifications écrites par le projet, sans jamais les modifier."""
    settings = Settings()
    run_import(
        ctx,
        settings,
        lambda engine: import_rncp(engine, path, dry_run=dry_run, limits=settings.import_limits),
        as_json,
        rejects,
        Feed("rncp", path, False, dry_run, indexed=False),
    )
