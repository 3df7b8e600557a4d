"""LHÉO importer: the training offer as the Carif-Oref network exchanges it (Langage Harmonisé d'Échange
d'informations sur l'Offre de formation, https://lheo.gouv.fr; schema ``lheo-2.3.xsd`` and the code lists
``dict-niveaux``, ``dict-FOAD``, ``dict-etat-recrutement`` of the LHÉO sources).

extract → read → validate → load, streamed so that a 1 GB catalogue runs in bounded memory:

- **extract**: a local file (``.xml``, ``.xml.gz``, ``.zip`` holding one ``.xml``) or an http(s) URL.
- **read**: lxml ``iterparse`` behind :class:`XmlGuard`; each ``formation`` (2.x) or ``offre-formation``
  (1.3) is handled, then cleared. Accepted namespaces: ``http://www.lheo.org/1.3.0``,
  ``http://www.lheo.org/2.2`` and ``http://lheo.gouv.fr/2.3``; anything else is refused as a whole.
- **validate**: LHÉO 2.2 and 2.3 records against the official 2.3 XSD (a 2.2 record is moved to the 2.3
  namespace first: the structures are the same); an XSD error rejects that record with the XSD message.
  LHÉO 1.3 has another structure (``offre-formation/action-formation/organisation-formation``) that the
  2.3 XSD cannot describe: its records get the explicit checks only, and the report says so. Then
  explicit checks for every version: dates, numbers, codes, postcode, commune, column limits
  (:mod:`passerelles.trainings.schemas`).
- **load**: one transaction per batch of formations with :func:`~passerelles.importing.sync.sync_rows`
  (providers, trainings, sessions); ``full=True`` closes (never deletes) the sessions of the source that
  the file no longer carries.

Decisions, for operators:

- **Rejects** name the file, the record (``formation <numéro> (ligne N)``, with action and session
  for a session) and the LHÉO element path. A bad record never stops the import.
- **Unknown commune**: a session whose place (``lieu-de-formation``) matches no commune (INSEE code, else
  postcode + name, else name within the postcode's département) is not valid: it is rejected, with its
  action, and the formation itself is kept. The provider's own address is informational: an unknown
  commune there leaves ``commune_code`` empty.
- **Truncated or broken file**: a plain file that does not end with its root's end tag, or whose first
  MiB is not in UTF-8 (when it declares no other encoding), is refused before anything is read
  (:class:`ImportRefused`, nothing written). A break found while reading (bytes not in the declared
  encoding further on, a broken element in the middle, a compressed file cut) stops the run before the
  next batch is written: nothing written yet, :class:`ImportRefused`; else the batches already written
  stay, the report has ``status="refused"``, a message naming the line, a reject, and ``full=True``
  closes nothing.
- **Too many rejects** (:class:`~passerelles.importing.limits.ImportLimits`, checked before each batch
  is written, from what was read so far) stop the run the same way; ``full=True`` closes no more than
  the limits allow, unless ``force``.
- **Hostile XML**: a DOCTYPE that declares entities (billion laughs, external entities) is refused as a
  whole, before parsing; the parser never loads a DTD, never resolves an entity, never uses the network,
  and keeps libxml2's limits (``huge_tree=False``). A text or attribute over 1 MiB is cut by the guard
  before libxml2 sees it (libxml2 would stop the whole file at 10 MB) and its record is rejected,
  naming the element.
- **Identifiers**: ``numero`` attributes when given (session: ``formation/action/session``); otherwise a
  stable hash of identifying fields (provider, title, certification codes, place, dates), so an edited
  record without numbers comes back as a new one.
- **First occurrence wins** for a provider repeated in the file, so that re-importing the same file
  reports no change. A formation or session number read twice is rejected the second time.
- **Full feeds** close the stored sessions that this import did not load: absent from the file, or
  rejected this time (the feed no longer carries a valid version). A closed session that comes back is
  reopened and counted as updated.
- **LHÉO « léger » / ``lheo-index``** (indexes of offer summaries pointing at the full offers) are imported
  as sessions of their own (source ``lheo-leger``) and linked to their full offer once it is in the store
  (:mod:`.summaries`); a linked summary is left out of the lists, so no offer shows twice.
- **Registration** (LHÉO 2.x): ``session/periode-inscription``, ``session/etat-recrutement`` (dict-etat-
  recrutement; another code: the XSD rejects the record), ``session/modalites-inscription``, and the action's
  ``date-information`` (up to three) and ``adresse-information``, copied to each session of the action; a
  date that does not exist, or a registration end before its start, rejects the session(s).
- **RNCP codes** (``RNCP36004`` or bare digits) link trainings and sessions to the project's certifications
  (``certification_rncp``); codes the reference does not know are listed in one warning.
- **Levels** (``code-niveau-sortie``, dict-niveaux): 2…8 (levels VI…I of 1969) → 1…7, 11…18 (LHÉO 2.3)
  → 1…8, 0 and 1 (not given, no specific level) → none.
- Text is stored as plain text exactly as read (entities decoded, no HTML interpretation).

The package, one module a step: :mod:`.extract` (the file or URL as a stream), :mod:`.guard` (the byte-level
guard), :mod:`.layouts` (namespaces, where each field lives), :mod:`.tree` (a record as the reader walks it),
:mod:`.fields` (code lists, one value read and checked), :mod:`.references` (communes and RNCP codes of the
store), :mod:`.reader` (one record → validated records or rejects), :mod:`.rows` (the tables, records
read-only once checked and converted for the driver ahead), :mod:`.memo` (the reader's caches, bounded),
:mod:`.stream` (the document walked, the XSD), :mod:`.loader` (batches written), :mod:`.importer`
(:func:`import_lheo`, the whole run).
"""

from passerelles.importing.report import ImportRefused
from passerelles.trainings.lheo.guard import MAX_TEXT_BYTES, TRUNCATED, XmlGuard
from passerelles.trainings.lheo.importer import import_lheo

__all__ = ["MAX_TEXT_BYTES", "TRUNCATED", "ImportRefused", "XmlGuard", "import_lheo"]
