"""InserJeunes (DEPP and DARES) rates by formation and région → ``training_outcome``.

The format is the DEPP's open-data CSV of InserJeunes indicators by formation (data.education.gouv.fr and
data.gouv.fr, « InserJeunes » datasets): UTF-8 (a byte-order mark is tolerated), fields separated by ``;``,
values possibly quoted, one header line with the published labels, read by name (their order may change):

- the formation: ``Code formation`` (national file: ``Code Formation``; by way of study ``Code formation
  apprentissage`` — a code formation diplôme — or ``Code formation Mefstat11`` for the voie scolaire),
  ``Type de diplôme`` (``CAP``, ``BAC PRO``, ``BTS``, ``MC4``…), ``Libellé de la formation``;
- the place: ``Région`` (a name, upper case without accents in the DEPP files, e.g. ``ILE-DE-FRANCE``, or a
  code); without it the file is national;
- the rates, in whole per cent: ``Taux de poursuite d'études``, ``Taux d'emploi 6 mois après la sortie``,
  ``Taux d'emploi 12 mois après la sortie``; the value added of the employment rate,
  ``Valeur ajoutée du taux d'emploi 6 mois`` (points, signed); the counts ``nb en année terminale`` and
  ``nb de sortants 6 mois après la sortie`` when given;
- the millésime (two years of leavers cumulated, e.g. ``2022-2023``) in a ``Millésime`` column, else in the
  file name, else given with ``--millesime``.

Secrets: the DEPP publishes no rate for a formation with too few students (under 20 in the InserJeunes
exposure rules): the cell is empty (or ``nd``, ``s``, ``*`` in some exports). Such a value is stored as
unknown, named in ``masked``, never as 0, and counted in the report.

Extract → read → validate → load: a file not in UTF-8, cut before its last line end, without the required
columns, or one of the per-establishment files (``n°UAI de l'établissement``: another grain) is refused whole,
the store unchanged; a bad row (rate out of 0–100, unknown région, duplicated formation) is rejected with its
line, column and reason; rows are created, updated or left unchanged by their key (millésime, région,
formation, way of study). A row is linked to a certification of the project when its type and title are the
certification's name or acronym; the others are kept, unlinked, and counted.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection, Engine

from passerelles.certifications.models import Certification
from passerelles.importing.limits import ImportLimits, check_encoding, truncated
from passerelles.importing.report import ImportRefused, ImportReport, RecordError, Reject
from passerelles.importing.sync import sync_rows
from passerelles.outcomes.models import TrainingOutcome
from passerelles.places.models import Region
from passerelles.rncp.services import fold

MAX_BYTES = 256 * 1024 * 1024
OUTCOMES = cast(Table, TrainingOutcome.__table__)
NATIONAL = "FR"
CODE_COLUMNS = {
    "Code formation": None,
    "Code Formation": None,
    "Code formation diplôme": None,
    "Code formation apprentissage": "apprentissage",
    "Code formation Mefstat11": "scolaire",
}
RATES = {
    "study_rate": "Taux de poursuite d'études",
    "employment_6m": "Taux d'emploi 6 mois après la sortie",
    "employment_12m": "Taux d'emploi 12 mois après la sortie",
}
COUNTS = {"final_year": "nb en année terminale", "leavers": "nb de sortants 6 mois après la sortie"}
VALUE_ADDED = "Valeur ajoutée du taux d'emploi 6 mois"
MASKED = {"", "nd", "n.d.", "n.d", "s", "ns", "*", "-", "secret"}
MILLESIME = re.compile(r"^(20\d\d)(?:[-_ ](20\d\d))?$")
MILLESIME_IN_NAME = re.compile(r"(20\d\d)[-_](20\d\d)")
CODE = re.compile(r"^[0-9A-Z]{8,11}$")
# How the DEPP writes a diploma type → how the project's certification names begin.
DIPLOMA_TYPES = {
    "CAP": "CAP",
    "BAC PRO": "Baccalauréat professionnel",
    "BP": "Brevet professionnel",
    "BTS": "BTS",
    "MC3": "Mention complémentaire",
    "MC4": "Mention complémentaire",
    "MC5": "Mention complémentaire",
}


def _text(path: Path) -> str:
    if not path.is_file():
        raise ImportRefused(f"fichier introuvable : {path.name}")
    if path.stat().st_size > MAX_BYTES:
        raise ImportRefused(f"{path.name} : fichier de plus de {MAX_BYTES // 1024 // 1024} Mo")
    data = path.read_bytes()
    check_encoding(path.name, data, whole=True)
    if data.strip() and not data.endswith((b"\n", b"\r")):
        raise truncated(path.name, "la dernière ligne n'a pas de fin de ligne : coupée en cours d'écriture ou de copie")
    return data.decode("utf-8").removeprefix("\ufeff")


def _millesime(value: str) -> str:
    m = MILLESIME.match(value.strip())
    if m is None:
        raise RecordError("Millésime", f"millésime invalide {value[:20]!r} (AAAA ou AAAA-AAAA attendu)")
    first, second = m.group(1), m.group(2)
    return f"{first}-{second}" if second else first


def _number(
    column: str, raw: str | None, masked: list[str], *, low: float | None = None, high: float | None = None
) -> float | None:
    value = (raw or "").strip()
    if value.lower() in MASKED:
        masked.append(column)
        return None
    try:
        number = float(value.replace("\u202f", "").replace(" ", "").replace(",", ".").removesuffix("%"))
    except ValueError:
        raise RecordError(column, f"nombre attendu, lu {value[:20]!r}") from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise RecordError(
            column, f"{value} hors des bornes ({low:g} à {high:g})" if high is not None else f"{value} négatif"
        )
    return number


def _regions(conn: Connection) -> dict[str, tuple[str, str]]:
    """Folded name or code → (code, name) of each région of the reference data."""
    out: dict[str, tuple[str, str]] = {}
    for code, name in conn.execute(select(Region.code, Region.name)):
        out[fold(name)] = out[code] = (code, name)
    return out


def _certifications(conn: Connection) -> dict[str, int]:
    out: dict[str, int] = {}
    for cid, name, acronym in conn.execute(select(Certification.id, Certification.name, Certification.acronym)):
        out.setdefault(fold(name), cid)
        if acronym:
            out.setdefault(fold(acronym), cid)
    return out


def _certification(certs: dict[str, int], diploma: str, title: str) -> int | None:
    kind = DIPLOMA_TYPES.get(diploma.upper().strip(), diploma)
    for candidate in (f"{kind} {title}", f"{diploma} {title}", title):
        found = certs.get(fold(candidate))
        if found:
            return found
    return None


def import_inserjeunes(
    engine: Engine,
    path: Path,
    *,
    millesime: str | None = None,
    pathway: str | None = None,
    dry_run: bool = False,
    limits: ImportLimits | None = None,
) -> ImportReport:
    limits = limits or ImportLimits()
    text = _text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=";")
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    if "n°UAI de l'établissement" in header:
        raise ImportRefused(
            f"{path.name} : fichier par établissement (colonne « n°UAI de l'établissement ») : le projet importe les "
            "fichiers par formation et région ; base inchangée"
        )
    code_column = next((c for c in CODE_COLUMNS if c in header), None)
    missing = [c for c in ("Type de diplôme", "Libellé de la formation") if c not in header]
    if code_column is None:
        missing.insert(0, "Code formation")
    if not any(c in header for c in RATES.values()):
        missing.append(RATES["employment_6m"])
    if missing:
        raise ImportRefused(
            f"{path.name} : colonne(s) absente(s) : {', '.join(missing)} (séparateur « ; » attendu) : ce n'est pas "
            "un fichier InserJeunes par formation ; base inchangée"
        )
    assert code_column is not None
    way = CODE_COLUMNS[code_column] or pathway or "ensemble"
    if millesime is None and "Millésime" not in header:
        found = MILLESIME_IN_NAME.search(path.name)
        if found is None:
            raise ImportRefused(
                f"{path.name} : millésime inconnu : ni colonne « Millésime », ni années dans le nom du fichier ; "
                "le donner avec --millesime (par exemple 2022-2023)"
            )
        millesime = f"{found.group(1)}-{found.group(2)}"
    try:
        fixed = _millesime(millesime) if millesime else None
    except RecordError as exc:
        raise ImportRefused(f"--millesime : {exc.reason}") from None
    report = ImportReport(importer="inserjeunes", source=str(path), dry_run=dry_run, version=fixed)
    masked_cells = 0
    rows: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    read = unlinked = 0
    with engine.begin() as conn:
        regions, certs = _regions(conn), _certifications(conn)
        for row in reader:
            read += 1
            line = reader.line_num
            try:
                if None in row:
                    raise RecordError("(ligne)", f"{len(header) + len(row[None])} champs pour {len(header)} colonnes")
                values = {k: (v or "").strip() for k, v in row.items()}
                code = values[code_column].strip('"').upper()
                if not CODE.match(code):
                    raise RecordError(
                        code_column, f"code formation invalide {code[:20]!r} (8 à 11 chiffres ou lettres)"
                    )
                title = values["Libellé de la formation"]
                if not title:
                    raise RecordError("Libellé de la formation", "libellé absent")
                region_code = NATIONAL
                if "Région" in header:
                    region = regions.get(values["Région"]) or regions.get(fold(values["Région"]))
                    if region is None:
                        raise RecordError("Région", f"région inconnue {values['Région'][:40]!r}")
                    region_code = region[0]
                year = _millesime(values["Millésime"]) if "Millésime" in header and not fixed else fixed
                assert year is not None
                masked: list[str] = []
                rates = {
                    key: _number(column, values.get(column), masked, low=0, high=100)
                    for key, column in RATES.items()
                    if column in header
                }
                counts = {
                    key: _number(column, values.get(column), masked, low=0)
                    for key, column in COUNTS.items()
                    if column in header
                }
                value_added = (
                    _number(VALUE_ADDED, values.get(VALUE_ADDED), masked, low=-100, high=100)
                    if VALUE_ADDED in header
                    else None
                )
            except RecordError as exc:
                report.reject(
                    "taux", Reject(source=path.name, position=f"ligne {line}", field=exc.field, reason=exc.reason)
                )
                continue
            key = (year, region_code, code, way)
            if key in rows:
                reason = (
                    f"formation {code} déjà lue pour cette région et ce millésime (ligne {rows[key]['detail']['line']})"
                )
                report.reject(
                    "taux", Reject(source=path.name, position=f"ligne {line}", field=code_column, reason=reason)
                )
                continue
            diploma = values["Type de diplôme"]
            cert = _certification(certs, diploma, title)
            unlinked += cert is None
            masked_cells += len(masked)
            rows[key] = {
                "millesime": year,
                "region_code": region_code,
                "formation_code": code,
                "pathway": way,
                "diploma_type": diploma[:40] or None,
                "title": title,
                "certification_id": cert,
                **{k: round(v) if v is not None else None for k, v in rates.items()},
                **{k: int(v) if v is not None else None for k, v in counts.items()},
                "value_added": value_added,
                "masked": masked,
                "source": path.name[:200],
                "detail": {"line": line, "duration_years": values.get("Durée de formation (en année)") or None},
            }
        if read == 0:
            raise ImportRefused(f"{path.name} : aucune ligne après l'en-tête ; base inchangée")
        if limits.too_many_rejects(report.totals.rejected, read):
            raise ImportRefused(limits.rejects_refusal(path.name, report.totals.rejected, read) + ", base inchangée")
        for r in rows.values():
            r.setdefault("study_rate", None)
            r.setdefault("employment_6m", None)
            r.setdefault("employment_12m", None)
            r.setdefault("final_year", None)
            r.setdefault("leavers", None)
            r["detail"] = {k: v for k, v in r["detail"].items() if k != "line"}
        sync_rows(
            conn,
            OUTCOMES,
            ("millesime", "region_code", "formation_code", "pathway"),
            rows.values(),
            report.entity("taux"),
            dry_run=dry_run,
        )
    if masked_cells:
        report.warnings.append(
            f"{masked_cells} valeur(s) non publiée(s) par la DEPP (effectif trop faible) : gardées comme inconnues, "
            "jamais comme 0"
        )
    if unlinked:
        report.warnings.append(
            f"{unlinked} formation(s) sans certification du projet (rattachement par le type de diplôme et "
            "l'intitulé) : gardées, non affichées"
        )
    return report
