"""The ``passerelles`` command line. Read commands take ``--json`` and print stable JSON."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

import typer
from pydantic import BaseModel
from sqlalchemy import func, select

from passerelles.certifications.services import get_certification
from passerelles.db import make_engine, make_sessionmaker, migrate, session_scope
from passerelles.importing.report import ImportRefused, ImportReport
from passerelles.occupations.services import get_occupation
from passerelles.places.importer import import_communes
from passerelles.places.models import Commune
from passerelles.reference.loader import load_reference
from passerelles.reference.reader import InvalidReferenceData
from passerelles.rome.importer import _checksum as rome_checksum
from passerelles.rome.importer import detect_version, import_rome, loaded_checksum
from passerelles.rome.services import get_fiche
from passerelles.search.services import SearchBackend, open_backend
from passerelles.settings import Settings

app = typer.Typer(
    help="Passerelles : métiers du soin et de l'accompagnement.", no_args_is_help=True, add_completion=False
)
import_app = typer.Typer(help="Importer des données ouvertes.", no_args_is_help=True)
app.add_typer(import_app, name="import")
data_app = typer.Typer(help="Jeux de données ouverts officiels : téléchargement et état.", no_args_is_help=True)
app.add_typer(data_app, name="data")
index_app = typer.Typer(help="Index de recherche : reconstruction, mise à jour, état.", no_args_is_help=True)
app.add_typer(index_app, name="index")

JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie JSON stable.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Simuler : afficher le bilan sans rien écrire.")]
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Retirer ou fermer même plus que la part autorisée (PASSERELLES_IMPORT_MAX_REMOVED_SHARE) : purge voulue.",
    ),
]


def _engine(ctx: typer.Context, url: str | None = None) -> Any:
    """An engine disposed when the command ends (no connection left to the garbage collector)."""
    engine = make_engine(url or Settings().database_url)
    ctx.call_on_close(engine.dispose)
    return engine


def _dump(obj: Any) -> None:
    if isinstance(obj, BaseModel):
        obj = obj.model_dump(mode="json")
    elif isinstance(obj, list):
        obj = [o.model_dump(mode="json") if isinstance(o, BaseModel) else o for o in obj]
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False))


def _print_report(report: ImportReport, as_json: bool, rejects: Path | None) -> None:
    if rejects:
        report.write_rejects(rejects)
    if as_json:
        _dump(report)
    else:
        typer.echo(report.as_text())


def _refuse(message: str) -> NoReturn:
    typer.echo(f"Erreur : {message}", err=True)
    raise typer.Exit(code=2)


@app.command()
def init(
    ctx: typer.Context,
    open_data: Annotated[bool, typer.Option(help="Importer aussi les données ouvertes configurées.")] = True,
) -> None:
    """Créer ou migrer la base, charger les données de référence et les données ouvertes disponibles."""
    settings = Settings()
    engine = _engine(ctx, settings.database_url)
    typer.echo(f"Base : {engine.url.render_as_string(hide_password=True)}")
    migrate(engine)
    typer.echo("Schéma à jour.")
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            report = load_reference(session, settings.reference_dir)
    except InvalidReferenceData as exc:
        _refuse(f"données de référence invalides :\n{exc}")
    t = report.totals
    typer.echo(f"Données de référence : {t.created} créées, {t.updated} modifiées, {t.unchanged} inchangées.")
    if not open_data:
        return
    if settings.data_dir is None:
        typer.echo(
            "Aucun répertoire de données ouvertes configuré (PASSERELLES_DATA_DIR) : "
            "ROME et communes non importés. Le site fonctionne avec les seules données de référence."
        )
        return
    if settings.rome_dir is None:
        typer.echo(f"Pas d'export ROME dans {settings.data_dir}/rome_v460 : ROME non importé.")
    else:
        from passerelles.importing.runs import record_run

        started = dt.datetime.now(dt.UTC)
        try:
            suffix, version = detect_version(settings.rome_dir)
            if loaded_checksum(engine, version) == rome_checksum(settings.rome_dir, suffix):
                typer.echo(f"ROME {version} déjà importé et inchangé.")
            else:
                typer.echo(f"Import du ROME {version} depuis {settings.rome_dir}…")
                rome = import_rome(engine, str(settings.rome_dir), limits=settings.import_limits)
                record_run(engine, "rome", settings.rome_dir, started, full=True, report=rome)
                typer.echo(rome.as_text(max_rejects=10))
        except ImportRefused as exc:
            record_run(engine, "rome", settings.rome_dir, started, full=True, refused=str(exc))
            _refuse(f"export ROME refusé : {exc}")
    onisep = settings.data_dir / "onisep" / "romeMetier_onisep_rome.csv"
    if onisep.is_file():
        from passerelles.occupations.onisep import import_onisep

        t = import_onisep(engine, onisep).totals
        typer.echo(
            f"Correspondance Onisep ↔ ROME : {t.created} créées, {t.updated} modifiées, {t.unchanged} inchangées."
        )
    if settings.geo_dir is None:
        typer.echo(f"Pas de répertoire geo_fr dans {settings.data_dir} : communes non importées.")
        return  # demonstration sessions and offers are placed in real communes
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(Commune)) or 0
    if count:
        typer.echo(f"{count} communes déjà en base (« passerelles import communes » pour mettre à jour).")
    else:
        typer.echo(f"Import des communes depuis {settings.geo_dir}…")
        typer.echo(import_communes(engine, settings.geo_dir).as_text(max_rejects=10))
    if settings.demo:
        _load_demo(engine, settings)
    _update_index(engine, settings, rebuild_if_missing=True)


def _load_demo(engine: Any, settings: Settings) -> None:
    """Generated training sessions and job offers, labelled as demonstration data, loaded once."""
    from passerelles.demo.generator import write_lheo_catalogue, write_offers
    from passerelles.offers.importer import import_offers
    from passerelles.settings import PROJECT_ROOT
    from passerelles.trainings.lheo import import_lheo
    from passerelles.trainings.models import TrainingSession

    with engine.connect() as conn:
        if conn.scalar(select(func.count()).select_from(TrainingSession).where(TrainingSession.is_demo)):
            typer.echo("Données de démonstration déjà chargées (PASSERELLES_DEMO=0 pour s'en passer).")
            return
    folder = PROJECT_ROOT / "var" / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    catalogue, offers = folder / "catalogue-demo.xml", folder / "offres-demo.jsonl"
    write_lheo_catalogue(catalogue, sessions=settings.demo_sessions, seed=1, data_dir=settings.data_dir)
    write_offers(offers, offers=settings.demo_offers, seed=1, data_dir=settings.data_dir)
    from passerelles.importing.runs import record_run

    started = dt.datetime.now(dt.UTC)
    xsd = settings.data_dir / "lheo" / "lheo-2.3.xsd" if settings.data_dir else None
    lheo = import_lheo(engine, catalogue, is_demo=True, xsd=xsd)
    record_run(engine, "lheo", catalogue, started, full=False, report=lheo)
    started = dt.datetime.now(dt.UTC)
    jobs = import_offers(engine, offers, fmt="france_travail", is_demo=True)
    record_run(engine, "offres", offers, started, full=False, report=jobs)
    for label, report in (("sessions de formation", lheo), ("offres d'emploi", jobs)):
        t = report.totals
        typer.echo(f"Démonstration, {label} : {t.created} créées, {t.rejected} rejetées.")


@import_app.command("rome")
def import_rome_cmd(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Répertoire, archive .zip ou URL de l'export ROME 4.")],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    rejects: Annotated[Path | None, typer.Option(help="Écrire les rejets dans ce fichier JSON Lines.")] = None,
    force: ForceOpt = False,
) -> None:
    """Importer le référentiel ROME 4 (fiches, appellations, compétences, mobilités, textes)."""
    progress = None if as_json else lambda m: typer.echo(m, err=True)
    limits = Settings().import_limits
    _run_import(
        ctx,
        lambda engine: import_rome(engine, source, dry_run=dry_run, progress=progress, limits=limits, force=force),
        as_json,
        rejects,
        ("rome", source, True, dry_run),
    )


@import_app.command("communes")
def import_communes_cmd(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Répertoire contenant communes.json et laposte_hexasmal.csv.")],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    rejects: Annotated[Path | None, typer.Option(help="Écrire les rejets dans ce fichier JSON Lines.")] = None,
) -> None:
    """Importer les communes (COG INSEE) avec leurs coordonnées (base La Poste)."""
    _run_import(
        ctx,
        lambda engine: import_communes(engine, directory, dry_run=dry_run),
        as_json,
        rejects,
        ("communes", directory, True, dry_run),
    )


@import_app.command("reference")
def import_reference_cmd(
    ctx: typer.Context,
    directory: Annotated[Path | None, typer.Argument(help="Répertoire des fichiers YAML (data/ par défaut).")] = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Charger les faits rédigés par le projet (métiers, certifications, lieux, sources)."""
    settings = Settings()
    engine = _engine(ctx, settings.database_url)
    migrate(engine)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            report = load_reference(session, directory or settings.reference_dir, dry_run=dry_run)
    except InvalidReferenceData as exc:
        _refuse(f"données de référence invalides :\n{exc}")
    _print_report(report, as_json, None)


