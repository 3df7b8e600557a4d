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
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import io
import json
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, Literal, TypeVar, cast

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.sql.schema import Table
from unidecode import unidecode

from passerelles.importing.download import download
from passerelles.importing.limits import ImportLimits, check_not_utf16, is_compressed, tail, truncated
from passerelles.importing.pipeline import auto_workers, sharded
from passerelles.importing.report import ImportRefused, ImportReport, Reject
from passerelles.importing.sync import (
    CHUNK,
    Bound,
    bind_ahead,
    close_missing,
    defer_indexes,
    restore_indexes,
    row_hash,
    sync_rows,
    tune_for_bulk,
)
from passerelles.offers import schemas
from passerelles.offers.models import Employer, JobOffer
from passerelles.places.models import Commune
from passerelles.places.names import name_key

Format = Literal["france_travail", "jobposting"]
FORMATS: tuple[str, ...] = ("france_travail", "jobposting")
JOB_OFFER = cast(Table, JobOffer.__table__)
EMPLOYER = cast(Table, Employer.__table__)
KEY = ("source", "external_id")
CLOSED_EXPIRED = "date de fin dépassée"
CLOSED_MISSING = "absente du flux"
WRAPPER_KEY: dict[str, str] = {"france_travail": "resultats", "jobposting": "@graph"}
MAX_RECORD_BYTES = 32 * 1024 * 1024  # one offer; a 10 MB description still reaches validation, and is rejected there
MAX_DOWNLOAD = 8 * 1024 * 1024 * 1024
MAX_DETAILED_REJECTS = 10_000
TOO_DEEP = "imbrication trop profonde (plus de 1 000 niveaux de listes ou d'objets)"
LINES_SUFFIXES = {".jsonl", ".ndjson"}

CODE_ROME = re.compile(r"^[A-N][0-9]{4}$")
ROME_IN_TEXT = re.compile(r"\b([A-N][0-9]{4})\b")
POSTCODE = re.compile(r"^[0-9]{5}$")
POSTCODE_IN_TEXT = re.compile(r"\b([0-9]{5})\b")
SIRET = re.compile(r"^[0-9]{14}$")
CONTRACT_CODE = re.compile(r"^[A-Z]{2,5}$")
DEPARTEMENT_PREFIX = re.compile(r"^\s*(?:[0-9]{2,3}|2A|2B)\s*-\s*")
WS = re.compile(r"[ \t\n\r]*")
JSON_MARK = re.compile(r'["\[\]{}]')
JSON_STRING_END = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # from just after the opening quote
ESCAPED_BYTES = re.compile(r"[\udc80-\udcff]")

# ---------------------------------------------------------------- normalisation (pure functions)

SALARY_PERIOD = {"mensuel": "mois", "annuel": "an", "horaire": "heure"}
SALARY_AMOUNT = re.compile(r"([0-9][0-9 \u00a0\u202f]*(?:[.,][0-9]+)?)\s*(?:Euros?|EUR|€)", re.IGNORECASE)


def _amount(text: str) -> float:
    return float(re.sub(r"[ \u00a0\u202f]", "", text).replace(",", "."))


@functools.lru_cache(maxsize=4096)  # a feed repeats the same few hundred wordings
def parse_salary(libelle: str | None) -> tuple[float | None, float | None, str | None]:
    """(min, max, period) from France Travail's ``salaire.libelle``; (None, None, None) when unclear.

    « Mensuel de 1800.00 Euros à 2000.00 Euros sur 12 mois » → (1800, 2000, "mois");
    « Horaire de 11.88 Euros » → (11.88, 11.88, "heure"): a single amount is both bounds.
    """
    if not libelle:
        return None, None, None
    words = libelle.strip().split(None, 1)
    period = SALARY_PERIOD.get(words[0].lower()) if words else None
    if period is None:
        return None, None, None
    # Only what precedes « sur N mois »: the number of months is not an amount.
    amounts = [_amount(m) for m in SALARY_AMOUNT.findall(re.split(r"\bsur\s+[0-9]", libelle)[0])]
    if not amounts or len(amounts) > 2 or any(a <= 0 for a in amounts):
        return None, None, None
    low, high = min(amounts), max(amounts)
    return low, high, period


FT_HOURS = re.compile(r"^\s*([0-9]{1,2})\s*H\s*([0-9]{2})?", re.IGNORECASE)
WEEKLY_HOURS = re.compile(
    r"\b([0-9]{1,2}(?:[.,][0-9]+)?)\s*(?:h(?=[0-9])|h\b|heures?\b)\s*([0-9]{2})?[^0-9]{0,20}?(?:semaine|hebdo)",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=4096)
def parse_hours(text: str | None, *, weekly_only: bool = False) -> float | None:
    """Weekly hours: « 35H/semaine » → 35.0, « 24H30/semaine » → 24.5.

    France Travail's ``dureeTravailLibelle`` always states a weekly duration first. For free text
    (``weekly_only``, JobPosting ``workHours``) the text must say « semaine » or « hebdo », so that a
    schedule such as « 8h-17h » is not read as 8 hours a week.
    """
    if not text:
        return None
    if weekly_only:
        m = WEEKLY_HOURS.search(text)
        if not m:
            return None
        hours = float(m.group(1).replace(",", ".")) + (int(m.group(2)) / 60 if m.group(2) else 0)
    else:
        m = FT_HOURS.match(text)
        if not m:
            return None
        hours = int(m.group(1)) + (int(m.group(2)) / 60 if m.group(2) else 0)
    return round(hours, 2) if 0 < hours <= 60 else None


def working_time(label: str | None) -> str | None:
    """« Temps plein » → temps_plein, « Temps partiel » → temps_partiel (``dureeTravailLibelleConverti``)."""
    if not label:
        return None
    text = label.strip().lower()
    if text.startswith("temps plein"):
        return "temps_plein"
    if text.startswith("temps partiel"):
        return "temps_partiel"
    return None


def ft_contract_type(type_contrat: str | None, nature: str | None, alternance: bool | None) -> str | None:
    """France Travail's ``typeContrat`` code (CDI, CDD, MIS, SAI, LIB…), or the work-study contract.

    A work-study offer is APP (apprentissage) or PRO (professionnalisation) as ``natureContrat`` says, or
    ALT when it only says ``alternance``.
    """
    nature_l = (nature or "").lower()
    if "apprenti" in nature_l:
        return "APP"
    if "professionnalisation" in nature_l:
        return "PRO"
    if alternance:
        return "ALT"
    code = (type_contrat or "").strip().upper()
    return code if CONTRACT_CODE.match(code) else None


EMPLOYMENT_TYPES: dict[str, tuple[str | None, str | None]] = {
    # schema.org employmentType values, and the French codes some feeds put there.
    "FULL_TIME": (None, "temps_plein"),
    "PART_TIME": (None, "temps_partiel"),
    "CONTRACTOR": ("LIB", None),
    "CDI": ("CDI", None),
    "CDD": ("CDD", None),
    "INTERIM": ("MIS", None),
    "MIS": ("MIS", None),
    "SAISONNIER": ("SAI", None),
    "SAI": ("SAI", None),
    "LIBERAL": ("LIB", None),
    "LIB": ("LIB", None),
    "APPRENTISSAGE": ("APP", None),
    "APPRENTICESHIP": ("APP", None),
    "APP": ("APP", None),
    "PROFESSIONNALISATION": ("PRO", None),
    "PRO": ("PRO", None),
    "TEMPS_PLEIN": (None, "temps_plein"),
    "TEMPS_PARTIEL": (None, "temps_partiel"),
}


