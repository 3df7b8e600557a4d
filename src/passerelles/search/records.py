"""Sessions and offers in the index: the volume (a million rows).

Rows are read with plain SQL (no ORM objects, no type conversion) in id ranges, turned into tantivy's
JSON documents by worker processes (the analysis is Python), and the parent only hands the JSON to the
writer, whose threads index it. Same documents as the reference path, much less work per row.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import multiprocessing
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from passerelles.certifications.models import Certification
from passerelles.db import make_engine
from passerelles.offers.models import JobOffer
from passerelles.offers.schemas import CONTRACTS
from passerelles.search.documents import structure_names
from passerelles.search.fields import TYPE_WEIGHT, add_tiered, bucket_of, in_sample
from passerelles.search.gazetteer import Places, read_places
from passerelles.search.text import analyze
from passerelles.trainings.models import TrainingSession

CHUNK = 20000
SESSION_SQL = (
    "SELECT id, title, start_date, end_date, city, commune_code, latitude, longitude, modality, routes, "
    "duration_hours, certification_id, is_demo FROM training_session WHERE closed_at IS NULL "
    "AND full_session_id IS NULL"  # a summary (LHÉO léger) linked to its full session: that one is indexed
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


def _new_document(kind: str, i: int, title: str) -> dict[str, Any]:
    """The start of a session's or offer's document: key, type, the words of its title, its type's weight."""
    return {"key": f"{kind}:{i}", "type": kind, "names": _joined(title), "weight": TYPE_WEIGHT[kind]}


def _document_json(doc: dict[str, Any], payload: dict[str, Any]) -> str:
    """A document as tantivy's JSON, its stored payload base64-encoded in the bytes field."""
    doc["payload"] = base64.b64encode(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()).decode()
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


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
        doc = _new_document("training", i, title)
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
        add_tiered(doc, bucket_of("training", start_day), sampled=in_sample(i))
        when = f"du {start_day[8:10]}/{start_day[5:7]}/{start_day[:4]}" if start_day else "dates à venir"
        # The place's keys written out, as in offer_json, not merged from a helper's dict: this runs once
        # per row, for a million rows.
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
        return _document_json(doc, payload)

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
        doc = _new_document("offer", i, title)
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
        add_tiered(doc, bucket_of("offer", stamp), sampled=in_sample(i))
        payload = {
            "title": title,
            "url": f"/api/v1/search/documents/offer:{i}",
            "subtitle": f"Offre d'emploi, {CONTRACTS.get(contract, contract) if contract else 'contrat à préciser'}, "
            f"{city or 'lieu à préciser'}",
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
        return _document_json(doc, payload)

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
        select(TrainingSession.id, TrainingSession.row_hash).where(
            TrainingSession.closed_at.is_(None), TrainingSession.full_session_id.is_(None)
        )
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
