"""ROME 4 importer: extract → read → validate → load, for France Travail's ``unix_*_vNNN_utf8.csv`` export.

Columns are listed explicitly (the export's own headers; France Travail, ROME 4.0 open data on
data.gouv.fr / francetravail.io). Every row is validated; a bad row is rejected with file, line, field
and reason and never stops the import. Everything is written in one transaction, so an interrupted
import leaves the store as it was. Re-importing the same export reports only ``unchanged`` rows.

Bad input never destroys (issue 14): a file cut before its end, with only its header, or whose rejects
exceed the limits (:class:`~passerelles.importing.limits.ImportLimits`, e.g. converted to Latin-1) is
refused as a whole and nothing is written. Rows absent from the export are removed only from a table whose
files were all read without a single reject, and only within the limits (``force`` for a real purge).

Modules: ``extract`` (the export's files and columns, a directory, .zip or URL made into a local
directory, its version and digest), ``reader`` (every file read, then validated into the entities to
load), ``tables`` (one validating step per table), ``loader`` (the entities diffed against the store and
written, :func:`import_rome`).
"""

from passerelles.rome.importer.extract import FILES, detect_version, export_checksum, extract
from passerelles.rome.importer.loader import import_rome, load_entities, loaded_checksum
from passerelles.rome.importer.reader import read_export
from passerelles.rome.importer.tables import Entity

__all__ = [
    "FILES",
    "Entity",
    "detect_version",
    "export_checksum",
    "extract",
    "import_rome",
    "load_entities",
    "loaded_checksum",
    "read_export",
]
