"""Importers of the labour-market indicators: BMO survey (France Travail) and tension indicators (Dares).

Extract → read → validate → load, as every importer of the project; each refuses a bad file whole (the
store unchanged), rejects a bad row with its position, field and reason, and re-runs idempotently (rows keyed
by their natural key, updated only when their values changed).

**BMO** (« Besoins en main-d'œuvre », France Travail, yearly; method:
https://statistiques.pole-emploi.org/bmo/static/methode, « 200 métiers qui correspond aux Familles
Professionnelles (FAP) »): one Excel workbook (.xlsx), one sheet of data (named like
``BMO_2024_open_data``) whose header row holds ``annee``, ``Code métier BMO``, ``Nom métier BMO``,
``Famille_met``, ``Lbl_fam_met``, ``REG``, ``NOM_REG``, ``Dept``, ``NomDept``, ``BE24``, ``NOMBE24``, ``met``
(recruitment projects), ``xmet`` (projects judged difficult), ``smet`` (seasonal projects). The bassin
columns are named after the year of the bassins' map (``BE24``/``NOMBE24`` in 2024, ``BE26`` in 2026). Counts
too small to publish are masked as ``*``; codes may come as numbers (``REG`` 84, ``Dept`` 1, ``BE24`` 101):
they are padded back (``84``, ``01``, ``0101``). A workbook is a zip archive: its size, entries and
uncompressed size are bounded before it is opened (a « zip bomb » is refused), and it is read row by row.

**Tensions** (Dares and France Travail, yearly, « Les tensions sur le marché du travail »,
https://www.dares.travail-emploi.gouv.fr/publication/les-tensions-sur-le-marche-du-travail-en-2021): the
indicators by FAP family (225 or 87 families) and territory, in the CSV layout the Dares publishes with its
« Portrait statistique des métiers » (https://github.com/StatDares/PortraitStatMetiers,
``inputs/tensions/tensions.csv``): UTF-8, comma-separated, header ``fap, Emploi moyen, Tension , Catégorie
Tension, Intensité d'embauches, Lien formation-emploi, Manque de main-d'œuvre disponible, Non-durabilité de
l'emploi, Conditions de travail contraignantes, Inadéquation géographique, Année, niveau_geo, niveau_fap, reg,
dep``. The category and the six components are quintiles 1–5 (written ``3.0``), empty where the publisher
gives none; ``niveau_geo`` is ``nat``, ``reg`` (code in ``reg``, written ``84.0``) or ``dep`` (``01``, ``2A``,
``974`` in ``dep``).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.engine import Connection, Engine

from passerelles.importing.csvfile import HeaderMismatch, read_rows
from passerelles.importing.limits import ImportLimits
from passerelles.importing.report import ImportRefused, ImportReport, RecordError, Reject
from passerelles.importing.sync import sync_rows
from passerelles.labour.models import BmoProject, TensionIndicator

BMO_TABLE = cast(Table, BmoProject.__table__)
TENSION_TABLE = cast(Table, TensionIndicator.__table__)

MAX_BYTES = 64 * 1024 * 1024  # the national BMO workbook is a few MB
MAX_UNCOMPRESSED = 256 * 1024 * 1024  # what a workbook may hold once unzipped (all its parts)
MAX_RATIO = 200  # a part that unzips to more than 200 times its size, and to more than MAX_PART_PLAIN: a bomb
MAX_PART_PLAIN = 16 * 1024 * 1024
MAX_ENTRIES = 2_000
MAX_ROWS = 500_000  # data rows of a sheet (the national file has some 60 000)
HEADER_SEARCH_ROWS = 20  # the header row is looked for among a sheet's first rows (a title may precede it)

BMO_FIXED = (
    "annee",
    "Code métier BMO",
    "Nom métier BMO",
    "Famille_met",
    "Lbl_fam_met",
    "REG",
    "NOM_REG",
    "Dept",
    "NomDept",
    "met",
    "xmet",
    "smet",
)
BASSIN = re.compile(r"^BE[0-9]{2}$")
BASSIN_NAME = re.compile(r"^NOMBE[0-9]{2}$")
CODE = re.compile(r"^[A-Z0-9]{3,10}$")
DEPT = re.compile(r"^(?:[0-9]{1,3}|2[AB])$")
DIGITS = re.compile(r"^[0-9]{1,6}$")
FAP = re.compile(r"^[A-Z][0-9][A-Z](?:[0-9]{2})?$")

TENSION_COLUMNS = (
    "fap",
    "Emploi moyen",
    "Tension",  # « Tension » followed by a space in the publisher's header (headers are compared stripped)
    "Catégorie Tension",
    "Intensité d'embauches",
    "Lien formation-emploi",
    "Manque de main-d'œuvre disponible",
    "Non-durabilité de l'emploi",
    "Conditions de travail contraignantes",
    "Inadéquation géographique",
    "Année",
    "niveau_geo",
    "niveau_fap",
    "reg",
    "dep",
)
COMPONENTS = {
    "Intensité d'embauches": "hiring_intensity",
    "Lien formation-emploi": "training_link",
    "Manque de main-d'œuvre disponible": "labour_shortage",
    "Non-durabilité de l'emploi": "non_durable",
    "Conditions de travail contraignantes": "working_conditions",
    "Inadéquation géographique": "geographic_mismatch",
}


# ---------------------------------------------------------------- shared


def _n(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _integer(value: Any, field: str, *, low: int = 0, high: int = 10_000_000) -> int:
    text = _text(value).removesuffix(".0")
    if not re.fullmatch(r"-?[0-9]{1,9}", text):
        raise RecordError(field, f"nombre entier attendu, lu {text[:40]!r}")
    number = int(text)
    if not low <= number <= high:
        raise RecordError(field, f"valeur hors des bornes ({_n(low)} à {_n(high)}) : {_n(number)}")
    return number


def _year(value: Any, field: str) -> int:
    return _integer(value, field, low=2000, high=2100)


def _name(value: Any, field: str, size: int) -> str:
    text = _text(value)
    if not text:
        raise RecordError(field, "valeur manquante")
    if len(text) > size:
        raise RecordError(field, f"valeur trop longue ({len(text)} caractères, {size} au plus)")
    return text


def _stale_keys(
    conn: Connection, table: Table, key: tuple[str, ...], years: set[int], seen: set[tuple[Any, ...]]
) -> list[int]:
    """Ids of the stored rows of ``years`` that the file no longer holds (a publisher's correction)."""
    cols = [table.c[k] for k in key]
    return [
        row[0]
        for row in conn.execute(select(table.c.id, *cols).where(table.c.year.in_(sorted(years))))
        if tuple(row[1:]) not in seen
    ]


def _remove(
    conn: Connection,
    table: Table,
    stale: list[int],
    report: ImportReport,
    entity: str,
    limits: ImportLimits,
    *,
    force: bool,
    dry_run: bool,
) -> None:
    stored = len(stale) + report.entity(entity).updated + report.entity(entity).unchanged
    if stale and limits.too_many_removed(len(stale), stored) and not force:
        raise ImportRefused(limits.removal_refusal("lignes des mêmes années", len(stale), stored))
    report.entity(entity).removed += len(stale)
    if not dry_run:
        for start in range(0, len(stale), 900):
            conn.execute(delete(table).where(table.c.id.in_(stale[start : start + 900])))


# ---------------------------------------------------------------- BMO: extract


def _check_file(path: Path) -> None:
    """Refuse a missing file or one beyond :data:`MAX_BYTES` before anything reads it."""
    if not path.is_file():
        raise ImportRefused(f"fichier introuvable : {path.name}")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ImportRefused(f"{path.name} : fichier trop gros ({_n(size)} octets, {_n(MAX_BYTES)} au plus)")


def check_workbook(path: Path) -> None:
    """Refuse what is not a plain .xlsx workbook of reasonable size before any parser opens it: missing,
    too big, not a zip archive, cut, encrypted, too many parts, or parts that unzip beyond reason."""
    _check_file(path)
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != b"PK\x03\x04":
        raise ImportRefused(
            f"{path.name} : ce n'est pas un classeur Excel (.xlsx) ; le fichier BMO publié par France Travail "
            "est un classeur .xlsx ; fichier refusé, base inchangée"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ENTRIES:
                raise ImportRefused(f"{path.name} : classeur de {_n(len(entries))} parties : refusé")
            names = {e.filename for e in entries}
            if "[Content_Types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
                raise ImportRefused(f"{path.name} : archive zip qui n'est pas un classeur Excel (.xlsx)")
            if any(e.flag_bits & 0x1 for e in entries):
                raise ImportRefused(f"{path.name} : classeur chiffré (protégé par mot de passe) : illisible")
            plain = sum(e.file_size for e in entries)
            if plain > MAX_UNCOMPRESSED:
                raise ImportRefused(
                    f"{path.name} : {_n(plain)} octets une fois décompressé ({_n(MAX_UNCOMPRESSED)} au plus) : "
                    "refusé sans être ouvert"
                )
            for e in entries:
                if e.file_size > MAX_PART_PLAIN and e.file_size > MAX_RATIO * max(e.compress_size, 1):
                    ratio = e.file_size // max(e.compress_size, 1)
                    raise ImportRefused(
                        f"{path.name} : la partie {e.filename[:80]} se décompresse {ratio} fois sa taille "
                        "(bombe de décompression) : refusé sans être ouvert"
                    )
            for e in entries:
                if e.filename.endswith((".xml", ".rels")) and _declares_entities(archive.open(e).read(64 * 1024)):
                    raise ImportRefused(
                        f"{path.name} : la partie {e.filename[:80]} déclare un DOCTYPE ou des entités XML, ce "
                        "qu'aucun classeur Excel ne fait (entités externes, expansion) : refusé sans être ouvert"
                    )
            broken = archive.testzip()  # reads every part (bounded above): a cut or altered file is found here
            if broken is not None:
                raise ImportRefused(f"{path.name} : partie {broken[:80]} endommagée : fichier tronqué ou altéré")
    except zipfile.BadZipFile as exc:
        raise ImportRefused(f"{path.name} : archive illisible ({exc}) : fichier tronqué ou altéré") from None
    except (zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as exc:
        raise ImportRefused(f"{path.name} : archive illisible ({type(exc).__name__})") from None


_DOCTYPE = tuple(
    marker.encode(codec) for marker in ("<!DOCTYPE", "<!ENTITY") for codec in ("utf-8", "utf-16-le", "utf-16-be")
)


def _declares_entities(head: bytes) -> bool:
    """A DTD comes before the root element: the head of a part is enough to find one. No workbook has one;
    a part that has one could make the parser read local files or expand entities without end."""
    return any(marker in head for marker in _DOCTYPE)


def _header(cells: tuple[Any, ...]) -> dict[str, int] | None:
    """Column positions when ``cells`` is the BMO header row, else ``None``."""
    names = [_text(c) for c in cells]
    if "Code métier BMO" not in names or "met" not in names:
        return None
    return {name: i for i, name in enumerate(names) if name}


def _bmo_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(position, values by column) of each data row of the workbook's BMO sheet."""
    from openpyxl import load_workbook  # imported here: only this importer needs it

    check_workbook(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (KeyError, ValueError, lxml errors) for bad parts
        raise ImportRefused(f"{path.name} : classeur illisible ({type(exc).__name__})") from None
    try:
        found = None
        for sheet in workbook.worksheets:
            for number, cells in enumerate(sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True), start=1):
                columns = _header(cells)
                if columns is not None:
                    found = (sheet, number, columns)
                    break
            if found:
                break
        if found is None:
            raise ImportRefused(
                f"{path.name} : aucune feuille n'a l'en-tête de l'enquête BMO (annee, Code métier BMO, met, xmet, "
                f"smet…) ; feuilles lues : {', '.join(repr(s.title) for s in workbook.worksheets)[:300]}"
            )
        sheet, header_row, columns = found
        bassin = [c for c in columns if BASSIN.match(c)]
        bassin_name = [c for c in columns if BASSIN_NAME.match(c)]
        missing = [c for c in BMO_FIXED if c not in columns]
        if not bassin:
            missing.append("BEaa (code du bassin d'emploi, aa : année du découpage)")
        if not bassin_name:
            missing.append("NOMBEaa (nom du bassin d'emploi)")
        if missing:
            raise ImportRefused(
                f"{path.name}, feuille {sheet.title!r} : colonne(s) absente(s) : {', '.join(missing)} ; "
                "fichier refusé, base inchangée"
            )
        where = {name: columns[name] for name in BMO_FIXED}
        where["BE"] = columns[bassin[0]]
        where["NOMBE"] = columns[bassin_name[0]]
        rows = 0
        for number, cells in enumerate(sheet.iter_rows(min_row=header_row + 1, values_only=True), start=header_row + 1):
            if not any(c is not None and _text(c) for c in cells):
                continue
            rows += 1
            if rows > MAX_ROWS:
                raise ImportRefused(f"{path.name} : plus de {_n(MAX_ROWS)} lignes de données : fichier refusé")
            values = {name: (cells[i] if i < len(cells) else None) for name, i in where.items()}
            yield f"feuille {sheet.title}, ligne {number}", values
    finally:
        workbook.close()


# ---------------------------------------------------------------- BMO: validate


def _count(value: Any, field: str) -> int | None:
    """A count, or ``None`` when the publisher masked it (``*``) or left it empty."""
    text = _text(value)
    if text in ("", "*"):
        return None
    return _integer(value, field, high=5_000_000)


def bmo_row(values: dict[str, Any]) -> dict[str, Any]:
    """One BMO row as stored; :class:`RecordError` naming the source's field when it cannot be."""
    code = _text(values["Code métier BMO"]).upper()
    if not CODE.match(code):
        raise RecordError("Code métier BMO", f"code attendu (lettres et chiffres), lu {code[:40]!r}")
    region = _text(values["REG"])
    if not DIGITS.match(region) or len(region) > 3:
        raise RecordError("REG", f"code de région attendu, lu {region[:40]!r}")
    dept = _text(values["Dept"]).upper()
    if not DEPT.match(dept):
        raise RecordError("Dept", f"code de département attendu, lu {dept[:40]!r}")
    bassin = _text(values["BE"])
    if not DIGITS.match(bassin):
        raise RecordError("BE", f"code de bassin d'emploi attendu, lu {bassin[:40]!r}")
    projects = _count(values["met"], "met")
    difficult = _count(values["xmet"], "xmet")
    seasonal = _count(values["smet"], "smet")
    if projects is not None:
        if difficult is not None and difficult > projects:
            raise RecordError("xmet", f"plus de projets difficiles ({difficult}) que de projets ({projects})")
        if seasonal is not None and seasonal > projects:
            raise RecordError("smet", f"plus de projets saisonniers ({seasonal}) que de projets ({projects})")
    return {
        "year": _year(values["annee"], "annee"),
        "bmo_code": code,
        "bmo_name": _name(values["Nom métier BMO"], "Nom métier BMO", 200),
        "family_code": _name(values["Famille_met"], "Famille_met", 10),
        "family_name": _name(values["Lbl_fam_met"], "Lbl_fam_met", 200),
        "region_code": region.zfill(2),
        "region_name": _name(values["NOM_REG"], "NOM_REG", 100),
        "departement_code": dept.zfill(2),
        "departement_name": _name(values["NomDept"], "NomDept", 100),
        "bassin_code": bassin.zfill(4),
        "bassin_name": _name(values["NOMBE"], "NOMBE", 150),
        "projects": projects,
        "difficult": difficult,
        "seasonal": seasonal,
    }


# ---------------------------------------------------------------- BMO: load


def import_bmo(
    engine: Engine,
    path: Path,
    *,
    dry_run: bool = False,
    force: bool = False,
    limits: ImportLimits | None = None,
) -> ImportReport:
    """Import one BMO workbook; rows of the same years that the file no longer holds are removed."""
    limits = limits or ImportLimits()
    report = ImportReport(importer="bmo", source=str(path), dry_run=dry_run)
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    lines: dict[tuple[Any, ...], str] = {}
    read = 0
    for position, values in _bmo_rows(path):
        read += 1
        try:
            row = bmo_row(values)
            key = (row["year"], row["bmo_code"], row["bassin_code"])
            if key in rows:
                raise RecordError("(ligne)", f"même année, même métier et même bassin qu'en {lines[key]}")
        except RecordError as exc:
            shown = ", ".join(_text(v) for v in values.values())[:200]
            report.reject(
                "projet", Reject(source=path.name, position=position, field=exc.field, reason=exc.reason, record=shown)
            )
            continue
        rows[key] = row
        lines[key] = position
    if read == 0:
        raise ImportRefused(f"{path.name} : aucune ligne de données sous l'en-tête ; fichier refusé, base inchangée")
    if limits.too_many_rejects(report.totals.rejected, read):
        raise ImportRefused(limits.rejects_refusal(path.name, report.totals.rejected, read) + ", base inchangée")
    years = {k[0] for k in rows}
    report.version = ", ".join(str(y) for y in sorted(years))
    with engine.begin() as conn:
        sync_rows(
            conn, BMO_TABLE, ("year", "bmo_code", "bassin_code"), rows.values(), report.entity("projet"),
            dry_run=dry_run, return_ids=False,
        )  # fmt: skip
        stale = _stale_keys(conn, BMO_TABLE, ("year", "bmo_code", "bassin_code"), years, set(rows))
        _remove(conn, BMO_TABLE, stale, report, "projet", limits, force=force, dry_run=dry_run)
    masked = sum(1 for r in rows.values() if r["projects"] is None)
    if masked:
        report.warnings.append(f"{_n(masked)} ligne(s) au nombre de projets masqué (« * ») par France Travail")
    return report


# ---------------------------------------------------------------- tensions


def _quintile(value: str, field: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise RecordError(field, f"nombre de 1 à 5 attendu, lu {text[:40]!r}") from None
    if not number.is_integer() or not 1 <= number <= 5:
        raise RecordError(field, f"nombre de 1 à 5 attendu, lu {text[:40]!r}")
    return int(number)


def _float(value: str, field: str) -> float | None:
    text = value.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise RecordError(field, f"nombre attendu, lu {text[:40]!r}") from None
    if number != number or abs(number) > 1e6:
        raise RecordError(field, f"nombre fini attendu, lu {text[:40]!r}")
    return number


def tension_row(values: dict[str, str]) -> dict[str, Any]:
    """One tension row as stored; :class:`RecordError` naming the source's field when it cannot be."""
    fap = values["fap"].strip().upper()
    if not FAP.match(fap):
        raise RecordError("fap", f"code de famille professionnelle attendu (V0Z60, V0Z), lu {fap[:40]!r}")
    level = values["niveau_geo"].strip().lower()
    if level == "nat":
        code = ""
    elif level == "reg":
        code = values["reg"].strip().removesuffix(".0")
        if not DIGITS.match(code) or len(code) > 2:
            raise RecordError("reg", f"code de région attendu, lu {values['reg'][:40]!r}")
        code = code.zfill(2)
    elif level == "dep":
        code = values["dep"].strip().removesuffix(".0").upper()
        if not DEPT.match(code):
            raise RecordError("dep", f"code de département attendu, lu {values['dep'][:40]!r}")
        code = code.zfill(2)
    else:
        raise RecordError("niveau_geo", f"« nat », « reg » ou « dep » attendu, lu {values['niveau_geo'][:40]!r}")
    fap_level = values["niveau_fap"].strip().lower()
    if fap_level not in ("fap 225", "fap 87"):
        raise RecordError("niveau_fap", f"« fap 225 » ou « fap 87 » attendu, lu {values['niveau_fap'][:40]!r}")
    employment = _float(values["Emploi moyen"], "Emploi moyen")
    if employment is not None and not 0 <= employment <= 10_000_000:
        raise RecordError("Emploi moyen", "effectif hors des bornes")
    row: dict[str, Any] = {
        "year": _year(values["Année"].strip().removesuffix(".0"), "Année"),
        "fap_code": fap,
        "fap_level": fap_level,
        "geo_level": level,
        "geo_code": code,
        "employment": None if employment is None else round(employment),
        "tension": _float(values["Tension"], "Tension"),
        "category": _quintile(values["Catégorie Tension"], "Catégorie Tension"),
    }
    for column, name in COMPONENTS.items():
        row[name] = _quintile(values[column], column)
    return row


def import_tensions(
    engine: Engine,
    path: Path,
    *,
    dry_run: bool = False,
    force: bool = False,
    limits: ImportLimits | None = None,
) -> ImportReport:
    """Import the Dares tension indicators (CSV); rows of the same years the file no longer holds are removed."""
    limits = limits or ImportLimits()
    _check_file(path)
    report = ImportReport(importer="tensions", source=str(path), dry_run=dry_run)
    rejects: list[Reject] = []
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    lines: dict[tuple[Any, ...], int] = {}
    read = own = 0
    try:
        for raw in read_rows(path, TENSION_COLUMNS, delimiter=",", rejects=rejects):
            read += 1
            try:
                row = tension_row(raw.values)
                key = (row["year"], row["fap_code"], row["geo_level"], row["geo_code"])
                if key in rows:
                    raise RecordError(
                        "(ligne)", f"même année, même famille et même territoire qu'à la ligne {lines[key]}"
                    )
            except RecordError as exc:
                shown = ",".join(raw.values.values())[:200]
                own += 1
                rejects.append(
                    Reject(
                        source=path.name, position=f"ligne {raw.line}", field=exc.field, reason=exc.reason, record=shown
                    )
                )
                continue
            rows[key] = row
            lines[key] = raw.line
    except HeaderMismatch as exc:
        raise ImportRefused(f"{exc} ; fichier refusé, base inchangée") from None
    for r in rejects:
        report.reject("indicateur", r)
    read += len(rejects) - own  # rows the reader itself rejected (shape, encoding, size) were read too
    if read == 0:
        raise ImportRefused(f"{path.name} : aucune ligne sous l'en-tête ; fichier refusé, base inchangée")
    encoding = sum(1 for r in rejects if "encodage" in r.reason)
    if limits.too_many_rejects(len(rejects), read):
        raise ImportRefused(limits.rejects_refusal(path.name, len(rejects), read, encoding) + ", base inchangée")
    years = {k[0] for k in rows}
    report.version = ", ".join(str(y) for y in sorted(years))
    key = ("year", "fap_code", "geo_level", "geo_code")
    with engine.begin() as conn:
        sync_rows(
            conn, TENSION_TABLE, key, rows.values(), report.entity("indicateur"), dry_run=dry_run, return_ids=False
        )
        stale = _stale_keys(conn, TENSION_TABLE, key, years, set(rows))
        _remove(conn, TENSION_TABLE, stale, report, "indicateur", limits, force=force, dry_run=dry_run)
    return report