def _run_import(
    ctx: typer.Context,
    run: Callable[[Any], ImportReport],
    as_json: bool,
    rejects: Path | None,
    feed: tuple[str, Path | str, bool, bool] | None = None,
) -> None:
    """Migrate, run one importer, print its report; an input refused as a whole exits with status 2.
    ``feed`` (importer, file, full, dry run): the run is recorded for ``data status`` (not a dry run), even
    a refused or failed one."""
    from passerelles.importing.runs import record_run

    engine = _engine(ctx)
    migrate(engine)
    started = dt.datetime.now(dt.UTC)
    try:
        report = run(engine)
    except ImportRefused as exc:
        if feed is not None and not feed[3]:
            record_run(engine, feed[0], feed[1], started, full=feed[2], refused=str(exc))
        _refuse(str(exc))
    except Exception as exc:
        if feed is not None and not feed[3]:
            record_run(
                engine, feed[0], feed[1], started, full=feed[2], failed=f"erreur inattendue ({type(exc).__name__})"
            )
        raise
    if feed is not None and not feed[3]:
        record_run(engine, feed[0], feed[1], started, full=feed[2], report=report)
    if not report.dry_run:
        _update_index(engine, Settings(), quiet=as_json)
    _finish_import(report, as_json, rejects)


def _update_index(engine: Any, settings: Settings, *, rebuild_if_missing: bool = False, quiet: bool = False) -> None:
    """After an import: the published search index takes in what changed (nothing to do without one)."""
    from passerelles.search.index import current_version, rebuild, update
    from passerelles.search.services import published

    root = settings.search_index_dir
    url = engine.url.render_as_string(hide_password=False)
    if published(root, url):
        report = update(engine, root)
    elif rebuild_if_missing and current_version(root) is None:
        report = rebuild(engine, root)
    else:
        return  # no index of this database here: built on first use, or by `passerelles index rebuild`
    if not quiet:
        typer.echo(report.as_text(), err=True)


