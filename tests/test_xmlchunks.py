"""Cutting an XML byte stream into chunks of whole records (``importing/xmlchunks.py``): the pieces put
back together are the stream, every boundary falls right before a record that is a sibling of the
others (never inside a comment, a CDATA section or a processing instruction), line numbers are the
stream's, and a prologue that is not plain is not split."""

from __future__ import annotations

import gzip
import io
import re

import pytest

from passerelles.importing import xmlchunks
from passerelles.importing.xmlchunks import Replay, split

HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<lheo xmlns="http://lheo.gouv.fr/2.3">\n<offres>\n'
TAIL = b"\n</offres>\n</lheo>\n"
FAKE = b"</formation>\n<formation numero='X'>"  # a boundary's pattern, where no boundary may be


def record(i: int, extra: bytes = b"") -> bytes:
    return b'<formation numero="F%d">\n<intitule-formation>T%d</intitule-formation>%s\n</formation>' % (i, i, extra)


def document(records: list[bytes], sep: bytes = b"\n") -> tuple[bytes, list[int]]:
    """The document and the offset where each record starts."""
    data, starts = HEAD, []
    for k, r in enumerate(records):
        if k:
            data += sep
        starts.append(len(data))
        data += r
    return data + TAIL, starts


def pieces(data: bytes, chunk_bytes: int, wanted=None, stream=None):  # type: ignore[no-untyped-def]
    s, _head = split(stream or io.BytesIO(data), chunk_bytes=chunk_bytes)
    assert s is not None
    if wanted is not None:
        s.wanted = wanted
    return s, list(s)


def chunk_starts(s, got) -> list[int]:  # type: ignore[no-untyped-def]
    """Stream offsets where the chunks start, from contiguous pieces."""
    offset, starts, current = len(s.prologue), [], None
    for p in got:
        if p.chunk != current:
            starts.append(offset)
            current = p.chunk
        offset += len(p.data)
    return starts


@pytest.mark.parametrize("chunk_bytes", [1, 100, 700, 10_000])
def test_pieces_put_back_together_are_the_stream(chunk_bytes: int) -> None:
    data, starts = document([record(i) for i in range(40)])
    s, got = pieces(data, chunk_bytes)
    assert s.prologue + b"".join(p.data for p in got) == data
    assert [p.chunk for p in got] == sorted(p.chunk for p in got)
    assert got[-1].final and all(not p.final for p in got[:-1])
    found = chunk_starts(s, got)
    assert set(found) <= set(starts) and found[0] == starts[0]
    if chunk_bytes == 1:
        assert found == starts  # one record a chunk
    for p in got:  # each piece knows the line its chunk starts on
        first = found[p.chunk]
        assert p.line == data[:first].count(b"\n") + 1


def test_no_boundary_inside_comments_cdata_or_processing_instructions() -> None:
    inside = [
        b"<!-- " + FAKE + b" -->",
        b"<objectif-formation><![CDATA[ " + FAKE + b" ]]></objectif-formation>",
        b"<?note " + FAKE + b" ?>",
        b"<!-- a <![CDATA[ in a comment " + FAKE + b" -->",
        b"<contenu-formation>Pourquoi ? Enfin ! " + b"</contenu-formation>",
    ]
    records = [record(i, inside[i % len(inside)]) for i in range(25)]
    data, starts = document(records)
    s, got = pieces(data, 1)
    assert s.prologue + b"".join(p.data for p in got) == data
    assert chunk_starts(s, got) == starts


def test_a_record_split_by_a_comment_across_reads_still_ends_well(monkeypatch: pytest.MonkeyPatch) -> None:
    # Reads of a few bytes: openers and terminators straddle the reads.
    monkeypatch.setattr(xmlchunks, "BLOCK", 7)
    monkeypatch.setattr(xmlchunks, "WINDOW", 64)
    monkeypatch.setattr(xmlchunks, "_KEEP", 48)
    records = [record(i, b"<!-- " + FAKE + b" -->" if i % 2 else b"<?pi ?>") for i in range(12)]
    data, starts = document(records)
    s, got = pieces(data, 1)
    assert s.prologue + b"".join(p.data for p in got) == data
    assert chunk_starts(s, got) == starts


