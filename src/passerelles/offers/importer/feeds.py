"""Reading a job-offer feed file, record by record and with bounded memory: France Travail « Offres d'emploi
v2 » (``{"resultats": [...]}``, an array of ``offre`` or JSON Lines) and schema.org ``JobPosting`` JSON-LD
(one object, an array, ``@graph`` or JSON Lines). What cannot be read is a :class:`RawRecord` with its
error; a file that is not JSON, or cut before its end, is refused as a whole."""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import orjson

from passerelles.importing.download import download
from passerelles.importing.limits import check_not_utf16, is_compressed, tail, truncated
from passerelles.importing.report import ImportRefused

WRAPPER_KEY: dict[str, str] = {"france_travail": "resultats", "jobposting": "@graph"}
MAX_RECORD_BYTES = 32 * 1024 * 1024  # one offer; a 10 MB description still reaches validation, and is rejected there
MAX_DOWNLOAD = 8 * 1024 * 1024 * 1024
TOO_DEEP = "imbrication trop profonde (plus de 1 000 niveaux de listes ou d'objets)"
LINES_SUFFIXES = {".jsonl", ".ndjson"}
WS = re.compile(r"[ \t\n\r]*")
JSON_MARK = re.compile(r'["\[\]{}]')
JSON_STRING_END = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # from just after the opening quote
ESCAPED_BYTES = re.compile(r"[\udc80-\udcff]")


def extract(source: str | Path, workdir: Path) -> Path:
    """A local file for ``source``: a path, or an http(s) URL downloaded into ``workdir``."""
    url = str(source)
    if url.startswith(("http://", "https://")):
        return download(url, workdir / "offres.json", MAX_DOWNLOAD)
    path = Path(source)
    if not path.is_file():
        raise ImportRefused(f"fichier introuvable : {source}")
    return path


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as read: ``data`` is the parsed JSON, or None with ``error`` when unreadable."""

    index: int
    unit: str  # "ligne" | "élément"
    data: Any
    error: str | None = None
    excerpt: str | None = None


def _open(path: Path) -> IO[bytes]:
    with path.open("rb") as fh:
        gzipped = fh.read(2) == b"\x1f\x8b"
    return cast(IO[bytes], gzip.open(path, "rb")) if gzipped else path.open("rb")


class _Unreadable(Exception):
    """One value of a stream cannot be decoded (too deep, too big): skipped, its record rejected."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _TextStream:
    """A JSON text read piece by piece: values are decoded one at a time with the C scanner of ``json``,
    so that an array of a million offers never sits in memory."""

    CHUNK = 1 << 20

    def __init__(self, fh: IO[str]) -> None:
        self.fh = fh
        self.buf = ""
        self.pos = 0
        self.consumed = 0  # characters dropped from the front of buf
        self.eof = False
        self.decoder = json.JSONDecoder()

    @property
    def offset(self) -> int:
        return self.consumed + self.pos

    def _fill(self) -> bool:
        if self.eof:
            return False
        if self.pos:
            self.consumed += self.pos
            self.buf = self.buf[self.pos :]
            self.pos = 0
        data = self.fh.read(max(self.CHUNK, len(self.buf)))  # doubles for a big value
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def peek(self) -> str:
        while True:
            m = WS.match(self.buf, self.pos)
            self.pos = m.end() if m else self.pos
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return ""

    def expect(self, char: str) -> None:
        found = self.peek()
        if found != char:
            raise json.JSONDecodeError(f"« {char} » attendu, « {found or 'fin du fichier'} » trouvé", "", 0)
        self.pos += 1

    def value(self) -> tuple[Any, bool]:
        """The next JSON value, and whether its text holds undecodable bytes."""
        self.peek()
        while True:
            try:
                obj, end = self.decoder.raw_decode(self.buf, self.pos)
            except RecursionError:
                raise _Unreadable(TOO_DEEP) from None
            except json.JSONDecodeError:
                if len(self.buf) - self.pos > MAX_RECORD_BYTES:
                    raise _Unreadable(f"élément trop volumineux (plus de {MAX_RECORD_BYTES} octets)") from None
                if self._fill():
                    continue
                raise
            if end == len(self.buf) and self._fill():
                continue  # a number cut by the end of the buffer: decode again with what follows
            # Undecodable UTF-8 bytes come back as lone surrogates U+DC80..U+DCFF (``surrogateescape``).
            bad = ESCAPED_BYTES.search(self.buf, self.pos, end) is not None
            self.pos = end
            return obj, bad

    def skip(self) -> None:
        """Move past the array or object (or string) at the position without decoding it: one that
        :meth:`value` could not decode. Raises :class:`json.JSONDecodeError` if the file ends inside."""
        self.peek()
        depth = 0
        while True:
            if self.pos >= len(self.buf) and not self._fill():
                raise json.JSONDecodeError("fin du fichier au milieu d'un élément", "", 0)
            mark = JSON_MARK.search(self.buf, self.pos)
            if mark is None:
                self.pos = len(self.buf)
                continue
            if mark.group() == '"':
                end = JSON_STRING_END.match(self.buf, mark.end())
                if end is None:  # the string goes on past the buffer
                    self.pos = mark.start()
                    if not self._fill():
                        raise json.JSONDecodeError("fin du fichier au milieu d'un texte", "", 0)
                    continue
                self.pos = end.end()
            else:
                self.pos = mark.end()
                depth += 1 if mark.group() in "[{" else -1
            if depth <= 0:
                return


