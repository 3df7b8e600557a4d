"""What every package's ``commands.py`` shares: common options, the engine of a command, JSON output,
refusals (exit status 2), and the run of an importer (migrate, record the run, update the search index,
print the report and write the rejects)."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NamedTuple, NoReturn

import typer
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from passerelles.db import make_engine, make_sessionmaker, migrate, session_scope
from passerelles.importing.report import ImportRefused, ImportReport
from passerelles.importing.runs import record_run
from passerelles.importing.sync import vacuum_after_import
from passerelles.search.index import current_version, rebuild, update
from passerelles.search.services import IndexReplica, SearchBackend, open_backend, published
from passerelles.settings import Settings

JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie JSON stable.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Simuler : afficher le bilan sans rien écrire.")]
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Retirer ou fermer même plus que la part autorisée (PASSERELLES_IMPORT_MAX_REMOVED_SHARE) : purge voulue.",
    ),
]
RejectsOpt = Annotated[Path | None, typer.Option(help="Fichier JSON Lines des rejets.")]
DemoOpt = Annotated[bool, typer.Option(help="Données de démonstration.")]


class Feed(NamedTuple):
    """What a run of an importer is recorded as, for ``data status``."""

    importer: str
    source: Path | str
    full: bool
    dry_run: bool
    indexed: bool = True  # what it loads is in the search index (the index is updated after it)


def open_engine(ctx: typer.Context, url: str | None = None) -> Engine:
    """An engine disposed when the command ends (no connection left to the garbage collector)."""
    engine = make_engine(url or Settings().database_url)
    ctx.call_on_close(engine.dispose)
    return engine


@contextmanager
def command_session(settings: Settings) -> Iterator[Session]:
    """A session in one transaction (committed at the end), on an engine disposed after it."""
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            session.info["settings"] = settings  # for services that queue e-mails (web.get_session does too)
            yield session
    finally:
        engine.dispose()


def dump(obj: Any) -> None:
    """Print ``obj`` (a model, a list of models or plain data) as stable JSON."""
    if isinstance(obj, BaseModel):
        obj = obj.model_dump(mode="json")
    elif isinstance(obj, list):
        obj = [o.model_dump(mode="json") if isinstance(o, BaseModel) else o for o in obj]
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False))


def refuse(message: str) -> NoReturn:
    typer.echo(f"Erreur : {message}", err=True)
    raise typer.Exit(code=2)


def print_report(report: ImportReport, as_json: bool, rejects: Path | None) -> None:
    if rejects:
        report.write_rejects(rejects)
    if as_json:
        dump(report)
    else:
        typer.echo(report.as_text())


def run_import(
    ctx: typer.Context,
    settings: Settings,
    run: Callable[[Engine], ImportReport],
    as_json: bool,
    rejects: Path | None,
    feed: Feed,
) -> None:
    """Migrate, run one importer, print its report; an input refused as a whole exits with status 2.
    The run is recorded for ``data status`` (not a dry run), even a refused or failed one."""
    lower_priority(settings.import_nice)
    engine = open_engine(ctx, settings.database_url)
    migrate(engine)
    started = dt.datetime.now(dt.UTC)
    record = not feed.dry_run
    try:
        report = run(engine)
    except ImportRefused as exc:
        if record:
            record_run(engine, feed.importer, feed.source, started, full=feed.full, refused=str(exc))
        refuse(str(exc))
    except Exception as exc:
        if record:
            failed = f"erreur inattendue ({type(exc).__name__})"
            record_run(engine, feed.importer, feed.source, started, full=feed.full, failed=failed)
        raise
    if record:
        record_run(engine, feed.importer, feed.source, started, full=feed.full, report=report)
    if not report.dry_run:
        vacuum_after_import(engine)
    if not report.dry_run and feed.indexed:
        update_index(engine, settings, quiet=as_json)
    finish_import(report, as_json, rejects, settings.var_dir / "rejects")


def lower_priority(nice: int) -> None:
    """This process (its reader processes and index threads after it) at niceness ``nice`` at least: on a
    machine that also serves the site, an import's CPU goes to the pages first (never raised back)."""
    current = os.nice(0)
    if nice > current:
        os.nice(nice - current)


REPLICA_BUILDS_NOTHING = (
    "Nœud de lecture (PASSERELLES_SEARCH_REPLICA) : son index n'est pas construit ici, il vient de l'écrivain "
    "(passerelles index pull)."
)


def update_index(engine: Engine, settings: Settings, *, rebuild_if_missing: bool = False, quiet: bool = False) -> None:
    """After an import: the published search index takes in what changed (nothing to do without one)."""
    root = settings.search_index_dir
    url = engine.url.render_as_string(hide_password=False)
    if settings.search_replica:  # a read node's index comes from the writer (passerelles index pull)
        if not quiet:
            typer.echo(REPLICA_BUILDS_NOTHING, err=True)
        return
    if published(root, url):
        report = update(engine, root)
    elif rebuild_if_missing and current_version(root) is None:
        report = rebuild(engine, root)
    else:
        return  # no index of this database here: built on first use, or by `passerelles index rebuild`
    if not quiet:
        typer.echo(report.as_text(), err=True)


def finish_import(report: ImportReport, as_json: bool, rejects: Path | None, rejects_dir: Path) -> None:
    """Print the report; rejects always go to a JSON Lines file (in ``rejects_dir`` unless --rejects)."""
    if report.rejects and rejects is None:
        rejects_dir.mkdir(parents=True, exist_ok=True)
        rejects = rejects_dir / f"{report.importer}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.jsonl"
    print_report(report, as_json, rejects)
    if rejects and report.rejects and not as_json:
        typer.echo(f"Rejets écrits dans {rejects}")
    if report.status == "refused":
        raise typer.Exit(code=2)  # what was complete is loaded, but the input as a whole was refused


def search_backend(session: Session, settings: Settings) -> SearchBackend:
    if settings.search_replica:  # a read node: its replica only (IndexUnavailable without one)
        return IndexReplica(settings.search_index_dir, synonyms_file=settings.synonyms_file)
    return open_backend(session, settings.search_index_dir, settings.database_url, synonyms_file=settings.synonyms_file)


def find(session: Session, query: str, type_: str) -> str | None:
    """Resolve a query to an id: the best search result of that type."""
    results = search_backend(session, Settings()).search(query, types={type_}, limit=1)
    return results[0].id if results else None