def _finish_import(report: ImportReport, as_json: bool, rejects: Path | None) -> None:
    """Print the report; rejects always go to a JSON Lines file (``var/rejects/`` unless --rejects)."""
    if report.rejects and rejects is None:
        from passerelles.settings import PROJECT_ROOT

        folder = PROJECT_ROOT / "var" / "rejects"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = __import__("datetime").datetime.now().strftime("%Y%m%d-%H%M%S")
        rejects = folder / f"{report.importer}-{stamp}.jsonl"
    _print_report(report, as_json, rejects)
    if rejects and report.rejects and not as_json:
        typer.echo(f"Rejets écrits dans {rejects}")
    if report.status == "refused":
        raise typer.Exit(code=2)  # what was complete is loaded, but the input as a whole was refused


@import_app.command("onisep")
def import_onisep_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Fichier romeMetier_onisep_rome.csv ou son répertoire.")],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    rejects: Annotated[Path | None, typer.Option(help="Fichier JSON Lines des rejets.")] = None,
) -> None:
    """Importer la correspondance métiers Onisep ↔ ROME."""
    from passerelles.occupations.onisep import import_onisep

    _run_import(
        ctx,
        lambda engine: import_onisep(engine, path, dry_run=dry_run),
        as_json,
        rejects,
        ("onisep", path, True, dry_run),
    )


@import_app.command("lheo")
def import_lheo_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Catalogue LHÉO (XML 1.3, 2.2 ou 2.3).")],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    full: Annotated[bool, typer.Option(help="Flux complet : fermer les sessions absentes.")] = False,
    demo: Annotated[bool, typer.Option(help="Données de démonstration.")] = False,
    rejects: Annotated[Path | None, typer.Option(help="Fichier JSON Lines des rejets.")] = None,
    force: ForceOpt = False,
) -> None:
    """Importer une offre de formation au format LHÉO."""
    from passerelles.trainings.lheo import import_lheo

    settings = Settings()
    xsd = settings.data_dir / "lheo" / "lheo-2.3.xsd" if settings.data_dir else None
    limits = settings.import_limits
    _run_import(
        ctx,
        lambda engine: import_lheo(
            engine, path, dry_run=dry_run, full=full, is_demo=demo, xsd=xsd, limits=limits, force=force
        ),
        as_json,
        rejects,
        ("lheo", path, full, dry_run),
    )


