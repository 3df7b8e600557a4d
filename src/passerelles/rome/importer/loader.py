"""Load: each entity diffed against the store (same ROME version) and the difference written in one
transaction; :func:`import_rome`, the whole import, and the ``source`` row that records it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, and_, bindparam, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.schema import Table

from passerelles.importing.limits import ImportLimits
from passerelles.importing.report import ImportRefused, ImportReport
from passerelles.rome.importer.extract import detect_version, export_checksum, extract
from passerelles.rome.importer.reader import read_export
from passerelles.rome.importer.tables import Entity
from passerelles.sources.models import Source

WHAT = {
    "rome_fiche": "fiches",
    "rome_appellation": "appellations",
    "rome_item": "compétences, savoirs et contextes",
    "rome_fiche_item": "liens entre fiches et compétences",
    "rome_mobility": "mobilités",
    "rome_text": "phrases de texte",
}


def _row_hash(values: dict[str, Any]) -> str:
    """The ROME rows' own hash, not :func:`passerelles.importing.sync.row_hash`: that one hashes other bytes
    (orjson, compact, UTF-8), and the hashes stored for the ROME rows must stay those computed here."""
    return hashlib.sha1(json.dumps(values, sort_keys=True, default=str).encode(), usedforsecurity=False).hexdigest()


def load_entities(
    conn: Connection,
    version: str,
    entities: dict[str, Entity],
    report: ImportReport,
    limits: ImportLimits | None = None,
    force: bool = False,
) -> None:
    """Diff each entity against the store (same ROME version) and write the difference.

    Rows absent from the export are removed only when the entity's files were all read with no reject
    (a rejected row may be a stored one), never for a fiche whose own row was rejected, and, unless
    ``force``, only within ``limits``: else :class:`ImportRefused`, before anything is written."""
    limits = limits or ImportLimits()
    order = list(entities)
    plan: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[Any, ...]]]] = {}
    for name in order:
        ent = entities[name]
        table = ent.table
        key_cols = [table.c[k] for k in ent.key]
        has_code = "code_rome" in table.c
        extra = [table.c.code_rome] if has_code else []
        kept = [table.c[c] for c in ent.kept_columns]
        existing: dict[tuple[Any, ...], str] = {}
        code_of: dict[tuple[Any, ...], str] = {}
        stored: dict[tuple[Any, ...], dict[str, Any]] = {}
        for r in conn.execute(
            select(*key_cols, table.c.row_hash, *extra, *kept).where(table.c.rome_version == version)
        ):
            k = tuple(r[: len(key_cols)])
            existing[k] = r[len(key_cols)]
            if has_code:
                code_of[k] = r[len(key_cols) + 1]
            if kept:
                stored[k] = dict(zip(ent.kept_columns, r[len(key_cols) + 1 + len(extra) :], strict=True))
        counts = report.entity(name)
        to_insert, to_update = [], []
        for key, values in ent.rows.items():
            if key in stored:
                values.update(stored[key])
            h = _row_hash(values)
            old = existing.pop(key, None)
            if old is None:
                to_insert.append({**values, "row_hash": h})
                counts.created += 1
            elif old != h:
                to_update.append({**values, "row_hash": h})
                counts.updated += 1
            else:
                counts.unchanged += 1
        if existing and ent.complete and counts.rejected:
            report.warnings.append(
                f"{counts.rejected} ligne(s) rejetée(s) : rien n'est retiré des {WHAT.get(name, name)} cette fois "
                "(une ligne rejetée peut être une ligne déjà en base)"
            )
        complete = ent.complete and not counts.rejected
        removed = [k for k in existing if complete and code_of.get(k) not in ent.protected]
        in_store = counts.updated + counts.unchanged + len(existing)
        if removed and not force and limits.too_many_removed(len(removed), in_store):
            raise ImportRefused(limits.removal_refusal(f"lignes ({WHAT.get(name, name)})", len(removed), in_store))
        counts.removed += len(removed)
        plan[name] = (to_insert, to_update, removed)
    if report.dry_run:
        return
    # Children first for deletions, parents first for inserts.
    for name in reversed(order):
        ent = entities[name]
        removed = plan[name][2]
        if removed:
            cond = and_(*(ent.table.c[k] == bindparam(f"k_{k}") for k in ent.key))
            conn.execute(
                delete(ent.table).where(cond),
                [dict(zip((f"k_{k}" for k in ent.key), key, strict=True)) for key in removed],
            )
    for name in order:
        ent = entities[name]
        to_insert, to_update, _ = plan[name]
        for start in range(0, len(to_insert), 5000):
            conn.execute(insert(ent.table), to_insert[start : start + 5000])
        if to_update:
            cols = [c for c in to_update[0] if c not in ent.key]
            stmt = (
                update(ent.table)
                .where(and_(*(ent.table.c[k] == bindparam(f"k_{k}") for k in ent.key)))
                .values({c: bindparam(f"v_{c}") for c in cols})
            )
            params = [{**{f"k_{k}": r[k] for k in ent.key}, **{f"v_{c}": r[c] for c in cols}} for r in to_update]
            conn.execute(stmt, params)


def import_rome(
    engine: Engine,
    source: str,
    *,
    dry_run: bool = False,
    progress: Callable[[str], None] | None = None,
    limits: ImportLimits | None = None,
    force: bool = False,
) -> ImportReport:
    """Import a ROME 4 export (directory, zip or URL). Raises :class:`ImportRefused` for unusable input
    (see the module's docstring); ``force`` lets a run remove more than ``limits`` allow."""
    with tempfile.TemporaryDirectory(prefix="rome-") as tmp:
        directory = extract(source, Path(tmp))
        suffix, version = detect_version(directory)
        report = ImportReport(importer="rome", source=source, version=version, dry_run=dry_run)
        if progress:
            progress(f"Lecture de l'export ROME {version}…")
        entities = read_export(directory, version, suffix, report, limits)
        checksum = export_checksum(directory, suffix)
    if progress:
        progress("Comparaison avec la base et écriture…")
    try:
        with engine.begin() as conn:
            load_entities(conn, version, entities, report, limits, force)
            if not dry_run:
                _record_source(conn, version, source, checksum, report)
    except IntegrityError:
        # Rows kept because their file is absent or had rejects still point to a fiche this export removes:
        # the whole transaction is rolled back, and the input refused rather than half applied.
        raise ImportRefused(
            "cet export retire des fiches auxquelles renvoient encore des lignes gardées (fichier absent ou "
            "rejeté) ; import refusé, base inchangée : fournir l'export complet"
        ) from None
    return report


def _record_source(conn: Connection, version: str, source: str, checksum: str, report: ImportReport) -> None:
    table = cast(Table, Source.__table__)
    slug = f"rome-{version.replace('.', '')}"
    values = {
        "title": f"Répertoire opérationnel des métiers et des emplois (ROME 4), version {version}",
        "publisher": "France Travail",
        "kind": "open_data",
        "licence": "Licence Ouverte / Open Licence v2.0",
        "url": "https://www.data.gouv.fr/fr/datasets/repertoire-operationnel-des-metiers-et-des-emplois-rome/",
        "version": version,
        "checksum": checksum,
        "loaded_at": dt.datetime.now(dt.UTC),
        "counts": {name: c.created + c.updated + c.unchanged for name, c in report.counts.items()},
    }
    exists = conn.execute(select(table.c.id).where(table.c.slug == slug)).scalar()
    if exists is None:
        conn.execute(insert(table).values(slug=slug, **values))
    else:
        conn.execute(update(table).where(table.c.id == exists).values(**values))


def loaded_checksum(engine: Engine, version: str) -> str | None:
    table = cast(Table, Source.__table__)
    with engine.connect() as conn:
        value = conn.execute(
            select(table.c.checksum).where(table.c.slug == f"rome-{version.replace('.', '')}")
        ).scalar()
    return str(value) if value else None
