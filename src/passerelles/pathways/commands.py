"""CLI: ``passerelles parcours``."""

from __future__ import annotations

import math
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from passerelles.clitools import JsonOpt, dump, find, open_engine, refuse
from passerelles.db import make_sessionmaker
from passerelles.pathways.schemas import Profile
from passerelles.pathways.services import (
    build_rulebook,
    plan,
    resolve_diploma,
    resolve_occupation,
    unknown_occupation,
)
from passerelles.places.services import place_index


def parcours(
    ctx: typer.Context,
    diplome: Annotated[
        list[str] | None, typer.Option("--diplome", help="Diplôme obtenu (sigle ou slug), répétable.")
    ] = None,
    experience: Annotated[
        list[str] | None,
        typer.Option(
            "--experience",
            help="MÉTIER:ANNÉES, répétable ; nom courant du poste, sigle ou appellation ROME "
            "(« auxiliaire de vie:5 », « AMP:3 »).",
        ),
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
    engine = open_engine(ctx)
    with make_sessionmaker(engine)() as session:
        book = build_rulebook(session)
        diplomas = []
        for d in diplome or []:
            slug = resolve_diploma(book, d) or find(session, d, "certification")
            if slug is None:
                refuse(f"diplôme inconnu : « {d} »")
            diplomas.append({"slug": slug})
        exp = []
        for item in experience or []:
            name, sep, years = item.rpartition(":")
            if not sep:
                refuse(f"--experience attend MÉTIER:ANNÉES, reçu « {item} »")
            match = resolve_occupation(book, name)
            if match.slug is None:
                refuse(f"--experience : {unknown_occupation(name, match)}")
            try:
                value = float(years.strip().replace(",", "."))
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or not 0 <= value <= 60:
                refuse(f"--experience : durée invalide « {years} » ; un nombre d'années entre 0 et 60 est attendu")
            exp.append({"occupation": match.slug, "years": value})
        target = None
        if cible:
            target = resolve_occupation(book, cible).slug or find(session, cible, "occupation")
            if target is None or target not in book.occupations:
                refuse(f"métier visé inconnu : « {cible} »")
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
        refuse("métier visé inconnu")
    if as_json:
        dump(result)
        return
    typer.echo(result.message or f"Parcours vers {result.target_name} :")
    for r in result.routes:
        typer.echo(f"\n{r.rank}. {r.target_name} — {r.summary} — {r.total_months:g} mois")
        for n, s in enumerate(r.steps, 1):
            typer.echo(f"   {n}. {s.title}" + (f" ({s.months:g} mois)" if s.months else ""))
            for w in s.why:
                typer.echo(f"       pourquoi : {w.text}" + (f" [{', '.join(w.sources)}]" if w.sources else ""))
            for st in s.stages:
                typer.echo(f"       étape de la VAE — {st.title} : {st.text}")
            if s.funding:
                typer.echo(f"       financement : {s.funding}")
    for b in result.blocked:
        typer.echo(f"\nBloqué — {b.option} : il faudrait {' ; '.join(b.failing)}")


def _commune_code(session: Session, text: str) -> str:
    """The commune a person names (INSEE code, postcode or name), as the planner's page reads it."""
    found = place_index(session).find_commune(text)
    if found is None:
        refuse(f"commune inconnue : « {text} »")
    return found.code_insee
