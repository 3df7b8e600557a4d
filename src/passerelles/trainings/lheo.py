"""LHÉO importer: the training offer as the Carif-Oref network exchanges it (Langage Harmonisé d'Échange
d'informations sur l'Offre de formation, https://lheo.gouv.fr; schema ``lheo-2.3.xsd`` and the code lists
``dict-niveaux``, ``dict-FOAD``, ``dict-etat-recrutement`` of the LHÉO sources).

extract → read → validate → load, streamed so that a 1 GB catalogue runs in bounded memory:

- **extract**: a local file (``.xml``, ``.xml.gz``, ``.zip`` holding one ``.xml``) or an http(s) URL.
- **read**: lxml ``iterparse`` behind :class:`XmlGuard`; each ``formation`` (2.x) or ``offre-formation``
  (1.3) is handled, then cleared. Accepted namespaces: ``http://www.lheo.org/1.3.0``,
  ``http://www.lheo.org/2.2`` and ``http://lheo.gouv.fr/2.3``; anything else is refused as a whole.
- **validate**: LHÉO 2.2 and 2.3 records against the official 2.3 XSD (a 2.2 record is moved to the 2.3
  namespace first: the structures are the same); an XSD error rejects that record with the XSD message.
  LHÉO 1.3 has another structure (``offre-formation/action-formation/organisation-formation``) that the
  2.3 XSD cannot describe: its records get the explicit checks only, and the report says so. Then
  explicit checks for every version: dates, numbers, codes, postcode, commune, column limits
  (:mod:`passerelles.trainings.schemas`).
- **load**: one transaction per batch of formations with :func:`~passerelles.importing.sync.sync_rows`
  (providers, trainings, sessions); ``full=True`` closes (never deletes) the sessions of the source that
  the file no longer carries.

Decisions, for operators:

- **Rejects** name the file, the record (``formation <numéro> (ligne N)``, with action and session
  for a session) and the LHÉO element path. A bad record never stops the import.
- **Unknown commune**: a session whose place (``lieu-de-formation``) matches no commune (INSEE code, else
  postcode + name, else name within the postcode's département) is not valid: it is rejected, with its
  action, and the formation itself is kept. The provider's own address is informational: an unknown
  commune there leaves ``commune_code`` empty.
- **Truncated or broken file**: a plain file that does not end with its root's end tag, or whose first
  MiB is not in UTF-8 (when it declares no other encoding), is refused before anything is read
  (:class:`ImportRefused`, nothing written). A break found while reading (bytes not in the declared
  encoding further on, a broken element in the middle, a compressed file cut) stops the run before the
  next batch is written: nothing written yet, :class:`ImportRefused`; else the batches already written
  stay, the report has ``status="refused"``, a message naming the line, a reject, and ``full=True``
  closes nothing.
- **Too many rejects** (:class:`~passerelles.importing.limits.ImportLimits`, checked before each batch
  is written, from what was read so far) stop the run the same way; ``full=True`` closes no more than
  the limits allow, unless ``force``.
- **Hostile XML**: a DOCTYPE that declares entities (billion laughs, external entities) is refused as a
  whole, before parsing; the parser never loads a DTD, never resolves an entity, never uses the network,
  and keeps libxml2's limits (``huge_tree=False``). A text or attribute over 1 MiB is cut by the guard
  before libxml2 sees it (libxml2 would stop the whole file at 10 MB) and its record is rejected,
  naming the element.
- **Identifiers**: ``numero`` attributes when given (session: ``formation/action/session``); otherwise a
  stable hash of identifying fields (provider, title, certification codes, place, dates), so an edited
  record without numbers comes back as a new one.
- **First occurrence wins** for a provider repeated in the file, so that re-importing the same file
  reports no change. A formation or session number read twice is rejected the second time.
- **Full feeds** close the stored sessions that this import did not load: absent from the file, or
  rejected this time (the feed no longer carries a valid version). A closed session that comes back is
  reopened and counted as updated.
- **LHÉO « léger » / ``lheo-index``** (indexes of offer summaries pointing at the full offers) are
  refused: importing them beside the full offers would duplicate every offer.
- **RNCP codes** (``RNCP36004`` or bare digits) link trainings and sessions to the project's certifications
  (``certification_rncp``); codes the reference does not know are listed in one warning.
- **Levels** (``code-niveau-sortie``, dict-niveaux): 2…8 (levels VI…I of 1969) → 1…7, 11…18 (LHÉO 2.3)
  → 1…8, 0 and 1 (not given, no specific level) → none.
- Text is stored as plain text exactly as read (entities decoded, no HTML interpretation).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import gzip
import hashlib
import io
import re
import tempfile
import zipfile
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, cast

from lxml import etree
from sqlalchemy import Table, select, update
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from unidecode import unidecode

from passerelles.certifications.models import Certification, CertificationRncp
from passerelles.importing import xmlchunks
from passerelles.importing.download import download
from passerelles.importing.limits import HEAD_BYTES, ImportLimits, check_encoding, check_xml_end, head, is_compressed
from passerelles.importing.pipeline import CHUNK_END, CHUNKED, STREAM_END, auto_workers, sharded
from passerelles.importing.report import EntityCounts, ImportRefused, ImportReport, Reject
from passerelles.importing.sync import (
    CHUNK,
    Bound,
    bind_ahead,
    close_missing,
    defer_indexes,
    restore_indexes,
    row_hash,
    sync_rows,
    tune_for_bulk,
)
from passerelles.importing.xmlchunks import Piece, Readable, Split
from passerelles.places.models import Commune
from passerelles.settings import default_data_dir, lheo_schema
from passerelles.trainings.models import Provider, Training, TrainingSession
from passerelles.trainings.schemas import (
    PROVIDER_RULES,
    SESSION_RULES,
    TRAINING_RULES,
    ProviderRecord,
    Rule,
    SessionRecord,
    TrainingRecord,
    check_record,
)

__all__ = ["ImportRefused", "XmlGuard", "import_lheo"]

NS_13 = "http://www.lheo.org/1.3.0"
NS_22 = "http://www.lheo.org/2.2"
NS_23 = "http://lheo.gouv.fr/2.3"
VERSIONS = {NS_13: "1.3", NS_22: "2.2", NS_23: "2.3"}

MAX_TEXT_BYTES = 1024 * 1024  # a text or attribute over 1 MiB rejects its record
MAX_DOCTYPE_BYTES = 64 * 1024
MAX_DOWNLOAD = 2 * 1024 * 1024 * 1024
TRUNCATED = "\ue000"  # what the guard leaves where it cut an over-long text (a private-use character)

PROVIDER = cast(Table, Provider.__table__)
TRAINING = cast(Table, Training.__table__)
SESSION = cast(Table, TrainingSession.__table__)
KEY = ("source", "external_id")
ENTITIES = ("provider", "training", "training_session")
TABLES = (PROVIDER, TRAINING, SESSION)

# dict-niveaux (LHÉO): codes 0–8 are the 1969 levels (0 not given, 1 no specific level, 2 = VI … 8 = I),
# mapped to the 2019 national/European levels by the usual equivalence (V → 3, IV → 4, III → 5, II → 6,
# I → 7); LHÉO 2.3 added codes 11–18 for levels 1–8 ("nouvelle table des niveaux", lheo-schema PEL-37).
LEVEL_EU: dict[str, int | None] = {
    "0": None,
    "1": None,
    "2": 1,
    "3": 2,
    "4": 3,
    "5": 4,
    "6": 5,
    "7": 6,
    "8": 7,
    **{str(10 + n): n for n in range(1, 9)},
}
MODALITY = {"0": "presentiel", "1": "mixte", "2": "distance"}  # dict-FOAD
RECRUITMENT = {"1": "ouvert", "2": "ferme", "3": "suspendu"}  # dict-etat-recrutement
ROUTE_ORDER = ("initiale", "continue", "apprentissage", "vae")

SIRET = re.compile(r"^[0-9]{14}$")
NDA = re.compile(r"^[0-9A-Za-z]{8,11}$")
POSTCODE = re.compile(r"^[0-9]{5}$")
INSEE = re.compile(r"^(?:[0-9]{2}|2A|2B)[0-9]{3}$")
RNCP = re.compile(r"^(?:RNCP)?\s*([0-9]{1,6})$", re.IGNORECASE)
CERTIFINFO = re.compile(r"^[0-9]{1,10}$")
FORMACODE = re.compile(r"^[0-9]{5}$")
NSF = re.compile(r"^[0-9]{3}[a-zA-Z]?$")
ROME = re.compile(r"^(?:[A-N][0-9]{4}|[0-9]{5})$")
FINANCEUR = re.compile(r"^[0-9]{1,2}$")
DIGITS = re.compile(r"^[0-9]{1,9}$")
LHEO_DATE = re.compile(r"^[0-9]{8}$")


class RecordError(Exception):
    """A record (or a session of it) is not valid: ``field`` is the LHÉO element path."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


# ---------------------------------------------------------------- extract


@contextmanager
def extract(source: str | Path) -> Iterator[IO[bytes]]:
    """Open the catalogue as a binary stream: a file (``.xml``, ``.gz``, ``.zip``) or an http(s) URL."""
    with local_file(source) as path, open_catalogue(path) as stream:
        yield stream


@contextmanager
def local_file(source: str | Path) -> Iterator[Path]:
    """The catalogue as a local file: the path itself, or an http(s) URL downloaded for the import."""
    text = str(source)
    with tempfile.TemporaryDirectory(prefix="lheo-") as tmp:
        if text.startswith(("http://", "https://")):
            path = Path(tmp) / "catalogue"
            download(text, path, MAX_DOWNLOAD)
        else:
            path = Path(source)
            if not path.is_file():
                raise ImportRefused(f"fichier introuvable : {source}")
        yield path


@contextmanager
def open_catalogue(path: Path) -> Iterator[IO[bytes]]:
    """A binary stream of the XML in ``path``: plain, gzip, or the one ``.xml`` of a zip archive."""
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic.startswith(b"\x1f\x8b"):
        with gzip.open(path, "rb") as stream:
            yield cast(IO[bytes], stream)
    elif magic.startswith(b"PK\x03\x04"):
        with _zip_member(path) as stream:
            yield stream
    else:
        with path.open("rb") as stream:
            yield stream


@contextmanager
def _zip_member(path: Path) -> Iterator[IO[bytes]]:
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if i.filename.lower().endswith(".xml") and not i.is_dir()]
            if len(members) != 1:
                raise ImportRefused(f"archive {path.name} : un seul fichier .xml attendu, {len(members)} trouvé(s)")
            with zf.open(members[0]) as stream:
                yield stream
    except zipfile.BadZipFile as exc:
        raise ImportRefused(f"archive ZIP illisible : {exc}") from exc


# ---------------------------------------------------------------- read: the byte-level guard

