"""Extract: the catalogue as a binary stream (a local file, ``.gz``, a ``.zip`` holding one ``.xml``, or an
http(s) URL), and the checks made on a plain file before anything is read."""

from __future__ import annotations

import gzip
import re
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, cast

from passerelles.importing.download import download
from passerelles.importing.limits import HEAD_BYTES, check_encoding, check_xml_end, head, is_compressed
from passerelles.importing.report import ImportRefused

MAX_DOWNLOAD = 2 * 1024 * 1024 * 1024


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


_XML_ENCODING = re.compile(rb"""\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def check_plain_file(path: Path) -> None:
    """Before anything is read into the store: a plain file must end with its root's end tag, and its
    first MiB be UTF-8 unless it declares another encoding (a compressed file is checked as it is read)."""
    if is_compressed(path):
        return
    start = head(path, HEAD_BYTES)
    check_xml_end(path, start)
    declared = _XML_ENCODING.match(start)
    if declared is None or declared.group(1).lower().replace(b"-", b"").replace(b"_", b"") == b"utf8":
        check_encoding(path.name, start, whole=len(start) < HEAD_BYTES)