def test_boundaries_only_between_sibling_records() -> None:
    # Records far apart, or not separated by blanks only, are not split there.
    data, starts = document([record(0), record(1), record(2), record(3)], sep=b"\n<!-- x -->\n")
    s, got = pieces(data, 1)
    assert chunk_starts(s, got) == [starts[0]]
    data, starts = document([record(i) for i in range(4)], sep=b"  \r\n\t")
    s, got = pieces(data, 1)
    assert chunk_starts(s, got) == starts


def test_only_wanted_chunks_are_handed_out_with_their_lines() -> None:
    data, starts = document([record(i) for i in range(30)])
    _s, got = pieces(data, 1, wanted=lambda chunk: chunk % 3 == 1)
    assert sorted({p.chunk for p in got}) == list(range(1, 30, 3))
    for p in got:
        assert p.data.startswith(b'<formation numero="F%d"' % p.chunk)
        assert p.line == data[: starts[p.chunk]].count(b"\n") + 1


def test_a_very_long_record_is_handed_out_in_bounded_pieces() -> None:
    big = record(1, b"<contenu-formation>" + b"x" * 3_000_000 + b"</contenu-formation>")
    data, _starts = document([record(0), big, record(2)])
    s, got = pieces(data, 100_000)
    assert s.prologue + b"".join(p.data for p in got) == data
    assert max(len(p.data) for p in got) < 2 * 100_000 + 2 * xmlchunks.WINDOW
    assert [p.last for p in got if p.chunk == 1][-1]


def test_a_compressed_stream_gives_the_same_pieces() -> None:
    data, _starts = document([record(i) for i in range(200)])
    plain = [(p.chunk, p.line, p.data) for p in pieces(data, 500)[1]]
    packed = gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(data)))
    assert [(p.chunk, p.line, p.data) for p in pieces(data, 500, stream=packed)[1]] == plain


@pytest.mark.parametrize(
    "prologue",
    [
        b'<?xml version="1.0"?>\n<!DOCTYPE lheo [<!ELEMENT lheo ANY>]>\n<lheo><offres>\n',
        b'<?xml version="1.0"?>\n<!-- generated -->\n<lheo><offres>\n',
        b'<?xml version="1.0"?>\n<?style x?>\n<lheo><offres>\n',
        b'<?xml version="1.0"?>\n<l:lheo xmlns:l="http://lheo.gouv.fr/2.3"><l:offres>\n',  # prefixed records
    ],
)
def test_a_prologue_that_is_not_plain_is_not_split(prologue: bytes) -> None:
    tag = b"l:formation" if b"l:offres" in prologue else b"formation"
    body = b"".join(record(i).replace(b"formation", tag, 2) for i in range(3))
    data = prologue + body + b"</offres></lheo>"
    raw = io.BytesIO(data)
    s, head = split(raw)
    assert s is None
    assert Replay(head, raw).read() == data  # read again from the start


def test_a_record_too_far_into_the_stream_is_not_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xmlchunks, "PROLOGUE_MAX", 1000)
    monkeypatch.setattr(xmlchunks, "BLOCK", 256)
    data, _ = document([record(0)])
    data = data.replace(b"<offres>", b"<offres>" + b" " * 5000)
    raw = io.BytesIO(data)
    s, head = split(raw)
    assert s is None and Replay(head, raw).read() == data


def test_replay_reads_in_any_sizes() -> None:
    raw = io.BytesIO(b"0123456789")
    replay = Replay(raw.read(4), raw)
    assert [replay.read(3), replay.read(3), replay.read(-1), replay.read(2)] == [b"012", b"3", b"456789", b""]


def test_boundary_pattern_needs_a_whole_tag_name() -> None:
    # <formation-x> is not a record.
    data, _starts = document([record(0), record(1)])
    data = data.replace(b'<formation numero="F1"', b"<formation-x/>\n" + b'<formation numero="F1"')
    s, got = pieces(data, 1)
    assert s.prologue + b"".join(p.data for p in got) == data
    assert len(chunk_starts(s, got)) == 1 and re.search(rb"</formation>\s*<formation-x", data)
