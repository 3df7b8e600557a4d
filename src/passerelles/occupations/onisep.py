"""Onisep ↔ ROME importer: Onisep's occupations (``MET.xxx``) with their ROME 4 codes.

File: ``romeMetier_onisep_rome.csv`` (``;``-separated, quoted, UTF-8; Onisep / France Travail open data).
Rows without an Onisep occupation are ROME fiches Onisep does not describe: skipped, not rejected.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.engine import Engine

from passerelles.importing.csvfile import HeaderMismatch, read_rows
from passerelles.importing.report import ImportRefused, ImportReport, Reject
from passerelles.importing.sync import row_hash
from passerelles.occupations.models import OnisepMetier
from passerelles.rome.models import RomeFiche

COLUMNS = (
    "Code ROME",
    "libellé métier onisep",
    "lien site onisep.fr",
    "Lib_ROME_FT",
    "lien site FT",
    "transitionEcologique",
    "transitionEcologiqueDetaillee",
    "transitionNumerique",
    "transitionDemographique",
)
ONISEP_ID = re.compile(r"(MET\.[0-9]+)$")
CODE_ROME = re.compile(r"^[A-N][0-9]{4}$")
TABLE = cast(Table, OnisepMetier.__table__)


def import_onisep(engine: Engine, path: Path, *, dry_run: bool = False) -> ImportReport:
    if path.is_dir():
        path = path / "romeMetier_onisep_rome.csv"
    if not path.is_file():
        raise ImportRefused(f"fichier introuvable : {path}")
    report = ImportReport(importer="onisep", source=str(path), dry_run=dry_run)
    rejects: list[Reject] = []
    try:
        rows = list(read_rows(path, COLUMNS, delimiter=";", rejects=rejects))
    except HeaderMismatch as exc:
        raise ImportRefused(str(exc)) from exc
    for r in rejects:
        report.reject("onisep_metier", r)
    with engine.begin() as conn:
        known_codes = set(conn.scalars(select(RomeFiche.code_rome)))
        wanted: dict[tuple[str, str], dict[str, Any]] = {}
        for row in rows:
            v = row.values
            if not v["lien site onisep.fr"] and not v["libellé métier onisep"]:
                continue  # a ROME fiche with no Onisep occupation
            match = ONISEP_ID.search(v["lien site onisep.fr"].strip())
            problem = None
            if not CODE_ROME.match(v["Code ROME"]):
                problem = ("Code ROME", f"code ROME invalide : {v['Code ROME']!r}")
            elif known_codes and v["Code ROME"] not in known_codes:
                problem = ("Code ROME", f"fiche ROME inconnue : {v['Code ROME']}")
            elif match is None:
                problem = ("lien site onisep.fr", "identifiant MET.xxx introuvable dans le lien")
            elif not v["libellé métier onisep"].strip():
                problem = ("libellé métier onisep", "libellé vide")
            if problem or match is None:
                field, reason = problem or ("lien site onisep.fr", "lien vide")
                report.reject(
                    "onisep_metier",
                    Reject(
                        source=path.name,
                        position=f"ligne {row.line}",
                        field=field,
                        reason=reason,
                        record=";".join(v.values())[:200],
                    ),
                )
                continue
            values = {
                "onisep_id": match.group(1),
                "code_rome": v["Code ROME"],
                "libelle": v["libellé métier onisep"].strip(),
                "url": v["lien site onisep.fr"].strip(),
            }
            wanted[(values["onisep_id"], values["code_rome"])] = values
        existing = {(r.onisep_id, r.code_rome): r.row_hash for r in conn.execute(select(TABLE))}
        counts = report.entity("onisep_metier")
        to_insert, to_update = [], []
        for key, values in wanted.items():
            values["row_hash"] = row_hash(values)
            old = existing.pop(key, None)
            if old is None:
                counts.created += 1
                to_insert.append(values)
            elif old != values["row_hash"]:
                counts.updated += 1
                to_update.append(values)
            else:
                counts.unchanged += 1
        counts.removed += len(existing)
        if dry_run:
            return report
        for key in existing:
            conn.execute(TABLE.delete().where(TABLE.c.onisep_id == key[0], TABLE.c.code_rome == key[1]))
        for values in to_update:
            conn.execute(
                TABLE.update()
                .where(TABLE.c.onisep_id == values["onisep_id"], TABLE.c.code_rome == values["code_rome"])
                .values(**values)
            )
        if to_insert:
            conn.execute(TABLE.insert(), to_insert)
    return report
