"""CLI: ``passerelles metier``, ``passerelles import onisep``, and the Onisep step of ``passerelles init``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.engine import Engine

from passerelles.clitools import DryRunOpt, Feed, JsonOpt, RejectsOpt, dump, find, open_engine, refuse, run_import
from passerelles.db import make_sessionmaker
from passerelles.occupations.onisep import import_onisep
from passerelles.occupations.services import get_occupation
from passerelles.rome.services import get_fiche
from passerelles.settings import Settings


def metier(ctx: typer.Context, query: str, as_json: JsonOpt = False) -> None:
    """Afficher la fiche d'un métier (nom, sigle, ancien nom, slug ou code ROME)."""
    engine = open_engine(ctx)
    with make_sessionmaker(engine)() as session:
        detail: Any = get_occupation(session, query)
        if detail is None:
            found = find(session, query, "occupation")
            if found and found.startswith("rome:"):
                detail = get_fiche(session, found.removeprefix("rome:"))
            elif found:
                detail = get_occupation(session, found)
        if detail is None:
            refuse(f"aucun métier ne correspond à « {query} »")
        if as_json:
            dump(detail)
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


def import_onisep_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Fichier romeMetier_onisep_rome.csv ou son répertoire.")],
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    rejects: RejectsOpt = None,
) -> None:
    """Importer la correspondance métiers Onisep ↔ ROME."""
    run_import(
        ctx,
        Settings(),
        lambda engine: import_onisep(engine, path, dry_run=dry_run),
        as_json,
        rejects,
        Feed("onisep", path, True, dry_run),
    )


def init_onisep(engine: Engine, data_dir: Path) -> None:
    """``init``: the Onisep ↔ ROME links of the data directory, when it has them."""
    onisep = data_dir / "onisep" / "romeMetier_onisep_rome.csv"
    if onisep.is_file():
        t = import_onisep(engine, onisep).totals
        typer.echo(
            f"Correspondance Onisep ↔ ROME : {t.created} créées, {t.updated} modifiées, {t.unchanged} inchangées."
        )