def jobposting_contract(employment_type: str | list[str] | None) -> tuple[str | None, str | None]:
    """(contract_type, working_time) from ``employmentType``; TEMPORARY, INTERN… say too little: None."""
    values = [employment_type] if isinstance(employment_type, str) else list(employment_type or [])
    contract = time = None
    for raw in values:
        key = re.sub(r"[^A-Z]+", "_", unidecode(raw).upper()).strip("_")
        c, t = EMPLOYMENT_TYPES.get(key, (None, None))
        contract = contract or c
        time = time or t
    return contract, time


NIGHT_NO = re.compile(
    r"\b(?:pas|jamais|aucun|aucune|sans|hors)\s+(?:de\s+)?(?:travail\s+(?:de\s+)?|poste\s+(?:de\s+)?|garde\s+(?:de\s+)?)?nuits?\b",
    re.IGNORECASE,
)
NIGHT_YES = re.compile(
    r"\b(?:de|en)\s+nuit\b|\bnuits?\s+(?:fixes?|uniquement|exclusivement)\b|\b[0-9]+\s+nuits?\b"
    r"|\bveill(?:eur|euse|eurs|euses)\b",
    re.IGNORECASE,
)
WEEKEND_NO = re.compile(
    r"\b(?:pas|jamais|aucun|aucune|sans|hors)\s+(?:de\s+)?(?:travail\s+(?:le\s+|les\s+)?)?week[- ]?ends?\b"
    r"|\b(?:du\s+)?lundi\s+au\s+vendredi\b",
    re.IGNORECASE,
)
WEEKEND_YES = re.compile(
    r"\bweek[- ]?ends?\b|\bsamedis?\s+(?:et|,)\s+dimanches?\b|\bdimanches?\s+et\s+(?:les\s+)?jours?\s+f[ée]ri[ée]s\b",
    re.IGNORECASE,
)


