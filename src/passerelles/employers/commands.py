"""CLI: ``passerelles employeurs relances`` (daily cron) closes the offers posted on Passerelles whose closing
date has passed (their applicants are told) and e-mails employers about unanswered applications."""

from __future__ import annotations

import typer

from passerelles.accounts.mail import wait_for_pending
from passerelles.clitools import command_session
from passerelles.employers import applications, applying
from passerelles.settings import Settings

employers_app = typer.Typer(help="Espace employeur : relances.", no_args_is_help=True)


@employers_app.command("relances")
def reminders() -> None:
    """Fermer les offres dont la date de clôture est passée (leurs candidats sont prévenus) et relancer par
    courriel les employeurs dont des candidatures attendent une réponse."""
    settings = Settings()
    with command_session(settings) as session:
        closed = applying.close_expired_offers(session)
        sent = applications.send_reminders(session, settings)
    wait_for_pending()  # the applicants' e-mails leave after the commit, in the background
    typer.echo(f"{closed} offre(s) expirée(s) fermée(s) ; {sent} courriel(s) de relance envoyé(s).")
