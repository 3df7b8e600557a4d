"""Job-offer importer: extract → read → validate → load, for two feeds.

- France Travail « Offres d'emploi v2 » (francetravail.io, ``GET /partenaire/offresdemploi/v2/offres/search``):
  the API's response ``{"resultats": [offre…]}``, an array of ``offre`` or JSON Lines (what
  :meth:`passerelles.offers.client.FranceTravailClient.download` writes).
- schema.org ``JobPosting`` (https://schema.org/JobPosting) as JSON-LD: one object, an array, an object with
  ``@graph``, or JSON Lines.

The file is streamed (JSON Lines line by line, arrays element by element), validated record by record and
loaded in batches through :func:`passerelles.importing.sync.sync_rows`, one transaction per batch: memory
stays bounded whatever the size of the feed, and an interrupted import leaves whole batches only. Communes
are resolved in memory (one query for the whole import), employers once per SIRET and batch.

A bad record (a field over its limit, nesting too deep, an identifier already read in the file…) is
rejected with file, position (``offre <id> (ligne N)`` or ``(élément N)``), field and reason, and never
stops the import; a file that is not JSON, or carries no offer, is refused as a whole.

Bad input never destroys (issue 14). Refused as a whole, before anything is written: a file in UTF-16, a
plain file whose end is cut (a last line that is not JSON, an array or object not closed). Checked before
each batch is written, from what was read so far: a break in the file and too many rejects
(:class:`~passerelles.importing.limits.ImportLimits`) stop the run; a file that is bad from its start
writes nothing, one that breaks after some batches keeps those (valid offers) and closes nothing. A full
feed closes absent offers only when it was read to its end, and only within the limits (``force``).

Offers are closed, never deleted: an offer whose ``validThrough`` has passed is closed with the reason
« date de fin dépassée » (``closed_at`` is that date, so a re-import changes nothing); with ``full=True``,
the open offers of the source that the feed no longer carries are closed « absente du flux ».

Modules: ``feeds`` (extract and read a file, record by record), ``normalise`` (texts made into values:
salary, hours, contract, night and weekend work, kind of structure), ``records`` (one record validated
into an offer row, or rejected), ``loader`` (batches into the store, closing, :func:`import_offers`).
Communes are resolved by :class:`passerelles.places.resolver.CommuneIndex`.
"""

from passerelles.offers.importer.loader import FORMATS, Format, import_offers

__all__ = ["FORMATS", "Format", "import_offers"]
