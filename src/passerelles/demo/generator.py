"""Generator of realistic, schema-valid DEMONSTRATION data for benchmarks and demos.

Two files, both streamed to disk with bounded memory and byte-identical for the same seed, scale and
reference date:

* ``write_lheo_catalogue`` — a regional training catalogue in LHÉO 2.3 (namespace ``http://lheo.gouv.fr/2.3``),
  valid against ``lheo-2.3.xsd``: organismes (IFSI-IFAS, instituts de travail social, lycées, CFA, organismes
  privés, universités), formations for the sector's current certifications (real RNCP codes and durations from
  ``data/certifications.yaml``), actions in real communes (INSEE code, postcode, coordinates) with modality,
  access route, cost and funders, sessions over the next 18 months with their recruitment state.
* ``write_offers`` — job offers shaped like France Travail "Offres d'emploi v2" (one JSON object per line),
  for the sector's occupations and ROME codes (``data/occupations.yaml`` and the ROME 4.60 appellations), with
  realistic contracts, working time, salaries, employers and publication dates over the past 60 days.

Places are real communes (COG ``communes.json`` joined with La Poste ``laposte_hexasmal.csv`` on the INSEE code,
read in place from the open-data directory; Paris, Lyon and Marseille by arrondissement, as France Travail
does): a région first, in proportion to its population, then one of its communes large enough for the kind
of organisation, in proportion to theirs. Organisations, employers, SIRET numbers (Luhn-valid), street
addresses, e-mails (``.demo.invalid``) and phone numbers (ARCEP ranges reserved for fiction) are invented;
every organisation name, formation title, description and employer name says ``(données de démonstration)``.

Speed and memory: texts that repeat (certifications, organisations, employers, kinds of action) are built
once and reused; organisation and employer pools are capped (50 000 and 40 000), so memory stays bounded
whatever the size, and the file is written through a temporary file renamed at the end.

Sources of the fixed lists below: LHÉO dictionaries shipped with the schema (financeurs, publics, modalités,
niveaux); legacy Formacode thesaurus (``formacode_legacy/FCod-utf-8.csv``); INSEE NAF rév. 2 sub-classes;
France Travail offer fields. Salaries and prices are plausible orders of magnitude, not statistics.

This module is the command line and the public entry points; the work is done in ``sessions`` (LHÉO
catalogue) and ``offers`` (job offers), from the ``world`` (communes, certifications, occupations), the
``vocabulary`` (fixed lists and tuning) and ``tools`` (sampling, texts, streaming writer).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from passerelles.demo import DEMO_LABEL
from passerelles.demo.offers import write_offers
from passerelles.demo.sessions import LHEO_NAMESPACE, write_lheo_catalogue
from passerelles.demo.tools import DEMO_SUFFIX

__all__ = [
    "DEMO_LABEL",
    "DEMO_SUFFIX",
    "LHEO_NAMESPACE",
    "main",
    "write_lheo_catalogue",
    "write_offers",
]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m passerelles.demo.generator lheo OUT --sessions N`` or ``offers OUT --offers N``."""
    parser = argparse.ArgumentParser(
        prog="python -m passerelles.demo.generator",
        description=f"Génère des données de démonstration ({DEMO_LABEL}) : catalogue LHÉO ou offres d'emploi.",
    )
    sub = parser.add_subparsers(dest="kind", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("out", type=Path, help="fichier à écrire")
    common.add_argument("--seed", type=int, default=1, help="graine (défaut : 1)")
    common.add_argument("--today", type=date.fromisoformat, default=None, help="date de référence AAAA-MM-JJ")
    common.add_argument("--data-dir", type=Path, default=None, help="données ouvertes (geo_fr/, rome_v460/)")
    common.add_argument("--reference-dir", type=Path, default=None, help="faits YAML du projet (data/)")
    lheo = sub.add_parser("lheo", parents=[common], help="catalogue de formations LHÉO 2.3")
    lheo.add_argument("--sessions", type=int, required=True)
    offers = sub.add_parser("offers", parents=[common], help="offres d'emploi façon France Travail")
    offers.add_argument("--offers", type=int, required=True)
    offers.add_argument("--format", choices=("jsonl", "array"), default="jsonl")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        if args.kind == "lheo":
            counts = write_lheo_catalogue(
                args.out,
                sessions=args.sessions,
                seed=args.seed,
                today=args.today,
                data_dir=args.data_dir,
                reference_dir=args.reference_dir,
            )
        else:
            counts = write_offers(
                args.out,
                offers=args.offers,
                seed=args.seed,
                today=args.today,
                data_dir=args.data_dir,
                fmt=args.format,
                reference_dir=args.reference_dir,
            )
    except (OSError, ValueError) as exc:
        print(f"erreur : {exc}", file=sys.stderr)
        return 1
    report = {**counts, "path": str(args.out), "seconds": round(time.perf_counter() - started, 2)}
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
