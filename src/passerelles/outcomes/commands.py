"""CLI: ``passerelles import inserjeunes`` (DEPP and DARES rates by formation and région)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from passerelles.clitools import DryRunOpt, Feed, JsonOpt, RejectsOpt, run_import
from passerelles.outcomes.importer import import_inserjeunes
from passerelles.settings import Settings


class Way(StrEnum):
    apprentissage = "apprentissage"
    scolaire = "scolaire"
    ensemble = "ensemble"


def import_inserjeunes_cmd(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(help="Fichier InserJeunes (DEPP, DARES) par formation et région : CSV séparé par « ; ».")
    ],
    millesime: Annotated[
        str | None,
        typer.Option(help="Millésime (par exemple 2022-2023) quand le fichier n'en a ni colonne ni dans son nom."),
    ] = None,
    voie: Annotated[Way | None, typer.Option(help="Voie de formation quand la colonne du code ne la dit pas.")] = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    rejects: RejectsOpt = None,
) -> None:
    """Importer les taux InserJeunes (emploi à 6 et 12 mois, poursuite d'études, valeur ajoutée) par formation
    et région."""
    settings = Settings()
    run_import(
        ctx,
        settings,
        lambda engine: import_inserjeunes(
            engine,
            path,
            millesime=millesime,
            pathway=voie.value if voie else None,
            dry_run=dry_run,
            limits=settings.import_limits,
        ),
        as_json,
        rejects,
        Feed("inserjeunes", path, False, dry_run, indexed=False),
    )
