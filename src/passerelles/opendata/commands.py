"""CLI: ``passerelles data fetch``, ``passerelles data refresh`` and ``passerelles data status``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from passerelles.clitools import JsonOpt, open_engine, refuse, update_index
from passerelles.db import migrate
from passerelles.importing.runs import FEED_MAX_AGE_DAYS, feed_status, record_run
from passerelles.offers.fetch import OffersFetchError, fetch_offers
from passerelles.opendata.fetch import FetchError, fetch
from passerelles.opendata.refresh import RefreshLocked, refresh, refresh_status
from passerelles.opendata.registry import load_registry
from passerelles.opendata.status import dataset_status
from passerelles.rncp.services import differences
from passerelles.settings import Settings
from passerelles.sources.services import team_notes

data_app = typer.Typer(help="Jeux de données ouverts officiels : téléchargement et état.", no_args_is_help=True)


@data_app.command("fetch")
def data_fetch(
    ctx: typer.Context,
    dataset: Annotated[
        str | None,
        typer.Argument(
            help="Identifiant du jeu (rome, cog, laposte, onisep…, ou offres : France Travail) ; tous sinon."
        ),
    ] = None,
    url: Annotated[str | None, typer.Option(help="Adresse de la version à télécharger.")] = None,
    complet: Annotated[
        bool, typer.Option("--complet", help="offres : toutes les offres ouvertes (flux complet), pas les nouvelles.")
    ] = False,
) -> None:
    """Télécharger un jeu de données officiel dans le répertoire de données (reprise possible) ; « offres » :
    les offres France Travail du secteur, puis leur import."""
    settings = Settings()
    if dataset == "offres":
        _fetch_offers(ctx, settings, complet)
        return
    registry = load_registry(settings.opendata_registry)
    if settings.data_dir is None:
        refuse("aucun répertoire de données configuré (PASSERELLES_DATA_DIR)")
    chosen = [registry.get(dataset)] if dataset else registry.datasets
    if dataset and chosen[0] is None:
        refuse(f"jeu inconnu : {dataset} (connus : {', '.join(d.id for d in registry.datasets)})")
    failed = False
    for d in chosen:
        assert d is not None
        try:
            result = fetch(d, settings.data_dir, url=(url if dataset else None) or settings.fetch_url(d.id))
        except FetchError as exc:
            typer.echo(f"Erreur : {exc}", err=True)
            failed = True
            continue
        resumed = f", repris à l'octet {result.resumed_from}" if result.resumed_from else ""
        typer.echo(f"{d.id} : {result.bytes} octets → {result.path}{resumed}")
    if failed:
        raise typer.Exit(code=2)


def _fetch_offers(ctx: typer.Context, settings: Settings, complete: bool) -> None:
    engine = open_engine(ctx, settings.database_url)
    migrate(engine)
    started = dt.datetime.now(dt.UTC)
    try:
        got = fetch_offers(engine, settings, complete=complete, progress=lambda m: typer.echo(m, err=True))
    except OffersFetchError as exc:
        record_run(engine, "offres", "france-travail.jsonl", started, full=False, refused=str(exc))
        refuse(str(exc))
    since = f"créées depuis le {got.since:%d/%m/%Y %H:%M} UTC" if got.since else "toutes les offres ouvertes"
    typer.echo(
        f"France Travail : {got.offers} offre(s) ({since}), {got.searches} recherche(s), {got.requests} appel(s)"
    )
    if got.cut:
        typer.echo(f"Recherches coupées à 1 150 offres (flux incomplet, rien fermé) : {', '.join(got.cut[:10])}")
    if got.report is not None:
        record_run(engine, "offres", got.path, started, full=got.since is None and got.complete, report=got.report)
        update_index(engine, settings)
        typer.echo(got.report.as_text(max_rejects=20))
        if got.report.status != "ok":
            raise typer.Exit(code=2)


@data_app.command("refresh")
def data_refresh(
    ctx: typer.Context,
    source: Annotated[list[str] | None, typer.Option("--source", help="Seulement ces sources (répétable).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rafraîchir toutes les sources configurées (jeux officiels, catalogues LHÉO, offres France Travail), puis
    l'index de recherche ; un seul rafraîchissement à la fois ; code 1 si une source a échoué."""
    settings = Settings()
    engine = open_engine(ctx, settings.database_url)
    migrate(engine)
    try:
        results = refresh(
            engine, settings, only=source or None, update_index=lambda e: update_index(e, settings, quiet=True)
        )
    except RefreshLocked as exc:
        refuse(str(exc))
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in results], ensure_ascii=False, indent=2, default=str))
    else:
        labels = {"ok": "fait", "refused": "refusé", "failed": "échoué", "skipped": "non configuré"}
        for r in results:
            counts = ", ".join(f"{k} {v}" for k, v in r.counts.items())
            typer.echo(f"{r.source:10} {labels.get(r.status, r.status):14} {counts} {r.message or ''}".rstrip())
    if any(r.status in ("failed", "refused") for r in results):
        raise typer.Exit(code=1)


