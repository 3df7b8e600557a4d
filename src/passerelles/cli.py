"""The ``passerelles`` command line, assembled from each package's ``commands.py``.

Read commands take ``--json`` and print stable JSON; a refused input exits with status 2.
"""

from __future__ import annotations

import sys

import typer

from passerelles import commands as site
from passerelles.accompaniment import commands as accompaniment
from passerelles.accounts.commands import user_app
from passerelles.alerts.commands import alerts_app
from passerelles.caseloads.commands import files_app
from passerelles.certifications import commands as certifications
from passerelles.employers.commands import employers_app
from passerelles.funding import commands as funding
from passerelles.labour import commands as labour
from passerelles.occupations import commands as occupations
from passerelles.offers import commands as offers
from passerelles.opendata.commands import data_app
from passerelles.outcomes import commands as outcomes
from passerelles.pathways import commands as pathways
from passerelles.places import commands as places
from passerelles.reference import commands as reference
from passerelles.rncp import commands as rncp
from passerelles.rome import commands as rome
from passerelles.search import commands as search
from passerelles.trainings import commands as trainings

app = typer.Typer(
    help="Passerelles : métiers du soin et de l'accompagnement.", no_args_is_help=True, add_completion=False
)
app.command("init")(site.init)
app.command("metier")(occupations.metier)
app.command("certification")(certifications.certification)
app.command("search")(search.search)
app.command("parcours")(pathways.parcours)
app.command("financement")(funding.financement)
app.command("serve")(site.serve)
app.command("marche-du-travail")(offers.market_cmd)

import_app = typer.Typer(help="Importer des données ouvertes.", no_args_is_help=True)
import_app.command("rome")(rome.import_rome_cmd)
import_app.command("communes")(places.import_communes_cmd)
import_app.command("reference")(reference.import_reference_cmd)
import_app.command("onisep")(occupations.import_onisep_cmd)
import_app.command("lheo")(trainings.import_lheo_cmd)
import_app.command("offres")(offers.import_offres_cmd)
import_app.command("jobposting")(offers.import_jobposting_cmd)
import_app.command("structures")(accompaniment.import_structures_cmd)
import_app.command("bmo")(labour.import_bmo_cmd)
import_app.command("tensions")(labour.import_tensions_cmd)
import_app.command("rncp")(rncp.import_rncp_cmd)
import_app.command("inserjeunes")(outcomes.import_inserjeunes_cmd)

app.add_typer(import_app, name="import")
app.add_typer(data_app, name="data")
app.add_typer(search.index_app, name="index")
app.add_typer(user_app, name="user")
app.add_typer(files_app, name="dossiers")
app.add_typer(employers_app, name="employeurs")
app.add_typer(alerts_app, name="alertes")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
