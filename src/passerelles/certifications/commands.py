"""CLI: ``passerelles certification``."""

from __future__ import annotations

import typer

from passerelles.certifications.services import get_certification
from passerelles.clitools import JsonOpt, dump, find, open_engine, refuse
from passerelles.db import make_sessionmaker


def certification(ctx: typer.Context, query: str, as_json: JsonOpt = False) -> None:
    """Afficher la fiche d'une certification (nom, sigle ou slug)."""
    engine = open_engine(ctx)
    with make_sessionmaker(engine)() as session:
        detail = get_certification(session, query)
        if detail is None:
            found = find(session, query, "certification")
            detail = get_certification(session, found) if found else None
        if detail is None:
            refuse(f"aucune certification ne correspond à « {query} »")
        if as_json:
            dump(detail)
            return
        typer.echo(f"{detail.name} ({detail.acronym or '-'})  niveau {detail.level_eu or '?'}  {detail.url}")
        for r in detail.replaced_by:
            typer.echo(f"Remplacé par {r.certification.name} le {r.date.isoformat()}")
        for r in detail.replaces:
            typer.echo(f"Remplace {r.certification.name} depuis le {r.date.isoformat()}")
