"""Cut an XML byte stream into chunks of whole records, so that parallel readers each parse only theirs.

A catalogue is a prologue (XML declaration, root element, the containers up to the first record) then
records, siblings of one another (``<formation>…</formation><formation>…``), then the closing tags. A
reader that owns chunk ``j`` feeds the prologue then its own chunks, in order, to one push parser: what
the parser sees is a document of the same shape holding only those records (an unclosed one, which is
never closed: the records are read as soon as their end tag is fed). Each reader scans the whole byte
stream to find the same boundaries, but that scan is a few C-level searches per megabyte; parsing,
validating and reading, which cost a hundred times more, happen once per record in all.

A boundary is placed only where it is certain to fall between two sibling records: the end tag of a
record, blanks, then the start tag of the next one, outside any comment, CDATA section or processing
instruction. A prologue that is not plain (a DOCTYPE, a comment, a prefixed record tag, a record far into
the file) is not split: :func:`split` then returns ``None`` and the caller reads the whole stream as
before, from :class:`Replay`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

CHUNK_BYTES = 1 << 20  # about a hundred LHÉO formations: one message from a reader to the loader
BLOCK = 1 << 16  # read size
WINDOW = 1 << 16  # bytes read past a chunk's size to find its end
PROLOGUE_MAX = 4 << 20  # the first record must start within this many bytes to split the stream
_KEEP = 4096  # bytes kept across reads, so that a boundary's pattern is found even across two reads


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Piece:
    """Bytes of chunk ``chunk`` (which starts on line ``line`` of the stream). ``last`` marks the chunk's
    last piece; ``final`` the end of the stream (the final chunk holds the closing tags)."""

    chunk: int
    line: int
    data: bytes
    last: bool
    final: bool


class Replay:
    """A byte stream that gives back ``head`` (bytes already read from ``raw``), then the rest of ``raw``."""

    def __init__(self, head: bytes, raw: Readable) -> None:
        self._head = head
        self._raw = raw

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._raw.read(size)
        if size < 0:
            data, self._head = self._head, b""
            return data + self._raw.read()
        data, self._head = self._head[:size], self._head[size:]
        return data


def _read(raw: Readable, size: int) -> bytes:
    """Up to ``size`` bytes, fewer only at the end of the stream (a decompressor may return short reads)."""
    parts = []
    while size > 0:
        data = raw.read(size)
        if not data:
            break
        parts.append(data)
        size -= len(data)
    return b"".join(parts)


class Split:
    """The prologue of a stream and, iterated, the :class:`Piece` s of the chunks ``wanted`` (all by
    default), in stream order. The others are scanned only (for boundaries and lines), never copied."""

    def __init__(self, raw: Readable, head: bytes, start: int, tag: bytes, chunk_bytes: int) -> None:
        self.prologue = head[:start]
        self.wanted: Callable[[int], bool] = lambda chunk: True
        self._raw = raw
        self._buf = bytearray(head[start:])
        self._off = start  # stream offset of _buf[0]
        self._eof = False
        self._line = 1 + self.prologue.count(b"\n")  # line of _buf[0]
        self._boundary = re.compile(rb"</" + tag + rb">[ \t\r\n]*(<" + tag + rb"[ \t\r\n/>])")
        self._chunk_bytes = chunk_bytes
        # Comments, CDATA sections and PIs are looked for up to _scan (each byte about once); _open is the
        # terminator of the one open there, if any.
        self._scan = start
        self._open: bytes | None = None
        self._next = start + 1  # no boundary candidate before this offset (those were looked at)

    def _fill(self) -> None:
        data = self._raw.read(BLOCK)
        if data:
            self._buf += data
        else:
            self._eof = True

    def _let_go(self, n: int, chunk: int, line: int, last: bool, final: bool) -> Iterator[Piece]:
        """The first ``n`` bytes of the buffer, as a piece of ``chunk`` when it is wanted."""
        buf = self._buf
        if self.wanted(chunk):
            yield Piece(chunk, line, bytes(buf[:n]), last, final)
        self._line += buf.count(b"\n", 0, n)
        del buf[:n]
        self._off += n

    def _outside(self, upto: int) -> bool:
        """Whether stream offset ``upto`` (not before an earlier call's) is outside any comment, CDATA
        section or PI. The last bytes before ``upto`` are looked at again next time, in case an opener or
        a terminator straddles it."""
        buf, off = self._buf, self._off
        # What was let go ends at a boundary, where nothing straddles.
        self._scan = max(self._scan, off)
        while self._scan < upto:
            if self._open is None:
                # "!" and "?" are rare in a catalogue, "<" is everywhere: look for the former (memchr).
                i = self._rare(buf, self._scan - off, upto - off)
                if i == -1:
                    self._scan = max(self._scan, upto - 8)
                    return True
                self._scan = off + i + 1
                if i == 0 or buf[i - 1] != 0x3C:  # not after "<": text
                    continue
                if buf[i] == 0x3F:  # "<?"
                    self._open = b"?>"
                elif buf.startswith(b"--", i + 1):
                    self._open, self._scan = b"-->", off + i + 3
                elif buf.startswith(b"[CDATA[", i + 1):
                    self._open, self._scan = b"]]>", off + i + 8
                elif upto - off - i < 8:  # perhaps one of those, cut: decide when more is known
                    self._scan = off + i - 1
                    return False
                else:
                    self._open = b">"  # a DOCTYPE or ENTITY out of place: broken anyway, never split inside
            else:
                i = buf.find(self._open, self._scan - off, upto - off)
                if i == -1:
                    self._scan = max(self._scan, upto - len(self._open) + 1)
                    return False
                self._scan = off + i + len(self._open)
                self._open = None
        return self._open is None

    @staticmethod
    def _rare(buf: bytes | bytearray, start: int, end: int) -> int:
        bang = buf.find(b"!", start, end)
        ask = buf.find(b"?", start, bang if bang != -1 else end)
        return ask if ask != -1 else bang

    def __iter__(self) -> Iterator[Piece]:
        buf = self._buf
        chunk, start, line = 0, self._off, self._line  # the current chunk: number, offset, first line
        while True:
            off = self._off
            search = max(start + self._chunk_bytes - 256, self._next, off)
            if not self._eof and off + len(buf) < search + WINDOW:
                limit = min(off + len(buf) - _KEEP, search)
                if len(buf) > 2 * self._chunk_bytes + WINDOW and limit > off:
                    # A very long record: pass on what was scanned and cannot hold a boundary, read on.
                    self._outside(limit)
                    n = min(limit, self._scan) - off
                    if n > 0:
                        yield from self._let_go(n, chunk, line, False, False)
                self._fill()
                continue
            found = None
            while (m := self._boundary.search(buf, search - off)) is not None:
                candidate = off + m.start(1)
                self._next = candidate + 1
                if self._outside(candidate):
                    found = m.start(1)
                    break
                search = candidate + 1
            if found is not None:
                yield from self._let_go(found, chunk, line, True, False)
                chunk, start, line = chunk + 1, self._off, self._line
            elif self._eof:
                yield from self._let_go(len(buf), chunk, line, True, True)
                return
            else:  # none in what was read: search on from its last bytes, once more are read
                self._next = max(self._next, off + len(buf) - _KEEP)


def split(raw: Readable, *, tag: bytes = b"formation", chunk_bytes: int | None = None) -> tuple[Split | None, bytes]:
    """(the split stream, or ``None`` when it is not split; the bytes read to decide). When ``None``, read
    the stream again from ``Replay(head, raw)``."""
    head = b""
    first = re.compile(rb"<" + tag + rb"[ \t\r\n/>]")
    while True:
        data = _read(raw, BLOCK)
        head += data
        m = first.search(head)
        if m is not None or len(data) < BLOCK or len(head) >= PROLOGUE_MAX:
            break
    if m is None or m.start() > PROLOGUE_MAX:
        return None, head
    prologue = head[: m.start()]
    declaration = 1 if prologue.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<?xml") else 0
    if b"<!" in prologue or prologue.count(b"<?") > declaration:
        return None, head
    return Split(raw, head, m.start(), tag, chunk_bytes or CHUNK_BYTES), head
