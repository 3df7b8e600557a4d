"""CLI: the demonstration step of ``passerelles init`` (generated sessions and offers, loaded once)."""

from __future__ import annotations

import datetime as dt

import typer
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from passerelles.accompaniment.importer import import_structures
from passerelles.demo.generator import write_lheo_catalogue, write_offers
from passerelles.importing.runs import record_run
from passerelles.offers.importer import import_offers
from passerelles.settings import Settings
from passerelles.trainings.lheo import import_lheo
from passerelles.trainings.models import TrainingSession


def init_demo(engine: Engine, settings: Settings) -> None:
    """Generated training sessions and job offers, labelled as demonstration data, loaded once; and the
    example support structures (data·inclusion format), refreshed each time (an unchanged file changes nothing)."""
    fixture = settings.reference_dir / "demo" / "structures-data-inclusion.json"
    if fixture.is_file():
        structures = import_structures(engine, fixture, is_demo=True)
        typer.echo(f"Démonstration, structures d'accompagnement : {structures.entity('structure').created} créées.")
    with engine.connect() as conn:
        if conn.scalar(select(func.count()).select_from(TrainingSession).where(TrainingSession.is_demo)):
            typer.echo("Données de démonstration déjà chargées (PASSERELLES_DEMO=0 pour s'en passer).")
            return
    folder = settings.var_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    catalogue, offers = folder / "catalogue-demo.xml", folder / "offres-demo.jsonl"
    write_lheo_catalogue(catalogue, sessions=settings.demo_sessions, seed=1, data_dir=settings.data_dir)
    write_offers(offers, offers=settings.demo_offers, seed=1, data_dir=settings.data_dir)
    started = dt.datetime.now(dt.UTC)
    lheo = import_lheo(engine, catalogue, is_demo=True, xsd=settings.lheo_xsd, workers=settings.import_workers)
    record_run(engine, "lheo", catalogue, started, full=False, report=lheo)
    started = dt.datetime.now(dt.UTC)
    jobs = import_offers(engine, offers, fmt="france_travail", is_demo=True, workers=settings.import_workers)
    record_run(engine, "offres", offers, started, full=False, report=jobs)
    for label, report in (("sessions de formation", lheo), ("offres d'emploi", jobs)):
        t = report.totals
        typer.echo(f"Démonstration, {label} : {t.created} créées, {t.rejected} rejetées.")