def _around(lower: str, words: tuple[str, ...], before: int = 45, after: int = 30) -> str:
    """The pieces of ``lower`` around each occurrence of ``words``: the patterns below then run on a few
    dozen characters instead of a whole description (they are slow on long texts)."""
    spans: list[tuple[int, int]] = []
    for word in words:
        start = lower.find(word)
        while start != -1:
            spans.append((max(start - before, 0), start + len(word) + after))
            start = lower.find(word, start + 1)
    spans.sort()
    merged: list[list[int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return "\n|\n".join(lower[lo:hi] for lo, hi in merged)


def _clear(text: str, yes: re.Pattern[str], no: re.Pattern[str]) -> bool | None:
    negated = no.search(text)
    rest = no.sub(" ", text) if negated else text
    said = yes.search(rest)
    if said and negated:
        return None  # the text says both: not clear
    if said:
        return True
    if negated:
        return False
    return None


NIGHT_WORDS = ("nuit", "veill")
WEEKEND_WORDS = ("week", "samedi", "dimanche", "lundi")


def detect_night_work(text: str | None, *, lowered: bool = False) -> bool | None:
    """True/False only when the text says it plainly (« poste de nuit », « pas de nuit »); else None."""
    if not text:
        return None
    pieces = _around(text if lowered else text.lower(), NIGHT_WORDS)
    return _clear(pieces, NIGHT_YES, NIGHT_NO) if pieces else None


def detect_weekend_work(text: str | None, *, lowered: bool = False) -> bool | None:
    """True/False only when plain (« un week-end sur deux », « du lundi au vendredi »); else None."""
    if not text:
        return None
    pieces = _around(text if lowered else text.lower(), WEEKEND_WORDS)
    return _clear(pieces, WEEKEND_YES, WEEKEND_NO) if pieces else None


_A = "['’]"  # straight or typographic apostrophe
STRUCTURE_NAMES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bE\.?H\.?P\.?A\.?D\b", re.IGNORECASE), "ehpad"),
    (re.compile(r"\bmaison de retraite\b", re.IGNORECASE), "ehpad"),
    (re.compile(r"\bUSLD\b"), "usld"),
    (re.compile(r"\bunit[ée] de soins de longue dur[ée]e\b", re.IGNORECASE), "usld"),
    (re.compile(r"\bIME\b"), "ime"),
    (re.compile(r"\binstitut m[ée]dico-[ée]ducatif\b", re.IGNORECASE), "ime"),
    (re.compile(r"\bIEM\b"), "iem"),
    (re.compile(rf"\binstitut d{_A}[ée]ducation motrice\b", re.IGNORECASE), "iem"),
    (re.compile(r"\bMAS\b"), "mas"),
    (re.compile(rf"\bmaison d{_A}accueil sp[ée]cialis[ée]e\b", re.IGNORECASE), "mas"),
    (re.compile(r"\bFAM\b"), "fam"),
    (re.compile(rf"\bfoyer d{_A}accueil m[ée]dicalis[ée]\b", re.IGNORECASE), "fam"),
    (re.compile(r"\bfoyer de vie\b|\bfoyer occupationnel\b", re.IGNORECASE), "foyer-de-vie"),
    (re.compile(r"\bE\.?S\.?A\.?T\b"), "esat"),
    (re.compile(r"\bMECS\b"), "mecs"),
    (re.compile(rf"\bmaison d{_A}enfants [àa] caract[èe]re social\b", re.IGNORECASE), "mecs"),
    (re.compile(r"\bCHRS\b"), "chrs"),
    (re.compile(rf"\bcentre d{_A}h[ée]bergement et de r[ée]insertion sociale\b", re.IGNORECASE), "chrs"),
    (re.compile(r"\bSSIAD\b"), "ssiad"),
    (re.compile(r"\bservice de soins infirmiers [àa] domicile\b", re.IGNORECASE), "ssiad"),
    (re.compile(r"\bSAAD\b"), "saad"),
    (
        re.compile(
            rf"\bservice d{_A}aide et d{_A}accompagnement [àa] domicile\b|\baide [àa] domicile\b|"
            r"\bservices? [àa] domicile\b",
            re.IGNORECASE,
        ),
        "saad",
    ),
    (re.compile(r"\bcentre hospitalier\b(?! sp[ée]cialis)|\bC\.?H\.?U\b|\bh[ôo]pital\b", re.IGNORECASE), "hopital"),
    (re.compile(r"\bcentre hospitalier sp[ée]cialis[ée]\b|\bEPSM\b", re.IGNORECASE), "hopital-psychiatrique"),
    (re.compile(r"\b(?:poly)?clinique\b", re.IGNORECASE), "clinique"),
    (re.compile(r"\bcr[eè]che\b|\bmulti-accueil\b", re.IGNORECASE), "creche"),
    (re.compile(r"\bcentre de sant[ée]\b", re.IGNORECASE), "centre-de-sante"),
    (
        re.compile(
            r"\bcabinet m[ée]dical\b|\bcabinet de m[ée]decine g[ée]n[ée]rale\b|"
            r"\bmaison de sant[ée] pluriprofessionnelle\b",
            re.IGNORECASE,
        ),
        "cabinet-medical",
    ),
    (re.compile(r"\bcentre social\b", re.IGNORECASE), "centre-social"),
    (re.compile(r"\bMDPH\b|\bmaison d[ée]partementale des personnes handicap[ée]es\b", re.IGNORECASE), "mdph"),
    (re.compile(rf"\baide sociale [àa] l{_A}enfance\b", re.IGNORECASE), "service-ase"),
    (re.compile(r"(?i:\bprotection maternelle et infantile\b)|\bPMI\b"), "pmi"),
    (re.compile(rf"\bcaisse d{_A}allocations familiales\b", re.IGNORECASE), "caf"),
    (re.compile(r"\bCCAS\b|\bmairie\b", re.IGNORECASE), "collectivite-territoriale"),
]
# A unit or a specialised hospital named after its hospital is that unit, not the hospital.
_MORE_SPECIFIC = {"usld": "hopital", "hopital-psychiatrique": "hopital"}


@functools.lru_cache(maxsize=65536)
def structure_type_from_name(name: str | None) -> str | None:
    """A structure type (``structure_types.yaml`` slug) when the employer's name says exactly one."""
    if not name:
        return None
    found = {slug for pattern, slug in STRUCTURE_NAMES if pattern.search(name)}
    found -= {general for specific, general in _MORE_SPECIFIC.items() if specific in found}
    return found.pop() if len(found) == 1 else None


# ---------------------------------------------------------------- communes


@dataclass(frozen=True, slots=True)
class Place:
    commune_code: str | None
    postcode: str | None
    city: str | None
    latitude: float | None
    longitude: float | None


class Invalid(Exception):
    """One record is not loadable: ``field`` as the feed names it, ``reason`` in French."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class CommuneIndex:
    """Every commune in memory (about 37 000): INSEE code, postcode and name look-ups without a query."""

    def __init__(self, rows: Iterable[tuple[str, str, list[str] | None, int | None, float | None, float | None]]):
        self.by_code: dict[str, tuple[str, float | None, float | None]] = {}
        by_postcode: dict[str, list[tuple[int, int, str]]] = {}
        by_name: dict[str, list[str]] = {}
        for code, name, postcodes, population, lat, lon in rows:
            self.by_code[code] = (name, lat, lon)
            for p in postcodes or []:
                # The most specific commune first (an arrondissement before its city), then the most populous.
                by_postcode.setdefault(p, []).append((len(postcodes or []), -(population or 0), code))
            by_name.setdefault(name_key(name), []).append(code)
        self.by_postcode = {p: [c for _, _, c in sorted(v)] for p, v in by_postcode.items()}
        self.by_name = by_name

    @classmethod
    def load(cls, conn: Connection) -> CommuneIndex:
        table = cast(Table, Commune.__table__)
        rows = conn.execute(
            select(
                table.c.code_insee,
                table.c.name,
                table.c.postcodes,
                table.c.population,
                table.c.latitude,
                table.c.longitude,
            )
        )
        return cls(cast(Any, row) for row in rows)

    def __len__(self) -> int:
        return len(self.by_code)

    def _place(self, code: str, postcode: str | None) -> Place:
        name, lat, lon = self.by_code[code]
        return Place(code, postcode, name, lat, lon)

    def _by_postcode(self, postcode: str, city: str | None) -> Place | None:
        candidates = self.by_postcode.get(postcode)
        if not candidates:
            return None
        if len(candidates) > 1 and city:
            wanted = name_key(city)
            for code in candidates:
                if name_key(self.by_code[code][0]) == wanted:
                    return self._place(code, postcode)
        return self._place(candidates[0], postcode)

    def resolve(
        self,
        *,
        code: str | None,
        postcode: str | None,
        city: str | None,
        code_field: str,
        postcode_field: str,
        notes: Counter[str],
    ) -> Place:
        """INSEE code first, then postcode (with the city's name among several communes), then a name that
        designates one commune only. A code or postcode that matches no commune rejects the record."""
        if postcode is not None and not POSTCODE.match(postcode):
            if code and code.upper() in self.by_code:
                return self._place(code.upper(), None)  # the INSEE code is enough: the bad postcode is dropped
            raise Invalid(postcode_field, f"code postal invalide : {postcode!r}")
        if code:
            code = code.upper()
            if code in self.by_code:
                return self._place(code, postcode)
            place = self._by_postcode(postcode, city) if postcode else None
            if place is None:
                raise Invalid(code_field, f"commune inconnue : code INSEE {code!r}")
            notes["code commune inconnu, commune retrouvée par son code postal"] += 1
            return place
        if postcode:
            place = self._by_postcode(postcode, city)
            if place is None:
                raise Invalid(postcode_field, f"commune inconnue : code postal {postcode!r}")
            return place
        if city:
            codes = self.by_name.get(name_key(city), [])
            if len(codes) == 1:
                return self._place(codes[0], None)
        notes["lieu de travail sans commune précise (enregistrée sans commune)"] += 1
        return Place(None, None, city[:200] if city else None, None, None)


# ---------------------------------------------------------------- extract


def extract(source: str | Path, workdir: Path) -> Path:
    """A local file for ``source``: a path, or an http(s) URL downloaded into ``workdir``."""
    url = str(source)
    if url.startswith(("http://", "https://")):
        return download(url, workdir / "offres.json", MAX_DOWNLOAD)
    path = Path(source)
    if not path.is_file():
        raise ImportRefused(f"fichier introuvable : {source}")
    return path


# ---------------------------------------------------------------- read


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as read: ``data`` is the parsed JSON, or None with ``error`` when unreadable."""

    index: int
    unit: str  # "ligne" | "élément"
    data: Any
    error: str | None = None
    excerpt: str | None = None


def _open(path: Path) -> IO[bytes]:
    with path.open("rb") as fh:
        gzipped = fh.read(2) == b"\x1f\x8b"
    return cast(IO[bytes], gzip.open(path, "rb")) if gzipped else path.open("rb")


class _Unreadable(Exception):
    """One value of a stream cannot be decoded (too deep, too big): skipped, its record rejected."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _TextStream:
    """A JSON text read piece by piece: values are decoded one at a time with the C scanner of ``json``,
    so that an array of a million offers never sits in memory."""

    CHUNK = 1 << 20

    def __init__(self, fh: IO[str]) -> None:
        self.fh = fh
        self.buf = ""
        self.pos = 0
        self.consumed = 0  # characters dropped from the front of buf
        self.eof = False
        self.decoder = json.JSONDecoder()

    @property
    def offset(self) -> int:
        return self.consumed + self.pos

    def _fill(self) -> bool:
        if self.eof:
            return False
        if self.pos:
            self.consumed += self.pos
            self.buf = self.buf[self.pos :]
            self.pos = 0
        data = self.fh.read(max(self.CHUNK, len(self.buf)))  # doubles for a big value
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def peek(self) -> str:
        while True:
            m = WS.match(self.buf, self.pos)
            self.pos = m.end() if m else self.pos
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return ""

    def expect(self, char: str) -> None:
        found = self.peek()
        if found != char:
            raise json.JSONDecodeError(f"« {char} » attendu, « {found or 'fin du fichier'} » trouvé", "", 0)
        self.pos += 1

    def value(self) -> tuple[Any, bool]:
        """The next JSON value, and whether its text holds undecodable bytes."""
        self.peek()
        while True:
            try:
                obj, end = self.decoder.raw_decode(self.buf, self.pos)
            except RecursionError:
                raise _Unreadable(TOO_DEEP) from None
            except json.JSONDecodeError:
                if len(self.buf) - self.pos > MAX_RECORD_BYTES:
                    raise _Unreadable(f"élément trop volumineux (plus de {MAX_RECORD_BYTES} octets)") from None
                if self._fill():
                    continue
                raise
            if end == len(self.buf) and self._fill():
                continue  # a number cut by the end of the buffer: decode again with what follows
            # Undecodable UTF-8 bytes come back as lone surrogates U+DC80..U+DCFF (``surrogateescape``).
            bad = ESCAPED_BYTES.search(self.buf, self.pos, end) is not None
            self.pos = end
            return obj, bad

    def skip(self) -> None:
        """Move past the array or object (or string) at the position without decoding it: one that
        :meth:`value` could not decode. Raises :class:`json.JSONDecodeError` if the file ends inside."""
        self.peek()
        depth = 0
        while True:
            if self.pos >= len(self.buf) and not self._fill():
                raise json.JSONDecodeError("fin du fichier au milieu d'un élément", "", 0)
            mark = JSON_MARK.search(self.buf, self.pos)
            if mark is None:
                self.pos = len(self.buf)
                continue
            if mark.group() == '"':
                end = JSON_STRING_END.match(self.buf, mark.end())
                if end is None:  # the string goes on past the buffer
                    self.pos = mark.start()
                    if not self._fill():
                        raise json.JSONDecodeError("fin du fichier au milieu d'un texte", "", 0)
                    continue
                self.pos = end.end()
            else:
                self.pos = mark.end()
                depth += 1 if mark.group() in "[{" else -1
            if depth <= 0:
                return


class FeedReader:
    """The records of one feed file: a JSON array, an object (``resultats``/``@graph`` or one offer), or
    JSON Lines. ``complete`` turns False when the file breaks off: the offers before the break are read,
    the rest is lost, and the feed must not then be taken as complete."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.fmt = fmt
        self.complete = True
        self.layout = self._sniff()
        # Records (by their number from 0) whose JSON Lines text need not be decoded: another reader
        # process handles them (see passerelles.importing.pipeline). They come out as empty records.
        self.skip: Callable[[int], bool] | None = None

    def _sniff(self) -> str:
        with _open(self.path) as fh:
            try:
                head = fh.read(4096)
            except (OSError, EOFError) as exc:
                raise ImportRefused(f"{self.path.name} : fichier illisible ({exc})") from exc
            if head.startswith((b"\xff\xfe", b"\xfe\xff")):
                check_not_utf16(self.path.name, head)
            text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
            if not text:
                raise ImportRefused(f"{self.path.name} : fichier vide, aucune offre")
            if any(s.lower() in LINES_SUFFIXES for s in self.path.suffixes):
                check_not_utf16(self.path.name, head)
                return "lines"  # each line is judged on its own
            first = text[:1]
            if first not in (b"[", b"{"):
                raise ImportRefused(
                    f"{self.path.name} : ce n'est pas un fichier JSON (premier caractère {first.decode('latin-1')!r})"
                )
            check_not_utf16(self.path.name, head)  # "[" or "{" then NUL bytes: UTF-16 without its mark
            if first == b"[":
                return "array"
            # One complete object on the first line followed by another one: JSON Lines.
            fh.seek(0)
            line = fh.readline(MAX_RECORD_BYTES + 1)
            try:
                json.loads(line)
            except ValueError:
                return "object"
            rest = fh.read(4096).lstrip()
            return "lines" if rest.startswith(b"{") else "object"

    def __iter__(self) -> Iterator[RawRecord]:
        if self.layout == "lines":
            yield from self._lines()
            return
        with _open(self.path) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape")
            stream = _TextStream(text)
            try:
                if self.layout == "array":
                    yield from self._array(stream, 0)
                else:
                    yield from self._object(stream)
            except (json.JSONDecodeError, EOFError, OSError) as exc:
                raise ImportRefused(f"{self.path.name} : JSON illisible ({_json_error(exc)})") from exc
            except _Unreadable as exc:  # the file's one offer, or a value around the offers' list
                raise ImportRefused(f"{self.path.name} : {exc.reason}") from None

    def _lines(self) -> Iterator[RawRecord]:
        skip = self.skip
        ordinal = -1  # records yielded so far, minus one
        with _open(self.path) as fh:
            number = 0
            while True:
                try:
                    line = fh.readline(MAX_RECORD_BYTES + 1)
                except (OSError, EOFError) as exc:
                    self.complete = False
                    yield RawRecord(number + 1, "ligne", None, f"fichier interrompu : {exc} ; la suite est ignorée")
                    return
                if not line:
                    return
                number += 1
                if number == 1:
                    line = line.removeprefix(b"\xef\xbb\xbf")
                if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
                    while line and not line.endswith(b"\n"):  # skip the rest of this line
                        line = fh.readline(1 << 20)
                    ordinal += 1
                    yield RawRecord(number, "ligne", None, f"ligne trop longue (plus de {MAX_RECORD_BYTES} octets)")
                    continue
                if not line.strip():
                    continue
                ordinal += 1
                if skip is not None and skip(ordinal):
                    yield RawRecord(number, "ligne", None)
                    continue
                try:
                    data = _loads(line)
                except UnicodeDecodeError:
                    yield RawRecord(number, "ligne", None, "encodage invalide : UTF-8 attendu", _excerpt(line))
                    continue
                except RecursionError:
                    yield RawRecord(number, "ligne", None, TOO_DEEP, _excerpt(line[:200]))
                    continue
                except ValueError as exc:
                    if not line.endswith(b"\n"):  # the last line, cut: the file was cut
                        self.complete = False
                        yield RawRecord(
                            number, "ligne", None, "dernière ligne incomplète : fichier tronqué", _excerpt(line)
                        )
                        return
                    yield RawRecord(number, "ligne", None, f"JSON illisible : {_json_error(exc)}", _excerpt(line))
                    continue
                yield RawRecord(number, "ligne", data)

    def _array(self, stream: _TextStream, index: int) -> Generator[RawRecord, None, int]:
        """Elements of the array at the stream's position (``[`` not yet read); returns their number."""
        stream.expect("[")
        if stream.peek() == "]":
            stream.pos += 1
            return index
        while True:
            index += 1
            try:
                try:
                    data, bad = stream.value()
                except _Unreadable as exc:  # too deep or too big: skipped, rejected, the next one read
                    stream.skip()
                    yield RawRecord(index, "élément", None, exc.reason)
                else:
                    if bad:
                        yield RawRecord(index, "élément", None, "encodage invalide : UTF-8 attendu")
                    else:
                        yield RawRecord(index, "élément", data)
                sep = stream.peek()
                if sep == ",":
                    stream.pos += 1
                    continue
                if sep == "]":
                    stream.pos += 1
                    return index
                raise json.JSONDecodeError(f"« , » ou « ] » attendu, « {sep or 'fin du fichier'} » trouvé", "", 0)
            except json.JSONDecodeError as exc:
                if index == 1:
                    raise
                self.complete = False
                yield RawRecord(
                    index,
                    "élément",
                    None,
                    f"JSON illisible vers le caractère {stream.offset} ({_json_error(exc)}) : "
                    "la suite du fichier est ignorée",
                )
                return index

    def _object(self, stream: _TextStream) -> Iterator[RawRecord]:
        """A top-level object: the wrapper's array (``resultats`` or ``@graph``), or else one offer."""
        wrapper = WRAPPER_KEY[self.fmt]
        stream.expect("{")
        fields: dict[str, Any] = {}
        streamed = False
        if stream.peek() == "}":
            stream.pos += 1
        else:
            last = 0
            while True:
                try:
                    key, _ = stream.value()
                    if not isinstance(key, str):
                        raise json.JSONDecodeError("nom de champ attendu", "", 0)
                    stream.expect(":")
                    if key == wrapper and stream.peek() == "[":
                        streamed = True
                        last = yield from self._array(stream, 0)
                        if not self.complete:
                            return
                    else:
                        fields[key], _ = stream.value()
                    sep = stream.peek()
                    if sep == ",":
                        stream.pos += 1
                        continue
                    if sep == "}":
                        stream.pos += 1
                        break
                    raise json.JSONDecodeError(f"« , » ou « }} » attendu, « {sep or 'fin du fichier'} » trouvé", "", 0)
                except json.JSONDecodeError as exc:
                    if not streamed:
                        raise
                    # The offers were read, but the file breaks off after them: keep them, trust nothing more.
                    self.complete = False
                    yield RawRecord(
                        last + 1,
                        "élément",
                        None,
                        f"JSON illisible après la liste « {wrapper} » vers le caractère {stream.offset} "
                        f"({_json_error(exc)}) : la suite du fichier est ignorée",
                    )
                    return
        if streamed:
            return
        looks_like_offer = (
            ("id" in fields or "intitule" in fields)
            if self.fmt == "france_travail"
            else ("@type" in fields or "title" in fields)
        )
        if not looks_like_offer:
            raise ImportRefused(
                f"{self.path.name} : aucune offre (objet JSON sans « {wrapper} » ni champs d'une offre)"
            )
        yield RawRecord(1, "élément", fields)


def _loads(line: bytes) -> Any:
    """One JSON Lines record: orjson (about twice as fast), or ``json`` for whatever orjson refuses (a
    lone surrogate, NaN, an integer over 64 bits, invalid text…), so that outcomes and messages stay
    those of ``json``."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def _json_error(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg
    return str(exc)


def _excerpt(raw: bytes | str) -> str:
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return text.strip()[:200]


# ---------------------------------------------------------------- validate

PYDANTIC_REASONS = {
    "missing": "champ obligatoire absent",
    "string_type": "texte attendu",
    "string_too_short": "valeur vide",
    "string_unicode": "caractère interdit (encodage invalide)",
    "float_type": "nombre attendu",
    "float_parsing": "nombre attendu",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "bool_type": "booléen attendu (true ou false)",
    "bool_parsing": "booléen attendu (true ou false)",
    "model_type": "objet attendu",
    "model_attributes_type": "objet attendu",
    "list_type": "liste attendue",
    "finite_number": "nombre fini attendu",
}


def _reason(error: Any) -> str:
    kind = error["type"]
    if kind == "string_too_long":
        limit = int(error.get("ctx", {}).get("max_length", 0))
        size = len(error["input"]) if isinstance(error.get("input"), str) else 0
        return f"texte trop long ({size:_} caractères, maximum {limit:_})".replace("_", " ")
    if kind.startswith(("datetime", "date")):
        return f"date invalide {str(error.get('input'))[:40]!r} : date ISO 8601 attendue (ex. 2024-03-01T08:00:00Z)"
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    return PYDANTIC_REASONS.get(kind, f"valeur invalide ({error['msg']})")


def _field(loc: tuple[Any, ...], prefix: str = "") -> str:
    parts = [prefix] if prefix else []
    parts += [str(p) for p in loc]
    return ".".join(parts) or "(enregistrement)"


M = TypeVar("M", bound=BaseModel)


def _validate(model: type[M], data: Any, prefix: str = "") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise Invalid(_field(err["loc"], prefix), _reason(err)) from None


@dataclass(slots=True)
class OfferRow:
    row: dict[str, Any]  # job_offer columns but id, employer_id and row_hash
    siret: str | None
    naf: str | None
    bound: Bound | None = None  # the row's values converted for the driver by the reader (sync.bind_ahead)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Sent from a reader process to the loading one: a plain tuple of the fields unpickles at about half
        # the cost of a slotted dataclass's own state (a dict per object).
        return OfferRow, (self.row, self.siret, self.naf, self.bound)


FT_FIELDS = {
    "external_id": "id",
    "title": "intitule",
    "appellation": "appellationlibelle",
    "employer_name": "entreprise.nom",
    "contract_text": "typeContratLibelle",
    "salary_text": "salaire.libelle",
    "city": "lieuTravail.libelle",
    "url": "origineOffre.urlOrigine",
    "naf": "secteurActivite",
}
JOBPOSTING_FIELDS = {
    "external_id": "identifier",
    "employer_name": "hiringOrganization.name",
    "contract_text": "employmentType",
    "city": "jobLocation.address.addressLocality",
}


def _check_texts(values: dict[str, Any], fields: dict[str, str]) -> None:
    """PostgreSQL refuses NUL in text, and a lone surrogate (an escaped "\\ud800" in JSON) cannot be
    encoded at all: either would fail a whole batch, so the record is rejected here."""
    texts = [v for v in values.values() if type(v) is str]
    joined = "\n".join(texts)
    try:
        joined.encode("utf-8")  # all at once: the usual case, a clean record, costs one pass
    except UnicodeEncodeError:
        pass
    else:
        if "\x00" not in joined:
            return
    for column, value in values.items():
        if type(value) is not str:
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Invalid(fields.get(column, column), "caractère interdit (encodage invalide)") from None
        if "\x00" in value:
            raise Invalid(fields.get(column, column), "caractère interdit (NUL)")


def _siret(value: str | None, notes: Counter[str]) -> str | None:
    if not value:
        return None
    digits = re.sub(r"[\s.]", "", value)
    if SIRET.match(digits):
        return digits
    notes["SIRET invalide ignoré"] += 1
    return None


def _coords(
    lat: float | None, lon: float | None, place: Place, notes: Counter[str]
) -> tuple[float | None, float | None]:
    if lat is not None and lon is not None:
        if -90 <= lat <= 90 and -180 <= lon <= 180 and (lat, lon) != (0, 0):
            return lat, lon
        notes["coordonnées hors bornes ignorées (centre de la commune retenu)"] += 1
    return place.latitude, place.longitude


def _expiry(row: dict[str, Any], now: dt.datetime, notes: Counter[str]) -> None:
    valid = row["valid_through"]
    if valid is not None and valid <= now:
        row["closed_at"] = valid  # the date it ended: a re-import computes the same row
        row["closed_reason"] = CLOSED_EXPIRED
        notes["offre du flux dont la date de fin est dépassée (enregistrée fermée)"] += 1
    else:
        row["closed_at"] = None
        row["closed_reason"] = None


def _ft_row(data: Any, ctx: _Context) -> OfferRow:
    o = _validate(schemas.FtOffre, data)
    lieu = o.lieuTravail or schemas.FtLieuTravail()
    code_rome = o.romeCode.upper() if o.romeCode else None
    if code_rome is not None and not CODE_ROME.match(code_rome):
        raise Invalid("romeCode", f"code ROME invalide : {o.romeCode!r}")
    label = DEPARTEMENT_PREFIX.sub("", lieu.libelle) if lieu.libelle else None
    place = ctx.communes.resolve(
        code=lieu.commune,
        postcode=lieu.codePostal,
        city=label if (lieu.commune or lieu.codePostal) else None,
        code_field="lieuTravail.commune",
        postcode_field="lieuTravail.codePostal",
        notes=ctx.notes,
    )
    if place.commune_code is None and lieu.libelle:
        place = Place(None, None, lieu.libelle[:200], None, None)
    lat, lon = _coords(lieu.latitude, lieu.longitude, place, ctx.notes)
    entreprise = o.entreprise or schemas.FtEntreprise()
    salaire = o.salaire or schemas.FtSalaire()
    low, high, period = parse_salary(salaire.libelle)
    salary_text = " — ".join(
        t for t in (salaire.libelle, salaire.commentaire, salaire.complement1, salaire.complement2) if t
    )
    contract_text = ", ".join(
        t for t in (o.typeContratLibelle, o.natureContrat if o.natureContrat != "Contrat travail" else None) if t
    )
    scanned = "\n".join(
        t for t in (o.intitule, o.dureeTravailLibelle, o.conditionExercice, o.complementExercice, o.description) if t
    ).lower()
    positions = o.nombrePostes if o.nombrePostes is not None and 1 <= o.nombrePostes <= 10_000 else None
    row: dict[str, Any] = {
        "source": ctx.source,
        "external_id": o.id,
        "title": o.intitule,
        "description": o.description,
        "code_rome": code_rome,
        "appellation": o.appellationlibelle,
        "employer_name": entreprise.nom,
        "structure_type": structure_type_from_name(entreprise.nom),
        "contract_type": ft_contract_type(o.typeContrat, o.natureContrat, o.alternance),
        "contract_text": contract_text or None,
        "working_time": working_time(o.dureeTravailLibelleConverti),
        "hours_per_week": parse_hours(o.dureeTravailLibelle),
        "salary_min": low,
        "salary_max": high,
        "salary_period": period,
        "salary_text": salary_text or None,
        "night_work": detect_night_work(scanned, lowered=True),
        "weekend_work": detect_weekend_work(scanned, lowered=True),
        "commune_code": place.commune_code,
        "postcode": place.postcode,
        "city": place.city,
        "latitude": lat,
        "longitude": lon,
        "positions": positions,
        "url": o.origineOffre.urlOrigine if o.origineOffre else None,
        "published_at": o.dateCreation,
        "updated_at": o.dateActualisation,
        "valid_through": None,  # the API serves open offers only; they close by leaving the feed
        "is_demo": ctx.is_demo,
    }
    naf = o.secteurActivite if o.secteurActivite and len(o.secteurActivite) <= 10 else None
    _check_texts(row, FT_FIELDS)
    _check_texts({"naf": naf}, FT_FIELDS)
    _expiry(row, ctx.now, ctx.notes)
    return OfferRow(row, _siret(entreprise.siret, ctx.notes), naf)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _jobposting_id(jp: schemas.JobPosting) -> str:
    for raw in _as_list(jp.identifier):
        value: Any = raw
        if isinstance(raw, dict):
            value = _validate(schemas.PropertyValue, raw, "identifier").value
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip():
            ext = str(value).strip()
            break
    else:
        ext = jp.id_ or jp.url or ""
    if not ext:
        raise Invalid("identifier", "identifiant absent (identifier, @id ou url)")
    if len(ext) > schemas.MAX_ID:
        raise Invalid("identifier", f"identifiant trop long ({len(ext)} caractères, maximum {schemas.MAX_ID})")
    return ext


def _rome_code(value: Any) -> str | None:
    for item in _as_list(value):
        texts = [item] if isinstance(item, str) else []
        if isinstance(item, dict):
            texts = [str(item.get(k)) for k in ("codeValue", "name") if item.get(k) is not None]
        for candidate in texts:
            m = ROME_IN_TEXT.search(candidate)
            if m:
                return m.group(1)
    return None


SALARY_UNITS = {"HOUR": "heure", "MONTH": "mois", "YEAR": "an"}
UNIT_WORDS = {"heure": "Horaire", "mois": "Mensuel", "an": "Annuel"}


def _jobposting_salary(value: Any, notes: Counter[str]) -> tuple[float | None, float | None, str | None, str | None]:
    if not isinstance(value, dict):
        return None, None, None, None
    amount = _validate(schemas.MonetaryAmount, value, "baseSalary")
    if amount.currency and amount.currency.upper() != "EUR":
        notes["salaire dans une autre monnaie que l'euro ignoré"] += 1
        return None, None, None, None
    if isinstance(amount.value, schemas.QuantitativeValue):
        q = amount.value
        low = q.minValue if q.minValue is not None else q.value
        high = q.maxValue if q.maxValue is not None else q.value
        period = SALARY_UNITS.get((q.unitText or "").upper())
    else:
        low = high = amount.value
        period = None
    if low is None and high is None:
        return None, None, None, None
    low, high = low if low is not None else high, high if high is not None else low
    if low is not None and high is not None and low > high:
        low, high = high, low
    if period is None or low is None or low <= 0:
        return None, None, None, None
    text = f"{UNIT_WORDS[period]} de {low:g} Euros" + (f" à {high:g} Euros" if high != low else "")
    return low, high, period, text


def _jobposting_row(data: Any, ctx: _Context) -> OfferRow:
    if isinstance(data, dict):
        types = [str(t) for t in _as_list(data.get("@type"))]
        if types and not any(t.rsplit("/", 1)[-1].rsplit(":", 1)[-1] == "JobPosting" for t in types):
            raise Invalid("@type", f"type {', '.join(types)[:60]!r} : seules les offres JobPosting sont importées")
    jp = _validate(schemas.JobPosting, data)
    external_id = _jobposting_id(jp)
    org = schemas.Organization()
    if isinstance(jp.hiringOrganization, str):
        org = schemas.Organization(name=jp.hiringOrganization.strip()[: schemas.MAX_SHORT])
    elif isinstance(jp.hiringOrganization, dict):
        org = _validate(schemas.Organization, jp.hiringOrganization, "hiringOrganization")
    siret_raw = org.taxID
    for ident in _as_list(org.identifier):
        if isinstance(ident, schemas.PropertyValue) and (ident.name or "").upper() in {"SIRET", ""}:
            siret_raw = siret_raw or ident.value
        elif isinstance(ident, str):
            siret_raw = siret_raw or ident
    locations = _as_list(jp.jobLocation)
    place_in = schemas.Place()
    if locations and isinstance(locations[0], dict):
        place_in = _validate(schemas.Place, locations[0], "jobLocation")
    address = place_in.address
    postcode = city = None
    if isinstance(address, schemas.PostalAddress):
        postcode, city = address.postalCode, address.addressLocality
    elif isinstance(address, str):
        m = POSTCODE_IN_TEXT.search(address)
        postcode = m.group(1) if m else None
    place = ctx.communes.resolve(
        code=None,
        postcode=postcode,
        city=city,
        code_field="jobLocation.address",
        postcode_field="jobLocation.address.postalCode",
        notes=ctx.notes,
    )
    geo = place_in.geo or schemas.GeoCoordinates()
    lat, lon = _coords(geo.latitude, geo.longitude, place, ctx.notes)
    contract, time = jobposting_contract(jp.employmentType)
    low, high, period, salary_text = _jobposting_salary(jp.baseSalary, ctx.notes)
    scanned = "\n".join(t for t in (jp.title, jp.workHours, jp.description) if t).lower()
    positions = jp.totalJobOpenings if jp.totalJobOpenings is not None and 1 <= jp.totalJobOpenings <= 10_000 else None
    row: dict[str, Any] = {
        "source": ctx.source,
        "external_id": external_id,
        "title": jp.title,
        "description": jp.description,
        "code_rome": _rome_code(jp.occupationalCategory),
        "appellation": None,
        "employer_name": org.name,
        "structure_type": structure_type_from_name(org.name),
        "contract_type": contract,
        "contract_text": ", ".join(_as_list(jp.employmentType)) or None,
        "working_time": time,
        "hours_per_week": parse_hours(jp.workHours, weekly_only=True),
        "salary_min": low,
        "salary_max": high,
        "salary_period": period,
        "salary_text": salary_text,
        "night_work": detect_night_work(scanned, lowered=True),
        "weekend_work": detect_weekend_work(scanned, lowered=True),
        "commune_code": place.commune_code,
        "postcode": place.postcode,
        "city": place.city,
        "latitude": lat,
        "longitude": lon,
        "positions": positions,
        "url": jp.url,
        "published_at": jp.datePosted,
        "updated_at": None,
        "valid_through": jp.validThrough,
        "is_demo": ctx.is_demo,
    }
    _check_texts(row, JOBPOSTING_FIELDS)
    _expiry(row, ctx.now, ctx.notes)
    return OfferRow(row, _siret(siret_raw, ctx.notes), None)


def _raw_id(data: Any, fmt: str) -> str | None:
    """The record's identifier as written, for the reject's position, without validating anything."""
    if not isinstance(data, dict):
        return None
    keys = ("id",) if fmt == "france_travail" else ("identifier", "@id", "url")
    candidates = [data.get(k) for k in keys]
    for value in candidates:
        if isinstance(value, dict):
            value = value.get("value")
        if isinstance(value, list) and value:
            value = value[0].get("value") if isinstance(value[0], dict) else value[0]
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()[:120]
    return None


# ---------------------------------------------------------------- read → validate, one record at a time


@dataclass(slots=True)
class _Read:
    """What reading and validating made of one record: an offer, or where and why it is rejected.
    Built in a reader process and sent to the loading one, so it carries plain values only."""

    unit: str
    index: int
    offer: OfferRow | None = None
    ident: str | None = None  # a rejected record's identifier as written, when it has one
    field: str | None = None
    reason: str | None = None
    excerpt: str | None = None
    readable: bool = True
    notes: dict[str, int] | None = None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _Read, (  # see OfferRow.__reduce__
            self.unit,
            self.index,
            self.offer,
            self.ident,
            self.field,
            self.reason,
            self.excerpt,
            self.readable,
            self.notes,
        )


def _read_records(reader: FeedReader, ctx: _Context, shard: int, shards: int) -> Generator[_Read, None, bool]:
    """One :class:`_Read` for each record of this shard (record ``i`` when ``i % shards == shard``), in
    the feed's order; returns whether the feed was read to its end."""
    build = _ft_row if ctx.fmt == "france_travail" else _jobposting_row
    local = replace(ctx, notes=Counter())  # notes travel with their record
    if shards > 1:
        reader.skip = lambda ordinal: ordinal % shards != shard
    for ordinal, rec in enumerate(reader):
        if ordinal % shards != shard:
            continue
        if rec.error is not None:
            yield _Read(
                rec.unit, rec.index, field="(enregistrement)", reason=rec.error, excerpt=rec.excerpt, readable=False
            )
            continue
        if not isinstance(rec.data, dict):
            reason = "objet JSON attendu"
            try:
                excerpt = _excerpt(json.dumps(rec.data)[:200])
            except RecursionError:
                excerpt, reason = None, TOO_DEEP
            yield _Read(rec.unit, rec.index, field="(enregistrement)", reason=reason, excerpt=excerpt)
            continue
        try:
            offer = build(rec.data, local)
            if ctx.dialect is not None:
                offer.bound = bind_ahead(JOB_OFFER, ctx.dialect, offer.row)
            item = _Read(rec.unit, rec.index, offer=offer)
        except RecursionError:  # nesting that the parser took but validating it does not
            item = _Read(
                rec.unit, rec.index, ident=_raw_id(rec.data, ctx.fmt), field="(enregistrement)", reason=TOO_DEEP
            )
        except Invalid as exc:
            excerpt = _record_excerpt(rec.data, ctx.fmt)
            item = _Read(
                rec.unit,
                rec.index,
                ident=_raw_id(rec.data, ctx.fmt),
                field=exc.field,
                reason=exc.reason,
                excerpt=excerpt,
            )
        if local.notes:
            item.notes = dict(local.notes)
            local.notes.clear()
        yield item
    return reader.complete


# ---------------------------------------------------------------- load


@dataclass
class _Context:
    source: str
    fmt: str
    is_demo: bool
    now: dt.datetime
    dry_run: bool
    communes: CommuneIndex
    notes: Counter[str]
    employers: dict[str, int | None]  # SIRET → employer id, for the whole import
    dialect: Dialect | None = None  # the database's, so that readers convert values for its driver
    batches: int = 0


def _sync_employers(conn: Connection, batch: list[OfferRow], ctx: _Context, report: ImportReport) -> None:
    """Employers by SIRET: created once, never overwritten by an offer (their other data has other sources)."""
    wanted: dict[str, dict[str, Any]] = {}
    for o in batch:
        if o.siret and o.siret not in ctx.employers and o.siret not in wanted:
            wanted[o.siret] = {
                "siret": o.siret,
                "name": o.row["employer_name"],
                "structure_type": o.row["structure_type"],
                "naf": o.naf,
                "commune_code": o.row["commune_code"],
                "is_demo": ctx.is_demo,
            }
    if not wanted:
        return
    counts = report.entity("employer")
    sirets = list(wanted)

    def lookup(keys: list[str]) -> None:
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            for employer_id, siret in conn.execute(
                select(EMPLOYER.c.id, EMPLOYER.c.siret).where(EMPLOYER.c.siret.in_(chunk))
            ):
                ctx.employers[siret] = employer_id

    lookup(sirets)
    found = sum(1 for siret in wanted if siret in ctx.employers)
    new = [values for siret, values in wanted.items() if siret not in ctx.employers and values["name"]]
    counts.unchanged += found
    counts.created += len(new)
    if ctx.dry_run:
        ctx.employers.update((v["siret"], None) for v in new)
        return
    if new:
        conn.execute(insert(EMPLOYER), new)
        lookup([v["siret"] for v in new])


def _load_batch(engine: Engine, batch: list[OfferRow], ctx: _Context, report: ImportReport) -> None:
    with engine.connect() as conn:
        tune_for_bulk(conn)
        if ctx.batches == 0 and not ctx.dry_run:
            defer_indexes(conn, [JOB_OFFER])  # restored after the last batch, see import_offers
        _sync_employers(conn, batch, ctx, report)
        rows = []
        for o in batch:
            row = o.row
            row["employer_id"] = ctx.employers.get(o.siret) if o.siret else None
            row["row_hash"] = row_hash(row)  # here, the row is not copied again
            rows.append(row)
        bound = {id(o.row): o.bound for o in batch if o.bound is not None}
        sync_rows(
            conn,
            JOB_OFFER,
            KEY,
            rows,
            report.entity("job_offer"),
            dry_run=ctx.dry_run,
            return_ids=False,
            bound=bound,
        )
        if not ctx.dry_run:
            conn.commit()
            ctx.batches += 1
            if conn.dialect.name == "postgresql" and ctx.batches & (ctx.batches - 1) == 0:
                # Fresh statistics after batches 1, 2, 4, 8…: without them PostgreSQL reads every offer of the
                # source to find a batch's keys, and the import slows down as the table fills.
                conn.execute(text(f"ANALYZE {JOB_OFFER.name}"))
                conn.commit()


def _close(
    engine: Engine, ctx: _Context, full: bool, seen: set[str], report: ImportReport, limits: ImportLimits | None
) -> None:
    """Close the expired offers, and with ``full`` the absent ones (within ``limits``, see close_missing)."""
    counts = report.entity("job_offer")
    t = JOB_OFFER.c
    expired = (
        (t.source == ctx.source) & t.closed_at.is_(None) & t.valid_through.is_not(None) & (t.valid_through <= ctx.now)
    )
    with engine.connect() as conn:
        n = int(conn.scalar(select(func.count()).select_from(JOB_OFFER).where(expired)) or 0)
        counts.removed += n
        if n and not ctx.dry_run:
            conn.execute(
                update(JOB_OFFER).where(expired).values(closed_at=t.valid_through, closed_reason=CLOSED_EXPIRED)
            )
        if full:
            try:
                close_missing(
                    conn,
                    JOB_OFFER,
                    ctx.source,
                    seen,
                    counts,
                    reason=CLOSED_MISSING,
                    now=ctx.now,
                    dry_run=ctx.dry_run,
                    limits=limits,
                    what="offres ouvertes",
                )
            except ImportRefused as exc:
                report.status, report.message = "refused", str(exc)
                full = False
        if full and not ctx.dry_run:
            # close_missing leaves row_hash as it was: blank it, so that the offer, should it come back
            # with the very same content, is seen as changed and reopened.
            conn.execute(
                update(JOB_OFFER)
                .where((t.source == ctx.source) & (t.closed_reason == CLOSED_MISSING) & (t.row_hash != ""))
                .values(row_hash="")
            )
        if not ctx.dry_run:
            conn.commit()


def import_offers(
    engine: Engine,
    source: str | Path,
    *,
    fmt: Format,
    dry_run: bool = False,
    full: bool = False,
    batch_size: int = 2000,
    is_demo: bool = False,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
    limits: ImportLimits | None = None,
    force: bool = False,
) -> ImportReport:
    """Import a job-offer feed (file or URL). Raises :class:`ImportRefused` for unusable input, before
    anything is written (see the module's docstring); a run stopped after some batches were written
    returns a report with ``status="refused"``.

    ``full``: the feed is the source's whole catalogue, and the open offers it lacks are closed (no more
    than ``limits`` allow, unless ``force``).
    ``is_demo``: demonstration data, stored under the source ``demo``.
    ``workers``: reader processes (:mod:`passerelles.importing.pipeline`); default: two for a big file.
    """
    if fmt not in FORMATS:
        raise ImportRefused(f"format inconnu : {fmt!r} (connus : {', '.join(FORMATS)})")
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    if now is None:
        now = dt.datetime.now(dt.UTC)
    now = now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now.astimezone(dt.UTC)
    limits = limits or ImportLimits()
    report = ImportReport(importer="offres", source=str(source), dry_run=dry_run)
    with tempfile.TemporaryDirectory(prefix="offres-") as tmp:
        path = extract(source, Path(tmp))
        reader = FeedReader(path, fmt)
        _check_end(path, reader.layout)
        label = str(source) if path.parent == Path(tmp) else path.name
        with engine.connect() as conn:
            communes = CommuneIndex.load(conn)
        if not communes:
            raise ImportRefused("aucune commune en base : lancez d'abord « passerelles import communes »")
        ctx = _Context(
            source="demo" if is_demo else fmt,
            fmt=fmt,
            is_demo=is_demo,
            now=now,
            dry_run=dry_run,
            communes=communes,
            notes=Counter(),
            employers={},
            dialect=engine.dialect,
        )
        seen: set[str] = set()  # every identifier of the feed, loaded or rejected: what a full feed carries
        loaded: set[str] = set()
        batch: list[OfferRow] = []
        records = readable = anonymous = encoding = 0

        def reject(item: _Read) -> None:
            nonlocal anonymous, encoding
            anonymous += item.ident is None
            encoding += (item.reason or "").startswith("encodage invalide")
            who = f"offre {item.ident}" if item.ident else "offre sans identifiant"
            counts = report.entity("job_offer")
            if len(report.rejects) >= MAX_DETAILED_REJECTS:
                counts.rejected += 1
                return
            report.reject(
                "job_offer",
                Reject(
                    source=label,
                    position=f"{who} ({item.unit} {item.index})",
                    field=item.field or "(enregistrement)",
                    reason=item.reason or "",
                    record=item.excerpt,
                ),
            )

        if workers is None:
            workers = auto_workers(path.stat().st_size)
        items = sharded(lambda shard, shards: _read_records(reader, ctx, shard, shards), workers)
        if not dry_run:
            with engine.begin() as conn:
                restore_indexes(conn, [JOB_OFFER])  # those an import killed before its end left dropped
        id_field = "id" if fmt == "france_travail" else "identifier"
        counts = report.entity("job_offer")
        stopped: str | None = None  # why the run stopped before its end, with batches already written

        def checked() -> bool:
            """Before a batch is written: too many rejects so far refuse the file (written nothing yet:
            ImportRefused; else the run stops here)."""
            nonlocal stopped
            if not limits.too_many_rejects(counts.rejected, records):
                return True
            message = limits.rejects_refusal(path.name, counts.rejected, records, encoding)
            if ctx.batches == 0:
                raise ImportRefused(message + ", base inchangée")
            stopped = message
            return False

        iterator = iter(items)
        try:
            for item in iterator:
                records += 1
                readable += item.readable
                if item.notes:
                    ctx.notes.update(item.notes)
                offer = item.offer
                if offer is None:
                    if item.ident:
                        seen.add(item.ident)  # in the feed, though unreadable: not to be closed as absent
                    reject(item)
                    continue
                key = offer.row["external_id"]
                seen.add(key)
                if key in loaded:
                    item.ident, item.field = key, id_field
                    item.reason = "offre en double dans le flux : seule la première occurrence est gardée"
                    reject(item)
                    continue
                loaded.add(key)
                batch.append(offer)
                if len(batch) >= batch_size:
                    if not checked():
                        break
                    _load_batch(engine, batch, ctx, report)
                    batch = []
                    if progress:
                        progress(f"{len(loaded)} offres chargées…")
            iterator.close()  # a run stopped above: its reader processes end now
            complete = stopped is None and all(items.states)
            if records == 0:
                raise ImportRefused(f"{path.name} : aucune offre dans le fichier")
            if stopped is None and not complete:
                where = report.rejects[-1].position if report.rejects else ""
                message = f"{path.name} : fichier tronqué ou illisible ({where}) : il n'a pas été lu jusqu'au bout"
                if ctx.batches == 0:
                    raise ImportRefused(message + " ; fichier refusé, base inchangée")
                stopped = message
            if stopped is None and checked():
                if readable == 0:
                    raise ImportRefused(f"{path.name} : aucun enregistrement JSON lisible")
                if batch:
                    _load_batch(engine, batch, ctx, report)
        finally:
            iterator.close()
            if not dry_run:
                with engine.begin() as conn:
                    restore_indexes(conn, [JOB_OFFER])
        if stopped is not None:
            report.status = "refused"
            report.message = (
                f"{stopped} ; import arrêté : les {counts.created + counts.updated + counts.unchanged} offres "
                "des lots déjà écrits restent en base, aucune offre n'a été fermée"
            )
        if full and complete and anonymous:
            report.warnings.append(
                f"flux complet avec {anonymous} enregistrement(s) rejeté(s) sans identifiant lisible : "
                "si c'étaient des offres déjà connues, elles ont été fermées comme absentes du flux"
            )
        if stopped is None:
            _close(engine, ctx, full and complete, seen, report, None if force else limits)
        for note, n in sorted(ctx.notes.items()):
            report.warnings.append(f"{n} offre(s) : {note}")
        if len(report.rejects) >= MAX_DETAILED_REJECTS:
            report.warnings.append(f"seuls les {MAX_DETAILED_REJECTS} premiers rejets sont détaillés")
    return report


def _check_end(path: Path, layout: str) -> None:
    """A plain file cut before its end is refused before anything is read into the store: its last line
    is not JSON (JSON Lines), or its array or object is not closed. A compressed file is checked as it is
    read (the end of its stream)."""
    if is_compressed(path):
        return
    end = tail(path)
    if layout == "lines":
        if end.endswith(b"\n"):
            return
        last = end.rsplit(b"\n", 1)[-1]
        if len(end) < path.stat().st_size and b"\n" not in end:
            return  # a last line longer than the tail read: judged as it is read
        try:
            _loads(last)
        except (ValueError, RecursionError):
            raise truncated(path.name, "la dernière ligne est incomplète", "JSON illisible") from None
        return
    closing = "]" if layout == "array" else "}"
    if not end.rstrip().endswith(closing.encode()):
        raise truncated(path.name, f"il ne se termine pas par « {closing} »", "JSON illisible")


def _record_excerpt(data: dict[str, Any], fmt: str) -> str:
    keys = ("id", "intitule", "dateCreation") if fmt == "france_travail" else ("identifier", "title", "datePosted")
    small = {k: (v[:80] if isinstance(v, str) else v) for k, v in data.items() if k in keys}
    try:
        return json.dumps(small, ensure_ascii=False, default=str)[:200]
    except RecursionError:
        return ""
