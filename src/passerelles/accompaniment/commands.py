"""CLI: ``passerelles import structures`` (data·inclusion structures and services)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from passerelles.accompaniment.importer import import_structures
from passerelles.clitools import DemoOpt, DryRunOpt, Feed, JsonOpt, RejectsOpt, run_import
from passerelles.settings import Settings


def import_structures_cmd(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(
            help="Structures data·inclusion (schéma v1) : liste JSON, JSON Lines, ou {structures: […], services: […]}."
        ),
    ],
    services: Annotated[
        Path | None, typer.Option("--services", help="Fichier des services data·inclusion (si à part).")
    ] = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    demo: DemoOpt = False,
    rejects: RejectsOpt = None,
) -> None:
    """Importer les structures d'accompagnement (France Travail, missions locales, Cap emploi, CIO…) au
    format data·inclusion."""
    settings = Settings()
    run_import(
        ctx,
        settings,
        lambda engine: import_structures(
            engine, path, services_path=services, dry_run=dry_run, is_demo=demo, limits=settings.import_limits
        ),
        as_json,
        rejects,
        Feed("structures", path, False, dry_run),
    )