def _import_offers(
    ctx: typer.Context,
    path: Path,
    fmt: Literal["france_travail", "jobposting"],
    dry_run: bool,
    as_json: bool,
    full: bool,
    demo: bool,
    rejects: Path | None,
    force: bool,
) -> None:
    from passerelles.offers.importer import import_offers

    limits = Settings().import_limits
    _run_import(
        ctx,
        lambda engine: import_offers(
            engine, path, fmt=fmt, dry_run=dry_run, full=full, is_demo=demo, limits=limits, force=force
        ),
        as_json,
        rejects,
        ("offres" if fmt == "france_travail" else "jobposting", path, full, dry_run),
    )


@import_app.command("offres")
def import_offres_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Offres France Travail v2 (JSON, {resultats: […]} ou JSON Lines).")],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    full: Annotated[bool, typer.Option(help="Flux complet : fermer les offres absentes.")] = False,
    demo: Annotated[bool, typer.Option(help="Données de démonstration.")] = False,
    rejects: Annotated[Path | None, typer.Option(help="Fichier JSON Lines des rejets.")] = None,
    force: ForceOpt = False,
) -> None:
    """Importer des offres d'emploi au format France Travail « Offres d'emploi v2 »."""
    _import_offers(ctx, path, "france_travail", dry_run, as_json, full, demo, rejects, force)


@import_app.command("jobposting")
def import_jobposting_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Offres schema.org JobPosting (JSON-LD ou JSON Lines).")],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    full: Annotated[bool, typer.Option(help="Flux complet : fermer les offres absentes.")] = False,
    rejects: Annotated[Path | None, typer.Option(help="Fichier JSON Lines des rejets.")] = None,
    force: ForceOpt = False,
) -> None:
    """Importer des offres d'emploi schema.org JobPosting."""
    _import_offers(ctx, path, "jobposting", dry_run, as_json, full, False, rejects, force)


@data_app.command("fetch")
def data_fetch(
    dataset: Annotated[
        str | None, typer.Argument(help="Identifiant du jeu (rome, cog, laposte, onisep…) ; tous sinon.")
    ] = None,
    url: Annotated[str | None, typer.Option(help="Adresse de la version à télécharger.")] = None,
) -> None:
    """Télécharger un jeu de données officiel dans le répertoire de données (reprise possible)."""
    from passerelles.opendata.fetch import FetchError, fetch
    from passerelles.opendata.registry import load_registry

    settings = Settings()
    registry = load_registry(settings.reference_dir / "opendata" / "registry.yaml")
    if settings.data_dir is None:
        _refuse("aucun répertoire de données configuré (PASSERELLES_DATA_DIR)")
    chosen = [registry.get(dataset)] if dataset else registry.datasets
    if dataset and chosen[0] is None:
        _refuse(f"jeu inconnu : {dataset} (connus : {', '.join(d.id for d in registry.datasets)})")
    failed = False
    for d in chosen:
        assert d is not None
        try:
            result = fetch(d, settings.data_dir, url=url if dataset else None)
        except FetchError as exc:
            typer.echo(f"Erreur : {exc}", err=True)
            failed = True
            continue
        resumed = f", repris à l'octet {result.resumed_from}" if result.resumed_from else ""
        typer.echo(f"{d.id} : {result.bytes} octets → {result.path}{resumed}")
    if failed:
        raise typer.Exit(code=2)


