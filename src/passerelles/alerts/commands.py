"""CLI: ``passerelles alertes envoyer`` sends the e-mail alerts of saved searches (cron)."""

from __future__ import annotations

import typer

from passerelles.alerts import services
from passerelles.clitools import command_session
from passerelles.settings import Settings

alerts_app = typer.Typer(
    help="Alertes : envoi des nouveaux résultats des recherches enregistrées.", no_args_is_help=True
)


@alerts_app.command("envoyer")
def send() -> None:
    """Envoyer les alertes (nouvelles offres, nouvelles sessions) par courriel."""
    settings = Settings()
    with command_session(settings) as session:
        sent = services.send_alerts(session, settings)
    typer.echo(f"{sent} alerte(s) envoyée(s).")
