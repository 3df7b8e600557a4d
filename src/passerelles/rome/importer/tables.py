"""Validate: one step per table, from the rows of its files to an :class:`Entity` to load.

Each step checks its rows in file order and rejects a bad one with file, line, field and reason
(:meth:`Checks.bad`); a row that refers to a fiche whose own row was rejected is skipped, not rejected
(:meth:`Checks.check_rome`). The steps run in the order of :func:`~passerelles.rome.importer.reader.read_export`:
fiches first, then what refers to them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.sql.schema import Table

from passerelles.importing.csvfile import Row
from passerelles.importing.report import ImportReport, Reject
from passerelles.rome.importer.extract import export_file
from passerelles.rome.models import RomeAppellation, RomeFiche, RomeFicheItem, RomeItem, RomeMobility, RomeText

CODE_ROME = re.compile(r"^[A-N][0-9]{4}$")
DIGITS = re.compile(r"^[0-9]{1,9}$")
RIASEC = {"", "R", "I", "A", "S", "E", "C"}
RUBRIQUE_KIND = {"1": "savoir_faire", "2": "savoir_etre", "3": "savoir"}
TEXT_KINDS = {"definition", "acces_metier"}

Rule = tuple[str, Callable[[str], object], str]  # field, test of its value, reason of a reject
OGR_RULE: Rule = ("code_ogr", DIGITS.match, "code OGR non numérique")
FICHE_RULES: tuple[Rule, ...] = (
    ("code_rome", CODE_ROME.match, "code ROME invalide"),
    OGR_RULE,
    ("libelle_rome", str.strip, "libellé vide"),
)
TEXT_RULES: tuple[Rule, ...] = (
    ("libelle_type_texte", TEXT_KINDS.__contains__, "type de texte inconnu"),
    ("position_phrase", DIGITS.match, "position non numérique"),
)
RIASEC_RULES: tuple[Rule, ...] = tuple(
    (f, RIASEC.__contains__, "lettre RIASEC inconnue") for f in ("riasec_majeur", "riasec_mineur")
)


@dataclass
class Entity:
    table: Table
    key: tuple[str, ...]
    rows: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)
    origin: dict[tuple[Any, ...], tuple[str, int]] = field(default_factory=dict)  # key → (file, line)
    complete: bool = True  # every source file was read: rows absent from the export may be removed
    kept_columns: tuple[str, ...] = ()  # filled from the store: their source file was not read
    protected: frozenset[str] = frozenset()  # fiches whose row was rejected: their stored rows stay


@dataclass
class Checks:
    """What the steps share: the export's version and file suffix, the report their rejects go to and, once
    the fiches are read, the codes a row may refer to (``known``) and those of the rejected fiches."""

    version: str
    suffix: str
    report: ImportReport
    known: set[str] = field(default_factory=set)
    rejected_codes: set[str] = field(default_factory=set)  # fiches whose own row was rejected
    skipped: dict[str, int] = field(default_factory=dict)  # rows skipped per rejected fiche

    def bad(self, entity: str, file: str, line: int, fld: str, reason: str, record: dict[str, str]) -> None:
        self.report.reject(
            entity,
            Reject(
                source=export_file(file, self.suffix),
                position=f"ligne {line}",
                field=fld,
                reason=reason,
                record=json.dumps(record, ensure_ascii=False)[:200],
            ),
        )

    def faulty(self, entity: str, file: str, row: Row, rules: tuple[Rule, ...]) -> bool:
        """Whether the row fails one of ``rules``, in order: the first that fails rejects it."""
        for fld, test, reason in rules:
            if not test(row.values[fld]):
                self.bad(entity, file, row.line, fld, reason, row.values)
                return True
        return False

    def keep(
        self, entity: Entity, file: str, row: Row, key: tuple[Any, ...], values: dict[str, Any], duplicate: str = ""
    ) -> None:
        """Add a valid row to ``entity``, remembering its file and line for a later reject; with ``duplicate``,
        a row whose key was read already is rejected instead, for that reason (on the key's last field)."""
        if duplicate and key in entity.rows:
            self.bad(entity.table.name, file, row.line, entity.key[-1], duplicate, row.values)
            return
        entity.origin[key] = (export_file(file, self.suffix), row.line)
        entity.rows[key] = values

    def check_rome(self, entity: str, file: str, row: Row, fld: str = "code_rome") -> bool:
        """Whether the row's fiche is one read; a rejected fiche's rows are counted in ``skipped``."""
        code = row.values[fld]
        if code in self.rejected_codes:
            self.skipped[code] = self.skipped.get(code, 0) + 1
            return False
        if code not in self.known:
            reason = "code ROME invalide" if not CODE_ROME.match(code) else f"référence inconnue : fiche {code}"
            self.bad(entity, file, row.line, fld, reason, row.values)
            return False
        return True


def _flag(value: str) -> bool:
    return value.strip().upper() in {"O", "OUI", "Y", "1", "TRUE"}


def _clean_text(value: str) -> str:
    # The texte file doubles apostrophes (an SQL-escaping artefact of the export): "L''accompagnant".
    return value.replace("''", "'").strip()


def _none(value: str) -> str | None:
    value = value.strip()
    return value or None


def read_fiches(checks: Checks, rows: list[Row]) -> Entity:
    """``referentiel_code_rome``: one fiche a row; domains and RIASEC are filled by the next steps."""
    version = checks.version
    fiches = Entity(RomeFiche.__table__, ("rome_version", "code_rome"))  # type: ignore[arg-type]
    for row in rows:
        v = row.values
        if checks.faulty("rome_fiche", "referentiel_code_rome", row, FICHE_RULES):
            continue
        checks.keep(
            fiches,
            "referentiel_code_rome",
            row,
            (version, v["code_rome"]),
            {
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
            },
            duplicate="code ROME en double",
        )
    return fiches


def add_domains(checks: Checks, fiches: Entity, rows: list[Row]) -> None:
    """``cr_gd_dp``: each fiche's grand domaine and domaine professionnel."""
    for row in rows:
        if checks.check_rome("rome_fiche", "cr_gd_dp", row):
            v = row.values
            fiches.rows[(checks.version, v["code_rome"])].update(
                grand_domaine_code=_none(v["code_grand_domaine"]),
                grand_domaine_libelle=_none(v["libelle_grand_domaine"]),
                domaine_code=_none(v["code_domaine_professionel"]),
                domaine_libelle=_none(v["libelle_domaine_professionel"]),
            )


def add_riasec(checks: Checks, fiches: Entity, rows: list[Row]) -> None:
    """``referentiel_code_rome_riasec``: each fiche's major and minor RIASEC letters."""
    for row in rows:
        if not checks.check_rome("rome_fiche", "referentiel_code_rome_riasec", row):
            continue
        v = row.values
        if not checks.faulty("rome_fiche", "referentiel_code_rome_riasec", row, RIASEC_RULES):
            fiches.rows[(checks.version, v["code_rome"])].update(
                riasec_majeur=_none(v["riasec_majeur"]), riasec_mineur=_none(v["riasec_mineur"])
            )


def read_appellations(checks: Checks, rows: list[Row]) -> Entity:
    """``referentiel_appellation``: one appellation a row, on a fiche read."""
    version, file = checks.version, "referentiel_appellation"
    appellations = Entity(RomeAppellation.__table__, ("rome_version", "code_ogr"))  # type: ignore[arg-type]
    rules = (OGR_RULE, ("libelle_appellation_long", str.strip, "libellé vide"))
    for row in rows:
        v = row.values
        if checks.faulty("rome_appellation", file, row, rules) or not checks.check_rome("rome_appellation", file, row):
            continue
        checks.keep(
            appellations,
            file,
            row,
            (version, int(v["code_ogr"])),
            {
                "rome_version": version,
                "code_ogr": int(v["code_ogr"]),
                "code_rome": v["code_rome"],
                "libelle_long": v["libelle_appellation_long"].strip(),
                "libelle_court": (v["libelle_appellation_court"] or v["libelle_appellation_long"]).strip(),
                "classification": _none(v["classification"]),
                "emploi_reglemente": _flag(v["emploi_reglemente"]),
                "emploi_cadre": _flag(v["emploi_cadre"]),
                "peu_usite": _flag(v["peu_usite"]),
            },
            duplicate="appellation en double",
        )
    return appellations


def read_items(
    checks: Checks, items_rows: list[Row], competences: list[Row], savoirs: list[Row], contexts_rows: list[Row]
) -> Entity:
    """``item``: one skill, knowledge or work context a row; its kind from its rubrique, its categories
    from ``referentiel_competence`` and ``referentiel_savoir``, a context's type from
    ``referentiel_contexte_travail``."""
    version = checks.version
    items = Entity(RomeItem.__table__, ("rome_version", "code_ogr"))  # type: ignore[arg-type]
    categories: dict[str, tuple[str | None, str | None]] = {}
    for row in competences:
        categories[row.values["code_ogr"]] = (_none(row.values["cat_comp"]), _none(row.values["sous_cat_comp"]))
    for row in savoirs:
        categories[row.values["code_ogr_savoir"]] = (
            _none(row.values["categorie_savoir"]),
            _none(row.values["sous_categorie_savoir"]),
        )
    contexts = {row.values["code_ogr"]: row.values["libelle_type_cont_trav"] for row in contexts_rows}
    for row in items_rows:
        v = row.values
        if checks.faulty("rome_item", "item", row, (OGR_RULE, ("libelle", str.strip, "libellé vide"))):
            continue
        if v["code_rubrique"] in RUBRIQUE_KIND:
            kind = RUBRIQUE_KIND[v["code_rubrique"]]
            cat, sub = categories.get(v["code_ogr"], (None, None))
        elif v["code_rubrique"] == "" and v["code_ogr"] in contexts:
            kind, cat, sub = "contexte", contexts[v["code_ogr"]], None
        else:
            checks.bad("rome_item", "item", row.line, "code_rubrique", "rubrique inconnue", v)
            continue
        checks.keep(
            items,
            "item",
            row,
            (version, int(v["code_ogr"])),
            {
                "rome_version": version,
                "code_ogr": int(v["code_ogr"]),
                "libelle": v["libelle"].strip(),
                "kind": kind,
                "categorie": cat,
                "sous_categorie": sub,
            },
        )
    return items


def read_fiche_items(checks: Checks, links: list[Row], coherence: list[Row], items: Entity) -> Entity:
    """``liens_rome_referentiels`` (blocs 5 and 6): a fiche's skills and knowledge, each an item read,
    marked ``coeur_metier`` from ``coherence_item``."""
    version = checks.version
    coeur = {(r.values["code_rome"], r.values["code_ogr"]): _none(r.values["coeur_metier"]) for r in coherence}
    fiche_items = Entity(RomeFicheItem.__table__, ("rome_version", "code_rome", "code_ogr"))  # type: ignore[arg-type]
    for row in links:
        v = row.values
        if v["code_compo_bloc"] not in {"5", "6"}:
            continue  # blocs 1 and 2 restate the fiche and its appellations, loaded above
        if not checks.check_rome("rome_fiche_item", "liens_rome_referentiels", row):
            continue
        if not DIGITS.match(v["code_ogr"]) or (version, int(v["code_ogr"])) not in items.rows:
            checks.bad(
                "rome_fiche_item",
                "liens_rome_referentiels",
                row.line,
                "code_ogr",
                f"référence inconnue : item {v['code_ogr']}",
                v,
            )
            continue
        key = (version, v["code_rome"], int(v["code_ogr"]))
        checks.keep(
            fiche_items,
            "liens_rome_referentiels",
            row,
            key,
            {
                "rome_version": version,
                "code_rome": v["code_rome"],
                "code_ogr": int(v["code_ogr"]),
                "bloc": int(v["code_compo_bloc"]),
                "coeur_metier": coeur.get((v["code_rome"], v["code_ogr"])),
            },
        )
    return fiche_items


def read_mobilities(checks: Checks, rows: list[Row]) -> Entity:
    """``rubrique_mobilite``: from a fiche read to another one, in order."""
    version = checks.version
    mobilities = Entity(RomeMobility.__table__, ("rome_version", "code_rome", "code_rome_cible"))  # type: ignore[arg-type]
    for row in rows:
        v = row.values
        if not (
            checks.check_rome("rome_mobility", "rubrique_mobilite", row)
            and checks.check_rome("rome_mobility", "rubrique_mobilite", row, "code_rome_cible")
        ):
            continue
        if checks.faulty(
            "rome_mobility", "rubrique_mobilite", row, (("numero_ordre", DIGITS.match, "ordre non numérique"),)
        ):
            continue
        key = (version, v["code_rome"], v["code_rome_cible"])
        checks.keep(
            mobilities,
            "rubrique_mobilite",
            row,
            key,
            {
                "rome_version": version,
                "code_rome": v["code_rome"],
                "code_rome_cible": v["code_rome_cible"],
                "ordre": int(v["numero_ordre"]),
            },
        )
    return mobilities


def read_texts(checks: Checks, rows: list[Row]) -> Entity:
    """``texte``: a fiche's definition and access sentences, by position."""
    version = checks.version
    texts = Entity(RomeText.__table__, ("rome_version", "code_rome", "kind", "position"))  # type: ignore[arg-type]
    for row in rows:
        v = row.values
        if not checks.check_rome("rome_text", "texte", row) or checks.faulty("rome_text", "texte", row, TEXT_RULES):
            continue
        key = (version, v["code_rome"], v["libelle_type_texte"], int(v["position_phrase"]))
        checks.keep(
            texts,
            "texte",
            row,
            key,
            {
                "rome_version": version,
                "code_rome": v["code_rome"],
                "kind": v["libelle_type_texte"],
                "position": int(v["position_phrase"]),
                "text": _clean_text(v["libelle_texte"]),
            },
        )
    return texts
