"""What makes an import refuse its input as a whole instead of changing the store (issue 14).

- **Too many rejects**: more than ``max_rejected_share`` of the records read (and more than
  ``rejected_floor``): the file is not the one expected (wrong encoding, wrong format, a broken export).
- **Too many removals**: a run that would remove (ROME) or close (a full LHÉO or offers feed) more than
  ``max_removed_share`` of the source's stored rows (and more than ``removed_floor``) is refused unless
  forced (``--force``): a short file is far more often a broken one than a real purge.
- **Wrong encoding, truncated end, header only**: found before anything is read into the store, by the
  cheap checks below (the first and last bytes of a plain file).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from passerelles.importing.report import ImportRefused

HEAD_BYTES = 1024 * 1024  # the first MiB is checked for its encoding before anything is read
TAIL_BYTES = 64 * 1024


# lxml parser options for every XML a file importer reads (LHÉO, LHÉO léger, RNCP): no entity resolved, no DTD
# loaded, no network, libxml2's size limits kept (``huge_tree`` off); comments and processing instructions dropped.
SAFE_XML_PARSER: dict[str, Any] = {
    "huge_tree": False,
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "remove_comments": True,
    "remove_pis": True,
}


@dataclass(frozen=True)
class ImportLimits:
    """Thresholds of an import run; the defaults are those of :class:`passerelles.settings.Settings`."""

    max_rejected_share: float = 0.05
    rejected_floor: int = 20
    max_removed_share: float = 0.20
    removed_floor: int = 20

    def too_many_rejects(self, rejected: int, records: int) -> bool:
        return rejected > max(self.rejected_floor, self.max_rejected_share * records)

    def too_many_removed(self, removed: int, stored: int) -> bool:
        return removed > max(self.removed_floor, self.max_removed_share * stored)

    def rejects_refusal(self, name: str, rejected: int, records: int, encoding: int = 0) -> str:
        """The message of a file refused for its rejects (``encoding``: how many for their encoding)."""
        why = (
            f", dont {_n(encoding)} pour un encodage invalide (UTF-8 attendu) : le fichier n'est pas en UTF-8"
            if encoding * 2 > rejected
            else ""
        )
        return (
            f"{name} : {_n(rejected)} enregistrement(s) rejeté(s) sur {_n(records)} lu(s){why} ; "
            f"au-delà de {self.max_rejected_share:.0%} (et de {self.rejected_floor} rejets), le fichier est refusé "
            "en entier"
        ).replace("%", " %")

    def stop_for_rejects(
        self, name: str, rejected: int, records: int, *, written: bool, encoding: int = 0
    ) -> str | None:
        """Before a batch of a streamed file is written: ``None`` within the limits; beyond them
        :class:`ImportRefused` when nothing was ``written`` yet (the file refused, the store unchanged), else
        the message of the run that stops there."""
        if not self.too_many_rejects(rejected, records):
            return None
        message = self.rejects_refusal(name, rejected, records, encoding)
        if not written:
            raise ImportRefused(message + ", base inchangée")
        return message

    def removal_refusal(self, what: str, removed: int, stored: int) -> str:
        return (
            f"{_n(removed)} {what} sur {_n(stored)} en base seraient retirées par cet import, plus de "
            f"{self.max_removed_share:.0%} : rien n'a été retiré ; si c'est voulu, relancer avec --force"
        ).replace("%", " %")


def _n(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def is_compressed(path: Path) -> bool:
    with path.open("rb") as fh:
        magic = fh.read(4)
    return magic.startswith((b"\x1f\x8b", b"PK\x03\x04"))


def head(path: Path, size: int = HEAD_BYTES) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


def tail(path: Path, size: int = TAIL_BYTES) -> bytes:
    with path.open("rb") as fh:
        fh.seek(0, 2)
        end = fh.tell()
        fh.seek(max(0, end - size))
        return fh.read()


def check_not_utf16(name: str, data: bytes) -> None:
    """Refuse a text in UTF-16 or UTF-32 (a byte-order mark, or NUL bytes in its first 4 KiB): read as
    UTF-8 it would give garbled records, not rejected ones."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise ImportRefused(f"{name} : encodage UTF-16 ou UTF-32 : UTF-8 attendu ; fichier refusé, base inchangée")


def check_encoding(name: str, data: bytes, *, whole: bool = False) -> None:
    """Refuse a text that is not UTF-8: UTF-16 or UTF-32, or bytes that are not UTF-8 in ``data`` (the
    first MiB of the file; ``whole``: the whole file, else a character cut at its end is not an error)."""
    check_not_utf16(name, data)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if whole or exc.start < len(data) - 4:
            line = data.count(b"\n", 0, exc.start) + 1
            raise ImportRefused(
                f"{name} : encodage invalide à la ligne {line} (octet {exc.start + 1}) : UTF-8 attendu, "
                "le fichier a sans doute été converti (Latin-1, Windows-1252) ; fichier refusé, base inchangée"
            ) from None


def truncated(name: str, why: str, kind: str = "") -> ImportRefused:
    """The refusal of a file cut before its end (``kind``: what it is not then, e.g. « JSON illisible »)."""
    return ImportRefused(
        f"{name} : {kind + ', ' if kind else ''}fichier tronqué ({why}) ; fichier refusé, base inchangée"
    )


_XML_TAIL = re.compile(rb"</\s*([A-Za-z_][\w.:-]*)\s*>(?:\s|<!--(?:(?!-->).)*-->|<\?(?:(?!\?>).)*\?>)*\Z", re.DOTALL)
_XML_ROOT = re.compile(
    rb"\A(?:\xef\xbb\xbf)?(?:\s|<\?(?:(?!\?>).)*\?>|<!--(?:(?!-->).)*-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>)*<([A-Za-z_][\w.:-]*)",
    re.DOTALL,
)


def check_xml_end(path: Path, start: bytes) -> None:
    """A plain XML file must end with the end tag of its root element (then only blanks, comments or
    processing instructions): else it was cut, and nothing of it is loaded. ``start``: the file's first
    bytes, read by the caller (the end of a compressed file is checked as it is read, not here)."""
    root = _XML_ROOT.match(start[: 64 * 1024])
    if root is None:
        return  # no start tag found: the parser says what is wrong
    end = _XML_TAIL.search(tail(path))
    if end is None or end.group(1) != root.group(1):
        name = root.group(1).decode("ascii", "replace")
        raise truncated(path.name, f"il ne se termine pas par la balise de fin </{name}>")
