"""CLI: ``passerelles alertes envoyer`` sends the e-mail alerts of saved searches (cron)."""

from __future__ import annotations

import typer

from passerelles.alerts import services
from passerelles.db import make_engine, make_sessionmaker, session_scope
from passerelles.settings import Settings

alerts_app = typer.Typer(
    help="Alertes : envoi des nouveaux résultats des recherches enregistrées.", no_args_is_help=True
)


@alerts_app.command("envoyer")
def send() -> None:
    """Envoyer les alertes (nouvelles offres, nouvelles sessions) par courriel."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            sent = services.send_alerts(session, settings)
    finally:
        engine.dispose()
    typer.echo(f"{sent} alerte(s) envoyée(s).")
