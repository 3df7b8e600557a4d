"""The byte-level guard between the file and libxml2: hostile DOCTYPEs refused, over-long texts cut."""

from __future__ import annotations

import bisect
import io
import re

from passerelles.importing.xmlchunks import Readable

MAX_TEXT_BYTES = 1024 * 1024  # a text or attribute over 1 MiB rejects its record
MAX_DOCTYPE_BYTES = 64 * 1024
TRUNCATED = "\ue000"  # what the guard leaves where it cut an over-long text (a private-use character)


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
