"""Reading delimited files defensively: explicit columns, per-row encoding and shape checks.

A file is decoded with ``surrogateescape`` so that one badly encoded row does not stop the others: the
row is rejected with its line number and the offending field instead. A cell longer than
:data:`CELL_LIMIT` rejects its row, naming the field. A file that does not end with a line end was cut
(an export always ends its last line): it is refused as a whole, since its last row may be cut inside a
quoted value and still look whole.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from passerelles.importing.limits import check_not_utf16, truncated
from passerelles.importing.report import Reject

CELL_LIMIT = 1024 * 1024  # one cell; a longer one rejects its row (field and size named), never the file


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]


class HeaderMismatch(Exception):
    pass


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def read_rows(path: Path, columns: tuple[str, ...], *, delimiter: str = ",", rejects: list[Reject]) -> Iterator[Row]:
    """Yield each well-formed row as a dict of ``columns``; append a :class:`Reject` for the others.

    Raises :class:`HeaderMismatch` when the header is not the expected column list: the file as a whole
    is then not the one we think it is.
    """
    data = path.read_bytes()
    check_not_utf16(path.name, data[:4096])
    if data.strip() and not data.endswith((b"\n", b"\r")):
        raise truncated(path.name, "la dernière ligne n'a pas de fin de ligne : coupée en cours d'écriture ou de copie")
    text = data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise HeaderMismatch(f"{path.name} : fichier vide") from None
    if tuple(h.strip() for h in header) != columns:
        raise HeaderMismatch(f"{path.name} : en-tête inattendu {header!r}, attendu {list(columns)!r}")
    start = reader.line_num + 1
    # The csv module's own limit would stop at a long cell without naming it: the cells are measured below.
    previous_limit = csv.field_size_limit(max(len(text) + 1, 131072))
    try:
        yield from _rows(reader, path, columns, start, rejects)
    finally:
        csv.field_size_limit(previous_limit)


def _rows(reader: Any, path: Path, columns: tuple[str, ...], start: int, rejects: list[Reject]) -> Iterator[Row]:
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            rejects.append(
                Reject(source=path.name, position=f"ligne {start}", field="(ligne)", reason=f"ligne illisible : {exc}")
            )
            start = reader.line_num + 1
            continue
        line = start
        start = reader.line_num + 1
        if not raw or raw == [""]:
            continue
        if len(raw) != len(columns):
            rejects.append(
                Reject(
                    source=path.name,
                    position=f"ligne {line}",
                    field="(ligne)",
                    reason=f"nombre de colonnes : {len(raw)} au lieu de {len(columns)}",
                    record=_preview(raw),
                )
            )
            continue
        if max(map(len, raw)) > CELL_LIMIT:  # rare: then find which cell
            long = next((c, len(v)) for c, v in zip(columns, raw, strict=True) if len(v) > CELL_LIMIT)
            rejects.append(
                Reject(
                    source=path.name,
                    position=f"ligne {line}",
                    field=long[0],
                    reason=f"valeur trop longue ({long[1]:_} caractères, {CELL_LIMIT:_} au plus)".replace("_", " "),
                    record=_preview([v[:100] for v in raw]),
                )
            )
            continue
        bad = next((c for c, v in zip(columns, raw, strict=True) if _has_surrogates(v)), None)
        if bad is not None:
            rejects.append(
                Reject(
                    source=path.name,
                    position=f"ligne {line}",
                    field=bad,
                    reason="encodage invalide (UTF-8 attendu)",
                    record=_preview(raw),
                )
            )
            continue
        yield Row(line=line, values=dict(zip(columns, raw, strict=True)))


def _preview(raw: list[str]) -> str:
    text = ",".join(raw)
    text = text.encode("utf-8", errors="replace").decode("utf-8", errors="replace")
    return text[:200]