@data_app.command("status")
def data_status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """État de chaque jeu de données (fichiers, version, chargement, volumes, fraîcheur), notes de l'équipe données."""
    settings = Settings()
    engine = open_engine(ctx, settings.database_url)
    migrate(engine)
    rows = dataset_status(load_registry(settings.opendata_registry), settings.data_dir, engine)
    feeds = feed_status(engine)
    refreshed = refresh_status(engine)
    with Session(engine) as session:
        notes = team_notes(session)
        gaps = differences(session)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "datasets": [r.model_dump(mode="json") for r in rows],
                    "imports": [f.model_dump() for f in feeds],
                    "refresh": [r.model_dump() for r in refreshed],
                    "team_notes": [n.model_dump() for n in notes],
                    "rncp_differences": [g.model_dump() for g in gaps],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for r in rows:
        fresh = {True: "à jour", False: "à rafraîchir", None: "jamais chargé"}[r.fresh]
        counts = ", ".join(f"{k} {v}" for k, v in r.records.items()) or "-"
        typer.echo(f"{r.id:10} {fresh:14} version {r.version or '-':6} chargé {r.loaded_at or '-':25} {counts}")
    if feeds:
        typer.echo(f"\nFlux importés (dernier import de chacun ; à rafraîchir après {FEED_MAX_AGE_DAYS} jours) :")
    for f in feeds:
        fresh = {True: "à jour", False: "à rafraîchir", None: "-"}[f.fresh]
        done = {"ok": "importé", "refused": "refusé" if not f.counts else "interrompu", "failed": "échoué"}[f.status]
        totals = {k: sum(c.get(k, 0) for c in f.counts.values()) for k in ("created", "updated", "removed")}
        counts = (
            f"{totals['created']} créés, {totals['updated']} modifiés, {totals['removed']} fermés, {f.rejected} rejetés"
            if f.counts
            else (f.message or "")[:100]
        )
        typer.echo(
            f"{f.importer:10} {fresh:14} {done:10} {f.finished_at:25} {f.source} "
            f"(version {f.version or '-'}, {f.seconds} s, {f.runs} import(s){', flux complet' if f.full else ''}) : "
            f"{counts}"
        )
    if gaps:
        typer.echo(
            f"\nÉcarts entre les certifications du projet et le RNCP importé ({len(gaps)}, à vérifier ; "
            "rien n'a été modifié) :"
        )
    for g in gaps:
        typer.echo(f"- {g.text}")
    if refreshed:
        typer.echo("\nRafraîchissement (passerelles data refresh), par source :")
    for s in refreshed:
        fresh = f"dernier succès {s.last_success} (il y a {s.age_days} j)" if s.last_success else "jamais réussi"
        error = f" ; dernière erreur {s.last_error_at} : {(s.last_error or '')[:200]}" if s.last_error else ""
        typer.echo(f"{s.source:10} {s.last_status:8} {fresh}{error}")
    if notes:
        typer.echo(f"\nNotes pour l'équipe données ({len(notes)}, jamais affichées sur les pages publiques) :")
    for n in notes:
        typer.echo(f"- {n.page} ({n.url}) : {n.text}")
