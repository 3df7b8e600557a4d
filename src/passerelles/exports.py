"""Exports of result lists: CSV (UTF-8 with BOM and semicolons, as French spreadsheets expect)."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

# A cell starting with these is read as a formula by spreadsheets (CSV injection): prefix it with '.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _invisible(char: str) -> bool:
    """Characters a spreadsheet may skip before reading a formula: spaces and format characters (zero-width
    space and joiners U+200B–U+200D, word joiner U+2060, BOM U+FEFF, soft hyphen… Unicode category Cf)."""
    return char not in "\t\r" and (char.isspace() or unicodedata.category(char) in ("Cf", "Zs"))


def safe_cell(text: str) -> str:
    """``text`` as a spreadsheet will show it, never run it: a formula start, even behind invisible
    characters, is prefixed with ``'`` (numbers such as ``-3,5`` are kept as they are)."""
    start = 0
    while start < len(text) and _invisible(text[start]):
        start += 1
    if text[start : start + 1] in _FORMULA_START and text[start : start + 1] and not _is_number(text):
        return "'" + text
    return text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    if isinstance(value, list | tuple):
        value = " | ".join(str(v) for v in value)
    return safe_cell(str(value))


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The one CSV writer of the product's exports: BOM, ``;``, CRLF, cells neutralised (:func:`safe_cell`)."""
    return "".join(csv_stream(header, [rows]))


def csv_stream(header: Sequence[str], batches: Iterable[Iterable[Sequence[Any]]]) -> Iterator[str]:
    """:func:`csv_text` in pieces: the BOM and header at once (before the first batch is even read), then
    one piece per batch of rows, so that a streamed export holds one batch in memory."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    yield out.getvalue()
    for rows in batches:
        out.seek(0)
        out.truncate()
        for row in rows:
            writer.writerow([_cell(v) for v in row])
        if out.tell():
            yield out.getvalue()
