"""France Compétences RNCP export → ``rncp_sheet`` and ``rncp_bloc``.

The format is the open-data export France Compétences publishes on data.gouv.fr (« Répertoire national des
certifications professionnelles et répertoire spécifique », file ``export-fiches-rncp-v4-1-AAAA-MM-JJ.zip``:
one XML document, UTF-8, root ``FICHES``, one ``FICHE`` per sheet). The elements read:

- ``NUMERO_FICHE`` (``RNCP36004``), ``INTITULE``, ``ABREGE/CODE`` (« Autre » when there is none),
  ``ETAT_FICHE``, ``ACTIF`` (``Oui``/``Non``), ``NOMENCLATURE_EUROPE/NIVEAU`` (``NIV3``…), ``TYPE_ENREGISTREMENT``;
- dates ``DATE_DECISION``, ``DATE_EFFET``, ``DATE_FIN_ENREGISTREMENT`` written ``JJ/MM/AAAA``;
- ``CERTIFICATEURS/CERTIFICATEUR`` (``SIRET_CERTIFICATEUR``, ``NOM_CERTIFICATEUR``), ``CODES_ROME/ROME`` and
  ``FORMACODES/FORMACODE`` (``CODE``, ``LIBELLE``), ``BLOCS_COMPETENCES/BLOC_COMPETENCES`` (``CODE``, ``LIBELLE``);
- the access routes ``SI_JURY_FI`` (formation initiale), ``SI_JURY_CA`` (apprentissage), ``SI_JURY_FC``
  (formation continue), ``SI_JURY_CQ`` (contrat de professionnalisation), ``SI_JURY_CL`` (candidature
  individuelle), ``SI_JURY_VAE``: in v4.1 a container whose ``ACTIF`` says ``Oui``/``Non`` (earlier exports
  wrote ``Oui``/``Non`` in the element itself: both are read).

Extract → read → validate → load:

- **extract**: the ``.zip`` as published (its one ``.xml`` member) or the ``.xml``; a file over
  :data:`MAX_BYTES` (uncompressed), not UTF-8, holding a DOCTYPE or entity declarations, or cut before the end
  tag of its root is refused whole;
- **read**: lxml ``iterparse`` without entities, DTD or network, within libxml2's limits (``huge_tree`` off);
  a document that is not well-formed is refused whole (line named), the store unchanged;
- **validate**: each sheet's number, level, dates and codes; a bad sheet is rejected with its position
  (sheet number in the file and line), the element and the reason, and never stops the others;
- **load**: sheets by number and blocs by code, created, updated (by a hash of their values) or left
  unchanged; a bloc a re-imported sheet no longer has is removed. One transaction.

The project's own certifications are never written: their differences with the register (title, level,
active or not, routes) are listed in the report and by ``passerelles data status``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

from lxml import etree
from sqlalchemy import Table, delete, select
from sqlalchemy.engine import Engine

from passerelles.importing.limits import SAFE_XML_PARSER, ImportLimits, check_encoding, check_xml_end
from passerelles.importing.report import ImportRefused, ImportReport, RecordError, Reject
from passerelles.importing.sync import sync_rows
from passerelles.rncp.models import RncpBloc, RncpSheet
from passerelles.rncp.services import differences_for, fold

MAX_BYTES = 2 * 1024 * 1024 * 1024  # the full export is about 470 MB of XML
SHEETS = cast(Table, RncpSheet.__table__)
BLOCS = cast(Table, RncpBloc.__table__)
NUMBER = re.compile(r"^RNCP[0-9]{1,6}$")
ROME = re.compile(r"^[A-N][0-9]{4}$")
LEVEL = re.compile(r"^(?:NIV(?:EAU)?)?\s*([1-8])$", re.IGNORECASE)
EXPORT_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
# SI_JURY_* element → the project's route names (``certification_route.route`` for the first four).
ROUTES = {
    "SI_JURY_FI": "initiale",
    "SI_JURY_CA": "apprentissage",
    "SI_JURY_FC": "continue",
    "SI_JURY_CQ": "professionnalisation",
    "SI_JURY_CL": "candidature",
    "SI_JURY_VAE": "vae",
}


def _open(path: Path) -> tuple[IO[bytes], str]:
    """The XML byte stream of the export and the name it is known by (the member of a zip)."""
    if not path.is_file():
        raise ImportRefused(f"fichier introuvable : {path.name}")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic.startswith(b"PK\x03\x04"):
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise ImportRefused(
                f"{path.name} : archive zip illisible ({exc}) ; fichier refusé, base inchangée"
            ) from None
        members = [m for m in archive.infolist() if m.filename.lower().endswith(".xml")]
        if len(members) != 1:
            raise ImportRefused(
                f"{path.name} : l'archive doit contenir un seul document XML ({len(members)} trouvé(s))"
            )
        member = members[0]
        if member.file_size > MAX_BYTES:
            raise ImportRefused(f"{path.name} : document de plus de {MAX_BYTES // 1024**3} Gio une fois décompressé")
        data = archive.read(member)  # bounded above; the CRC is checked at the end of the read
        _check_text(member.filename, data)
        return io.BytesIO(data), member.filename
    if path.stat().st_size > MAX_BYTES:
        raise ImportRefused(f"{path.name} : fichier de plus de {MAX_BYTES // 1024**3} Gio")
    data = path.read_bytes()
    _check_text(path.name, data)
    check_xml_end(path, data[: 64 * 1024])
    return io.BytesIO(data), path.name


def _check_text(name: str, data: bytes) -> None:
    check_encoding(name, data, whole=True)
    prologue = data[: data.find(b"<FICHE") if b"<FICHE" in data else 64 * 1024]
    if b"<!DOCTYPE" in prologue or b"<!ENTITY" in data:
        raise ImportRefused(f"{name} : déclaration DOCTYPE ou ENTITY : refusée (l'export n'en a pas) ; base inchangée")


def _text(el: Any, path: str) -> str | None:
    node = el.find(path)
    if node is None or node.text is None:
        return None
    value = " ".join(node.text.split())
    return value or None


def _date(el: Any, name: str) -> dt.date | None:
    value = _text(el, name)
    if value is None:
        return None
    for layout in ("%d/%m/%Y", "%Y-%m-%d"):  # the export writes JJ/MM/AAAA; ISO dates are read too
        try:
            return dt.datetime.strptime(value, layout).date()
        except ValueError:
            continue
    raise RecordError(name, f"date invalide {value[:20]!r} (JJ/MM/AAAA attendu)")


def _yes(value: str | None) -> bool:
    return (value or "").strip().lower() in ("oui", "true", "1")


def _route_open(el: Any, name: str) -> bool:
    node = el.find(name)
    if node is None:
        return False
    actif = node.find("ACTIF")
    return _yes(actif.text if actif is not None else node.text)


def _pairs(el: Any, path: str, code: str, label: str) -> list[dict[str, Any]]:
    return [{"code": _text(n, code), "label": _text(n, label)} for n in el.findall(path) if _text(n, code)]


def _sheet(el: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(sheet row, bloc rows) of one ``FICHE``; :class:`RecordError` names the element at fault."""
    number = _text(el, "NUMERO_FICHE")
    if number is None:
        raise RecordError("NUMERO_FICHE", "numéro de fiche absent")
    if number.startswith("RS"):
        raise RecordError("NUMERO_FICHE", f"{number} : fiche du répertoire spécifique, hors RNCP")
    if not NUMBER.match(number):
        raise RecordError("NUMERO_FICHE", f"numéro de fiche invalide {number[:20]!r} (RNCP suivi de chiffres attendu)")
    title = _text(el, "INTITULE")
    if title is None:
        raise RecordError("INTITULE", "intitulé absent")
    raw_level = _text(el, "NOMENCLATURE_EUROPE/NIVEAU")
    level = None
    if raw_level:
        m = LEVEL.match(raw_level)
        if m is None:
            raise RecordError("NOMENCLATURE_EUROPE/NIVEAU", f"niveau inconnu {raw_level[:20]!r} (NIV1 à NIV8 attendu)")
        level = int(m.group(1))
    actif = _text(el, "ACTIF")
    if actif is None or actif.lower() not in ("oui", "non"):
        raise RecordError("ACTIF", f"valeur {actif!r} : « Oui » ou « Non » attendu")
    rome = _pairs(el, "CODES_ROME/ROME", "CODE", "LIBELLE")
    for r in rome:
        if not ROME.match(r["code"]):
            raise RecordError("CODES_ROME/ROME/CODE", f"code ROME invalide {r['code'][:20]!r}")
    acronym = _text(el, "ABREGE/CODE")
    blocs = []
    for position, b in enumerate(el.findall("BLOCS_COMPETENCES/BLOC_COMPETENCES"), start=1):
        code, label = _text(b, "CODE"), _text(b, "LIBELLE")
        if code is None or label is None:
            raise RecordError("BLOCS_COMPETENCES/BLOC_COMPETENCES", f"bloc n° {position} sans code ou sans libellé")
        if not code.startswith(number) or len(code) > 24:
            raise RecordError("BLOCS_COMPETENCES/BLOC_COMPETENCES/CODE", f"code de bloc {code[:30]!r} hors de la fiche")
        blocs.append(
            {"code": code, "sheet_number": number, "position": position, "title": label, "title_key": fold(label)[:200]}
        )
    row = {
        "number": number,
        "title": title,
        "title_key": fold(title)[:300],
        "acronym": acronym[:60] if acronym and acronym != "Autre" else None,
        "level_eu": level,
        "active": _yes(actif),
        "state": (_text(el, "ETAT_FICHE") or "")[:60] or None,
        "registration": (_text(el, "TYPE_ENREGISTREMENT") or "")[:60] or None,
        "decision_date": _date(el, "DATE_DECISION"),
        "effect_date": _date(el, "DATE_EFFET"),
        "end_date": _date(el, "DATE_FIN_ENREGISTREMENT"),
        "certifiers": [
            {"siret": _text(c, "SIRET_CERTIFICATEUR"), "name": _text(c, "NOM_CERTIFICATEUR")}
            for c in el.findall("CERTIFICATEURS/CERTIFICATEUR")
            if _text(c, "NOM_CERTIFICATEUR")
        ],
        "routes": [route for name, route in ROUTES.items() if _route_open(el, name)],
        "rome": rome,
        "formacodes": _pairs(el, "FORMACODES/FORMACODE", "CODE", "LIBELLE"),
    }
    return row, blocs


