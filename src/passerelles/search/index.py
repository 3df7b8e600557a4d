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

import datetime as dt
import fcntl
import json
import marshal
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tantivy
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from passerelles.certifications.models import Certification, CertificationRoute
from passerelles.occupations.models import Occupation
from passerelles.offers.models import JobOffer
from passerelles.places.models import Commune, Departement, Region
from passerelles.reference.models import StructureType
from passerelles.rome.models import RomeAppellation, RomeFiche
from passerelles.rome.services import latest_version, rome_url
from passerelles.search.text import analyze, fold
from passerelles.trainings.models import TrainingSession

SCHEMA_VERSION = 1
KEEP_VERSIONS = 3
# Result types weigh on the score (tantivy multiplies it by log2(2 + weight)): someone typing a name is
# first looking for the occupation or the diploma, then for offers and sessions of it.
TYPE_WEIGHT = {"occupation": 6.0, "certification": 3.0, "rome": 1.5, "training": 0.3, "offer": 0.0}
SNIPPET_CHARS = 280
BATCH = 5000

TEXT_FIELDS = ("names", "alt", "body", "place")
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


SESSION_COLUMNS = (
    TrainingSession.id,
    TrainingSession.title,
    TrainingSession.start_date,
    TrainingSession.end_date,
    TrainingSession.city,
    TrainingSession.commune_code,
    TrainingSession.latitude,
    TrainingSession.longitude,
    TrainingSession.modality,
    TrainingSession.routes,
    TrainingSession.duration_hours,
    TrainingSession.certification_id,
    TrainingSession.is_demo,
    TrainingSession.row_hash,
)
OFFER_COLUMNS = (
    JobOffer.id,
    JobOffer.title,
    JobOffer.description,
    JobOffer.code_rome,
    JobOffer.appellation,
    JobOffer.employer_name,
    JobOffer.structure_type,
    JobOffer.contract_type,
    JobOffer.working_time,
    JobOffer.night_work,
    JobOffer.commune_code,
    JobOffer.city,
    JobOffer.latitude,
    JobOffer.longitude,
    JobOffer.published_at,
    JobOffer.is_demo,
    JobOffer.row_hash,
)


class RecordReader:
    """Reads training sessions and job offers in batches, and turns rows into documents."""

    def __init__(self, session: Session) -> None:
        self.session = session
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

    def session_doc(self, row: Any) -> IndexDoc:
        cert = self.certs.get(row.certification_id) if row.certification_id else None
        names = [row.title]
        alt = []
        if cert:
            alt.append(cert[1])
            if cert[2]:
                alt.append(cert[2])
        period = f"du {row.start_date:%d/%m/%Y}" if row.start_date else "dates à venir"
        return IndexDoc(
            f"training:{row.id}",
            "training",
            row.title,
            f"/api/v1/search/documents/training:{row.id}",
            f"Session de formation, {row.city or 'lieu à préciser'}, {period}",
            names=names,
            alt=alt,
            commune=row.commune_code,
            city=row.city,
            level=str(cert[3]) if cert and cert[3] else None,
            routes=list(row.routes or []),
            modality=row.modality,
            start=row.start_date,
            lat=row.latitude,
            lon=row.longitude,
            weight=TYPE_WEIGHT["training"],
            is_demo=bool(row.is_demo),
            text=row.title,
            extra={
                "id": str(row.id),
                "end": row.end_date.isoformat() if row.end_date else None,
                "hours": row.duration_hours,
            },
        )

    def offer_doc(self, row: Any) -> IndexDoc:
        names = [row.title]
        alt = [x for x in (row.appellation,) if x]
        body = [x for x in (row.employer_name, self.structures.get(row.structure_type or "")) if x]
        if row.night_work:
            body.append("travail de nuit")
        exact = [row.code_rome.lower()] if row.code_rome else []
        return IndexDoc(
            f"offer:{row.id}",
            "offer",
            row.title,
            f"/api/v1/search/documents/offer:{row.id}",
            f"Offre d'emploi, {row.contract_type or 'contrat à préciser'}, {row.city or 'lieu à préciser'}",
            names=names,
            alt=alt,
            body=body,
            exact=exact,
            rome_codes=[row.code_rome] if row.code_rome else [],
            commune=row.commune_code,
            city=row.city,
            contract=row.contract_type,
            working_time=row.working_time,
            published=row.published_at,
            lat=row.latitude,
            lon=row.longitude,
            weight=TYPE_WEIGHT["offer"],
            is_demo=bool(row.is_demo),
            text=(row.description or row.title),
            extra={"id": str(row.id), "employer": row.employer_name, "structure": row.structure_type},
        )

    def hashes(self) -> dict[str, str]:
        """key → row hash of every open session and offer: what an incremental update compares."""
        out: dict[str, str] = {}
        for i, h in self.session.execute(
            select(TrainingSession.id, TrainingSession.row_hash).where(TrainingSession.closed_at.is_(None))
        ):
            out[f"training:{i}"] = h
        for i, h in self.session.execute(select(JobOffer.id, JobOffer.row_hash).where(JobOffer.closed_at.is_(None))):
            out[f"offer:{i}"] = h
        return out

    def records(self, keys: set[str] | None = None) -> Iterator[IndexDoc]:
        """Open sessions and offers (only ``keys`` when given), streamed in batches."""
        for kind, columns, model, make in (
            ("training", SESSION_COLUMNS, TrainingSession, self.session_doc),
            ("offer", OFFER_COLUMNS, JobOffer, self.offer_doc),
        ):
            wanted = None if keys is None else sorted(int(k.split(":", 1)[1]) for k in keys if k.startswith(kind + ":"))
            if wanted is not None and not wanted:
                continue
            last = 0
            while True:
                stmt = (
                    select(*columns).where(model.closed_at.is_(None), model.id > last).order_by(model.id).limit(BATCH)
                )
                if wanted is not None:
                    chunk = wanted[:BATCH]
                    wanted = wanted[BATCH:]
                    if not chunk:
                        break
                    stmt = select(*columns).where(model.id.in_(chunk))
                rows = self.session.execute(stmt).all()
                if not rows:
                    if wanted is None:
                        break
                    continue
                for row in rows:
                    yield make(row)
                last = rows[-1].id


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


def fill_index(
    index: tantivy.Index, session: Session, places: Places, *, threads: int = 2
) -> tuple[int, list[IndexDoc], dict[str, str]]:
    """Write every document into an empty ``index``; returns (count, reference docs, record hashes)."""
    writer = index.writer(_heap(threads), threads)
    reference = list(reference_documents(session))
    for d in reference:
        writer.add_document(d.to_tantivy(places))
    reader = RecordReader(session)
    hashes = reader.hashes()
    count = len(reference)
    for d in reader.records():
        writer.add_document(d.to_tantivy(places))
        count += 1
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
        reader = RecordReader(session)
        new = reader.hashes()
        gone = [k for k in old if k not in new or new[k] != old[k]]
        changed = {k for k, h in new.items() if old.get(k) != h}
        for k in gone:
            writer.delete_documents_by_term("key", k)
        added = 0
        for d in reader.records(changed):
            writer.add_document(d.to_tantivy(places))
            added += 1
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
    _, reference, _ = fill_index(index, session, places, threads=1)
    index.reload()
    return index, places, suggestions(reference, session)
