"""Read and validate: every file of the export read with its explicit columns, each row checked, the
entities to load built keyed by table name; a bad row is rejected with file, line, field and reason."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.sql.schema import Table

from passerelles.importing.csvfile import HeaderMismatch, read_rows
from passerelles.importing.limits import ImportLimits
from passerelles.importing.report import ImportRefused, ImportReport, Reject
from passerelles.rome.importer.extract import FILES, REQUIRED
from passerelles.rome.models import RomeAppellation, RomeFiche, RomeFicheItem, RomeItem, RomeMobility, RomeText

CODE_ROME = re.compile(r"^[A-N][0-9]{4}$")
DIGITS = re.compile(r"^[0-9]{1,9}$")
RIASEC = {"", "R", "I", "A", "S", "E", "C"}
RUBRIQUE_KIND = {"1": "savoir_faire", "2": "savoir_etre", "3": "savoir"}


@dataclass
class Entity:
    table: Table
    key: tuple[str, ...]
    rows: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)
    origin: dict[tuple[Any, ...], tuple[str, int]] = field(default_factory=dict)  # key → (file, line)
    complete: bool = True  # every source file was read: rows absent from the export may be removed
    kept_columns: tuple[str, ...] = ()  # filled from the store: their source file was not read
    protected: frozenset[str] = frozenset()  # fiches whose row was rejected: their stored rows stay


def _flag(value: str) -> bool:
    return value.strip().upper() in {"O", "OUI", "Y", "1", "TRUE"}


def _clean_text(value: str) -> str:
    # The texte file doubles apostrophes (an SQL-escaping artefact of the export): "L''accompagnant".
    return value.replace("''", "'").strip()


def _none(value: str) -> str | None:
    value = value.strip()
    return value or None


def read_export(
    directory: Path, version: str, suffix: str, report: ImportReport, limits: ImportLimits | None = None
) -> dict[str, Entity]:
    """Read and validate every file; return the entities to load, keyed by table name.

    Raises :class:`ImportRefused` for a file cut before its end, with a header only, or with too many
    rejects (``limits``)."""
    limits = limits or ImportLimits()
    rows: dict[str, list[Any]] = {}
    lines: dict[str, int] = {}  # data lines read per file: rows, and those the reading itself rejected
    rejects: list[Reject] = []
    unread: set[str] = set()  # optional files missing or unreadable: what they feed is kept as stored
    for name, columns in FILES.items():
        path = directory / f"unix_{name}_{suffix}_utf8.csv"
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
    entity_of_file = {
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
    for r in rejects:
        stem = r.source.removeprefix("unix_").removesuffix(f"_{suffix}_utf8.csv")
        report.reject(entity_of_file.get(stem, stem), r)

    def bad(entity: str, file: str, line: int, fld: str, reason: str, record: dict[str, str]) -> None:
        report.reject(
            entity,
            Reject(
                source=f"unix_{file}_{suffix}_utf8.csv",
                position=f"ligne {line}",
                field=fld,
                reason=reason,
                record=json.dumps(record, ensure_ascii=False)[:200],
            ),
        )

    fiches = Entity(RomeFiche.__table__, ("rome_version", "code_rome"))  # type: ignore[arg-type]
    for row in rows["referentiel_code_rome"]:
        v = row.values
        if not CODE_ROME.match(v["code_rome"]):
            bad("rome_fiche", "referentiel_code_rome", row.line, "code_rome", "code ROME invalide", v)
            continue
        if not DIGITS.match(v["code_ogr"]):
            bad("rome_fiche", "referentiel_code_rome", row.line, "code_ogr", "code OGR non numérique", v)
            continue
        if not v["libelle_rome"].strip():
            bad("rome_fiche", "referentiel_code_rome", row.line, "libelle_rome", "libellé vide", v)
            continue
        key = (version, v["code_rome"])
        if key in fiches.rows:
            bad("rome_fiche", "referentiel_code_rome", row.line, "code_rome", "code ROME en double", v)
            continue
        fiches.origin[key] = (f"unix_referentiel_code_rome_{suffix}_utf8.csv", row.line)
        fiches.rows[key] = {
            "rome_version": version,
            "code_rome": v["code_rome"],
            "code_ogr": int(v["code_ogr"]),
            "libelle": v["libelle_rome"].strip(),
            "code_fiche_metier": _none(v["code_fiche_metier"]),
            "grand_domaine_code": None,
            "grand_domaine_libelle": None,
            "domaine_code": None,
            "domaine_libelle": None,
            "riasec_majeur": None,
            "riasec_mineur": None,
            "transition_eco": _none(v["transition_eco"]),
            "transition_num": _none(v["transition_num"]),
            "transition_demo": _none(v["transition_demo"]),
            "emploi_reglemente": _flag(v["emploi_reglemente"]),
            "emploi_cadre": _flag(v["emploi_cadre"]),
        }
    too_long = _check_lengths(fiches, report)
    known = {code for (_, code) in fiches.rows}
    # Fiches whose own row was rejected: their dependent rows are skipped (not rejected one by one) and
    # what the store already holds for them is kept.
    rejected_codes = {
        code
        for r in report.rejects
        if r.source.startswith("unix_referentiel_code_rome_") and (code := _code_in(r.record)) and code not in known
    } | {code for (_, code) in too_long}
    skipped: dict[str, int] = {}

    def check_rome(entity: str, file: str, row: Any, fld: str = "code_rome") -> bool:
        code = row.values[fld]
        if code in rejected_codes:
            skipped[code] = skipped.get(code, 0) + 1
            return False
        if code not in known:
            reason = "code ROME invalide" if not CODE_ROME.match(code) else f"référence inconnue : fiche {code}"
            bad(entity, file, row.line, fld, reason, row.values)
            return False
        return True

    for row in rows["cr_gd_dp"]:
        if check_rome("rome_fiche", "cr_gd_dp", row):
            v = row.values
            fiches.rows[(version, v["code_rome"])].update(
                grand_domaine_code=_none(v["code_grand_domaine"]),
                grand_domaine_libelle=_none(v["libelle_grand_domaine"]),
                domaine_code=_none(v["code_domaine_professionel"]),
                domaine_libelle=_none(v["libelle_domaine_professionel"]),
            )
    for row in rows["referentiel_code_rome_riasec"]:
        if not check_rome("rome_fiche", "referentiel_code_rome_riasec", row):
            continue
        v = row.values
        for fld in ("riasec_majeur", "riasec_mineur"):
            if v[fld] not in RIASEC:
                bad("rome_fiche", "referentiel_code_rome_riasec", row.line, fld, "lettre RIASEC inconnue", v)
                break
        else:
            fiches.rows[(version, v["code_rome"])].update(
                riasec_majeur=_none(v["riasec_majeur"]), riasec_mineur=_none(v["riasec_mineur"])
            )

    appellations = Entity(RomeAppellation.__table__, ("rome_version", "code_ogr"))  # type: ignore[arg-type]
    for row in rows["referentiel_appellation"]:
        v = row.values
        if not DIGITS.match(v["code_ogr"]):
            bad("rome_appellation", "referentiel_appellation", row.line, "code_ogr", "code OGR non numérique", v)
            continue
        if not v["libelle_appellation_long"].strip():
            bad("rome_appellation", "referentiel_appellation", row.line, "libelle_appellation_long", "libellé vide", v)
            continue
        if not check_rome("rome_appellation", "referentiel_appellation", row):
            continue
        key = (version, int(v["code_ogr"]))
        if key in appellations.rows:
            bad("rome_appellation", "referentiel_appellation", row.line, "code_ogr", "appellation en double", v)
            continue
        appellations.origin[key] = (f"unix_referentiel_appellation_{suffix}_utf8.csv", row.line)
        appellations.rows[key] = {
            "rome_version": version,
            "code_ogr": int(v["code_ogr"]),
            "code_rome": v["code_rome"],
            "libelle_long": v["libelle_appellation_long"].strip(),
            "libelle_court": (v["libelle_appellation_court"] or v["libelle_appellation_long"]).strip(),
            "classification": _none(v["classification"]),
            "emploi_reglemente": _flag(v["emploi_reglemente"]),
            "emploi_cadre": _flag(v["emploi_cadre"]),
            "peu_usite": _flag(v["peu_usite"]),
        }

    items = Entity(RomeItem.__table__, ("rome_version", "code_ogr"))  # type: ignore[arg-type]
    categories: dict[str, tuple[str | None, str | None]] = {}
    for row in rows["referentiel_competence"]:
        categories[row.values["code_ogr"]] = (_none(row.values["cat_comp"]), _none(row.values["sous_cat_comp"]))
    for row in rows["referentiel_savoir"]:
        categories[row.values["code_ogr_savoir"]] = (
            _none(row.values["categorie_savoir"]),
            _none(row.values["sous_categorie_savoir"]),
        )
    contexts = {
        row.values["code_ogr"]: row.values["libelle_type_cont_trav"] for row in rows["referentiel_contexte_travail"]
    }
    for row in rows["item"]:
        v = row.values
        if not DIGITS.match(v["code_ogr"]):
            bad("rome_item", "item", row.line, "code_ogr", "code OGR non numérique", v)
            continue
        if not v["libelle"].strip():
            bad("rome_item", "item", row.line, "libelle", "libellé vide", v)
            continue
        if v["code_rubrique"] in RUBRIQUE_KIND:
            kind = RUBRIQUE_KIND[v["code_rubrique"]]
            cat, sub = categories.get(v["code_ogr"], (None, None))
        elif v["code_rubrique"] == "" and v["code_ogr"] in contexts:
            kind, cat, sub = "contexte", contexts[v["code_ogr"]], None
        else:
            bad("rome_item", "item", row.line, "code_rubrique", "rubrique inconnue", v)
            continue
        items.origin[(version, int(v["code_ogr"]))] = (f"unix_item_{suffix}_utf8.csv", row.line)
        items.rows[(version, int(v["code_ogr"]))] = {
            "rome_version": version,
            "code_ogr": int(v["code_ogr"]),
            "libelle": v["libelle"].strip(),
            "kind": kind,
            "categorie": cat,
            "sous_categorie": sub,
        }

    coeur = {
        (r.values["code_rome"], r.values["code_ogr"]): _none(r.values["coeur_metier"]) for r in rows["coherence_item"]
    }
    fiche_items = Entity(RomeFicheItem.__table__, ("rome_version", "code_rome", "code_ogr"))  # type: ignore[arg-type]
    for row in rows["liens_rome_referentiels"]:
        v = row.values
        if v["code_compo_bloc"] not in {"5", "6"}:
            continue  # blocs 1 and 2 restate the fiche and its appellations, loaded above
        if not check_rome("rome_fiche_item", "liens_rome_referentiels", row):
            continue
        if not DIGITS.match(v["code_ogr"]) or (version, int(v["code_ogr"])) not in items.rows:
            bad(
                "rome_fiche_item",
                "liens_rome_referentiels",
                row.line,
                "code_ogr",
                f"référence inconnue : item {v['code_ogr']}",
                v,
            )
            continue
        fiche_items.origin[(version, v["code_rome"], int(v["code_ogr"]))] = (
            f"unix_liens_rome_referentiels_{suffix}_utf8.csv",
            row.line,
        )
        fiche_items.rows[(version, v["code_rome"], int(v["code_ogr"]))] = {
            "rome_version": version,
            "code_rome": v["code_rome"],
            "code_ogr": int(v["code_ogr"]),
            "bloc": int(v["code_compo_bloc"]),
            "coeur_metier": coeur.get((v["code_rome"], v["code_ogr"])),
        }

    mobilities = Entity(RomeMobility.__table__, ("rome_version", "code_rome", "code_rome_cible"))  # type: ignore[arg-type]
    for row in rows["rubrique_mobilite"]:
        v = row.values
        if not (
            check_rome("rome_mobility", "rubrique_mobilite", row)
            and check_rome("rome_mobility", "rubrique_mobilite", row, "code_rome_cible")
        ):
            continue
        if not DIGITS.match(v["numero_ordre"]):
            bad("rome_mobility", "rubrique_mobilite", row.line, "numero_ordre", "ordre non numérique", v)
            continue
        mobilities.origin[(version, v["code_rome"], v["code_rome_cible"])] = (
            f"unix_rubrique_mobilite_{suffix}_utf8.csv",
            row.line,
        )
        mobilities.rows[(version, v["code_rome"], v["code_rome_cible"])] = {
            "rome_version": version,
            "code_rome": v["code_rome"],
            "code_rome_cible": v["code_rome_cible"],
            "ordre": int(v["numero_ordre"]),
        }

    texts = Entity(RomeText.__table__, ("rome_version", "code_rome", "kind", "position"))  # type: ignore[arg-type]
    for row in rows["texte"]:
        v = row.values
        if not check_rome("rome_text", "texte", row):
            continue
        if v["libelle_type_texte"] not in {"definition", "acces_metier"}:
            bad("rome_text", "texte", row.line, "libelle_type_texte", "type de texte inconnu", v)
            continue
        if not DIGITS.match(v["position_phrase"]):
            bad("rome_text", "texte", row.line, "position_phrase", "position non numérique", v)
            continue
        texts.origin[(version, v["code_rome"], v["libelle_type_texte"], int(v["position_phrase"]))] = (
            f"unix_texte_{suffix}_utf8.csv",
            row.line,
        )
        texts.rows[(version, v["code_rome"], v["libelle_type_texte"], int(v["position_phrase"]))] = {
            "rome_version": version,
            "code_rome": v["code_rome"],
            "kind": v["libelle_type_texte"],
            "position": int(v["position_phrase"]),
            "text": _clean_text(v["libelle_texte"]),
        }
    for code, n in sorted(skipped.items()):
        report.warnings.append(
            f"fiche {code} rejetée : {n} ligne(s) qui en dépendent ignorées, données déjà en base conservées"
        )
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
    entities = (fiches, appellations, items, fiche_items, mobilities, texts)
    for ent in entities[1:]:
        _check_lengths(ent, report)
    for ent in entities:
        ent.protected = frozenset(rejected_codes)
    _check_rejects(suffix, lines, report, limits)
    return {e.table.name: e for e in entities}


def _check_rejects(suffix: str, lines: dict[str, int], report: ImportReport, limits: ImportLimits) -> None:
    """Refuse the export when one of its files has too many rejects: it is not the file it should be."""
    by_file: dict[str, list[Reject]] = {}
    for r in report.rejects:
        by_file.setdefault(r.source, []).append(r)
    for name, records in lines.items():
        file = f"unix_{name}_{suffix}_utf8.csv"
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