_TEXT, _OPEN, _TAG, _ATTR, _COMMENT, _CDATA, _PI, _DOCTYPE = range(8)
_OPENERS = (b"<!--", b"<![CDATA[", b"<!DOCTYPE", b"<?")
_TERMINATOR = {_COMMENT: b"-->", _CDATA: b"]]>", _PI: b"?>"}
_TAG_STOP = re.compile(rb"[\"'>]")
_MARK = b"&#xE000;"  # a character reference: the same in every ASCII-compatible encoding


class XmlGuard:
    """A read-only stream between the file and libxml2 that makes hostile or oversized XML harmless.

    - A DOCTYPE that declares entities (``<!ENTITY``) sets :attr:`refusal` and ends the stream: billion
      laughs and external entities never reach the parser.
    - A text node, attribute value, CDATA section, comment or processing instruction longer than
      ``limit`` bytes is cut at ``limit`` (on a character and entity boundary) and marked with
      :data:`TRUNCATED`: libxml2 itself stops the whole document at 10 MB, the importer instead rejects
      the record that holds the mark. The cut bytes are skipped without being kept, so memory stays
      bounded whatever the field size; :meth:`true_line` maps the parser's line numbers back to the file.
    - UTF-16 and UTF-32 are refused (the guard works on ASCII-compatible bytes).

    Most chunks go through a fast path (no comment, CDATA, PI or DOCTYPE in them): a few C-level scans.
    """

    chunk_size = 64 * 1024

    def __init__(self, raw: Readable, limit: int = MAX_TEXT_BYTES) -> None:
        self._raw = raw
        self._limit = limit
        self._buf = b""
        self._pos = 0
        self._eof = False
        self._started = False
        self._state = _TEXT
        self._quote = b""
        self._run = 0
        self._other = 0
        self._dropping = False
        self._doctype = bytearray()
        self._dt_quote = 0
        self._dt_depth = 0
        self._out: list[bytes] = []
        self._lines = 0
        self._dropped_lines = 0
        self._shift_at: list[int] = []
        self._shift_by: list[int] = []
        self.refusal: str | None = None
        self.truncations = 0
        self.doctype_seen = False

    # -- public

    def read(self, size: int = -1) -> bytes:
        stalled = False
        while True:
            if self.refusal:
                return b""
            if not self._eof and (stalled or len(self._buf) - self._pos < self.chunk_size):
                data = self._raw.read(self.chunk_size)
                if not self._started:
                    self._started = True
                    self._check_encoding(data)
                    if self.refusal:
                        return b""
                if data:
                    self._buf = self._buf[self._pos :] + data
                    self._pos = 0
                else:
                    self._eof = True
            before = (self._pos, len(self._buf))
            self._process()
            # Waiting for a few bytes of lookahead (a "<!" or the end of "-->") with a full chunk left.
            stalled = not self._out and (self._pos, len(self._buf)) == before
            if self._eof and not self.refusal and self._pos < len(self._buf):
                # What could not be decided at the very end (a lone "<", an unclosed comment…): pass it
                # on as it is, the parser reports the broken end.
                rest = self._buf[self._pos :]
                self._pos = len(self._buf)
                if self._state == _DOCTYPE:
                    self._emit(bytes(self._doctype))
                    self._doctype.clear()
                elif not self._dropping:
                    self._emit(rest)
            if self._state == _DOCTYPE and self._eof and self._doctype:
                self._emit(bytes(self._doctype))
                self._doctype.clear()
            if self._out or self._eof:
                data = b"".join(self._out)
                self._out.clear()
                return data

    def done(self) -> None:
        """The stream was read to its end: let go of it and of the buffer (:meth:`true_line` still works)."""
        self._raw = io.BytesIO()
        self._buf = b""

    def true_line(self, line: int | None) -> int | None:
        """The line in the file of what the parser reports on ``line`` (cut text held newlines)."""
        if line is None or not self._shift_at:
            return line
        k = bisect.bisect_left(self._shift_at, line)
        return line + (self._shift_by[k - 1] if k else 0)

    # -- internals

    def _check_encoding(self, data: bytes) -> None:
        if data.startswith((b"\xfe\xff", b"\xff\xfe", b"\x00\x00", b"\x00<", b"<\x00")):
            self.refusal = "encodage UTF-16 ou UTF-32 non pris en charge : convertir le fichier en UTF-8"

    def _emit(self, data: bytes) -> None:
        if data:
            self._out.append(data)
            self._lines += data.count(b"\n")

    def _stop_dropping(self) -> None:
        if self._dropping:
            self._dropping = False
            self._shift_at.append(self._lines + 1)
            self._shift_by.append(self._dropped_lines)

    def _content(self, start: int, end: int, marker: bytes, *, entities: bool) -> None:
        """Pass on ``buf[start:end]`` (part of a text-like run), cutting it past the limit."""
        if start >= end:
            return
        buf = self._buf
        if self._dropping:
            self._dropped_lines += buf.count(b"\n", start, end)
            return
        # Text and CDATA add up to one text node until the next tag; an attribute value, a comment or a
        # processing instruction is a run of its own.
        text = self._state in (_TEXT, _CDATA)
        run = self._run if text else self._other
        if run + (end - start) <= self._limit:
            self._emit(buf[start:end])
            if text:
                self._run += end - start
            else:
                self._other += end - start
            return
        kept = _safe_prefix(buf[start : start + max(0, self._limit - run)], entities=entities)
        if self._state == _COMMENT:
            kept = kept.rstrip(b"-")  # "--->" would end the comment badly
        self._emit(kept + marker)
        self._dropped_lines += buf.count(b"\n", start + len(kept), end)
        self._dropping = True
        self.truncations += 1

    def _process(self) -> None:
        buf = self._buf
        while self._pos < len(buf) and not self.refusal:
            pos = self._pos
            state = self._state
            if state == _TEXT:
                if not self._dropping:
                    last = buf.rfind(b"<", pos)
                    if (
                        last > pos
                        and len(buf) - pos <= self._limit  # so no run inside can pass the limit
                        and buf.find(b"<!", pos, last) == -1
                        and buf.find(b"<?", pos, last) == -1
                    ):
                        first = buf.find(b"<", pos)
                        if self._run + (first - pos) <= self._limit:
                            # Fast path: only tags and short texts up to the last "<" of the buffer.
                            self._emit(buf[pos:last])
                            gt = buf.rfind(b">", pos, last)
                            self._run = last - gt - 1 if gt >= 0 else self._run + last - pos
                            self._pos = last
                            self._state = _OPEN
                            continue
                i = buf.find(b"<", pos)
                end = self._hold(pos, len(buf), entities=True) if i == -1 else i
                self._content(pos, end, _MARK, entities=True)
                self._pos = end
                if i == -1:
                    return
                self._stop_dropping()
                self._state = _OPEN
            elif state == _OPEN:
                head = buf[pos : pos + 9]
                if not self._eof and len(head) < 9 and any(len(o) > len(head) and o.startswith(head) for o in _OPENERS):
                    return  # wait for the bytes that tell a comment, CDATA, DOCTYPE or PI from a tag
                if head.startswith(b"<!--"):
                    self._enter(4, _COMMENT)
                elif head.startswith(b"<![CDATA["):
                    self._enter(9, _CDATA)
                elif head.startswith(b"<!DOCTYPE"):
                    self.doctype_seen = True
                    self._state = _DOCTYPE
                    self._doctype.clear()
                    self._dt_quote = 0
                    self._dt_depth = 0
                elif head.startswith(b"<?"):
                    self._enter(2, _PI)
                else:
                    self._enter(1, _TAG)
                    self._run = 0
            elif state == _TAG:
                m = _TAG_STOP.search(buf, pos)
                if m is None:
                    self._emit(buf[pos:])
                    self._pos = len(buf)
                    return
                self._emit(buf[pos : m.end()])
                self._pos = m.end()
                if m.group() == b">":
                    self._state = _TEXT
                    self._run = 0
                else:
                    self._state = _ATTR
                    self._quote = m.group()
                    self._other = 0
            elif state == _ATTR:
                i = buf.find(self._quote, pos)
                end = self._hold(pos, len(buf), entities=True) if i == -1 else i
                self._content(pos, end, _MARK, entities=True)
                self._pos = end
                if i == -1:
                    return
                self._stop_dropping()
                self._emit(self._quote)
                self._pos = i + 1
                self._state = _TAG
            elif state in _TERMINATOR:
                term = _TERMINATOR[state]
                marker = b"]]>" + _MARK + b"<![CDATA[" if state == _CDATA else b""
                i = buf.find(term, pos)
                if i == -1:
                    end = self._hold(pos, max(pos, len(buf) - len(term) + 1), entities=False)
                    self._content(pos, end, marker, entities=False)
                    self._pos = end
                    return
                self._content(pos, i, marker, entities=False)
                self._stop_dropping()
                self._emit(term)
                self._pos = i + len(term)
                self._state = _TEXT
            else:
                self._scan_doctype()

    def _hold(self, start: int, end: int, *, entities: bool) -> int:
        """Where to stop in ``buf[start:end]`` when more bytes follow: not inside a character or a
        ``&…;`` reference, so that a later cut never has to split what was already passed on."""
        if self._eof:
            return len(self._buf)
        buf = self._buf
        for back in range(1, 4):
            p = end - back
            if p < start:
                break
            byte = buf[p]
            if byte >= 0xC0:
                size = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
                if p + size > end:
                    end = p
                break
            if byte < 0x80:
                break
        if entities:
            amp = buf.rfind(b"&", max(start, end - 32), end)
            if amp != -1 and buf.find(b";", amp, end) == -1:
                end = amp
        return end

    def _enter(self, width: int, state: int) -> None:
        self._emit(self._buf[self._pos : self._pos + width])
        self._pos += width
        self._state = state
        self._other = 0

    def _scan_doctype(self) -> None:
        buf = self._buf
        start = self._pos
        end = None
        for j in range(start, len(buf)):
            c = buf[j]
            if self._dt_quote:
                if c == self._dt_quote:
                    self._dt_quote = 0
            elif c in (0x22, 0x27):
                self._dt_quote = c
            elif c == 0x5B:  # [
                self._dt_depth += 1
            elif c == 0x5D:  # ]
                self._dt_depth = max(0, self._dt_depth - 1)
            elif c == 0x3E and self._dt_depth == 0:  # >
                end = j + 1
                break
        self._doctype += buf[start : end if end is not None else len(buf)]
        self._pos = end if end is not None else len(buf)
        if b"<!ENTITY" in self._doctype:
            self.refusal = (
                "DOCTYPE avec déclarations d'entités (<!ENTITY …>) : refusé en entier "
                "(risque d'expansion exponentielle « billion laughs » ou d'entité externe)"
            )
        elif len(self._doctype) > MAX_DOCTYPE_BYTES:
            self.refusal = f"DOCTYPE de plus de {MAX_DOCTYPE_BYTES} octets : refusé"
        elif end is not None:
            self._emit(bytes(self._doctype))
            self._doctype.clear()
            self._state = _TEXT
            self._run = 0


