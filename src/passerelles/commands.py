"""CLI of the whole site: ``passerelles init`` (database, reference data, open data, demonstration, search
index, each step from its package's ``commands.py``) and ``passerelles serve``."""

from __future__ import annotations

from typing import Annotated

import typer

from passerelles.clitools import open_engine, update_index
from passerelles.db import migrate
from passerelles.demo.commands import init_demo
from passerelles.occupations.commands import init_onisep
from passerelles.places.commands import init_communes
from passerelles.reference.commands import load
from passerelles.rome.commands import init_rome
from passerelles.settings import Settings


def init(
    ctx: typer.Context,
    open_data: Annotated[bool, typer.Option(help="Importer aussi les données ouvertes configurées.")] = True,
) -> None:
    """Créer ou migrer la base, charger les données de référence et les données ouvertes disponibles."""
    settings = Settings()
    engine = open_engine(ctx, settings.database_url)
    typer.echo(f"Base : {engine.url.render_as_string(hide_password=True)}")
    migrate(engine)
    typer.echo("Schéma à jour.")
    t = load(engine, settings.reference_dir).totals
    typer.echo(f"Données de référence : {t.created} créées, {t.updated} modifiées, {t.unchanged} inchangées.")
    if not open_data:
        return
    if settings.data_dir is None:
        typer.echo(
            "Aucun répertoire de données ouvertes configuré (PASSERELLES_DATA_DIR) : "
            "ROME et communes non importés. Le site fonctionne avec les seules données de référence."
        )
        return
    init_rome(engine, settings)
    init_onisep(engine, settings.data_dir)
    if settings.geo_dir is None:
        typer.echo(f"Pas de répertoire geo_fr dans {settings.data_dir} : communes non importées.")
        return  # demonstration sessions and offers are placed in real communes
    init_communes(engine, settings.geo_dir)
    if settings.demo:
        init_demo(engine, settings)
    update_index(engine, settings, rebuild_if_missing=True)


def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Servir le site et l'API."""
    # The web stack is imported here, not at the top: every other command starts without it.
    import uvicorn

    from passerelles.app import create_app
    from passerelles.http import uvicorn_options

    settings = Settings()
    typer.echo(f"Passerelles sur http://{host}:{port}")
    if settings.mail_outbox is not None:
        typer.echo(f"Courriels (développement) : {settings.mail_outbox}/ et http://{host}:{port}/dev/courriels")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", **uvicorn_options(settings))
