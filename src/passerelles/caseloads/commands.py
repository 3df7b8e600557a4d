"""CLI: ``passerelles dossiers purge`` erases files inactive for ``PASSERELLES_INACTIVE_PURGE_DAYS`` (cron)."""

from __future__ import annotations

from typing import Annotated

import typer

from passerelles.caseloads import privacy
from passerelles.clitools import command_session
from passerelles.employers import applications  # noqa: F401  (registers the CVs erased with a file)
from passerelles.settings import Settings

files_app = typer.Typer(help="Dossiers d'accompagnement : purge des dossiers inactifs.", no_args_is_help=True)


@files_app.command("purge")
def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Compter sans effacer.")] = False,
) -> None:
    """Effacer les dossiers sans activité depuis le délai configuré (730 jours par défaut)."""
    settings = Settings()
    with command_session(settings) as session:
        count = privacy.purge_inactive(session, settings, dry_run=dry_run)
    verb = "à effacer" if dry_run else "effacés"
    typer.echo(f"{count} dossier(s) inactif(s) depuis {settings.inactive_purge_days} jours {verb}.")
