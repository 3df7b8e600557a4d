"""Small real PDF files for the upload tests, written by hand (a one-page CV, the same with JavaScript run
on opening, one with the script hidden in a compressed object stream, one with an embedded file)."""

from __future__ import annotations

import zlib


def _pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF with a correct cross-reference table: ``objects`` are the bodies of objects 1…n."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


def _page_objects(catalog_extra: bytes = b"") -> list[bytes]:
    text = b"BT /F1 18 Tf 72 720 Td (Camille Martin - CV) Tj ET"
    return [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]


def minimal_pdf() -> bytes:
    return _pdf(_page_objects())


def pdf_with_javascript() -> bytes:
    objects = _page_objects(b"/OpenAction 6 0 R ")
    objects.append(b"<< /Type /Action /S /JavaScript /JS (app.alert\\('bonjour'\\);) >>")
    return _pdf(objects)


def pdf_with_hidden_javascript() -> bytes:
    """The script itself sits in a compressed object stream, its action type written with a #xx escape."""
    inner = b"<< /S /J#61vaScript /JS (app.alert\\(1\\);) >>"
    header = b"6 0 "
    data = zlib.compress(header + inner)
    objects = _page_objects(b"/Names << /JavaScript << /Names [(a) 6 0 R] >> >> ")
    objects.append(
        b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (len(header), len(data))
        + data
        + b"\nendstream"
    )
    return _pdf(objects)


def pdf_with_embedded_file() -> bytes:
    payload = b"MZ not really a program"
    objects = _page_objects(b"/Names << /EmbeddedFiles << /Names [(a.exe) 6 0 R] >> >> ")
    objects.append(b"<< /Type /Filespec /F (a.exe) /EF << /F 7 0 R >> >>")
    objects.append(b"<< /Type /EmbeddedFile /Length %d >>\nstream\n" % len(payload) + payload + b"\nendstream")
    return _pdf(objects)
