"""Walking the document: the root checked, each record validated against the XSD, read, then freed; in
one process or in chunks shared by several (:mod:`passerelles.importing.pipeline`)."""

from __future__ import annotations

import bisect
import io
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy.engine import Dialect

from passerelles.importing import xmlchunks
from passerelles.importing.limits import SAFE_XML_PARSER
from passerelles.importing.pipeline import CHUNK_END, CHUNKED, STREAM_END
from passerelles.importing.report import ImportRefused, ImportReport, Reject
from passerelles.importing.xmlchunks import Piece, Split
from passerelles.trainings.lheo.extract import open_catalogue
from passerelles.trainings.lheo.guard import MAX_TEXT_BYTES, TRUNCATED, XmlGuard
from passerelles.trainings.lheo.layouts import NS_13, NS_22, NS_23, V2, V13, VERSIONS
from passerelles.trainings.lheo.memo import MEMO
from passerelles.trainings.lheo.reader import ParsedFormation, RecordReader
from passerelles.trainings.lheo.references import References
from passerelles.trainings.lheo.tree import local_name, path_to, record_tree

# ---------------------------------------------------------------- read: the document


# What a reader yields per record: its rejects, the formation read (or None) and the RNCP codes it holds
# that the store does not know (or None).
Item = tuple[list[Reject], ParsedFormation | None, dict[str, int] | None]
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
    parser = etree.XMLPullParser(events=("start",), **SAFE_XML_PARSER)
    try:
        parser.feed(prologue)
        for _event, el in parser.read_events():
            return el
    except etree.XMLSyntaxError:
        pass
    return None


class DocumentStream:
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
            self.guard, events=("end",), tag=("{*}formation", "{*}offre-formation"), **SAFE_XML_PARSER
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
        parser = etree.XMLPullParser(events=("end",), tag=record_tag, **SAFE_XML_PARSER)
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
                    el.tag = f"{{{NS_23}}}{local_name(el.tag)}"
            schema = MEMO.schemas.get(self.xsd) or xsd_schema(self.xsd)
            if not schema.validate(rec):
                path, message, xsd_line = _xsd_error(schema, rec)
                where = f" (ligne {self.true_line(xsd_line)})" if xsd_line else ""
                problem = (path, f"non conforme au schéma LHÉO 2.3{where} : {message}")
        if problem is not None:
            self.reader.reject("training", position, problem[0], problem[1])
            return None
        return self.reader.read(record_tree(rec), line)

    def _hostile(self, rec: Any) -> tuple[str, str] | None:
        for el in rec.iter():
            if not isinstance(el.tag, str):
                if el.tag is etree.Entity:
                    return path_to(el.getparent(), rec), f"référence d'entité non résolue : {el.text}"
                continue
            if el.text and TRUNCATED in el.text:
                return path_to(el, rec), f"texte de plus de {MAX_TEXT_BYTES // 1024} Kio : refusé"
            if el.tail and TRUNCATED in el.tail and el is not rec:
                return path_to(el.getparent(), rec), f"texte de plus de {MAX_TEXT_BYTES // 1024} Kio : refusé"
            for name, value in el.attrib.items():
                if TRUNCATED in value:
                    return f"{path_to(el, rec)}/@{name}", f"attribut de plus de {MAX_TEXT_BYTES // 1024} Kio : refusé"
        return None


@dataclass
class ReadSummary:
    """What a reader (process) found besides the records: the document's version and warnings, where it
    broke off."""

    version: str | None
    warnings: list[str]
    broken: tuple[int | None, str] | None


def read_catalogue(
    path: Path,
    refs: References,
    file_name: str,
    xsd: Path | None,
    shard: int,
    shards: int,
    base: dict[str, Any] | None = None,
    dialect: Dialect | None = None,
) -> Generator[Any, None, ReadSummary]:
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
        stream = DocumentStream(
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
    return ReadSummary(local.version, local.warnings, broken)


# ---------------------------------------------------------------- validate: the XSD


def xsd_schema(path: Path) -> Any:
    """The LHÉO XSD in ``path``, parsed once (:data:`~.memo.MEMO`)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return MEMO.remember(MEMO.schemas, path, etree.XMLSchema(etree.parse(str(path), parser)))


def _xsd_error(schema: Any, rec: Any) -> tuple[str, str, int | None]:
    """(element path from the record, message without the namespace, line) of the first XSD error."""
    entry = schema.error_log[0]
    message = str(entry.message).replace("{" + NS_23 + "}", "")
    path = "formation"
    named = re.match(r"Element '([^']+)'", message)
    if named:
        path = named.group(1)
        for el in rec.iter(tag=etree.Element):
            if local_name(el.tag) == named.group(1) and el.sourceline == entry.line:
                path = path_to(el, rec)
                break
    return path, message, entry.line
