"""Read: every file of the export read with its explicit columns, then validated table by table
(:mod:`~passerelles.rome.importer.tables`) into the entities to load; the export is refused as a whole
when a file is cut, has a header only, or has too many rejects."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from passerelles.importing.csvfile import HeaderMismatch, Row, read_rows
from passerelles.importing.limits import ImportLimits
from passerelles.importing.report import ImportRefused, ImportReport, Reject
from passerelles.rome.importer.extract import FILES, REQUIRED, export_file
from passerelles.rome.importer.tables import (
    Checks,
    Entity,
    add_domains,
    add_riasec,
    read_appellations,
    read_fiche_items,
    read_fiches,
    read_items,
    read_mobilities,
    read_texts,
)

ENTITY_OF_FILE = {
    "referentiel_code_rome": "rome_fiche",
    "cr_gd_dp": "rome_fiche",
    "referentiel_code_rome_riasec": "rome_fiche",
    "referentiel_appellation": "rome_appellation",
    "item": "rome_item",
    "referentiel_competence": "rome_item",
    "referentiel_savoir": "rome_item",
    "referentiel_contexte_travail": "rome_item",
    "liens_rome_referentiels": "rome_fiche_item",
    "coherence_item": "rome_fiche_item",
    "rubrique_mobilite": "rome_mobility",
    "texte": "rome_text",
}


def read_export(
    directory: Path, version: str, suffix: str, report: ImportReport, limits: ImportLimits | None = None
) -> dict[str, Entity]:
    """Read and validate every file; return the entities to load, keyed by table name.

    Raises :class:`ImportRefused` for a file cut before its end, with a header only, or with too many
    rejects (``limits``)."""
    limits = limits or ImportLimits()
    rows, lines, unread = read_files(directory, suffix, report)
    checks = Checks(version, suffix, report)
    fiches = read_fiches(checks, rows["referentiel_code_rome"])
    too_long = _check_lengths(fiches, report)
    checks.known = {code for (_, code) in fiches.rows}
    # Fiches whose own row was rejected: their dependent rows are skipped (not rejected one by one) and
    # what the store already holds for them is kept.
    checks.rejected_codes = {
        code
        for r in report.rejects
        if r.source.startswith("unix_referentiel_code_rome_")
        and (code := _code_in(r.record))
        and code not in checks.known
    } | {code for (_, code) in too_long}
    add_domains(checks, fiches, rows["cr_gd_dp"])
    add_riasec(checks, fiches, rows["referentiel_code_rome_riasec"])
    appellations = read_appellations(checks, rows["referentiel_appellation"])
    items = read_items(
        checks,
        rows["item"],
        rows["referentiel_competence"],
        rows["referentiel_savoir"],
        rows["referentiel_contexte_travail"],
    )
    fiche_items = read_fiche_items(checks, rows["liens_rome_referentiels"], rows["coherence_item"], items)
    mobilities = read_mobilities(checks, rows["rubrique_mobilite"])
    texts = read_texts(checks, rows["texte"])
    for code, n in sorted(checks.skipped.items()):
        report.warnings.append(
            f"fiche {code} rejetée : {n} ligne(s) qui en dépendent ignorées, données déjà en base conservées"
        )
    _keep_unread(unread, fiches, items, fiche_items, mobilities, texts)
    entities = (fiches, appellations, items, fiche_items, mobilities, texts)
    for ent in entities[1:]:
        _check_lengths(ent, report)
    for ent in entities:
        ent.protected = frozenset(checks.rejected_codes)
    _check_rejects(suffix, lines, report, limits)
    return {e.table.name: e for e in entities}


def read_files(
    directory: Path, suffix: str, report: ImportReport
) -> tuple[dict[str, list[Row]], dict[str, int], set[str]]:
    """Every file's rows, its count of data lines (rows, and those the reading itself rejected, which go
    to the report) and the optional files missing or unreadable, whose data is kept as stored."""
    rows: dict[str, list[Row]] = {}
    lines: dict[str, int] = {}  # data lines read per file: rows, and those the reading itself rejected
    rejects: list[Reject] = []
    unread: set[str] = set()  # optional files missing or unreadable: what they feed is kept as stored
    for name, columns in FILES.items():
        path = directory / export_file(name, suffix)
        if not path.is_file():
            if name in REQUIRED:
                raise ImportRefused(f"fichier obligatoire absent : {path.name}")
            report.warnings.append(f"fichier absent, ignoré (données déjà en base conservées) : {path.name}")
            rows[name] = []
            unread.add(name)
            continue
        try:
            before = len(rejects)
            rows[name] = list(read_rows(path, columns, rejects=rejects))
            lines[name] = len(rows[name]) + len(rejects) - before
            if not lines[name]:
                raise ImportRefused(
                    f"{path.name} : en-tête seul, aucune ligne de données ; fichier refusé, base inchangée"
                )
        except HeaderMismatch as exc:
            if name in REQUIRED:
                raise ImportRefused(str(exc)) from exc
            report.warnings.append(f"{exc} (données déjà en base conservées)")
            rows[name] = []
            unread.add(name)
    for r in rejects:
        stem = r.source.removeprefix("unix_").removesuffix(f"_{suffix}_utf8.csv")
        report.reject(ENTITY_OF_FILE.get(stem, stem), r)
    return rows, lines, unread


def _keep_unread(
    unread: set[str], fiches: Entity, items: Entity, fiche_items: Entity, mobilities: Entity, texts: Entity
) -> None:
    """What an unread file feeds is kept as stored: its fiche columns, or nothing removed from its table."""
    fiches.kept_columns = tuple(
        col
        for name, cols in (
            ("cr_gd_dp", ("grand_domaine_code", "grand_domaine_libelle", "domaine_code", "domaine_libelle")),
            ("referentiel_code_rome_riasec", ("riasec_majeur", "riasec_mineur")),
        )
        if name in unread
        for col in cols
    )
    items.complete = not (
        {"item", "referentiel_competence", "referentiel_savoir", "referentiel_contexte_travail"} & unread
    )
    fiche_items.complete = not ({"liens_rome_referentiels", "coherence_item"} & unread) and items.complete
    mobilities.complete = "rubrique_mobilite" not in unread
    texts.complete = "texte" not in unread


def _check_rejects(suffix: str, lines: dict[str, int], report: ImportReport, limits: ImportLimits) -> None:
    """Refuse the export when one of its files has too many rejects: it is not the file it should be."""
    by_file: dict[str, list[Reject]] = {}
    for r in report.rejects:
        by_file.setdefault(r.source, []).append(r)
    for name, records in lines.items():
        file = export_file(name, suffix)
        found = by_file.get(file, [])
        if found and limits.too_many_rejects(len(found), records):
            encoding = sum(1 for r in found if "encodage" in r.reason)
            raise ImportRefused(limits.rejects_refusal(file, len(found), records, encoding) + ", base inchangée")


def _code_in(record: str | None) -> str | None:
    """The ROME code in a rejected fiche row's preview (JSON or raw CSV), if it has one."""
    match = re.search(r"\b([A-N][0-9]{4})\b", record or "")
    return match.group(1) if match else None


def _check_lengths(entity: Entity, report: ImportReport) -> list[tuple[Any, ...]]:
    """A value longer than its column would be refused by PostgreSQL: reject that row, not the import."""
    limits: dict[str, int] = {c.name: n for c in entity.table.columns if (n := getattr(c.type, "length", None))}
    removed: list[tuple[Any, ...]] = []
    for key in list(entity.rows):
        values = entity.rows[key]
        for column, limit in limits.items():
            value = values.get(column)
            if isinstance(value, str) and len(value) > limit:
                file, line = entity.origin.get(key, ("?", 0))
                report.reject(
                    entity.table.name,
                    Reject(
                        source=file,
                        position=f"ligne {line}",
                        field=column,
                        reason=f"valeur trop longue ({len(value)} caractères, {limit} au plus)",
                        record=value[:200],
                    ),
                )
                del entity.rows[key]
                removed.append(key)
                break
    return removed