def _safe_prefix(data: bytes, *, entities: bool) -> bytes:
    """``data`` without a trailing partial UTF-8 character or partial ``&…;`` reference."""
    end = len(data)
    while end and (data[end - 1] & 0xC0) == 0x80:
        end -= 1
    if end and data[end - 1] >= 0xC0:
        end -= 1
    data = data[:end]
    if entities:
        amp = data.rfind(b"&")
        if amp != -1 and data.find(b";", amp) == -1:
            data = data[:amp]
    return data


# ---------------------------------------------------------------- read: reference data


def _norm_city(name: str) -> str:
    text = re.sub(r"[^A-Z0-9]+", " ", unidecode(name).upper())
    text = re.sub(r"\bCEDEX\b.*$", "", text)
    words = [{"ST": "SAINT", "STE": "SAINTE"}.get(w, w) for w in text.split()]
    return " ".join(words)


def _departements(postcode: str) -> tuple[str, ...]:
    if postcode.startswith("97"):
        return (postcode[:3],)
    if postcode.startswith("20"):
        return ("2A", "2B")
    return (postcode[:2],)


@dataclass
class References:
    """Communes and RNCP codes of the store, read once per import."""

    communes: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    by_postcode: dict[tuple[str, str], str] = field(default_factory=dict)
    by_departement: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    certifications: dict[str, int] = field(default_factory=dict)
    by_slug: dict[str, int] = field(default_factory=dict)  # Passerelles' own slug, in generated catalogues

    @classmethod
    def load(cls, engine: Engine) -> References:
        refs = cls()
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    Commune.code_insee,
                    Commune.name,
                    Commune.departement_code,
                    Commune.postcodes,
                    Commune.latitude,
                    Commune.longitude,
                )
            )
            for code, name, dep, postcodes, lat, lon in rows:
                refs.communes[code] = (lat, lon)
                norm = _norm_city(name)
                for pc in postcodes or []:
                    refs.by_postcode.setdefault((str(pc), norm), code)
                refs.by_departement.setdefault((dep, norm), []).append(code)
            linked: dict[str, set[int]] = {}
            for code, cert_id in conn.execute(select(CertificationRncp.code, CertificationRncp.certification_id)):
                norm_code = _rncp(code)
                if norm_code:
                    linked.setdefault(norm_code, set()).add(cert_id)
            refs.by_slug = {slug: cid for slug, cid in conn.execute(select(Certification.slug, Certification.id))}
        refs.certifications = {code: next(iter(ids)) for code, ids in linked.items() if len(ids) == 1}
        return refs

    def commune(self, insee: str | None, postcode: str | None, city: str | None) -> str | None:
        if insee and insee in self.communes:
            return insee
        if not city:
            return None
        norm = _norm_city(city)
        if postcode:
            found = self.by_postcode.get((postcode, norm))
            if found:
                return found
            candidates = [c for dep in _departements(postcode) for c in self.by_departement.get((dep, norm), [])]
            if len(candidates) == 1:
                return candidates[0]  # a CEDEX or outdated postcode, but one commune of that name there
        return None

    def certification(self, codes: Sequence[str]) -> int | None:
        for code in codes:
            if code in self.certifications:
                return self.certifications[code]
        return None


def _rncp(value: str) -> str | None:
    m = RNCP.match(value.strip())
    return f"RNCP{int(m.group(1))}" if m else None


# ---------------------------------------------------------------- read: layouts of the two structures


@dataclass(frozen=True)
class Layout:
    """Where each field lives, relative to the record (formation), its actions and sessions."""

    record: str
    numbered: bool
    title: str
    objective: str
    content: str
    result: str
    formacode: str
    nsf: str
    rome: str
    rncp: str
    certifinfo: str
    cpf: str | None
    level: str
    contact: str
    url: str
    provider: str
    actions: str
    action_prefix: str
    rhythm: str
    public: str
    alternance: str
    modality: str
    prerequisites: str
    place: str
    action_url: str
    sessions: str
    session_prefix: str
    admission: str
    price_total: str
    price_hourly: str
    duration: str
    hours: str
    funding: str
    places: str | None
    initial: str | None
    registration_address: str
    registration_start: str
    registration_end: str
    state: str | None
    session_url: str | None
    session_contact: str | None
    session_rncp: str | None


V2 = Layout(
    record="formation",
    numbered=True,
    title="intitule-formation",
    objective="objectif-formation",
    content="contenu-formation",
    result="resultats-attendus",
    formacode="domaine-formation/code-FORMACODE",
    nsf="domaine-formation/code-NSF",
    rome="domaine-formation/code-ROME",
    rncp="certification/code-RNCP",
    certifinfo="certification/code-CERTIFINFO",
    cpf="certification/code-CPF",
    level="code-niveau-sortie",
    contact="contact-formation/coordonnees",
    url="url-formation/urlweb",
    provider="organisme-formation-responsable",
    actions="action",
    action_prefix="action/",
    rhythm="rythme-formation",
    public="code-public-vise",
    alternance="modalites-alternance",
    modality="modalites-enseignement",
    prerequisites="conditions-specifiques",
    place="lieu-de-formation/coordonnees",
    action_url="url-action/urlweb",
    sessions="session",
    session_prefix="action/session/",
    admission="modalites-recrutement",
    price_total="prix-total-TTC",
    price_hourly="prix-horaire-TTC",
    duration="duree-indicative",
    hours="nombre-heures-total",
    funding="organisme-financeur/code-financeur",
    places="organisme-financeur/nb-places-financees",
    initial="extras/extra[@info='formation-initiale']",
    registration_address="adresse-inscription/adresse",
    registration_start="periode-inscription/periode/debut",
    registration_end="periode-inscription/periode/fin",
    state="etat-recrutement",
    session_url="url-session/urlweb",
    session_contact="contact-session/coordonnees",
    session_rncp="reference-certification/reference-code-RNCP",
)

_ACCESS = "organisation-formation/modalites-acces/"
V13 = Layout(
    record="offre-formation",
    numbered=False,
    title="action-formation/intitule-action",
    objective="action-formation/objectif-formation",
    content="action-formation/contenu-formation",
    result="action-formation/resultats-attendus",
    formacode="action-formation/domaine-formation/codes-FORMACODE/code-FORMACODE",
    nsf="action-formation/domaine-formation/codes-NSF/code-NSF",
    rome="action-formation/domaine-formation/codes-ROME/code-ROME",
    rncp="action-formation/certification/code-RNCP",
    certifinfo="action-formation/certification/code-CERTIFINFO",
    cpf=None,
    level="action-formation/code-niveau-sortie",
    contact="action-formation/contact-offre/coordonnees",
    url="action-formation/url-action/urlweb",
    provider="organismes/organisme-formation-responsable",
    actions=".",  # an LHÉO 1.3 offer is one action
    action_prefix="",
    rhythm="action-formation/rythme-formation",
    public="action-formation/codes-public-vise/code-public-vise",
    alternance="organisation-formation/conditions-pedagogiques/modalite-alternance",
    modality="organisation-formation/conditions-pedagogiques/FOAD",
    prerequisites="organisation-formation/conditions-pedagogiques/conditions-specifiques",
    place=_ACCESS + "lieu-de-formation/coordonnees",
    action_url="action-formation/url-action/urlweb",
    sessions=_ACCESS + "sessions/session",
    session_prefix=_ACCESS + "sessions/session/",
    admission="organisation-formation/organisation-pedagogique/modalites-recrutement",
    price_total="organisation-formation/organisation-administrative/prix-total-TTC",
    price_hourly="organisation-formation/organisation-administrative/prix-horaire-TTC",
    duration="action-formation/duree-indicative",
    hours="organisation-formation/organisation-administrative/nombre-heures-total",
    funding="organismes/organismes-financeurs/code-financeur",
    places=None,
    initial=None,
    registration_address=_ACCESS + "lieu-date-inscription/adresse-inscription/adresse",
    registration_start=_ACCESS + "lieu-date-inscription/date-inscription/date",
    registration_end="organisation-formation/organisation-administrative/date-limite-inscription/date",
    state=None,
    session_url=None,
    session_contact=None,
    session_rncp=None,
)


# ---------------------------------------------------------------- read: one record


@dataclass(slots=True)
class SessionOutcome:
    """A session read from a record (``session`` set), or a reject (``reason`` set), in document order."""

    entity: str
    position: str | tuple[str, str, int]  # a session read: (action, session, line), see :func:`_position`
    field: str
    session: SessionRecord | None = None
    reason: str | None = None
    count: int = 1
    bound: Bound | None = None  # the session's row values converted for the driver (sync.bind_ahead)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickled by the reader processes, unpickled by the loading one: a plain tuple of the fields costs
        # about half what a slotted dataclass's own state (a dict per object) costs on both sides.
        return SessionOutcome, (
            self.entity,
            self.position,
            self.field,
            self.session,
            self.reason,
            self.count,
            self.bound,
        )


@dataclass(slots=True)
class ParsedFormation:
    """One record, read and checked on its own. Duplicates (of a formation or a session read earlier in
    the file) are decided later, in file order, by :func:`_deduplicated`: the records may be read by
    several processes (:mod:`passerelles.importing.pipeline`)."""

    line: int
    label: str
    provider: ProviderRecord
    training: TrainingRecord
    duplicate_field: str
    outcomes: list[SessionOutcome]
    sessions: list[SessionRecord] = field(default_factory=list)
    training_bound: Bound | None = None  # the training's row values converted for the driver, by the reader
    session_bounds: list[Bound | None] = field(default_factory=list)  # those of ``sessions``

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return ParsedFormation, (  # see SessionOutcome.__reduce__
            self.line,
            self.label,
            self.provider,
            self.training,
            self.duplicate_field,
            self.outcomes,
            self.sessions,
            self.training_bound,
            self.session_bounds,
        )


