"""CLI: ``passerelles import offres`` (France Travail) and ``passerelles import jobposting`` (schema.org)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from passerelles.clitools import DemoOpt, DryRunOpt, Feed, ForceOpt, JsonOpt, RejectsOpt, open_engine, run_import
from passerelles.db import migrate
from passerelles.offers.importer import import_offers
from passerelles.offers.market import refresh_market
from passerelles.settings import Settings

FullOpt = Annotated[bool, typer.Option(help="Flux complet : fermer les offres absentes.")]


def _import_offers(
    ctx: typer.Context,
    path: Path,
    fmt: Literal["france_travail", "jobposting"],
    dry_run: bool,
    as_json: bool,
    full: bool,
    demo: bool,
    rejects: Path | None,
    force: bool,
) -> None:
    settings = Settings()
    run_import(
        ctx,
        settings,
        lambda engine: import_offers(
            engine,
            path,
            fmt=fmt,
            dry_run=dry_run,
            full=full,
            is_demo=demo,
            workers=settings.import_workers,
            limits=settings.import_limits,
            force=force,
        ),
        as_json,
        rejects,
        Feed("offres" if fmt == "france_travail" else "jobposting", path, full, dry_run),
    )


def import_offres_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Offres France Travail v2 (JSON, {resultats: […]} ou JSON Lines).")],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    full: FullOpt = False,
    demo: DemoOpt = False,
    rejects: RejectsOpt = None,
    force: ForceOpt = False,
) -> None:
    """Importer des offres d'emploi au format France Travail « Offres d'emploi v2 »."""
    _import_offers(ctx, path, "france_travail", dry_run, as_json, full, demo, rejects, force)


def import_jobposting_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Offres schema.org JobPosting (JSON-LD ou JSON Lines).")],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    full: FullOpt = False,
    rejects: RejectsOpt = None,
    force: ForceOpt = False,
) -> None:
    """Importer des offres d'emploi schema.org JobPosting."""
    _import_offers(ctx, path, "jobposting", dry_run, as_json, full, False, rejects, force)


def market_cmd(ctx: typer.Context) -> None:
    """Recalculer les chiffres du marché du travail des fiches métier à partir des offres (l'import des offres
    le fait à sa fin)."""
    engine = open_engine(ctx, Settings().database_url)
    migrate(engine)
    typer.echo(refresh_market(engine).as_text())
