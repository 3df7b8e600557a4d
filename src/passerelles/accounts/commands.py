"""CLI: ``passerelles user create`` (the first administrator, or any account from the machine)."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from pydantic import ValidationError

from passerelles.accounts import services
from passerelles.accounts.schemas import AccountCreate
from passerelles.clitools import command_session, refuse
from passerelles.settings import Settings

user_app = typer.Typer(help="Comptes : création depuis la machine (premier administrateur).", no_args_is_help=True)


@user_app.command("create")
def create(
    email: Annotated[str, typer.Option(help="Adresse électronique")],
    name: Annotated[str, typer.Option(help="Nom affiché")],
    role: Annotated[str, typer.Option(help="personne | conseiller | employeur | admin")] = "admin",
    platform_id: Annotated[int | None, typer.Option(help="Plateforme (conseiller)")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Lire le mot de passe sur l'entrée")] = False,
) -> None:
    """Créer un compte dont l'adresse est tenue pour confirmée ; le mot de passe est demandé (jamais en option)."""
    password = (
        typer.get_text_stream("stdin").readline().rstrip("\n") if password_stdin else getpass.getpass("Mot de passe : ")
    )
    if len(password) < 10:
        refuse("le mot de passe doit compter au moins 10 caractères.")
    try:
        data = AccountCreate(email=email, display_name=name, role=role, platform_id=platform_id)
    except ValidationError as exc:
        for err in exc.errors():
            typer.echo(f"Erreur : {'.'.join(map(str, err['loc']))} : {err['msg']}", err=True)
        raise typer.Exit(code=2) from exc
    try:
        with command_session(Settings()) as session:
            account = services.create_account(session, None, data, password=password, verified=True)
            typer.echo(f"Compte {account.id} créé : {account.email} ({account.role}).")
    except services.InvalidInput as exc:
        refuse(f"{exc.field} : {exc.message}")