class _Node:
    """One element of a record as the reader needs it: local tag, text, children by local tag.

    A record is turned into these in one pass (:func:`_tree`): the reader then finds its fields with
    dictionary look-ups instead of lxml's ElementPath, which costs a few microseconds a call and made
    reading a record slower than parsing and validating it. ``el`` is the lxml element, for attributes
    and line numbers (alive until the record is cleared).

    A leaf (an element without children, most of them) stays the lxml element itself in ``kids``: only its
    ``text``, ``get`` and ``sourceline`` are read, which lxml has too. :meth:`find` may return one;
    :meth:`findall` and :func:`_node` wrap them."""

    __slots__ = ("el", "kids", "tag")

    def __init__(self, el: Any, tag: str, kids: dict[str, list[Any]]) -> None:
        self.el = el
        self.tag = tag
        self.kids = kids

    @property
    def text(self) -> str | None:
        text: str | None = self.el.text  # read when needed only: most elements' texts are not
        return text

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self.el.get(name, default)
        return None if value is None else str(value)

    @property
    def sourceline(self) -> int | None:
        line = self.el.sourceline
        return None if line is None else int(line)

    def findall(self, path: str) -> list[_Node]:
        """ElementPath's subset used by the layouts: ``a/b``, ``.``, ``a[@attr='value']``."""
        found = self._findall(path)
        return [n if type(n) is _Node else _node(n) for n in found]

    def _findall(self, path: str) -> list[Any]:
        """:meth:`findall`, leaves left as lxml elements."""
        nodes: list[Any] = [self]
        for tag, attr, value in _steps(path):
            if tag == ".":
                continue
            found: list[Any] = []
            for n in nodes:
                if type(n) is not _Node:
                    continue  # a leaf
                kids = n.kids.get(tag)
                if kids:
                    found.extend(kids if attr is None else [k for k in kids if k.get(attr) == value])
            if not found:
                return found
            nodes = found
        return nodes

    def find(self, path: str) -> Any:
        """The first element at ``path``, or ``None``: a :class:`_Node`, or the lxml element of a leaf."""
        kids = self.kids.get(path)  # the common case: one plain step
        if kids is not None:
            return kids[0]
        plain = _PLAIN.get(path, ())
        if plain == ():
            plain = _PLAIN[path] = _plain(path)
        if plain is not None:
            # Down a chain of single elements (the usual shape); where an element repeats, the first match
            # may lie under a later one: ask findall.
            node: Any = self
            for tag in plain:
                if type(node) is not _Node:
                    return None  # a leaf has no children
                kids = node.kids.get(tag)
                if kids is None:
                    return None
                if len(kids) > 1:
                    break
                node = kids[0]
            else:
                return node
        found = self._findall(path)
        return found[0] if found else None


def _node(el: Any) -> Any:
    """``el`` as a :class:`_Node` (a leaf kept as its lxml element is wrapped), or ``None``."""
    if el is None or type(el) is _Node:
        return el
    return _Node(el, _local(el.tag), _NO_KIDS)


_STEP = re.compile(r"^([^\[/]+)(?:\[@([^=\]]+)='([^']*)'\])?$")


@functools.lru_cache(maxsize=512)
def _steps(path: str) -> tuple[tuple[str, str | None, str | None], ...]:
    steps = []
    for part in path.split("/"):
        m = _STEP.match(part)
        if m is None:
            raise ValueError(f"chemin non pris en charge : {path!r}")
        steps.append((m.group(1), m.group(2), m.group(3)))
    return tuple(steps)


# LHÉO elements that no layout reads (descriptive texts, codes we do not map, the training organisation
# besides the responsible one): :func:`_tree` leaves them out. A field read from one of them must be
# taken off this list.
UNREAD = frozenset(
    {
        "acces-handicapes",
        "certifiante",
        "code-modalite-pedagogique",
        "code-niveau-entree",
        "code-perimetre-recrutement",
        "code-UAI-organisme-formation",
        "contact-organisme",
        "conventionnement",
        "departement",
        "detail-conditions-prise-en-charge",
        "frais-restants",
        "hebergement",
        "langue-formation",
        "modalites-entrees-sorties",
        "modalites-inscription",
        "modalites-pedagogiques",
        "niveau-entree-obligatoire",
        "nombre-heures-centre",
        "nombre-heures-entreprise",
        "objectif-general-formation",
        "organisme-formateur",
        "parcours-de-formation",
        "pays",
        "prise-en-charge-frais-possible",
        "region",
        "renseignements-specifiques",
    }
)
_NO_KIDS: dict[str, list[Any]] = {}  # shared by every leaf, never written to


@functools.lru_cache(maxsize=512)
def _plain(path: str) -> tuple[str, ...] | None:
    """The tags of a path made of plain steps only (no ``.``, no predicate), else ``None``."""
    steps = _steps(path)
    if any(tag == "." or attr is not None for tag, attr, _ in steps):
        return None
    return tuple(tag for tag, _, _ in steps)


# Qualified tag → local name, or ``None`` for an :data:`UNREAD` element; shared by every record of every document.
_LOCAL: dict[str, str | None] = {}
_PLAIN: dict[str, tuple[str, ...] | None] = {}  # path → :func:`_plain`, for :meth:`_Node.find`
_UNSEEN = ""


def _tree(el: Any, local: str | None = None) -> _Node:
    """``el`` and its descendants as :class:`_Node` (namespaces dropped, comments, PIs and
    :data:`UNREAD` elements skipped; leaves kept as their lxml elements)."""
    kids: dict[str, list[Any]] = {}
    names = _LOCAL
    # getchildren(): the list made in one call, cheaper than iterating over the element.
    for child in el.getchildren():
        name = names.get(child.tag, _UNSEEN)
        if not name:
            if name is None:
                continue  # UNREAD
            tag = child.tag
            if type(tag) is not str:
                continue  # a comment, a processing instruction, an entity
            name = tag.rpartition("}")[2]
            name = names[tag] = None if name in UNREAD else name
            if name is None:
                continue
        node = _tree(child, name) if len(child) else child
        if name in kids:
            kids[name].append(node)
        else:
            kids[name] = [node]
    return _Node(el, local or el.tag.rpartition("}")[2], kids)


def _text(el: Any) -> str | None:
    if el is None:
        return None
    value = el.text
    if value is None:
        return None
    value = value.strip()
    return None if value in ("", "-") else value


def _texts(parent: _Node, path: str) -> list[str]:
    return [t for t in map(_text, parent._findall(path)) if t is not None]


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _path_to(el: Any, root: Any) -> str:
    parts: list[str] = []
    while el is not None and el is not root:
        if isinstance(el.tag, str):
            parts.append(_local(el.tag))
        el = el.getparent()
    return "/".join(reversed(parts)) or _local(root.tag)


def _date(value: str | None, field: str) -> dt.date | None:
    if value is None:
        return None
    known = _DATES.get(value)
    if known is not None:
        return known
    date = _read_date(value, field)
    if date is not None:
        if len(_DATES) >= 100_000:
            _DATES.clear()
        _DATES[value] = date
    return date


_DATES: dict[str, dt.date] = {}  # LHÉO text → date, for the dates already read (a catalogue repeats them)


def _read_date(value: str, field: str) -> dt.date | None:
    if not LHEO_DATE.match(value):
        raise RecordError(field, f"date au format AAAAMMJJ attendue : « {value} »")
    if value in ("00000000", "99999999"):  # LHÉO: date not known
        return None
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise RecordError(field, f"date inexistante : « {value} » ({value[6:]}/{value[4:6]}/{value[:4]})") from None


