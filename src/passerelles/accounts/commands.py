"""CLI: ``passerelles user create`` (the first administrator, or any account from the machine)."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from pydantic import ValidationError

from passerelles.accounts import services
from passerelles.accounts.schemas import AccountCreate
from passerelles.db import make_engine, make_sessionmaker, session_scope
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
        typer.echo("Erreur : le mot de passe doit compter au moins 10 caractères.", err=True)
        raise typer.Exit(code=2)
    try:
        data = AccountCreate(email=email, display_name=name, role=role, platform_id=platform_id)
    except ValidationError as exc:
        for err in exc.errors():
            typer.echo(f"Erreur : {'.'.join(map(str, err['loc']))} : {err['msg']}", err=True)
        raise typer.Exit(code=2) from exc
    engine = make_engine(Settings().database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            account = services.create_account(session, None, data, password=password, verified=True)
            typer.echo(f"Compte {account.id} créé : {account.email} ({account.role}).")
    except services.InvalidInput as exc:
        typer.echo(f"Erreur : {exc.field} : {exc.message}", err=True)
        raise typer.Exit(code=2) from exc
    finally:
        engine.dispose()