class FeedReader:
    """The records of one feed file: a JSON array, an object (``resultats``/``@graph`` or one offer), or
    JSON Lines. ``complete`` turns False when the file breaks off: the offers before the break are read,
    the rest is lost, and the feed must not then be taken as complete."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.fmt = fmt
        self.complete = True
        self.layout = self._sniff()
        # Records (by their number from 0) whose JSON Lines text need not be decoded: another reader
        # process handles them (see passerelles.importing.pipeline). They come out as empty records.
        self.skip: Callable[[int], bool] | None = None

    def _sniff(self) -> str:
        with _open(self.path) as fh:
            try:
                head = fh.read(4096)
            except (OSError, EOFError) as exc:
                raise ImportRefused(f"{self.path.name} : fichier illisible ({exc})") from exc
            if head.startswith((b"\xff\xfe", b"\xfe\xff")):
                check_not_utf16(self.path.name, head)
            text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
            if not text:
                raise ImportRefused(f"{self.path.name} : fichier vide, aucune offre")
            if any(s.lower() in LINES_SUFFIXES for s in self.path.suffixes):
                check_not_utf16(self.path.name, head)
                return "lines"  # each line is judged on its own
            first = text[:1]
            if first not in (b"[", b"{"):
                raise ImportRefused(
                    f"{self.path.name} : ce n'est pas un fichier JSON (premier caractère {first.decode('latin-1')!r})"
                )
            check_not_utf16(self.path.name, head)  # "[" or "{" then NUL bytes: UTF-16 without its mark
            if first == b"[":
                return "array"
            # One complete object on the first line followed by another one: JSON Lines.
            fh.seek(0)
            line = fh.readline(MAX_RECORD_BYTES + 1)
            try:
                json.loads(line)
            except ValueError:
                return "object"
            rest = fh.read(4096).lstrip()
            return "lines" if rest.startswith(b"{") else "object"

    def __iter__(self) -> Iterator[RawRecord]:
        if self.layout == "lines":
            yield from self._lines()
            return
        with _open(self.path) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape")
            stream = _TextStream(text)
            try:
                if self.layout == "array":
                    yield from self._array(stream, 0)
                else:
                    yield from self._object(stream)
            except (json.JSONDecodeError, EOFError, OSError) as exc:
                raise ImportRefused(f"{self.path.name} : JSON illisible ({_json_error(exc)})") from exc
            except _Unreadable as exc:  # the file's one offer, or a value around the offers' list
                raise ImportRefused(f"{self.path.name} : {exc.reason}") from None

    def _lines(self) -> Iterator[RawRecord]:
        skip = self.skip
        ordinal = -1  # records yielded so far, minus one
        with _open(self.path) as fh:
            number = 0
            while True:
                try:
                    line = fh.readline(MAX_RECORD_BYTES + 1)
                except (OSError, EOFError) as exc:
                    self.complete = False
                    yield RawRecord(number + 1, "ligne", None, f"fichier interrompu : {exc} ; la suite est ignorée")
                    return
                if not line:
                    return
                number += 1
                if number == 1:
                    line = line.removeprefix(b"\xef\xbb\xbf")
                if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
                    while line and not line.endswith(b"\n"):  # skip the rest of this line
                        line = fh.readline(1 << 20)
                    ordinal += 1
                    yield RawRecord(number, "ligne", None, f"ligne trop longue (plus de {MAX_RECORD_BYTES} octets)")
                    continue
                if not line.strip():
                    continue
                ordinal += 1
                if skip is not None and skip(ordinal):
                    yield RawRecord(number, "ligne", None)
                    continue
                try:
                    data = loads(line)
                except UnicodeDecodeError:
                    yield RawRecord(number, "ligne", None, "encodage invalide : UTF-8 attendu", text_excerpt(line))
                    continue
                except RecursionError:
                    yield RawRecord(number, "ligne", None, TOO_DEEP, text_excerpt(line[:200]))
                    continue
                except ValueError as exc:
                    if not line.endswith(b"\n"):  # the last line, cut: the file was cut
                        self.complete = False
                        yield RawRecord(
                            number, "ligne", None, "dernière ligne incomplète : fichier tronqué", text_excerpt(line)
                        )
                        return
                    yield RawRecord(number, "ligne", None, f"JSON illisible : {_json_error(exc)}", text_excerpt(line))
                    continue
                yield RawRecord(number, "ligne", data)

    def _array(self, stream: _TextStream, index: int) -> Generator[RawRecord, None, int]:
        """Elements of the array at the stream's position (``[`` not yet read); returns their number."""
        stream.expect("[")
        if stream.peek() == "]":
            stream.pos += 1
            return index
        while True:
            index += 1
            try:
                try:
                    data, bad = stream.value()
                except _Unreadable as exc:  # too deep or too big: skipped, rejected, the next one read
                    stream.skip()
                    yield RawRecord(index, "élément", None, exc.reason)
                else:
                    if bad:
                        yield RawRecord(index, "élément", None, "encodage invalide : UTF-8 attendu")
                    else:
                        yield RawRecord(index, "élément", data)
                sep = stream.peek()
                if sep == ",":
                    stream.pos += 1
                    continue
                if sep == "]":
                    stream.pos += 1
                    return index
                raise json.JSONDecodeError(f"« , » ou « ] » attendu, « {sep or 'fin du fichier'} » trouvé", "", 0)
            except json.JSONDecodeError as exc:
                if index == 1:
                    raise
                self.complete = False
                yield RawRecord(
                    index,
                    "élément",
                    None,
                    f"JSON illisible vers le caractère {stream.offset} ({_json_error(exc)}) : "
                    "la suite du fichier est ignorée",
                )
                return index

    def _object(self, stream: _TextStream) -> Iterator[RawRecord]:
        """A top-level object: the wrapper's array (``resultats`` or ``@graph``), or else one offer."""
        wrapper = WRAPPER_KEY[self.fmt]
        stream.expect("{")
        fields: dict[str, Any] = {}
        streamed = False
        if stream.peek() == "}":
            stream.pos += 1
        else:
            last = 0
            while True:
                try:
                    key, _ = stream.value()
                    if not isinstance(key, str):
                        raise json.JSONDecodeError("nom de champ attendu", "", 0)
                    stream.expect(":")
                    if key == wrapper and stream.peek() == "[":
                        streamed = True
                        last = yield from self._array(stream, 0)
                        if not self.complete:
                            return
                    else:
                        fields[key], _ = stream.value()
                    sep = stream.peek()
                    if sep == ",":
                        stream.pos += 1
                        continue
                    if sep == "}":
                        stream.pos += 1
                        break
                    raise json.JSONDecodeError(f"« , » ou « }} » attendu, « {sep or 'fin du fichier'} » trouvé", "", 0)
                except json.JSONDecodeError as exc:
                    if not streamed:
                        raise
                    # The offers were read, but the file breaks off after them: keep them, trust nothing more.
                    self.complete = False
                    yield RawRecord(
                        last + 1,
                        "élément",
                        None,
                        f"JSON illisible après la liste « {wrapper} » vers le caractère {stream.offset} "
                        f"({_json_error(exc)}) : la suite du fichier est ignorée",
                    )
                    return
        if streamed:
            return
        looks_like_offer = (
            ("id" in fields or "intitule" in fields)
            if self.fmt == "france_travail"
            else ("@type" in fields or "title" in fields)
        )
        if not looks_like_offer:
            raise ImportRefused(
                f"{self.path.name} : aucune offre (objet JSON sans « {wrapper} » ni champs d'une offre)"
            )
        yield RawRecord(1, "élément", fields)


