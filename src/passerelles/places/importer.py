"""Communes importer: INSEE COG (``communes.json`` from @etalab/decoupage-administratif) joined with
La Poste's postcode base (``laposte_hexasmal.csv``, centroids "lat,lon") on the INSEE code.

extract (directory) → read → validate each commune → load in one transaction, with the shared report.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, cast

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.schema import Table

from passerelles.importing.csvfile import HeaderMismatch, read_rows
from passerelles.importing.report import ImportRefused, ImportReport, Reject
from passerelles.places.models import Commune, Departement

LAPOSTE_COLUMNS = (
    "Code_commune_INSEE",
    "Nom_commune",
    "Code_postal",
    "Ligne_5",
    "Libellé_d_acheminement",
    "coordonnees_gps",
)
CODE_INSEE = re.compile(r"^(?:[0-9]{2}|2A|2B)[0-9]{3}$")
COLLECTIVITES_OUTRE_MER = {"975", "977", "978", "984", "986", "987", "988", "989"}
COMMUNE = cast(Table, Commune.__table__)
KEPT_TYPES = {"commune-actuelle", "arrondissement-municipal"}


def _coords(value: str) -> tuple[float, float] | None:
    try:
        lat_s, lon_s = value.split(",")
        lat, lon = float(lat_s), float(lon_s)
    except ValueError:
        return None
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return lat, lon
    return None


def import_communes(engine: Engine, directory: Path, *, dry_run: bool = False) -> ImportReport:
    communes_path = directory / "communes.json"
    laposte_path = directory / "laposte_hexasmal.csv"
    if not communes_path.is_file():
        raise ImportRefused(f"fichier absent : {communes_path}")
    report = ImportReport(importer="communes", source=str(directory), dry_run=dry_run)
    try:
        records = json.loads(communes_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImportRefused(f"{communes_path.name} : JSON illisible ({exc})") from exc
    if not isinstance(records, list):
        raise ImportRefused(f"{communes_path.name} : une liste de communes est attendue")

    coords: dict[str, tuple[float, float]] = {}
    if laposte_path.is_file():
        rejects: list[Reject] = []
        try:
            for row in read_rows(laposte_path, LAPOSTE_COLUMNS, delimiter=";", rejects=rejects):
                c = _coords(row.values["coordonnees_gps"])
                if c is not None:
                    coords.setdefault(row.values["Code_commune_INSEE"], c)
        except HeaderMismatch as exc:
            report.warnings.append(f"coordonnées ignorées : {exc}")
        for r in rejects:
            report.reject("coordonnees", r)
    else:
        report.warnings.append(f"{laposte_path.name} absent : communes chargées sans coordonnées")

    with engine.begin() as conn:
        departements = set(conn.scalars(select(Departement.code)))
        if not departements:
            raise ImportRefused("aucun département en base : lancez d'abord « passerelles init »")
        existing = dict(conn.execute(select(Commune.code_insee, Commune.row_hash)).all())
        rows: dict[str, dict[str, Any]] = {}
        missing_coords = 0
        children: dict[str, list[str]] = {}
        for rec in records:
            if isinstance(rec, dict) and rec.get("type") == "arrondissement-municipal" and rec.get("commune"):
                children.setdefault(str(rec["commune"]), []).append(str(rec.get("code")))
        overseas_collectivities = 0
        for i, rec in enumerate(records):
            if not isinstance(rec, dict) or rec.get("type") not in KEPT_TYPES:
                continue
            position = f"élément {i}"
            code = str(rec.get("code", ""))
            name = str(rec.get("nom", "")).strip()
            problem = None
            if str(rec.get("departement", "")) in COLLECTIVITES_OUTRE_MER:
                overseas_collectivities += 1  # not départements: outside the COG départements we serve
                continue
            if not CODE_INSEE.match(code):
                problem = ("code", f"code INSEE invalide : {code!r}")
            elif not name:
                problem = ("nom", "nom vide")
            elif rec.get("departement") not in departements:
                problem = ("departement", f"département inconnu : {rec.get('departement')!r}")
            elif code in rows:
                problem = ("code", "commune en double")
            if problem:
                report.reject(
                    "commune",
                    Reject(
                        source=communes_path.name,
                        position=position,
                        field=problem[0],
                        reason=problem[1],
                        record=json.dumps(rec, ensure_ascii=False)[:200],
                    ),
                )
                continue
            c = coords.get(code)
            if c is None:
                # A commune created by merger: centre of its former communes; Paris, Lyon and Marseille:
                # centre of their arrondissements.
                olds = [coords[o] for o in [*(rec.get("anciensCodes") or []), *children.get(code, [])] if o in coords]
                if olds:
                    c = (sum(x for x, _ in olds) / len(olds), sum(y for _, y in olds) / len(olds))
            if c is None:
                missing_coords += 1
            population = rec.get("population")
            values = {
                "code_insee": code,
                "name": name,
                "departement_code": rec["departement"],
                "postcodes": sorted(str(p) for p in (rec.get("codesPostaux") or [])),
                "population": population if isinstance(population, int) else None,
                "latitude": round(c[0], 6) if c else None,
                "longitude": round(c[1], 6) if c else None,
            }
            values["row_hash"] = hashlib.sha1(
                json.dumps(values, sort_keys=True).encode(), usedforsecurity=False
            ).hexdigest()
            rows[code] = values
        if overseas_collectivities:
            report.warnings.append(f"{overseas_collectivities} commune(s) de collectivités d'outre-mer ignorées")
        if missing_coords:
            report.warnings.append(f"{missing_coords} commune(s) sans coordonnées")
        counts = report.entity("commune")
        to_insert, to_update = [], []
        for code, values in rows.items():
            old = existing.get(code)
            if old is None:
                to_insert.append(values)
                counts.created += 1
            elif old != values["row_hash"]:
                to_update.append(values)
                counts.updated += 1
            else:
                counts.unchanged += 1
        if dry_run:
            return report
        for start in range(0, len(to_insert), 5000):
            conn.execute(insert(Commune), to_insert[start : start + 5000])
        if to_update:
            cols = [k for k in to_update[0] if k != "code_insee"]
            stmt = (
                update(COMMUNE)
                .where(COMMUNE.c.code_insee == bindparam("k_code"))
                .values({k: bindparam(f"v_{k}") for k in cols})
            )
            conn.execute(stmt, [{"k_code": r["code_insee"], **{f"v_{k}": r[k] for k in cols}} for r in to_update])
    return report
