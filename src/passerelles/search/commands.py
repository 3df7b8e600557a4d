"""CLI: ``passerelles search`` and ``passerelles index rebuild|update|pull|status``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from passerelles.clitools import REPLICA_BUILDS_NOTHING, JsonOpt, dump, open_engine, refuse, search_backend
from passerelles.db import make_sessionmaker
from passerelles.search.index import PullError, current_version, pull, rebuild, update
from passerelles.search.services import IndexUnavailable
from passerelles.settings import Settings

index_app = typer.Typer(
    help="Index de recherche : reconstruction, mise à jour, copie sur un nœud, état.", no_args_is_help=True
)


def search(
    ctx: typer.Context,
    query: str,
    as_json: JsonOpt = False,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
) -> None:
    """Rechercher métiers, certifications, sessions de formation et offres d'emploi."""
    settings = Settings()
    engine = open_engine(ctx, settings.database_url)
    with make_sessionmaker(engine)() as session:
        try:
            results = search_backend(session, settings).search(query, limit=limit)
        except IndexUnavailable as exc:
            refuse(f"pas d'index de recherche sur ce nœud ({exc}) : copiez-en un avec « passerelles index pull ».")
    if as_json:
        dump(results)
        return
    if not results:
        typer.echo("Aucun résultat.")
    for r in results:
        codes = f" [{', '.join(r.rome_codes)}]" if r.rome_codes else ""
        typer.echo(f"{r.score:7.1f}  {r.type:13} {r.title}{codes}  {r.url}")


@index_app.command("rebuild")
def index_rebuild(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Reconstruire l'index de recherche depuis la base et le publier (les lecteurs basculent seuls)."""
    settings = Settings()
    if settings.search_replica:
        refuse(REPLICA_BUILDS_NOTHING)
    report = rebuild(open_engine(ctx, settings.database_url), settings.search_index_dir)
    dump(report.__dict__) if as_json else typer.echo(report.as_text())


@index_app.command("update")
def index_update(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Mettre l'index à jour depuis la base (ce qui a changé seulement) et publier la nouvelle version."""
    settings = Settings()
    if settings.search_replica:
        refuse(REPLICA_BUILDS_NOTHING)
    report = update(open_engine(ctx, settings.database_url), settings.search_index_dir)
    dump(report.__dict__) if as_json else typer.echo(report.as_text())


@index_app.command("pull")
def index_pull(
    source: Annotated[
        str,
        typer.Option(
            "--from",
            help="Répertoire d'index de l'écrivain : un chemin, ou machine:chemin (par rsync sur SSH).",
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Copier sur ce nœud la version publiée par l'écrivain, la vérifier, puis basculer (sans interruption)."""
    settings = Settings()
    try:
        report = pull(source, settings.search_index_dir)
    except PullError as exc:
        refuse(f"index non reçu, ce nœud garde sa version : {exc}")
    dump(report.__dict__) if as_json else typer.echo(report.as_text())


@index_app.command("status")
def index_status(as_json: JsonOpt = False) -> None:
    """Version publiée, base d'origine, nombre de documents."""
    settings = Settings()
    folder = current_version(settings.search_index_dir)
    if folder is None:
        refuse(f"aucun index publié dans {settings.search_index_dir} (passerelles index rebuild)")
    info = {"version": folder.name, "path": str(folder), **json.loads((folder / "info.json").read_text())}
    dump(info) if as_json else typer.echo("\n".join(f"{k} : {v}" for k, v in info.items()))
