"""The BMO workbook of the tests, written by the project (invented figures) in the layout of France Travail's
open-data file (see ``tests/fixtures/bmo/README.md``): generated with openpyxl when a test runs."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

HEADER = ("annee", "Code métier BMO", "Nom métier BMO", "Famille_met", "Lbl_fam_met", "REG", "NOM_REG", "Dept",
          "NomDept", "BE26", "NOMBE26", "met", "xmet", "smet")  # fmt: skip
SOCIAL = ("S", "Fonctions sociales et médico-sociales")
ARA, IDF = (84, "Auvergne-Rhône-Alpes"), (11, "Île-de-France")

# year, BMO code, BMO name, family, région, département, bassin, met, xmet, smet (as the workbook holds them)
ROWS: list[tuple[Any, ...]] = [
    (2026, "V0Z60", "Aides-soignants", *SOCIAL, *ARA, 69, "Rhône", 8428, "Lyon", 1240, 769, 60),
    (2026, "V0Z60", "Aides-soignants", *SOCIAL, *ARA, 69, "Rhône", 8413, "Villefranche-sur-Saône", 210, 150, "*"),
    (2026, "V0Z60", "Aides-soignants", *SOCIAL, *ARA, 38, "Isère", 8420, "Grenoble", 530, 300, 20),
    (2026, "V0Z60", "Aides-soignants", *SOCIAL, *ARA, 1, "Ain", 8401, "Bourg-en-Bresse", "*", "*", "*"),
    (2026, "V0Z60", "Aides-soignants", *SOCIAL, *IDF, 75, "Paris", 1126, "Paris", 2100, 1300, 90),
    (2026, "T2A60", "Aides à domicile et aides ménagères", *SOCIAL, *ARA, 69, "Rhône", 8428, "Lyon", 980, 700, 30),
    (
        2026,
        "V1Z80",
        "Infirmiers, cadres infirmiers et puéricultrices",
        *SOCIAL,
        *ARA,
        69,
        "Rhône",
        8428,
        "Lyon",
        860,
        520,
        15,
    ),
]


def write_bmo(path: Path, rows: Sequence[Sequence[Any]] = ROWS, *, header: Sequence[str] = HEADER,
              sheet: str = "BMO_2026_open_data", title: bool = True) -> Path:  # fmt: skip
    """A workbook as France Travail publishes it: a notice sheet, then the data sheet (a title row above the
    header, as some releases have)."""
    book = Workbook()
    notice = book.active
    assert notice is not None
    notice.title = "Notice"
    notice.append(["Fichier de test écrit par le projet Passerelles : chiffres inventés"])
    data = book.create_sheet(sheet)
    if title:
        data.append(["Enquête Besoins en main-d'œuvre 2026 (extrait écrit par le projet, chiffres inventés)"])
    data.append(list(header))
    for row in rows:
        data.append(list(row))
    book.save(path)
    return path


def write_zip_bomb(path: Path, size: int = 64 * 1024 * 1024) -> Path:
    """A workbook-shaped archive whose one sheet unzips to ``size`` bytes of blanks (a few hundred KB zipped)."""
    chunk = b" " * (1024 * 1024)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            for _ in range(size // len(chunk)):
                part.write(chunk)
    return path


def with_doctype(source: Path, target: Path) -> Path:
    """``source`` with an external entity declared in its data sheet (an XXE attempt)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            data = old.read(item)
            if item.filename == "xl/worksheets/sheet2.xml":
                data = b'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + data
            new.writestr(item, data)
    return target
