"""CLI: ``passerelles dossiers purge`` erases files inactive for ``PASSERELLES_INACTIVE_PURGE_DAYS`` (cron)."""

from __future__ import annotations

from typing import Annotated

import typer

from passerelles.caseloads import privacy
from passerelles.db import make_engine, make_sessionmaker, session_scope
from passerelles.settings import Settings

files_app = typer.Typer(help="Dossiers d'accompagnement : purge des dossiers inactifs.", no_args_is_help=True)


@files_app.command("purge")
def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Compter sans effacer.")] = False,
) -> None:
    """Effacer les dossiers sans activité depuis le délai configuré (730 jours par défaut)."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            count = privacy.purge_inactive(session, settings, dry_run=dry_run)
    finally:
        engine.dispose()
    verb = "à effacer" if dry_run else "effacés"
    typer.echo(f"{count} dossier(s) inactif(s) depuis {settings.inactive_purge_days} jours {verb}.")