def _int(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    if not DIGITS.match(value):
        raise RecordError(field, f"nombre entier attendu : « {value} »")
    return int(value)


def _amount(value: str | None, field: str) -> Decimal | None:
    """``prix-total-TTC`` is a free string in the XSD: a number we can read, or ``None`` (kept as text)."""
    if value is None:
        return None
    cleaned = re.sub(r"(?i)\s|€|eur(os?)?|ttc", "", value.replace("\u00a0", "")).replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    if amount < 0 or amount >= Decimal("100000000"):
        raise RecordError(field, f"montant hors limites : « {value} »")
    return amount.quantize(Decimal("0.01"))


def _coordinate(value: str | None, field: str, bound: float) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        raise RecordError(field, f"coordonnée non numérique : « {value} »") from None
    if not -bound <= number <= bound:
        raise RecordError(field, f"coordonnée hors limites : « {value} »")
    return round(number, 6)


def _codes(parent: Any, path: str, pattern: re.Pattern[str], what: str, field: str | None = None) -> list[str]:
    codes: list[str] = []
    for value in _texts(parent, path):
        if not pattern.match(value):
            raise RecordError(field or path, f"{what} invalide : « {value} »")
        if value not in codes:
            codes.append(value)
    return codes


def _validated(rules: dict[str, Rule], values: dict[str, Any], paths: dict[str, str]) -> dict[str, Any]:
    """``values`` once checked against the record's rules (:mod:`passerelles.trainings.schemas`)."""
    broken = check_record(values, rules)
    if broken is not None:
        name, reason = broken
        raise RecordError(paths.get(name, name), reason)
    return values


@dataclass
class Place:
    address: str | None = None
    postcode: str | None = None
    city: str | None = None
    insee: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None


def _kid_text(node: _Node, tag: str) -> str | None:
    """:func:`_text` of ``node``'s first child ``tag`` (``node.find(tag)`` for a plain tag, without the
    path handling)."""
    kids = node.kids.get(tag)
    return None if kids is None else _text(kids[0])


def _kid_texts(node: _Node, tag: str) -> list[str]:
    kids = node.kids.get(tag)
    if kids is None:
        return []
    return [t for t in map(_text, kids) if t is not None]


def _coordinates(el: Any, field: str) -> Place:
    """An LHÉO ``coordonnees`` (or bare ``adresse``) element; the same shape in 1.3 and 2.x."""
    if el is None:
        return Place()
    el = _node(el)
    bare = el.tag == "adresse"
    address = el if bare else _node(el.find("adresse"))
    lines = [] if bare else [*_kid_texts(el, "nom"), *_kid_texts(el, "ligne")]
    place = Place(name=_kid_text(el, "nom"))
    if address is not None:
        prefix = field if bare else f"{field}/adresse"
        lines += _kid_texts(address, "ligne")
        place.postcode = postcode = _kid_text(address, "codepostal")
        if postcode is not None and not POSTCODE.match(postcode):
            raise RecordError(f"{prefix}/codepostal", f"code postal invalide : « {postcode} »")
        place.city = city = _kid_text(address, "ville")
        if city is not None and len(city) > 200:
            raise RecordError(f"{prefix}/ville", f"nom de ville trop long ({len(city)} caractères)")
        place.insee = insee = _kid_text(address, "code-INSEE-commune")
        if insee is not None and not INSEE.match(insee):
            raise RecordError(f"{prefix}/code-INSEE-commune", f"code INSEE invalide : « {insee} »")
        kids = address.kids
        if "geolocalisation" in kids or "extras" in kids:
            for attr, bound in (("latitude", 90.0), ("longitude", 180.0)):
                node = address.find(f"geolocalisation/{attr}")
                path = f"{prefix}/geolocalisation/{attr}"
                if node is None:
                    node = address.find(f"extras/extra[@info='{attr}']")
                    path = f"{prefix}/extras/extra[@info='{attr}']"
                setattr(place, attr, _coordinate(_text(node), path, bound))
    if lines:
        unique: list[str] = []
        for line in lines:
            if line not in unique:
                unique.append(line)
        place.address = ", ".join(unique)
    if address is not el:
        place.phone = _text(el.find("telfixe/numtel")) or _text(el.find("portable/numtel"))
        place.email = _kid_text(el, "courriel")
        place.website = _text(el.find("web/urlweb"))
    return place


def _short_hash(*parts: Any) -> str:
    payload = "\x1f".join(repr(p) for p in parts)
    return hashlib.sha1(payload.encode(), usedforsecurity=False).hexdigest()


def _reject(
    report: ImportReport, file_name: str, entity: str, position: str, field: str, reason: str, count: int = 1
) -> None:
    report.reject(entity, Reject(source=file_name, position=position, field=field, reason=reason))
    report.entity(entity).rejected += count - 1


def _position(position: str | tuple[str, str, int]) -> str:
    """A reject's position: ``position`` itself, or that of a session from its (action, session, line)."""
    if isinstance(position, str):
        return position
    action, session, line = position
    return f"{action}, session {session} (ligne {line})"


class _Dedup:
    """First occurrence wins: a formation or session identifier read a second time is rejected. Applied
    in file order, after the records were read (possibly by several processes)."""

    def __init__(self, report: ImportReport, file_name: str) -> None:
        self.report = report
        self.file_name = file_name
        self.trainings: dict[str, int] = {}
        self.sessions: set[str] = set()

    def __call__(self, f: ParsedFormation) -> ParsedFormation | None:
        first = self.trainings.setdefault(f.training["external_id"], f.line)
        if first != f.line:
            reason = f"formation en double : déjà lue ligne {first}"
            _reject(self.report, self.file_name, "training", f"{f.label} (ligne {f.line})", f.duplicate_field, reason)
            return None
        for o in f.outcomes:
            if o.session is None:
                _reject(self.report, self.file_name, o.entity, _position(o.position), o.field, o.reason or "", o.count)
            elif o.session["external_id"] in self.sessions:
                position = _position(o.position)
                _reject(self.report, self.file_name, o.entity, position, o.field, "session en double")
            else:
                self.sessions.add(o.session["external_id"])
                f.sessions.append(o.session)
                f.session_bounds.append(o.bound)
        f.outcomes = []
        return f


class RecordReader:
    """Turns one LHÉO record into validated provider, training and session records (or rejects).

    Every :class:`RecordError` carries the element path from the record (``formation`` or
    ``offre-formation``) down, e.g. ``action/session/periode/debut``.
    """

    def __init__(
        self,
        layout: Layout,
        refs: References,
        report: ImportReport,
        file_name: str,
        true_line: Callable[[int | None], int | None],
        base: dict[str, Any] | None = None,
        dialect: Dialect | None = None,
    ) -> None:
        self.layout = layout
        # The loader's row is ``{**base, **record, ids…}``: with the dialect, the reader converts the values
        # of ``base`` and the record for the driver ahead (in a reader process, see sync.bind_ahead).
        self.base = base or {}
        self.dialect = dialect
        self.refs = refs
        self.report = report
        self.file_name = file_name
        self.true_line = true_line
        self.unlinked_rncp: dict[str, int] = {}
        self.pending: list[Reject] = []  # the current record's rejects (formations), until taken
        self._contact_of: tuple[Any, Place] | None = None
        self._last_contact: dict[str, Any] | None = None

    def reject(self, entity: str, position: str, field: str, reason: str, count: int = 1) -> None:
        self.pending.append(Reject(source=self.file_name, position=position, field=field, reason=reason))

    def read(self, rec: Any, line: int) -> ParsedFormation | None:
        L = self.layout
        numero = (rec.get("numero") or "").strip() if L.numbered else ""
        title = _text(rec.find(L.title))
        label = f"formation {numero}" if numero else "formation sans numéro" + (f" « {title[:60]} »" if title else "")
        position = f"{label} (ligne {line})"
        try:
            provider = self._provider(rec.find(L.provider))
            training = self._training(rec, numero, title, provider)
        except RecordError as err:
            self.reject("training", position, err.field, err.reason)
            return None
        outcomes: list[SessionOutcome] = []
        for index, action in enumerate(rec.findall(L.actions), start=1):
            outcomes.extend(self._action_sessions(rec, action, index, training, label, line))
        duplicate_field = "@numero" if numero else L.title
        parsed = ParsedFormation(line, label, provider, training, duplicate_field, outcomes)
        parsed.training_bound = self._bind(TRAINING, training)[1]
        return parsed

    def _bind(
        self, table: Table, record: dict[str, Any], previous: tuple[dict[str, Any], Bound] | None = None
    ) -> tuple[dict[str, Any], Bound | None]:
        """(the row, its values converted for the driver); ``previous``: see sync.bind_ahead."""
        row = {**self.base, **record}
        return row, None if self.dialect is None else bind_ahead(table, self.dialect, row, previous)

    def _provider(self, el: Any) -> ProviderRecord:
        p = self.layout.provider
        if el is None:
            raise RecordError(p, "organisme responsable absent")
        el = _node(el)
        siret = _text(el.find("SIRET-organisme-formation/SIRET"))
        nda = _text(el.find("numero-activite"))
        if siret is not None and not SIRET.match(siret):
            raise RecordError(f"{p}/SIRET-organisme-formation/SIRET", f"SIRET invalide : « {siret} » (14 chiffres)")
        if siret:
            external_id = siret
        elif nda and NDA.match(nda):
            external_id = f"NDA{nda}"
        else:
            raise RecordError(f"{p}/SIRET-organisme-formation/SIRET", "organisme sans SIRET ni numéro d'activité")
        name = _text(el.find("nom-organisme")) or _text(el.find("raison-sociale"))
        if not name:
            raise RecordError(f"{p}/nom-organisme", "nom de l'organisme absent")
        coords = f"{p}/coordonnees-organisme/coordonnees"
        place = _coordinates(el.find("coordonnees-organisme/coordonnees"), coords)
        values = {
            "external_id": external_id,
            "siret": siret,
            "name": name,
            "address": place.address,
            "postcode": place.postcode,
            "city": place.city,
            # Informational address: an unknown commune leaves the code empty, it rejects nothing.
            "commune_code": self.refs.commune(place.insee, place.postcode, place.city),
            "phone": place.phone,
            "email": place.email,
            "website": place.website,
        }
        paths = {
            "external_id": f"{p}/SIRET-organisme-formation/SIRET",
            "name": f"{p}/nom-organisme",
            "phone": f"{coords}/telfixe/numtel",
            "email": f"{coords}/courriel",
        }
        return _validated(PROVIDER_RULES, values, paths)

    def _training(self, rec: Any, numero: str, title: str | None, provider: ProviderRecord) -> TrainingRecord:
        L = self.layout
        if not title:
            raise RecordError(L.title, "intitulé de la formation absent")
        rncp: list[str] = []
        for value in _texts(rec, L.rncp):
            code = _rncp(value)
            if code is None:
                raise RecordError(L.rncp, f"code RNCP invalide : « {value} »")
            if code not in rncp:
                rncp.append(code)
        certifinfo = _codes(rec, L.certifinfo, CERTIFINFO, "code CERTIFINFO")
        certification_id = self.refs.certification(rncp)
        if certification_id is None:
            # Catalogues generated by Passerelles name the certification in their own extras.
            own = _text(rec.find("extras[@info='passerelles']/extra[@info='certification']"))
            certification_id = self.refs.by_slug.get(own) if own else None
        if rncp and certification_id is None:
            for code in rncp:
                self.unlinked_rncp[code] = self.unlinked_rncp.get(code, 0) + 1
        level_code = _text(rec.find(L.level))
        if level_code is not None and level_code not in LEVEL_EU:
            raise RecordError(L.level, f"code de niveau inconnu : « {level_code} »")
        actions = rec.findall(L.actions)
        external_id = (
            numero
            or "h:"
            + _short_hash(
                provider["external_id"],
                title,
                rncp,
                certifinfo,
                [_text(a.find(f"{L.place}/adresse/codepostal")) for a in actions],
                [_texts(a, f"{L.place}/adresse/ligne") for a in actions],
            )[:24]
        )
        values = {
            "external_id": external_id,
            "title": title,
            "objective": _text(rec.find(L.objective)),
            "content": _text(rec.find(L.content)),
            "result": _text(rec.find(L.result)),
            "certification_id": certification_id,
            "rncp": rncp,
            "certifinfo": certifinfo,
            "formacodes": _codes(rec, L.formacode, FORMACODE, "code FORMACODE"),
            "nsf": _codes(rec, L.nsf, NSF, "code NSF"),
            "rome_codes": _codes(rec, L.rome, ROME, "code ROME"),
            "level_eu": LEVEL_EU.get(level_code) if level_code else None,
        }
        return _validated(TRAINING_RULES, values, {"external_id": "@numero", "title": L.title})

    def _action_sessions(
        self, rec: Any, action: Any, index: int, training: TrainingRecord, label: str, line: int
    ) -> list[SessionOutcome]:
        L = self.layout
        session_els = action.findall(L.sessions)
        if not session_els:
            return []
        numero = (action.get("numero") or "").strip() if L.numbered else ""
        action_label = f"{label}, action {numero or index}" if L.numbered else label
        action_line = self._line(action.sourceline, line) if action is not rec else line
        try:
            common = self._action(rec, action)
        except RecordError as err:
            count = len(session_els)
            position = f"{action_label} (ligne {action_line})"
            reason = f"{err.reason} ; {count} session(s) non chargée(s)"
            return [SessionOutcome("training_session", position, err.field, reason=reason, count=count)]
        action_id = (
            numero
            or "a:"
            + _short_hash(common["address"], common["postcode"], common["city"], common["modality"], common["rhythm"])[
                :12
            ]
        )
        sessions: list[SessionOutcome] = []
        # The sessions of an action share its values (the same objects): converted for the driver once.
        previous: tuple[dict[str, Any], Bound] | None = None
        numbered_field, dated_field = f"{L.session_prefix}@numero", f"{L.session_prefix}periode"
        for s in session_els:
            s_numero = (s.get("numero") or "").strip() if L.numbered else ""
            period = s.find("periode")
            if type(period) is _Node and len(s.kids["periode"]) == 1:
                debut, fin = _kid_text(period, "debut"), _kid_text(period, "fin")
            else:  # no period, or several: the first "debut" and the first "fin" may be in different ones
                debut, fin = _text(s.find("periode/debut")), _text(s.find("periode/fin"))
            dates = f"{debut or '?'}-{fin or '?'}"
            # Formatted only for a reject: most sessions never need it (and it is pickled smaller).
            s_position = (action_label, s_numero or dates, self._line(s.sourceline, line))
            session_id = s_numero or f"s:{dates}"
            external_id = f"{training['external_id']}/{action_id}/{session_id}"
            if len(external_id) > 160:
                external_id = "h:" + _short_hash(training["external_id"], action_id, session_id)
            try:
                record = self._session(rec, action, s, common, external_id, training, debut, fin)
            except RecordError as err:
                position = _position(s_position)
                sessions.append(SessionOutcome("training_session", position, err.field, reason=err.reason))
                continue
            field = numbered_field if s_numero else dated_field
            row, bound = self._bind(SESSION, record, previous)
            if bound is not None:
                previous = (row, bound)
            sessions.append(SessionOutcome("training_session", s_position, field, session=record, bound=bound))
        return sessions

    def _shared_contact(self, contact: dict[str, Any]) -> dict[str, Any]:
        """``contact``, or the equal dict of the session before (the same object: converted for the driver
        and pickled once for both)."""
        if contact == self._last_contact:
            return self._last_contact
        self._last_contact = contact
        return contact

    def _contact(self, rec: Any) -> Place:
        """The record's own contact, read once for all its sessions."""
        if self._contact_of is None or self._contact_of[0] is not rec:
            self._contact_of = (rec, _coordinates(rec.find(self.layout.contact), self.layout.contact))
        return self._contact_of[1]

    def _line(self, line: int | None, default: int) -> int:
        mapped = self.true_line(line)
        return mapped if mapped is not None else default

    def _action(self, rec: Any, action: Any) -> dict[str, Any]:
        """Values shared by the sessions of one action; paths are prefixed from the record down."""
        L = self.layout
        ap = L.action_prefix
        place = _coordinates(action.find(L.place), ap + L.place)
        commune_code = None
        latitude, longitude = place.latitude, place.longitude
        if place.postcode or place.city or place.insee:
            commune_code = self.refs.commune(place.insee, place.postcode, place.city)
            if commune_code is None:
                known = [
                    f"code postal {place.postcode}" if place.postcode else "",
                    f"code INSEE {place.insee}" if place.insee else "",
                ]
                where = ", ".join(k for k in known if k)
                raise RecordError(
                    f"{ap}{L.place}/adresse/ville",
                    f"commune inconnue : « {place.city or ''} »" + (f" ({where})" if where else ""),
                )
            if latitude is None or longitude is None:
                latitude, longitude = self.refs.communes[commune_code]
        modality_code = _text(action.find(L.modality))
        if modality_code is not None and modality_code not in MODALITY:
            raise RecordError(ap + L.modality, f"code de modalité inconnu : « {modality_code} »")
        hours = _int(_text(action.find(L.hours)), ap + L.hours)
        if hours is not None and hours > 100_000:
            raise RecordError(ap + L.hours, f"nombre d'heures hors limites : {hours}")
        price_text = _text(action.find(L.price_total))
        hourly = _text(action.find(L.price_hourly))
        places = None
        if L.places:
            counts = [_int(v, ap + L.places) for v in _texts(action, L.places)]
            places = sum(c for c in counts if c is not None) if counts else None
            if places is not None and places > 1_000_000:
                raise RecordError(ap + L.places, f"nombre de places hors limites : {places}")
        publics = _texts(action, L.public)
        alternance = (_text(action.find(L.alternance)) or "").lower()
        initial = _text(action.find(L.initial)) if L.initial else None
        routes = set()
        if "81061" in publics or initial == "1":  # public de la formation initiale
            routes.add("initiale")
        # Formacode "public visé" families: 80… job seekers, 82… employees, 83… everyone.
        if any(p.startswith(("80", "83")) or (p.startswith("82") and p != "82027") for p in publics):
            routes.add("continue")
        if "82027" in publics or "apprenti" in alternance:  # contrat d'apprentissage
            routes.add("apprentissage")
        cpf = bool(L.cpf and _texts(rec, L.cpf)) or any(
            el.find("extras[@info='eligibilite-cpf']") is not None for el in (rec, action)
        )
        return {
            "address": place.address,
            "postcode": place.postcode,
            "city": place.city,
            "commune_code": commune_code,
            "latitude": latitude,
            "longitude": longitude,
            "modality": MODALITY.get(modality_code) if modality_code else None,
            "routes": [r for r in ROUTE_ORDER if r in routes],
            "duration_hours": hours,
            "duration_text": _text(action.find(L.duration)),
            "rhythm": _text(action.find(L.rhythm)),
            "cost_eur": _amount(price_text, ap + L.price_total),
            "cost_text": price_text or (f"{hourly} € TTC de l'heure" if hourly else None),
            "funding": _codes(action, L.funding, FINANCEUR, "code financeur", ap + L.funding),
            "cpf_eligible": True if cpf else None,
            "admission": _text(action.find(L.admission)),
            "prerequisites": _text(action.find(L.prerequisites)),
            "places": places,
        }

    def _session(
        self,
        rec: Any,
        action: Any,
        s: Any,
        common: dict[str, Any],
        external_id: str,
        training: TrainingRecord,
        debut: str | None,
        fin: str | None,
    ) -> SessionRecord:
        """``debut`` and ``fin``: the texts of the session's ``periode``, read by the caller already."""
        L = self.layout
        sp, ap = L.session_prefix, L.action_prefix
        start = _date(debut, sp + "periode/debut")
        end = _date(fin, sp + "periode/fin")
        if start and end and end < start:
            raise RecordError(sp + "periode/fin", f"fin ({end:%d/%m/%Y}) avant le début ({start:%d/%m/%Y})")
        # LHÉO 2.x: registration per session; LHÉO 1.3: per offer.
        holder, prefix = (s, sp) if L.numbered else (action, ap)
        registration_start = _date(_text(holder.find(L.registration_start)), prefix + L.registration_start)
        registration_end = _date(_text(holder.find(L.registration_end)), prefix + L.registration_end)
        registration = _coordinates(holder.find(L.registration_address), prefix + L.registration_address)
        state_code = _text(s.find(L.state)) if L.state else None
        if state_code is not None and state_code not in RECRUITMENT:
            raise RecordError(f"{sp}{L.state}", f"état du recrutement inconnu : « {state_code} »")
        contact_el = s.find(L.session_contact) if L.session_contact else None
        who = _coordinates(contact_el, L.contact) if contact_el is not None else self._contact(rec)
        website = _text(s.find(L.session_url)) if L.session_url else None
        website = website or _text(action.find(L.action_url)) or _text(rec.find(L.url))
        where = " ".join(p for p in (registration.postcode, registration.city) if p)
        contact = {
            "name": who.name,
            "phone": who.phone,
            "email": who.email,
            "website": website,
            "registration_address": ", ".join(p for p in (registration.address, where) if p),
        }
        certification_id = training["certification_id"]
        if L.session_rncp:
            codes = [c for c in (_rncp(v) for v in _texts(s, L.session_rncp)) if c]
            certification_id = self.refs.certification(codes) or certification_id
        values = {
            **common,
            "external_id": external_id,
            "certification_id": certification_id,
            "title": training["title"],
            "start_date": start,
            "end_date": end,
            "registration_start": registration_start,
            "registration_end": registration_end,
            "recruitment_state": RECRUITMENT.get(state_code) if state_code else None,
            "contact": self._shared_contact({k: v for k, v in contact.items() if v}),
        }
        return _validated(SESSION_RULES, values, {"external_id": f"{sp}@numero"})


# ---------------------------------------------------------------- validate: the XSD


@functools.lru_cache(maxsize=2)
def _schema(path: Path) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


def _xsd_error(schema: Any, rec: Any) -> tuple[str, str, int | None]:
    """(element path from the record, message without the namespace, line) of the first XSD error."""
    entry = schema.error_log[0]
    message = str(entry.message).replace("{" + NS_23 + "}", "")
    path = "formation"
    named = re.match(r"Element '([^']+)'", message)
    if named:
        path = named.group(1)
        for el in rec.iter(tag=etree.Element):
            if _local(el.tag) == named.group(1) and el.sourceline == entry.line:
                path = _path_to(el, rec)
                break
    return path, message, entry.line


# ---------------------------------------------------------------- load


class Loader:
    """Writes batches of formations, one transaction each, and closes what a full feed no longer has."""

    def __init__(self, engine: Engine, origin: str, is_demo: bool, report: ImportReport, file_name: str) -> None:
        self.engine = engine
        self.origin = origin
        self.is_demo = is_demo
        self.report = report
        self.dry_run = report.dry_run
        self.file_name = file_name
        self.provider_ids: dict[str, int | None] = {}
        self.loaded_sessions: set[str] = set()
        self.committed = False  # a batch was written: the tables' indexes were deferred then, or not at all
        # Whether the store held closed sessions of the source when the import began (``None``: not asked
        # yet). Only :meth:`close_missing`, after the last batch, closes any: without closed sessions at the
        # start, no batch has one to reopen.
        self.any_closed: bool | None = None
        # The tables that held no row of the source when the import began (``None``: not asked yet): each
        # record is loaded once (duplicates are rejected before), so their keys need no look-up.
        self.absent: set[str] | None = None

    def load(self, batch: list[ParsedFormation]) -> None:
        try:
            self._load(batch)
        except DBAPIError:
            # A record the checks let through but the database refuses: find it, load the others.
            for one in batch:
                try:
                    self._load([one])
                except DBAPIError as exc:
                    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
                    self.report.reject(
                        "training",
                        Reject(
                            source=self.file_name,
                            position=f"{one.label} (ligne {one.line})",
                            field="formation",
                            reason=f"refusée par la base de données : {reason}",
                        ),
                    )

    def _load(self, batch: list[ParsedFormation]) -> None:
        counts = {name: EntityCounts() for name in ENTITIES}
        base = {"source": self.origin, "is_demo": self.is_demo}
        with self.engine.begin() as conn:
            tune_for_bulk(conn)
            if not self.committed and not self.dry_run:
                defer_indexes(conn, TABLES)
            if self.absent is None:
                self.absent = {
                    t.name
                    for t in TABLES
                    if conn.execute(select(t.c.id).where(t.c.source == self.origin).limit(1)).first() is None
                }
            providers: dict[str, dict[str, Any]] = {}
            for f in batch:
                ext = f.provider["external_id"]
                if ext not in self.provider_ids and ext not in providers:
                    providers[ext] = {**base, **f.provider}
            provider_ids = {
                key[1]: value
                for key, value in sync_rows(
                    conn,
                    PROVIDER,
                    KEY,
                    providers.values(),
                    counts["provider"],
                    dry_run=self.dry_run,
                    absent=PROVIDER.name in self.absent,
                ).items()
            }

            def provider_id(ext: str) -> int | None:
                return provider_ids[ext] if ext in provider_ids else self.provider_ids[ext]

            # The rows get their hash here, in place: sync_rows then takes them as they are (no copy), and
            # the values a reader converted ahead (``bound``, by the row's id) still match their row.
            bound: dict[int, Bound] = {}
            trainings = []
            for f in batch:
                row = {**base, **f.training, "provider_id": provider_id(f.provider["external_id"])}
                row["row_hash"] = row_hash(row)
                trainings.append(row)
                if f.training_bound is not None:
                    bound[id(row)] = f.training_bound
            training_ids = sync_rows(
                conn,
                TRAINING,
                KEY,
                trainings,
                counts["training"],
                dry_run=self.dry_run,
                bound=bound,
                absent=TRAINING.name in self.absent,
            )
            sessions = []
            for f in batch:
                training_id = training_ids[(self.origin, f.training["external_id"])]
                f_provider = provider_id(f.provider["external_id"])
                for s, ahead in zip(f.sessions, f.session_bounds or [None] * len(f.sessions), strict=True):
                    row = {**base, **s, "training_id": training_id, "provider_id": f_provider, "closed_at": None}
                    row["row_hash"] = row_hash(row)
                    sessions.append(row)
                    if ahead is not None:
                        bound[id(row)] = ahead
            closed = self._closed(conn, [s["external_id"] for s in sessions])
            sync_rows(
                conn,
                SESSION,
                KEY,
                sessions,
                counts["training_session"],
                dry_run=self.dry_run,
                return_ids=False,
                bound=bound,
                absent=SESSION.name in self.absent,
            )
            if closed:
                # Back in the feed: reopen. A row whose content did not change was counted unchanged.
                for s in sessions:
                    if s["external_id"] in closed and closed[s["external_id"]] == s["row_hash"]:
                        counts["training_session"].unchanged -= 1
                        counts["training_session"].updated += 1
                if not self.dry_run:
                    ids = list(closed)
                    for start in range(0, len(ids), CHUNK):
                        conn.execute(
                            update(SESSION)
                            .where(
                                SESSION.c.source == self.origin, SESSION.c.external_id.in_(ids[start : start + CHUNK])
                            )
                            .values(closed_at=None)
                        )
        # Committed: only now does the run remember what this batch wrote.
        self.committed = True
        self.provider_ids.update(provider_ids)
        self.loaded_sessions.update(s["external_id"] for s in sessions)
        for name, c in counts.items():
            total = self.report.entity(name)
            for key in ("created", "updated", "unchanged", "removed", "rejected"):
                setattr(total, key, getattr(total, key) + getattr(c, key))

    def _closed(self, conn: Any, external_ids: list[str]) -> dict[str, str]:
        closed: dict[str, str] = {}
        if self.any_closed is None:
            query = select(SESSION.c.id).where(SESSION.c.source == self.origin, SESSION.c.closed_at.is_not(None))
            self.any_closed = conn.execute(query.limit(1)).first() is not None
        if not self.any_closed:
            return closed
        for start in range(0, len(external_ids), CHUNK):
            rows = conn.execute(
                select(SESSION.c.external_id, SESSION.c.row_hash).where(
                    SESSION.c.source == self.origin,
                    SESSION.c.external_id.in_(external_ids[start : start + CHUNK]),
                    SESSION.c.closed_at.is_not(None),
                )
            )
            closed.update({ext: h for ext, h in rows})
        return closed

    def restore_indexes(self) -> None:
        if not self.dry_run:
            with self.engine.begin() as conn:
                restore_indexes(conn, TABLES)

    def close_missing(self, limits: ImportLimits | None) -> None:
        """Close the sessions this import did not load; more than ``limits`` allow: none, run refused."""
        try:
            with self.engine.begin() as conn:
                close_missing(
                    conn,
                    SESSION,
                    self.origin,
                    self.loaded_sessions,
                    self.report.entity("training_session"),
                    dry_run=self.dry_run,
                    limits=limits,
                    what="sessions ouvertes",
                )
        except ImportRefused as exc:
            self.report.status, self.report.message = "refused", str(exc)


# ---------------------------------------------------------------- the importer


# What a reader yields per record: its rejects, the formation read (or None) and the RNCP codes it holds
# that the store does not know (or None).
Item = tuple[list[Reject], ParsedFormation | None, dict[str, int] | None]
_PARSER_OPTIONS: dict[str, Any] = {
    "huge_tree": False,
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "remove_comments": True,
    "remove_pis": True,
}
_LINE_IN_MESSAGE = re.compile(r"\bline (\d+)")


def _free(el: Any) -> None:
    """Drop a record read from the tree being built (and the whitespace before it)."""
    el.clear(keep_tail=False)
    parent = el.getparent()
    while el.getprevious() is not None:
        del parent[0]


class _ChunkSource:
    """The bytes of one chunk, as a stream: ``first``'s, then those of the next pieces of ``pieces``."""

    def __init__(self, first: Piece, pieces: Iterator[Piece]) -> None:
        self._data = first.data
        self._pos = 0
        self._pieces = pieces
        self._last = first.last
        self.final = first.final

    def read(self, size: int = -1) -> bytes:
        while self._pos >= len(self._data) and not self._last:
            piece = next(self._pieces)
            self._data, self._pos, self._last, self.final = piece.data, 0, piece.last, piece.final
        end = len(self._data) if size < 0 else self._pos + size
        data = self._data[self._pos : end]
        self._pos += len(data)
        return data


def _prologue_root(prologue: bytes) -> Any:
    """The root element opened by a catalogue's prologue (see :func:`xmlchunks.split`), or None."""
    parser = etree.XMLPullParser(events=("start",), **_PARSER_OPTIONS)
    try:
        parser.feed(prologue)
        for _event, el in parser.read_events():
            return el
    except etree.XMLSyntaxError:
        pass
    return None


class _Stream:
    """Walks the document: checks the root, validates and reads each record, frees it."""

    def __init__(
        self,
        guard: XmlGuard | None,
        refs: References,
        report: ImportReport,
        file_name: str,
        xsd: Path | None,
        base: dict[str, Any] | None = None,
        dialect: Dialect | None = None,
    ) -> None:
        self.guard = guard
        self.base = base
        self.dialect = dialect
        self.refs = refs
        self.report = report
        self.file_name = file_name
        self.xsd = xsd
        self.namespace: str | None = None
        self.reader: RecordReader | None = None
        self.records = 0
        # Chunked reading (see :meth:`chunks`): what was fed to the parser, from the first line each piece
        # holds there: (parser line, its guard, line in the file).
        self._segments: list[tuple[int, XmlGuard, int]] = []
        self._starts: list[int] = []
        self.chunk = -1  # the chunk being read, and how many records of it were read
        self.chunk_records = 0

    def true_line(self, line: int | None) -> int | None:
        """The line in the file of what the parser reports on ``line``."""
        if line is None or not self._segments:
            return line if self.guard is None else self.guard.true_line(line)
        at, guard, first = self._segments[bisect.bisect_right(self._starts, line) - 1]
        within = guard.true_line(line - at + 1)
        return None if within is None else first + within - 1

    def true_message(self, message: str) -> str:
        """A parser message with the lines it names mapped to the file's own."""
        if not self._segments:
            return message
        return _LINE_IN_MESSAGE.sub(lambda m: f"line {self.true_line(int(m.group(1)))}", message)

    def _root(self, el: Any) -> None:
        qname = etree.QName(el)
        namespace, local = qname.namespace, qname.localname
        hint = ""
        if local in ("lheo-leger", "lheo-index"):
            hint = " ; ce fichier est un index de résumés d'offres (LHÉO léger) : importer les offres complètes"
        if namespace not in VERSIONS:
            raise ImportRefused(
                f"espace de noms inconnu : « {namespace or 'aucun'} » (élément racine « {local} ») ; "
                f"attendus : {', '.join(VERSIONS)}{hint}"
            )
        if local != "lheo":
            raise ImportRefused(f"élément racine « {local} » : un catalogue LHÉO commence par <lheo>{hint}")
        self.namespace = namespace
        self.report.version = VERSIONS[namespace]
        layout = V13 if namespace == NS_13 else V2
        self.reader = RecordReader(
            layout, self.refs, self.report, self.file_name, self.true_line, self.base, self.dialect
        )
        if namespace == NS_13:
            self.report.warnings.append(
                "LHÉO 1.3 : structure antérieure au schéma 2.3 (offre-formation), validée par les contrôles "
                "explicites seulement, sans XSD"
            )
        elif self.xsd is None:
            self.report.warnings.append("schéma XSD LHÉO 2.3 introuvable : formations lues sans validation XSD")

    def formations(self, shard: int = 0, shards: int = 1) -> Iterator[Item]:
        """(rejects, formation or None, unlinked RNCP codes or None) for each record of this shard (record
        ``i`` when ``i % shards == shard``), in file order; the other records are parsed and freed only."""
        # Only the records' end events reach Python (lxml filters the others in C); the root is checked
        # at the first one, or at the end for a document without records.
        parser = etree.iterparse(
            self.guard, events=("end",), tag=("{*}formation", "{*}offre-formation"), **_PARSER_OPTIONS
        )
        record_tag: str | None = None
        for _event, el in parser:
            if self.reader is None:
                self._root(el.getroottree().getroot())
                assert self.reader is not None
                record_tag = f"{{{self.namespace}}}{self.reader.layout.record}"
            if el.tag != record_tag:
                continue
            mine = self.records % shards == shard
            self.records += 1
            if mine:
                item = self._item(el)
            _free(el)
            if mine:
                yield item
        if self.reader is None and parser.root is not None:
            self._root(parser.root)

    def chunks(self, split: Split, root: Any, shard: int, shards: int) -> Iterator[Any]:
        """The items of :meth:`formations` for the records of this shard's chunks (chunk ``j`` when
        ``j % shards == shard``, see :mod:`passerelles.importing.xmlchunks`), each chunk's followed by
        :data:`CHUNK_END`. Only the prologue and those chunks are parsed. ``root``: the prologue's root
        element, checked here first."""
        self._root(root)
        assert self.reader is not None
        record_tag = f"{{{self.namespace}}}{self.reader.layout.record}"
        parser = etree.XMLPullParser(events=("end",), tag=record_tag, **_PARSER_OPTIONS)
        fed = 1  # the parser's line of the next byte fed

        def feed(guard: XmlGuard, file_line: int) -> Iterator[Any]:
            nonlocal fed
            self.guard = guard
            self._segments.append((fed, guard, file_line))
            self._starts.append(fed)
            while data := guard.read():
                fed += data.count(b"\n")
                yield from push(parser.feed, data)
            guard.done()
            if guard.refusal:
                raise ImportRefused(guard.refusal)

        def push(call: Callable[..., Any], *data: bytes) -> Iterator[Any]:
            try:
                call(*data)
            except etree.XMLSyntaxError:
                yield from self._completed(parser)  # the records read before the error
                raise
            yield from self._completed(parser)

        yield from feed(XmlGuard(io.BytesIO(split.prologue)), 1)
        split.wanted = lambda chunk: chunk % shards == shard
        pieces = iter(split)
        for piece in pieces:
            self.chunk, self.chunk_records = piece.chunk, 0
            source = _ChunkSource(piece, pieces)
            yield from feed(XmlGuard(source), piece.line)
            if source.final:
                yield from push(parser.close)  # a broken end raises here
            yield CHUNK_END

    def _completed(self, parser: Any) -> Iterator[Any]:
        for _event, el in parser.read_events():
            self.records += 1
            self.chunk_records += 1
            item = self._item(el)
            _free(el)
            yield item

    def _item(self, el: Any) -> Item:
        assert self.reader is not None
        parsed = self._record(el)
        rejects, self.reader.pending = self.reader.pending, []
        unlinked = self.reader.unlinked_rncp
        if unlinked:
            self.reader.unlinked_rncp = {}
        return rejects, parsed, unlinked or None

    def _record(self, rec: Any) -> ParsedFormation | None:
        assert self.reader is not None
        assert self.guard is not None
        line = self.true_line(rec.sourceline) or 0
        numero = (rec.get("numero") or "").strip()
        position = f"formation {numero} (ligne {line})" if numero else f"formation sans numéro (ligne {line})"
        # Marks and entity nodes exist only after a cut or in a document with a DOCTYPE.
        problem = self._hostile(rec) if self.guard.truncations or self.guard.doctype_seen else None
        if problem is None and self.namespace != NS_13 and self.xsd is not None:
            if self.namespace == NS_22:
                for el in rec.iter(tag=etree.Element):
                    el.tag = f"{{{NS_23}}}{_local(el.tag)}"
            schema = _schema(self.xsd)
            if not schema.validate(rec):
                path, message, xsd_line = _xsd_error(schema, rec)
                where = f" (ligne {self.true_line(xsd_line)})" if xsd_line else ""
                problem = (path, f"non conforme au schéma LHÉO 2.3{where} : {message}")
        if problem is not None:
            self.reader.reject("training", position, problem[0], problem[1])
            return None
        return self.reader.read(_tree(rec), line)

    def _hostile(self, rec: Any) -> tuple[str, str] | None:
        for el in rec.iter():
            if not isinstance(el.tag, str):
                if el.tag is etree.Entity:
                    return _path_to(el.getparent(), rec), f"référence d'entité non résolue : {el.text}"
                continue
            if el.text and TRUNCATED in el.text:
                return _path_to(el, rec), f"texte de plus de {MAX_TEXT_BYTES // 1024} Kio : refusé"
            if el.tail and TRUNCATED in el.tail and el is not rec:
                return _path_to(el.getparent(), rec), f"texte de plus de {MAX_TEXT_BYTES // 1024} Kio : refusé"
            for name, value in el.attrib.items():
                if TRUNCATED in value:
                    return f"{_path_to(el, rec)}/@{name}", f"attribut de plus de {MAX_TEXT_BYTES // 1024} Kio : refusé"
        return None


@dataclass
class _Read:
    """What a reader (process) found besides the records: the document's version and warnings, where it
    broke off."""

    version: str | None
    warnings: list[str]
    broken: tuple[int | None, str] | None


def _read_catalogue(
    path: Path,
    refs: References,
    file_name: str,
    xsd: Path | None,
    shard: int,
    shards: int,
    base: dict[str, Any] | None = None,
    dialect: Dialect | None = None,
) -> Generator[Any, None, _Read]:
    """Read → validate the records of one shard (all of them when ``shards`` is 1), see :func:`import_lheo`:
    an :data:`Item` per record. With several shards, each parses only its chunks of the file when the file
    can be split (:mod:`passerelles.importing.xmlchunks`; its items then come in chunks, see
    :mod:`passerelles.importing.pipeline`), else the whole file, reading every ``shards``-th record.
    ``base`` (source, is_demo) and ``dialect``: see :class:`RecordReader`."""
    local = ImportReport(importer="lheo", source=file_name)
    broken: tuple[int | None, str] | None = None
    with open_catalogue(path) as raw:
        split, head = xmlchunks.split(raw) if shards > 1 else (None, b"")
        root = _prologue_root(split.prologue) if split is not None else None
        if root is None or etree.QName(root).namespace not in (NS_22, NS_23):
            split = None  # LHÉO 1.3 has other record tags; anything odd is read (and reported) as before
        if split is not None:
            yield CHUNKED
        stream = _Stream(
            None if split is not None else XmlGuard(xmlchunks.Replay(head, raw)),
            refs,
            local,
            file_name,
            xsd,
            base,
            dialect,
        )
        try:
            if split is not None:
                yield from stream.chunks(split, root, shard, shards)
            else:
                yield from stream.formations(shard, shards)
        except etree.XMLSyntaxError as exc:
            if stream.guard is not None and stream.guard.refusal:
                raise ImportRefused(stream.guard.refusal) from None
            line = stream.true_line(exc.lineno)
            first = stream.records == 0 if split is None else stream.chunk <= 0 and stream.chunk_records == 0
            if stream.reader is None or first:
                raise ImportRefused(f"XML illisible (ligne {line}) : {stream.true_message(exc.msg)}") from None
            broken = (line, stream.true_message(str(exc.msg)))
            if split is not None:
                yield STREAM_END  # in the middle of this chunk: the chunks after it are not read
        if stream.guard is not None and stream.guard.refusal:
            raise ImportRefused(stream.guard.refusal)
        if stream.reader is None:
            raise ImportRefused("document vide : aucun élément racine")
    return _Read(local.version, local.warnings, broken)


_XML_ENCODING = re.compile(rb"""\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _check_plain_file(path: Path) -> None:
    """Before anything is read into the store: a plain file must end with its root's end tag, and its
    first MiB be UTF-8 unless it declares another encoding (a compressed file is checked as it is read)."""
    if is_compressed(path):
        return
    check_xml_end(path)
    start = head(path, HEAD_BYTES)
    declared = _XML_ENCODING.match(start)
    if declared is None or declared.group(1).lower().replace(b"-", b"").replace(b"_", b"") == b"utf8":
        check_encoding(path.name, start, whole=len(start) < HEAD_BYTES)


def import_lheo(
    engine: Engine,
    source: str | Path,
    *,
    dry_run: bool = False,
    full: bool = False,
    batch_size: int = 1000,
    is_demo: bool = False,
    xsd: Path | None = None,
    workers: int | None = None,
    limits: ImportLimits | None = None,
    force: bool = False,
) -> ImportReport:
    """Import an LHÉO catalogue (1.3, 2.2 or 2.3): file, ``.gz``, ``.zip`` or URL.

    Raises :class:`ImportRefused` when nothing can be imported (unknown namespace, hostile DOCTYPE, not
    XML). ``xsd`` is the LHÉO 2.3 schema (default: ``shared/data/lheo/lheo-2.3.xsd`` beside the clone).
    ``workers``: reader processes (:mod:`passerelles.importing.pipeline`); default: two for a big file.
    ``limits``: rejects and closings beyond them refuse the run (``force``: close all the same).
    """
    if batch_size < 1:
        raise ValueError("batch_size doit être positif")
    limits = limits or ImportLimits()
    file_name = str(source).rstrip("/").rsplit("/", 1)[-1]
    report = ImportReport(importer="lheo", source=str(source), dry_run=dry_run)
    for name in ENTITIES:
        report.entity(name)
    try:
        return _import(
            engine, source, file_name, report, dry_run, full, batch_size, is_demo, xsd, workers, limits, force
        )
    except ImportRefused as exc:
        if str(exc).startswith(f"{file_name} :"):
            raise
        raise ImportRefused(f"{file_name} : {exc}") from None  # the message names the file


def _import(
    engine: Engine,
    source: str | Path,
    file_name: str,
    report: ImportReport,
    dry_run: bool,
    full: bool,
    batch_size: int,
    is_demo: bool,
    xsd: Path | None,
    workers: int | None,
    limits: ImportLimits,
    force: bool,
) -> ImportReport:
    schema_path = xsd or lheo_schema(default_data_dir())
    origin = "demo" if is_demo else "lheo"
    refs = References.load(engine)
    loader = Loader(engine, origin, is_demo, report, file_name)
    with local_file(source) as path:
        _check_plain_file(path)
        if workers is None:
            workers = auto_workers(path.stat().st_size)

        def produce(shard: int, shards: int) -> Generator[Any, None, _Read]:
            base = {"source": origin, "is_demo": is_demo}
            return _read_catalogue(path, refs, file_name, schema_path, shard, shards, base, engine.dialect)

        dedup = _Dedup(report, file_name)
        items = sharded(produce, workers)
        batch: list[ParsedFormation] = []
        loader.restore_indexes()  # those an import killed before its end left dropped
        unlinked: dict[str, int] = {}
        read = formations_rejected = sessions = 0  # what was read, to weigh the rejects against
        stopped: str | None = None  # too many rejects, after some batches were written

        def checked() -> bool:
            """Before a batch is written: too many rejects refuse the file (nothing written yet:
            ImportRefused; else the run stops here)."""
            nonlocal stopped
            rejected = report.totals.rejected
            records = read + sessions + max(0, rejected - formations_rejected)
            if not limits.too_many_rejects(rejected, records):
                return True
            message = limits.rejects_refusal(file_name, rejected, records)
            if not loader.committed:
                raise ImportRefused(message + ", base inchangée")
            stopped = message
            return False

        iterator = iter(items)
        try:
            for rejects, parsed, codes in iterator:
                read += 1
                for r in rejects:
                    report.reject("training", r)
                if codes:
                    for code, n in codes.items():
                        unlinked[code] = unlinked.get(code, 0) + n
                formation = dedup(parsed) if parsed is not None else None
                if formation is None:
                    formations_rejected += 1
                else:
                    sessions += len(formation.sessions)
                    batch.append(formation)
                    if len(batch) >= batch_size:
                        if not checked():
                            break
                        loader.load(batch)
                        batch = []
            iterator.close()
            state = items.states[items.ended_by] if stopped is None else _Read(report.version, [], None)
            if state.broken is not None and not loader.committed:
                line, message = state.broken
                raise ImportRefused(
                    f"{file_name} : fichier tronqué ou illisible à la ligne {line} ({message}) ; "
                    "fichier refusé, base inchangée"
                )
            if stopped is None and state.broken is None and checked() and batch:
                loader.load(batch)
        finally:
            iterator.close()
            loader.restore_indexes()
    report.version = state.version or report.version
    report.warnings[:0] = state.warnings  # those of the root element, found before any other
    broken = state.broken
    records = items.count
    written = sum(report.entity("training").model_dump()[k] for k in ("created", "updated", "unchanged"))
    if stopped is not None:
        report.status = "refused"
        report.message = (
            f"{stopped} ; import arrêté : les {written} formation(s) des lots déjà écrits restent en base, "
            "aucune session n'a été fermée"
        )
        if full:
            report.warnings.append("import arrêté : aucune session fermée malgré --full")
    elif broken is not None:
        line, message = broken
        report.status = "refused"
        report.message = (
            f"fichier tronqué ou illisible à la ligne {line} ({message}) : les {written} formation(s) des "
            "lots déjà écrits restent en base, la suite du fichier n'a pas été importée"
        )
        report.reject(
            "training",
            Reject(source=file_name, position=f"ligne {line}", field="(fichier)", reason=f"XML illisible : {message}"),
        )
        if full:
            report.warnings.append("flux incomplet : aucune session fermée malgré --full")
    elif full:
        loader.close_missing(None if force else limits)
    if records == 0:
        report.warnings.append("aucune formation dans le fichier")
    if unlinked:
        codes = ", ".join(sorted(unlinked, key=lambda c: (-unlinked[c], c))[:10])
        more = f" et {len(unlinked) - 10} autre(s)" if len(unlinked) > 10 else ""
        report.warnings.append(
            f"{len(unlinked)} code(s) RNCP absent(s) du référentiel des certifications du projet, formations "
            f"gardées sans lien de certification : {codes}{more}"
        )
    return report
