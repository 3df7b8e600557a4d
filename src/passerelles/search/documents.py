"""Documents of the index read from the database: occupations, certifications and ROME fiches (a few
thousand, through the ORM), and the names offered by autocomplete."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import tantivy
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from passerelles.certifications.models import Certification, CertificationRoute
from passerelles.occupations.models import Occupation
from passerelles.reference.models import StructureType
from passerelles.rome.models import RomeAppellation, RomeFiche
from passerelles.rome.services import latest_version, rome_url
from passerelles.search.fields import SNIPPET_CHARS, TYPE_WEIGHT
from passerelles.search.gazetteer import Places
from passerelles.search.text import analyze, fold


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