def loads(line: bytes) -> Any:
    """One JSON Lines record: orjson (about twice as fast), or ``json`` for whatever orjson refuses (a
    lone surrogate, NaN, an integer over 64 bits, invalid text…), so that outcomes and messages stay
    those of ``json``."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def _json_error(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg
    return str(exc)


def text_excerpt(raw: bytes | str) -> str:
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return text.strip()[:200]


def check_end(path: Path, layout: str) -> None:
    """A plain file cut before its end is refused before anything is read into the store: its last line
    is not JSON (JSON Lines), or its array or object is not closed. A compressed file is checked as it is
    read (the end of its stream)."""
    if is_compressed(path):
        return
    end = tail(path)
    if layout == "lines":
        if end.endswith(b"\n"):
            return
        last = end.rsplit(b"\n", 1)[-1]
        if len(end) < path.stat().st_size and b"\n" not in end:
            return  # a last line longer than the tail read: judged as it is read
        try:
            loads(last)
        except (ValueError, RecursionError):
            raise truncated(path.name, "la dernière ligne est incomplète", "JSON illisible") from None
        return
    closing = "]" if layout == "array" else "}"
    if not end.rstrip().endswith(closing.encode()):
        raise truncated(path.name, f"il ne se termine pas par « {closing} »", "JSON illisible")
