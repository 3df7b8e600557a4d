"""CLI: ``passerelles employeurs relances`` e-mails employers about unanswered applications (cron)."""

from __future__ import annotations

import typer

from passerelles.clitools import command_session
from passerelles.employers import applications
from passerelles.settings import Settings

employers_app = typer.Typer(help="Espace employeur : relances.", no_args_is_help=True)


@employers_app.command("relances")
def reminders() -> None:
    """Relancer par courriel les employeurs dont des candidatures attendent une réponse."""
    settings = Settings()
    with command_session(settings) as session:
        sent = applications.send_reminders(session, settings)
    typer.echo(f"{sent} courriel(s) de relance envoyé(s).")
