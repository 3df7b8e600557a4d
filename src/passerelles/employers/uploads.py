"""CVs joined to applications: a PDF of 5 MB at most, its type checked from its content (the ``%PDF-``
signature, then parsed whole by pypdf), refused when it carries active content (JavaScript, an action run
on opening, a launch action, embedded files…), stored outside the web root (``Settings.cv_dir``) under a
random name. The uploaded file's name is never used: it names nothing on disk.

Why parse and not only scan the bytes: a PDF may keep its objects inside compressed object streams, where
``/JavaScript`` never appears as such; and a name may be written with ``#xx`` escapes (``/J#61vaScript``).
pypdf reads both. Every object reachable from the document's trailer is visited (what a reader would act
on), within a bound on their number.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from passerelles.accounts.services import InvalidInput
from passerelles.settings import Settings

# Keys and names that make a PDF act on its own: scripts, actions on opening or on events, programs
# launched, files carried inside, rich media and XML forms (which carry scripts).
ACTIVE = {
    "/JS",
    "/JavaScript",
    "/OpenAction",
    "/AA",
    "/Launch",
    "/EmbeddedFile",
    "/EmbeddedFiles",
    "/RichMedia",
    "/XFA",
    "/SubmitForm",
    "/ImportData",
    "/GoToR",
    "/GoToE",
}
MAX_OBJECTS = 100_000
CV_NAME_LENGTH = 32  # hex characters of the stored name
FIELD = "cv"

logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged PDF is refused below, not logged at length


def check_pdf(data: bytes, max_bytes: int) -> None:
    """Raise ``InvalidInput`` (field « cv ») with a French message unless ``data`` is a clean PDF."""
    if not data:
        raise InvalidInput(FIELD, "Le fichier du CV est vide.")
    if len(data) > max_bytes:
        raise InvalidInput(FIELD, f"Fichier trop volumineux : le CV doit peser {max_bytes // 1_048_576} Mo au plus.")
    if not data[:1024].lstrip().startswith(b"%PDF-"):
        raise InvalidInput(FIELD, "Ce fichier n'est pas un PDF (son contenu n'en est pas un, quel que soit son nom).")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise InvalidInput(FIELD, "Ce PDF est protégé par un mot de passe : envoyez une version sans protection.")
        found = _active_content(reader.trailer)
        if len(reader.pages) == 0:
            raise InvalidInput(FIELD, "Ce PDF n'a aucune page.")
    except InvalidInput:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError):
        raise InvalidInput(FIELD, "Ce PDF est illisible ou endommagé.") from None
    if found:
        raise InvalidInput(
            FIELD,
            "Ce PDF contient du contenu actif (script, action automatique ou fichier joint) : il est refusé. "
            "Enregistrez votre CV à nouveau en PDF simple (« Imprimer » puis « Enregistrer en PDF »).",
        )


def _active_content(root: Any) -> bool:
    """Whether an object reachable from ``root`` is a script, an action or an embedded file."""
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [root]
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        visited += 1
        if visited > MAX_OBJECTS:
            raise InvalidInput(FIELD, "Ce PDF est trop complexe pour être vérifié : envoyez un CV plus simple.")
        if isinstance(item, NameObject):
            if str(item) in ACTIVE:
                return True
        elif isinstance(item, DictionaryObject):  # streams are dictionaries too (their data is not decoded)
            for name, value in item.items():
                if str(name) in ACTIVE:
                    return True
                if str(name) != "/Parent":  # the page tree is reached from its root
                    stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return False


def store_cv(settings: Settings, data: bytes) -> str:
    """Write the CV under a new random name (mode 0600, never overwriting) and return that name."""
    folder = settings.cv_dir
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = secrets.token_hex(CV_NAME_LENGTH // 2)
    path = folder / f"{name}.pdf"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return name


def cv_path(settings: Settings, name: str) -> Path | None:
    """The stored file of a CV name as the database keeps it; any other name is not found."""
    if len(name) != CV_NAME_LENGTH or any(c not in "0123456789abcdef" for c in name):
        return None
    path = settings.cv_dir / f"{name}.pdf"
    return path if path.is_file() else None


def remove_cv(settings: Settings, name: str | None) -> None:
    path = cv_path(settings, name) if name else None
    if path is not None:
        path.unlink(missing_ok=True)
