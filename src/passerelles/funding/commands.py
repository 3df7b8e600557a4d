"""CLI: ``passerelles financement``."""

from __future__ import annotations

from typing import Annotated

import typer

from passerelles.clitools import JsonOpt, dump, open_engine, refuse
from passerelles.db import make_sessionmaker
from passerelles.funding.rules import load_book
from passerelles.funding.services import FundingError, eur, simulate_fields
from passerelles.settings import Settings


def financement(
    ctx: typer.Context,
    age: Annotated[int, typer.Option(help="Âge en années.")],
    situation: Annotated[str, typer.Option(help="demandeur-emploi, salarie, apprenti, etudiant ou independant.")],
    certification: Annotated[str, typer.Option(help="Certification visée (sigle ou identifiant : DEAS, deaes…).")],
    indemnise: Annotated[bool, typer.Option("--indemnise", help="Touche l'allocation chômage (ARE).")] = False,
    travailleur_handicape: Annotated[
        bool, typer.Option("--travailleur-handicape", help="Reconnaissance de travailleur handicapé.")
    ] = False,
    region: Annotated[str | None, typer.Option(help="Code INSEE de la région (11, 84…).")] = None,
    vae: Annotated[bool, typer.Option("--vae", help="Par la VAE plutôt que par une formation.")] = False,
    session_id: Annotated[int | None, typer.Option("--session", help="Session de formation (pour son coût).")] = None,
    salaire: Annotated[float | None, typer.Option(help="Salaire brut mensuel (salarié).")] = None,
    solde_cpf: Annotated[float | None, typer.Option(help="Solde de votre compte formation (CPF), en euros.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Financer une formation : qui paie, ce qui reste à payer, de quoi vivre pendant la formation."""
    settings = Settings()
    data = {
        "age": age,
        "situation": situation,
        "certification": certification,
        "indemnise": indemnise,
        "travailleur_handicape": travailleur_handicape,
        "region": region,
        "vae": vae,
        "session": session_id,
        "salaire": salaire,
        "solde_cpf": solde_cpf,
    }
    engine = open_engine(ctx, settings.database_url)
    with make_sessionmaker(engine)() as session:
        try:
            result = simulate_fields(session, load_book(settings.reference_dir), data)
        except FundingError as exc:
            refuse(f"{exc.field} : {exc.message}")
    if as_json:
        dump(result)
        return
    t = result.training
    typer.echo(f"{t.name} — {t.months_text} — {result.situation_label}, {result.query.age} ans")
    typer.echo(f"Coût : {t.cost_text}")
    for w in result.warnings:
        typer.echo(f"Attention : {w}")
    for i, c in enumerate(result.combinations, 1):
        typer.echo(f"\n{i}. {c.title}")
        for line in c.tuition:
            typer.echo(f"   Paie : {line.name} — {line.covers} [{', '.join(map(str, line.notes))}]")
        typer.echo(f"   Reste à payer : {c.remaining_text}")
        for line in c.income:
            amount = f"{eur(line.monthly_eur)} par mois" if line.monthly_eur is not None else line.amount_text
            typer.echo(f"   Revenu : {line.name} — {amount} [{', '.join(map(str, line.notes))}]")
        if not c.income:
            typer.echo(f"   Revenu : {c.income_text}")
    typer.echo("\nSources :")
    for s in result.sources:
        typer.echo(f"  [{s.number}] {s.title}, {s.publisher}{', ' + s.date if s.date else ''} — {s.url or ''}")
