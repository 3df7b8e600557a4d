"""The tantivy index: schema, documents read from the database, build, incremental update, publication.

Layout of an index directory (``settings.search_index_dir``)::

    versions/<UTC stamp>-<n>/   one complete tantivy index + places.json, suggest.json, state.bin, info.json
    CURRENT                     the name of the version readers must use (replaced atomically)
    .lock                       held by the one process that writes (rebuild, update after an import)

A writer never touches a published version: it builds a new one (from scratch, or as hard links of the
current one plus new segments, since tantivy never rewrites a segment file), then swaps ``CURRENT`` with
``os.replace``. Readers (``passerelles.search.services.IndexReplica``) notice the new pointer and open
the new version; files of an older version stay readable by a process that still maps them.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import json
import marshal
import math
import multiprocessing
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import tantivy
from sqlalchemy import Engine, bindparam, func, select, text
from sqlalchemy.orm import Session, selectinload

from passerelles.certifications.models import Certification, CertificationRoute
from passerelles.db import make_engine
from passerelles.occupations.models import Occupation
from passerelles.offers.models import JobOffer
from passerelles.places.models import Commune, Departement, Region
from passerelles.reference.models import StructureType
from passerelles.rome.models import RomeAppellation, RomeFiche
from passerelles.rome.services import latest_version, rome_url
from passerelles.search.text import analyze, fold
from passerelles.trainings.models import TrainingSession

SCHEMA_VERSION = 2
KEEP_VERSIONS = 3
# Result types weigh on the score (tantivy multiplies it by log2(2 + weight)): someone typing a name is
# first looking for the occupation or the diploma, then for offers and sessions of it.
TYPE_WEIGHT = {"occupation": 6.0, "certification": 3.0, "rome": 1.5, "training": 0.3, "offer": 0.0}
SNIPPET_CHARS = 280
BATCH = 5000

TEXT_FIELDS = ("names", "alt", "body", "place")
# Sessions and offers also carry their words in "tiered" fields, each word suffixed with the record's
# bucket (``aide~o20680``: an offer published on day 20 680 since 1970-01-05; ``aide~t2954``: a session
# starting in week 2954): a search walks the buckets in the order users want (newest offers, soonest sessions) and stops
# once it has a page, reading a few tens of thousands of postings instead of the million documents.
# One marker term per record (``~o20680``) gives each bucket's size.
TIERED_FIELDS = {"names": "tn", "body": "tb", "place": "tp"}
# And, in "tg", the words of their names suffixed with their kind and map cell (``aide@o457:48``: an offer
# in the cell of 0.1° of latitude by 0.1° of longitude, about 11 × 8 km), plus a marker ``@o457:48``: a
# search around a commune reads the postings of the few cells its circle covers, then measures the exact
# distance of each candidate. The same again with cells five times larger (``aide@O91:9``, kind in
# capitals) for wide circles.
CELL_DEGREES = 0.1
COARSE_CELLS = 5
FACET_FIELDS = ("type", "region", "departement", "level", "route", "modality", "contract", "working_time")


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("key", stored=True, tokenizer_name="raw", index_option="basic")
    for name in (*FACET_FIELDS, "commune"):
        sb.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    # Pre-analysed by passerelles.search.text.analyze: tantivy only splits on spaces.
    sb.add_text_field("names", tokenizer_name="whitespace", index_option="position")
    sb.add_text_field("alt", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("place", tokenizer_name="whitespace", index_option="basic")
    sb.add_text_field("exact", tokenizer_name="raw", index_option="basic")
    for tiered in TIERED_FIELDS.values():
        sb.add_text_field(tiered, tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("tg", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("rw", tokenizer_name="whitespace", index_option="basic")
    sb.add_text_field("point", fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_date_field("start", fast=True, indexed=True)
    sb.add_date_field("published", fast=True, indexed=True)
    sb.add_float_field("lat", fast=True, indexed=True)
    sb.add_float_field("lon", fast=True, indexed=True)
    sb.add_float_field("weight", fast=True)
    sb.add_bytes_field("payload", stored=True)
    return sb.build()


@dataclass
class IndexDoc:
    key: str
    type: str  # occupation | certification | training | offer (a ROME fiche is an occupation)
    title: str
    url: str
    subtitle: str | None = None
    names: list[str] = field(default_factory=list)
    alt: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    exact: list[str] = field(default_factory=list)
    rome_codes: list[str] = field(default_factory=list)
    commune: str | None = None
    city: str | None = None
    departement: str | None = None
    region: str | None = None
    level: str | None = None
    routes: list[str] = field(default_factory=list)
    modality: str | None = None
    contract: str | None = None
    working_time: str | None = None
    start: dt.date | None = None
    published: dt.datetime | None = None
    lat: float | None = None
    lon: float | None = None
    weight: float = 0.0
    is_demo: bool = False
    text: str | None = None  # what snippets are cut from
    extra: dict[str, Any] = field(default_factory=dict)

    def to_tantivy(self, places: Places) -> tantivy.Document:
        d = tantivy.Document()
        d.add_text("key", self.key)
        d.add_text("type", self.type)
        d.add_text("names", " ".join(t for s in self.names for t in analyze(s)))
        if self.alt:
            d.add_text("alt", " ".join(t for s in self.alt for t in analyze(s)))
        if self.body:
            d.add_text("body", " ".join(t for s in self.body for t in analyze(s)))
        for value in dict.fromkeys(self.exact):
            d.add_text("exact", value)
        if self.commune:
            d.add_text("commune", self.commune)
            info = places.communes.get(self.commune)
            if info is not None:
                self.departement = self.departement or info[1]
                d.add_text("place", " ".join(analyze(info[0])))
        if self.departement:
            d.add_text("departement", self.departement)
            self.region = self.region or places.departements.get(self.departement, (None, None))[1]
        if self.region:
            d.add_text("region", self.region)
        facet_values: tuple[tuple[str, str | None], ...] = (
            ("level", self.level),
            ("modality", self.modality),
            ("contract", self.contract),
            ("working_time", self.working_time),
        )
        for name, fvalue in facet_values:
            if fvalue:
                d.add_text(name, fvalue)
        for r in self.routes:
            d.add_text("route", r)
        if self.start is not None:
            d.add_date("start", dt.datetime(self.start.year, self.start.month, self.start.day, tzinfo=dt.UTC))
        if self.published is not None:
            published = self.published if self.published.tzinfo else self.published.replace(tzinfo=dt.UTC)
            d.add_date("published", published)
        if self.lat is not None and self.lon is not None:
            d.add_float("lat", float(self.lat))
            d.add_float("lon", float(self.lon))
        d.add_float("weight", self.weight)
        payload = {
            "title": self.title,
            "url": self.url,
            "subtitle": self.subtitle,
            "rome_codes": self.rome_codes,
            "city": self.city,
            "commune": self.commune,
            "departement": self.departement,
            "lat": self.lat,
            "lon": self.lon,
            "demo": self.is_demo,
            "text": (self.text or "")[:SNIPPET_CHARS] or None,
            "start": self.start.isoformat() if self.start else None,
            "published": self.published.isoformat() if self.published else None,
            "contract": self.contract,
            "modality": self.modality,
            **self.extra,
        }
        d.add_bytes("payload", json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())
        return d


@dataclass
class Places:
    """The gazetteer a replica needs without the database: communes, départements, régions."""

    communes: dict[str, tuple[str, str, float | None, float | None, int]]  # code → name, dept, lat, lon, pop
    departements: dict[str, tuple[str, str]]  # code → name, région code
    regions: dict[str, str]  # code → name

    def to_json(self) -> dict[str, Any]:
        return {"communes": self.communes, "departements": self.departements, "regions": self.regions}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Places:
        return cls(
            {k: tuple(v) for k, v in data["communes"].items()},
            {k: tuple(v) for k, v in data["departements"].items()},
            data["regions"],
        )


def read_places(session: Session) -> Places:
    communes = {
        code: (name, dept, lat, lon, pop or 0)
        for code, name, dept, lat, lon, pop in session.execute(
            select(
                Commune.code_insee,
                Commune.name,
                Commune.departement_code,
                Commune.latitude,
                Commune.longitude,
                Commune.population,
            )
        )
    }
    departements = {
        c: (n, r) for c, n, r in session.execute(select(Departement.code, Departement.name, Departement.region_code))
    }
    regions = {code: name for code, name in session.execute(select(Region.code, Region.name))}
    return Places(communes, departements, regions)


# --- documents from the database -------------------------------------------------------------------


def reference_documents(session: Session) -> Iterator[IndexDoc]:
    """Occupations written by the project, certifications, and every ROME fiche with its appellations."""
    version = latest_version(session)
    appellations: dict[str, list[str]] = {}
    appellation_by_ogr: dict[int, str] = {}
    fiches: dict[str, str] = {}
    if version:
        for code, ogr, label in session.execute(
            select(RomeAppellation.code_rome, RomeAppellation.code_ogr, RomeAppellation.libelle_long).where(
                RomeAppellation.rome_version == version
            )
        ):
            appellations.setdefault(code, []).append(label)
            appellation_by_ogr[ogr] = label
        fiches = {
            code: label
            for code, label in session.execute(
                select(RomeFiche.code_rome, RomeFiche.libelle).where(RomeFiche.rome_version == version)
            )
        }
    for occ in session.scalars(
        select(Occupation).options(selectinload(Occupation.names), selectinload(Occupation.rome_links))
    ):
        codes = list(dict.fromkeys(r.code_rome for r in occ.rome_links))
        doc = IndexDoc(
            f"occupation:{occ.slug}",
            "occupation",
            occ.name,
            f"/metiers/{occ.slug}",
            "Métier",
            rome_codes=codes,
            weight=TYPE_WEIGHT["occupation"],
            text=occ.summary,
            extra={"id": occ.slug, "aliases": [x for n in occ.names for x in (n.name, n.feminine, n.acronym) if x]},
        )
        for n in occ.names:
            target = doc.names if n.kind == "current" else doc.alt
            target.extend(x for x in (n.name, n.feminine) if x)
            doc.exact.extend(" ".join(analyze(x)) for x in (n.name, n.feminine) if x)
            if n.acronym:
                doc.exact.append(" ".join(analyze(n.acronym)))
        doc.exact.extend(c.lower() for c in codes)
        # Only the appellations the project tied to this occupation: a ROME fiche is often wider.
        doc.alt.extend(
            appellation_by_ogr[r.appellation_ogr] for r in occ.rome_links if r.appellation_ogr in appellation_by_ogr
        )
        doc.body.append(occ.summary)
        if occ.nights:
            doc.body.append("travail de nuit")
        yield doc
    routes_by_cert: dict[int, list[str]] = {}
    for cert_id, route in session.execute(
        select(CertificationRoute.certification_id, CertificationRoute.route).where(CertificationRoute.available)
    ):
        routes_by_cert.setdefault(cert_id, []).append(route)
    for cert in session.scalars(select(Certification)):
        summary = (cert.detail.get("summary") or {}).get("text")
        doc = IndexDoc(
            f"certification:{cert.slug}",
            "certification",
            cert.name,
            f"/certifications/{cert.slug}",
            f"Certification{' (niveau ' + str(cert.level_eu) + ')' if cert.level_eu else ''}",
            names=[cert.name],
            body=[summary] if summary else [],
            level=str(cert.level_eu) if cert.level_eu else None,
            routes=routes_by_cert.get(cert.id, []),
            weight=TYPE_WEIGHT["certification"] * (0.5 if cert.status != "active" else 1.0),
            text=summary,
            extra={"id": cert.slug, "aliases": [cert.acronym] if cert.acronym else []},
        )
        doc.exact.append(" ".join(analyze(cert.name)))
        if cert.acronym:
            doc.exact.append(" ".join(analyze(cert.acronym)))
            doc.alt.append(cert.acronym)
        yield doc
    for code, label in fiches.items():
        doc = IndexDoc(
            f"rome:{code}",
            "occupation",
            label,
            rome_url(code),
            f"Fiche ROME {code}",
            names=[label],
            alt=appellations.get(code, []),
            exact=[code.lower(), " ".join(analyze(label))],
            rome_codes=[code],
            weight=TYPE_WEIGHT["rome"],
            extra={"id": f"rome:{code}", "aliases": appellations.get(code, [])},
        )
        yield doc


def structure_names(session: Session) -> dict[str, str]:
    return {
        slug: f"{name} {acronym or ''}".strip()
        for slug, name, acronym in session.execute(
            select(StructureType.slug, StructureType.name, StructureType.acronym)
        )
    }


# --- sessions and offers: the volume (a million rows) -------------------------------------------------
#
# Rows are read with plain SQL (no ORM objects, no type conversion) in id ranges, turned into tantivy's
# JSON documents by worker processes (the analysis is Python), and the parent only hands the JSON to the
# writer, whose threads index it. Same documents as the reference path, much less work per row.

CHUNK = 20000
SESSION_SQL = (
    "SELECT id, title, start_date, end_date, city, commune_code, latitude, longitude, modality, routes, "
    "duration_hours, certification_id, is_demo FROM training_session WHERE closed_at IS NULL"
)
OFFER_SQL = (
    "SELECT id, title, code_rome, appellation, employer_name, structure_type, contract_type, working_time, "
    "night_work, commune_code, city, latitude, longitude, published_at, is_demo, substr(description, 1, 280) "
    "FROM job_offer WHERE closed_at IS NULL"
)


def _iso_day(value: Any) -> str | None:
    if value is None:
        return None
    return value[:10] if isinstance(value, str) else value.isoformat()[:10]


def _rfc3339(value: Any) -> str | None:
    """A stored timestamp (text in SQLite, datetime in PostgreSQL) as UTC RFC 3339 for tantivy."""
    if value is None:
        return None
    if isinstance(value, str):
        moment = dt.datetime.fromisoformat(value.replace(" ", "T"))
    elif isinstance(value, dt.datetime):
        moment = value
    else:
        moment = dt.datetime(value.year, value.month, value.day)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=262144)
def _joined(text: str | None) -> str:
    return " ".join(analyze(text)) if text else ""


WEEK_ZERO = dt.date(1970, 1, 5).toordinal()  # a Monday


def week_of(day: dt.date) -> int:
    return (day.toordinal() - WEEK_ZERO) // 7


def bucket_of(kind: str, day: str | None) -> str:
    """The bucket of a session (``t`` + week of its start, counted from 1970-01-05) or an offer (``o`` + day
    of publication, counted from the same Monday: offers are many more); ``x`` when the date is unknown.
    Stable: a record never changes bucket as time passes, so an incremental update leaves the others alone."""
    if not day:
        return f"{kind[0]}x"
    date = dt.date.fromisoformat(day[:10])
    return f"o{date.toordinal() - WEEK_ZERO}" if kind == "offer" else f"t{week_of(date)}"


def cell_of(lat: float, lon: float, scale: int = 1) -> str:
    """The map cell of a point: ``scale`` × CELL_DEGREES on each side."""
    size = CELL_DEGREES * scale
    return f"{math.floor(lat / size)}:{math.floor(lon / size)}"


def add_tiered(doc: dict[str, Any], bucket: str) -> None:
    """Move the words of ``names`` (+ ``alt``), ``body`` and ``place`` into the tiered fields of ``bucket``,
    the words of names into the field of the record's map cell, and every word once into ``rw``.

    Sessions and offers thus leave ``names``, ``alt`` and ``body`` to occupations and diplomas: the full
    query that ranks those reads a few thousand postings, not the million records'. (``place`` stays: it
    filters records by a place named in the text.) ``rw`` is only looked up (document frequencies, the
    vocabulary of typo candidates, facet counts), never ranked."""
    names = dict.fromkeys((doc.pop("names", "") + " " + doc.pop("alt", "")).split())
    body = dict.fromkeys(doc.pop("body", "").split())
    place = dict.fromkeys(doc.get("place", "").split())
    doc["tn"] = " ".join([f"~{bucket}", *(f"{t}~{bucket}" for t in names)])
    if body:
        doc["tb"] = " ".join(f"{t}~{bucket}" for t in body)
    if place:
        doc["tp"] = " ".join(f"{t}~{bucket}" for t in place)
    if "lat" in doc and "lon" in doc:
        # The place as one value: a search sorted by distance counts records per place, then measures places.
        doc["point"] = f"{doc['lat']:.6f},{doc['lon']:.6f}"
        cells = (bucket[0] + cell_of(doc["lat"], doc["lon"]), bucket[0].upper() + cell_of(doc["lat"], doc["lon"], 5))
        doc["tg"] = " ".join(f"{t}@{cell}" for cell in cells for t in ("", *names))
    doc["rw"] = " ".join(dict.fromkeys([*names, *body]))


class RecordContext:
    """What turning a row into a document needs besides the row: read once per process."""

    def __init__(self, session: Session, places: Places | None = None) -> None:
        self.places = places or read_places(session)
        self.structures = structure_names(session)
        self.certs = {
            i: (slug, name, acronym, level)
            for i, slug, name, acronym, level in session.execute(
                select(
                    Certification.id,
                    Certification.slug,
                    Certification.name,
                    Certification.acronym,
                    Certification.level_eu,
                )
            )
        }

    def _place(self, doc: dict[str, Any], commune: str | None) -> str | None:
        if not commune:
            return None
        doc["commune"] = commune
        info = self.places.communes.get(commune)
        if info is None:
            return None
        doc["place"] = _joined(info[0])
        doc["departement"] = info[1]
        region = self.places.departements.get(info[1], (None, None))[1]
        if region:
            doc["region"] = region
        return info[1]

    def session_json(self, row: Any) -> str:
        (i, title, start, end, city, commune, lat, lon, modality, routes, hours, cert_id, demo) = row
        cert = self.certs.get(cert_id) if cert_id else None
        start_day = _iso_day(start)
        doc: dict[str, Any] = {
            "key": f"training:{i}",
            "type": "training",
            "names": _joined(title),
            "weight": TYPE_WEIGHT["training"],
        }
        if cert:
            doc["alt"] = _joined(cert[1]) + " " + _joined(cert[2])
            if cert[3]:
                doc["level"] = str(cert[3])
        dept = self._place(doc, commune)
        if isinstance(routes, str):
            routes = json.loads(routes)
        if routes:
            doc["route"] = routes
        if modality:
            doc["modality"] = modality
        if start_day:
            doc["start"] = start_day + "T00:00:00Z"
        if lat is not None and lon is not None:
            doc["lat"], doc["lon"] = float(lat), float(lon)
        add_tiered(doc, bucket_of("training", start_day))
        when = f"du {start_day[8:10]}/{start_day[5:7]}/{start_day[:4]}" if start_day else "dates à venir"
        payload = {
            "title": title,
            "url": f"/api/v1/search/documents/training:{i}",
            "subtitle": f"Session de formation, {city or 'lieu à préciser'}, {when}",
            "city": city,
            "commune": commune,
            "departement": dept,
            "lat": lat,
            "lon": lon,
            "demo": bool(demo),
            "text": title,
            "start": start_day,
            "end": _iso_day(end),
            "modality": modality,
            "hours": hours,
            "id": str(i),
        }
        doc["payload"] = base64.b64encode(
            json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        ).decode()
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))

    def offer_json(self, row: Any) -> str:
        (
            i,
            title,
            code,
            appellation,
            employer,
            structure,
            contract,
            wtime,
            night,
            commune,
            city,
            lat,
            lon,
            published,
            demo,
            description,
        ) = row
        body = " ".join(
            x
            for x in (_joined(employer), _joined(self.structures.get(structure or "")), "travail nuit" if night else "")
            if x
        )
        doc: dict[str, Any] = {
            "key": f"offer:{i}",
            "type": "offer",
            "names": _joined(title),
            "weight": TYPE_WEIGHT["offer"],
        }
        if appellation:
            doc["alt"] = _joined(appellation)
        if body:
            doc["body"] = body
        if code:  # a ROME code typed as such finds the offers of that code
            doc["names"] += " " + code.lower()
        dept = self._place(doc, commune)
        if contract:
            doc["contract"] = contract
        if wtime:
            doc["working_time"] = wtime
        stamp = _rfc3339(published)
        if stamp:
            doc["published"] = stamp
        if lat is not None and lon is not None:
            doc["lat"], doc["lon"] = float(lat), float(lon)
        add_tiered(doc, bucket_of("offer", stamp))
        payload = {
            "title": title,
            "url": f"/api/v1/search/documents/offer:{i}",
            "subtitle": f"Offre d'emploi, {contract or 'contrat à préciser'}, {city or 'lieu à préciser'}",
            "rome_codes": [code] if code else [],
            "city": city,
            "commune": commune,
            "departement": dept,
            "lat": lat,
            "lon": lon,
            "demo": bool(demo),
            "text": description or title,
            "published": stamp,
            "contract": contract,
            "id": str(i),
            "employer": employer,
            "structure": structure,
        }
        doc["payload"] = base64.b64encode(
            json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        ).decode()
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))

    def chunk(self, session: Session, kind: str, ids: tuple[int, int] | list[int]) -> list[str]:
        sql, make = (SESSION_SQL, self.session_json) if kind == "training" else (OFFER_SQL, self.offer_json)
        if isinstance(ids, tuple):
            rows = session.execute(text(sql + " AND id >= :lo AND id < :hi"), {"lo": ids[0], "hi": ids[1]})
        else:
            rows = session.execute(
                text(sql + " AND id IN :ids").bindparams(bindparam("ids", expanding=True)), {"ids": ids}
            )
        return [make(row) for row in rows]


_WORKER: dict[str, RecordContext] = {}


def _work(args: tuple[str, str, tuple[int, int] | list[int]]) -> list[str]:
    """In a worker process: one chunk of rows → JSON documents (context read once per process)."""
    url, kind, ids = args
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            if url not in _WORKER:
                _WORKER[url] = RecordContext(session)
            return _WORKER[url].chunk(session, kind, ids)
    finally:
        engine.dispose()


def record_hashes(session: Session) -> dict[str, str]:
    """key → row hash of every open session and offer: what an incremental update compares."""
    out: dict[str, str] = {}
    for i, h in session.execute(
        select(TrainingSession.id, TrainingSession.row_hash).where(TrainingSession.closed_at.is_(None))
    ):
        out[f"training:{i}"] = h
    for i, h in session.execute(select(JobOffer.id, JobOffer.row_hash).where(JobOffer.closed_at.is_(None))):
        out[f"offer:{i}"] = h
    return out


def _chunks(session: Session, keys: set[str] | None) -> list[tuple[str, tuple[int, int] | list[int]]]:
    out: list[tuple[str, tuple[int, int] | list[int]]] = []
    for kind, model in (("training", TrainingSession), ("offer", JobOffer)):
        if keys is None:
            lo, hi = session.execute(select(func.min(model.id), func.max(model.id))).one()
            if lo is None:
                continue
            out += [(kind, (start, start + CHUNK)) for start in range(lo, hi + 1, CHUNK)]
        else:
            ids = sorted(int(k.split(":", 1)[1]) for k in keys if k.startswith(kind + ":"))
            out += [(kind, ids[n : n + CHUNK // 4]) for n in range(0, len(ids), CHUNK // 4)]
    return out


def add_records(writer: Any, session: Session, url: str, keys: set[str] | None = None, *, processes: int = 2) -> int:
    """Index open sessions and offers (only ``keys`` when given); returns how many were added."""
    chunks = _chunks(session, keys)
    count = 0
    if processes <= 1 or len(chunks) <= 1 or (url.startswith("sqlite://") and ":memory:" in url):
        context = RecordContext(session)
        for kind, ids in chunks:
            for doc in context.chunk(session, kind, ids):
                writer.add_json(doc)
                count += 1
        return count
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        for docs in pool.imap(_work, [(url, kind, ids) for kind, ids in chunks]):
            for doc in docs:
                writer.add_json(doc)
            count += len(docs)
    return count


def suggestions(docs: list[IndexDoc], session: Session) -> list[list[str]]:
    """Names offered by autocomplete: occupations, certifications, ROME fiches and appellations."""
    out: dict[str, list[str]] = {}
    for d in docs:
        rank = {"occupation": "0", "certification": "1"}.get(d.type, "2") if not d.key.startswith("rome:") else "2"
        for label in [d.title, *d.names, *(d.alt if d.type != "training" else [])]:
            folded = fold(label)
            if folded and folded not in out:
                out[folded] = [folded, label, d.type, d.url, rank]
    return sorted(out.values(), key=lambda x: (x[4], len(x[0]), x[0]))


# --- writing and publishing ------------------------------------------------------------------------


@contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_version(root: Path) -> Path | None:
    try:
        name = (root / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None
    path = root / "versions" / name
    return path if path.is_dir() else None


def _new_version_dir(root: Path) -> Path:
    (root / "versions").mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    n = 0
    while (root / "versions" / f"{stamp}-{n}").exists():
        n += 1
    path = root / "versions" / f"{stamp}-{n}"
    path.mkdir()
    return path


def publish(root: Path, version: Path) -> None:
    """Point readers at ``version`` (atomic rename), then drop versions older than the last few."""
    tmp = root / f"CURRENT.{os.getpid()}.tmp"
    tmp.write_text(version.name + "\n")
    with open(tmp) as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, root / "CURRENT")
    versions = sorted((p for p in (root / "versions").iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in versions[:-KEEP_VERSIONS]:
        if old != version:
            shutil.rmtree(old, ignore_errors=True)


@dataclass
class BuildReport:
    version: str
    mode: str  # rebuild | update | memory
    documents: int
    added: int
    deleted: int
    seconds: float
    size_bytes: int

    def as_text(self) -> str:
        return (
            f"Index {self.mode} : version {self.version}, {self.documents} documents "
            f"({self.added} ajoutés, {self.deleted} retirés), {self.seconds:.1f} s, "
            f"{self.size_bytes / 1e6:.1f} Mo"
        )


def _write_side_files(
    folder: Path, places: Places, suggest: list[list[str]], hashes: dict[str, str], info: dict[str, Any]
) -> None:
    (folder / "places.json").write_text(json.dumps(places.to_json(), ensure_ascii=False))
    (folder / "suggest.json").write_text(json.dumps(suggest, ensure_ascii=False))
    (folder / "state.bin").write_bytes(marshal.dumps(hashes))
    (folder / "info.json").write_text(json.dumps(info, ensure_ascii=False, indent=1))


def dir_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _heap(threads: int) -> int:
    return 200_000_000 * threads


def _url(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=False)


def fill_index(
    index: tantivy.Index, session: Session, places: Places, *, threads: int = 2, processes: int = 2
) -> tuple[int, list[IndexDoc], dict[str, str]]:
    """Write every document into an empty ``index``; returns (count, reference docs, record hashes)."""
    writer = index.writer(_heap(threads), threads)
    reference = list(reference_documents(session))
    for d in reference:
        writer.add_document(d.to_tantivy(places))
    hashes = record_hashes(session)
    count = len(reference) + add_records(writer, session, _url(session), processes=processes)
    writer.commit()
    writer.wait_merging_threads()
    return count, reference, hashes


def rebuild(engine: Engine, root: Path, *, threads: int = 2) -> BuildReport:
    """Build a complete new version from the database and publish it."""
    start = time.perf_counter()
    with writer_lock(root), Session(engine) as session:
        folder = _new_version_dir(root)
        places = read_places(session)
        index = tantivy.Index(build_schema(), path=str(folder))
        count, reference, hashes = fill_index(index, session, places, threads=threads)
        _write_side_files(folder, places, suggestions(reference, session), hashes, _info(engine, count))
        publish(root, folder)
    return BuildReport(folder.name, "rebuild", count, count, 0, time.perf_counter() - start, dir_size(folder))


def _info(engine: Engine, count: int) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "database": engine.url.render_as_string(hide_password=True),
        "built_at": dt.datetime.now(dt.UTC).isoformat(),
        "documents": count,
    }


def update(engine: Engine, root: Path, *, threads: int = 1) -> BuildReport:
    """A new version = the current one + what changed in the database since; published like a rebuild.

    Reference documents (occupations, certifications, ROME: a few thousand) are replaced wholesale;
    sessions and offers are compared by row hash, so an import of 1 000 offers rewrites 1 000 documents.
    Without a current version (or with an older schema), this is a rebuild.
    """
    start = time.perf_counter()
    current = current_version(root)
    if current is None or json.loads((current / "info.json").read_text()).get("schema_version") != SCHEMA_VERSION:
        return rebuild(engine, root, threads=max(threads, 2))
    with writer_lock(root), Session(engine) as session:
        current = current_version(root) or current
        folder = _new_version_dir(root)
        for f in current.iterdir():
            if f.is_file():
                # Segment files are immutable: links cost nothing. The meta files are rewritten by tantivy.
                if f.suffix == ".json" or f.name.startswith(".") or f.name == "state.bin":
                    shutil.copy2(f, folder / f.name)
                else:
                    os.link(f, folder / f.name)
        old: dict[str, str] = marshal.loads((folder / "state.bin").read_bytes())  # noqa: S302 (our own file)
        places = read_places(session)
        index = tantivy.Index.open(str(folder))
        writer = index.writer(_heap(threads), threads)
        reference = list(reference_documents(session))
        for kind in ("occupation", "certification"):
            writer.delete_documents_by_term("type", kind)
        for d in reference:
            writer.add_document(d.to_tantivy(places))
        new = record_hashes(session)
        gone = [k for k in old if k not in new or new[k] != old[k]]
        changed = {k for k, h in new.items() if old.get(k) != h}
        for k in gone:
            writer.delete_documents_by_term("key", k)
        added = add_records(writer, session, _url(session), changed, processes=2 if len(changed) > CHUNK else 1)
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        count = index.searcher().num_docs
        _write_side_files(folder, places, suggestions(reference, session), new, _info(engine, count))
        publish(root, folder)
    removed = len([k for k in old if k not in new])
    return BuildReport(folder.name, "update", count, added, removed, time.perf_counter() - start, dir_size(folder))


def build_in_memory(session: Session) -> tuple[tantivy.Index, Places, list[list[str]]]:
    """An index in RAM, for a process with no published index (tests, a CLI call on a fresh database)."""
    places = read_places(session)
    index = tantivy.Index(build_schema())
    _, reference, _ = fill_index(index, session, places, threads=1, processes=1)
    index.reload()
    return index, places, suggestions(reference, session)
