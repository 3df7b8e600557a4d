"""CLI: ``passerelles employeurs relances`` e-mails employers about unanswered applications (cron)."""

from __future__ import annotations

import typer

from passerelles.db import make_engine, make_sessionmaker, session_scope
from passerelles.employers import applications
from passerelles.settings import Settings

employers_app = typer.Typer(help="Espace employeur : relances.", no_args_is_help=True)


@employers_app.command("relances")
def reminders() -> None:
    """Relancer par courriel les employeurs dont des candidatures attendent une réponse."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            sent = applications.send_reminders(session, settings)
    finally:
        engine.dispose()
    typer.echo(f"{sent} courriel(s) de relance envoyé(s).")