@data_app.command("status")
def data_status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """État de chaque jeu de données : fichiers, version, date de chargement, volumes, fraîcheur."""
    from passerelles.importing.runs import FEED_MAX_AGE_DAYS, feed_status
    from passerelles.opendata.registry import load_registry
    from passerelles.opendata.status import dataset_status

    settings = Settings()
    engine = _engine(ctx, settings.database_url)
    migrate(engine)
    rows = dataset_status(
        load_registry(settings.reference_dir / "opendata" / "registry.yaml"), settings.data_dir, engine
    )
    feeds = feed_status(engine)
    if as_json:
        typer.echo(
            json.dumps(
                {"datasets": [r.model_dump(mode="json") for r in rows], "imports": [f.model_dump() for f in feeds]},
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


def _backend(session: Any) -> SearchBackend:
    settings = Settings()
    return open_backend(session, settings.search_index_dir, settings.database_url)


def _find(session: Any, query: str, type_: str) -> str | None:
    """Resolve a query to an id: exact slug first, then the best search result of that type."""
    results = _backend(session).search(query, types={type_}, limit=1)
    return results[0].id if results else None


@app.command()
def metier(ctx: typer.Context, query: str, as_json: JsonOpt = False) -> None:
    """Afficher la fiche d'un métier (nom, sigle, ancien nom, slug ou code ROME)."""
    engine = _engine(ctx)
    with make_sessionmaker(engine)() as session:
        detail: Any = get_occupation(session, query)
        if detail is None:
            found = _find(session, query, "occupation")
            if found and found.startswith("rome:"):
                detail = get_fiche(session, found.removeprefix("rome:"))
            elif found:
                detail = get_occupation(session, found)
        if detail is None:
            _refuse(f"aucun métier ne correspond à « {query} »")
        if as_json:
            _dump(detail)
            return
        if hasattr(detail, "slug"):
            typer.echo(f"{detail.name}  [{', '.join(detail.rome_codes)}]  {detail.url}")
            if detail.former_names:
                typer.echo(f"Anciennement : {', '.join(detail.former_names)}")
            typer.echo(detail.summary)
            for group in detail.certifications_by_level:
                typer.echo(
                    f"{group.label} : "
                    + ", ".join(c.certification.acronym or c.certification.name for c in group.certifications)
                )
        else:
            typer.echo(f"{detail.libelle}  [ROME {detail.code_rome}]  {detail.url}")
            typer.echo(" ".join(detail.definition))


@app.command()
def certification(ctx: typer.Context, query: str, as_json: JsonOpt = False) -> None:
    """Afficher la fiche d'une certification (nom, sigle ou slug)."""
    engine = _engine(ctx)
    with make_sessionmaker(engine)() as session:
        detail = get_certification(session, query)
        if detail is None:
            found = _find(session, query, "certification")
            detail = get_certification(session, found) if found else None
        if detail is None:
            _refuse(f"aucune certification ne correspond à « {query} »")
        if as_json:
            _dump(detail)
            return
        typer.echo(f"{detail.name} ({detail.acronym or '-'})  niveau {detail.level_eu or '?'}  {detail.url}")
        for r in detail.replaced_by:
            typer.echo(f"Remplacé par {r.certification.name} le {r.date.isoformat()}")
        for r in detail.replaces:
            typer.echo(f"Remplace {r.certification.name} depuis le {r.date.isoformat()}")


@app.command()
def search(
    ctx: typer.Context,
    query: str,
    as_json: JsonOpt = False,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
) -> None:
    """Rechercher métiers, certifications, sessions de formation et offres d'emploi."""
    engine = _engine(ctx)
    with make_sessionmaker(engine)() as session:
        results = _backend(session).search(query, limit=limit)
    if as_json:
        _dump(results)
        return
    if not results:
        typer.echo("Aucun résultat.")
    for r in results:
        codes = f" [{', '.join(r.rome_codes)}]" if r.rome_codes else ""
        typer.echo(f"{r.score:7.1f}  {r.type:13} {r.title}{codes}  {r.url}")


@app.command()
def parcours(
    ctx: typer.Context,
    diplome: Annotated[
        list[str] | None, typer.Option("--diplome", help="Diplôme obtenu (sigle ou slug), répétable.")
    ] = None,
    experience: Annotated[
        list[str] | None, typer.Option("--experience", help="MÉTIER:ANNÉES, répétable (slug ou nom du métier).")
    ] = None,
    age: Annotated[int | None, typer.Option(min=14, max=80)] = None,
    commune: Annotated[str | None, typer.Option(help="Code INSEE ou nom de commune.")] = None,
    cible: Annotated[str | None, typer.Option(help="Métier visé (nom, sigle ou slug) ; absent : suggestions.")] = None,
    max_mois: Annotated[float | None, typer.Option("--max-mois", help="Durée totale maximale.")] = None,
    apprentissage: Annotated[bool, typer.Option(help="Apprentissage souhaité.")] = False,
    distance: Annotated[bool, typer.Option(help="Formation à distance acceptée.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Construire un parcours : de la situation d'une personne à un métier, étape par étape."""
    from passerelles.pathways.schemas import Profile
    from passerelles.pathways.services import build_rulebook, plan, resolve_diploma

    engine = _engine(ctx)
    with make_sessionmaker(engine)() as session:
        book = build_rulebook(session)
        diplomas = []
        for d in diplome or []:
            slug = resolve_diploma(book, d) or _find(session, d, "certification")
            if slug is None:
                _refuse(f"diplôme inconnu : « {d} »")
            diplomas.append({"slug": slug})
        exp = []
        for item in experience or []:
            name, sep, years = item.rpartition(":")
            if not sep:
                _refuse(f"--experience attend MÉTIER:ANNÉES, reçu « {item} »")
            occ = name if name in book.occupations else _find(session, name, "occupation")
            if occ is None or occ not in book.occupations:
                _refuse(f"métier inconnu : « {name} »")
            try:
                exp.append({"occupation": occ, "years": float(years.replace(",", "."))})
            except ValueError:
                _refuse(f"nombre d'années invalide : « {years} »")
        target = None
        if cible:
            target = cible if cible in book.occupations else _find(session, cible, "occupation")
            if target is None or target not in book.occupations:
                _refuse(f"métier visé inconnu : « {cible} »")
        code_insee = _commune_code(session, commune) if commune else None
        profile = Profile.model_validate(
            {
                "diplomas": diplomas,
                "experience": exp,
                "age": age,
                "commune": code_insee,
                "target": target,
                "max_months": max_mois,
                "apprenticeship": apprentissage,
                "distance_learning": distance,
            }
        )
        result = plan(session, profile, book)
    if result is None:
        _refuse("métier visé inconnu")
    if as_json:
        _dump(result)
        return
    typer.echo(result.message or f"Parcours vers {result.target_name} :")
    for r in result.routes:
        typer.echo(f"\n{r.rank}. {r.target_name} — {r.summary} — {r.total_months:g} mois")
        for s in r.steps:
            typer.echo(f"   - {s.title}" + (f" ({s.months:g} mois)" if s.months else ""))
            for w in s.why:
                typer.echo(f"       pourquoi : {w.text}" + (f" [{', '.join(w.sources)}]" if w.sources else ""))
    for b in result.blocked:
        typer.echo(f"\nBloqué — {b.option} : il faudrait {' ; '.join(b.failing)}")


def _commune_code(session: Any, text: str) -> str:
    from passerelles.places.models import Commune

    if session.get(Commune, text) is not None:
        return text
    found = session.scalars(
        select(Commune)
        .where(func.lower(Commune.name) == text.strip().lower())
        .order_by(Commune.population.desc().nulls_last())
    ).first()
    if found is None:
        _refuse(f"commune inconnue : « {text} »")
    return str(found.code_insee)


@index_app.command("rebuild")
def index_rebuild(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Reconstruire l'index de recherche depuis la base et le publier (les lecteurs basculent seuls)."""
    from passerelles.search.index import rebuild

    settings = Settings()
    report = rebuild(_engine(ctx, settings.database_url), settings.search_index_dir)
    _dump(report.__dict__) if as_json else typer.echo(report.as_text())


@index_app.command("update")
def index_update(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Mettre l'index à jour depuis la base (ce qui a changé seulement) et publier la nouvelle version."""
    from passerelles.search.index import update

    settings = Settings()
    report = update(_engine(ctx, settings.database_url), settings.search_index_dir)
    _dump(report.__dict__) if as_json else typer.echo(report.as_text())


@index_app.command("status")
def index_status(as_json: JsonOpt = False) -> None:
    """Version publiée, base d'origine, nombre de documents."""
    import json as _json

    from passerelles.search.index import current_version

    settings = Settings()
    folder = current_version(settings.search_index_dir)
    if folder is None:
        _refuse(f"aucun index publié dans {settings.search_index_dir} (passerelles index rebuild)")
    info = {"version": folder.name, "path": str(folder), **_json.loads((folder / "info.json").read_text())}
    _dump(info) if as_json else typer.echo("\n".join(f"{k} : {v}" for k, v in info.items()))


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Servir le site et l'API."""
    import uvicorn

    from passerelles.app import create_app
    from passerelles.http import uvicorn_options

    settings = Settings()
    typer.echo(f"Passerelles sur http://{host}:{port}")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", **uvicorn_options(settings))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)


# Accounts (issue 7): `passerelles user create`.
from passerelles.accounts.commands import user_app  # noqa: E402

app.add_typer(user_app, name="user")
from passerelles.caseloads.commands import files_app  # noqa: E402

app.add_typer(files_app, name="dossiers")
from passerelles.employers.commands import employers_app  # noqa: E402

app.add_typer(employers_app, name="employeurs")
from passerelles.alerts.commands import alerts_app  # noqa: E402

app.add_typer(alerts_app, name="alertes")