def _records(stream: IO[bytes], name: str) -> Iterator[tuple[int, int, Any]]:
    """(number in the file, line, element) of each ``FICHE``; a document that is not well-formed, or
    whose root is not ``FICHES``, is refused whole."""
    number = 0
    try:
        for _event, el in etree.iterparse(stream, events=("end",), tag="FICHE", **SAFE_XML_PARSER):
            root = el.getroottree().getroot()
            if root.tag != "FICHES":
                raise ImportRefused(f"{name} : élément racine <{root.tag}> : <FICHES> attendu (export RNCP v4)")
            number += 1
            yield number, el.sourceline or 0, el
            el.clear(keep_tail=True)
            while el.getprevious() is not None:
                del el.getparent()[0]
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else "?"
        raise ImportRefused(
            f"{name} : XML mal formé à la ligne {line} ({exc.msg}) ; fichier refusé, base inchangée"
        ) from None
    if number == 0:
        raise ImportRefused(f"{name} : aucune fiche <FICHE> : ce n'est pas un export RNCP ; base inchangée")


def import_rncp(
    engine: Engine, path: Path, *, dry_run: bool = False, limits: ImportLimits | None = None
) -> ImportReport:
    limits = limits or ImportLimits()
    stream, name = _open(path)
    version = EXPORT_DATE.search(path.name)
    report = ImportReport(
        importer="rncp", source=str(path), dry_run=dry_run, version=version.group(1) if version else None
    )
    sheets: dict[str, dict[str, Any]] = {}
    blocs: dict[str, list[dict[str, Any]]] = {}
    read = 0
    for number, line, el in _records(stream, name):
        read += 1
        try:
            row, sheet_blocs = _sheet(el)
        except RecordError as exc:
            shown = _text(el, "NUMERO_FICHE")
            position = f"fiche n° {number} (ligne {line}{', ' + shown[:20] if shown else ''})"
            report.reject("fiche", Reject(source=name, position=position, field=exc.field, reason=exc.reason))
            continue
        sheets[row["number"]] = row
        blocs[row["number"]] = sheet_blocs
    if limits.too_many_rejects(report.totals.rejected, read):
        raise ImportRefused(limits.rejects_refusal(name, report.totals.rejected, read) + ", base inchangée")
    with engine.begin() as conn:
        sync_rows(conn, SHEETS, ("number",), sheets.values(), report.entity("fiche"), dry_run=dry_run)
        bloc_rows = [b for rows in blocs.values() for b in rows]
        sync_rows(conn, BLOCS, ("code",), bloc_rows, report.entity("bloc"), dry_run=dry_run)
        # Blocs a re-imported sheet no longer has: removed with it (the sheet is the unit of the register).
        kept = {b["code"] for b in bloc_rows}
        numbers = sorted(sheets)
        gone: list[str] = []
        for start in range(0, len(numbers), 500):
            chunk = numbers[start : start + 500]
            gone += [
                code
                for (code,) in conn.execute(select(BLOCS.c.code).where(BLOCS.c.sheet_number.in_(chunk)))
                if code not in kept
            ]
        report.entity("bloc").removed += len(gone)
        if gone and not dry_run:
            for start in range(0, len(gone), 500):
                conn.execute(delete(BLOCS).where(BLOCS.c.code.in_(gone[start : start + 500])))
        for diff in differences_for(conn, sheets):
            report.warnings.append(diff.text)
    return report
