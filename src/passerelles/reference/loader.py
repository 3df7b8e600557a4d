"""Load the project's reference files into the store: validate everything first, then write in one
transaction. Idempotent: a record whose content did not change is counted ``unchanged`` and not touched."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from passerelles.certifications.models import (
    Certification,
    CertificationReplacement,
    CertificationRncp,
    CertificationRoute,
    OccupationCertification,
)
from passerelles.importing.report import ImportReport
from passerelles.occupations.models import Occupation, OccupationName, OccupationRome
from passerelles.pathways.models import PathwayRule
from passerelles.places.models import Departement, Region
from passerelles.reference import schemas
from passerelles.reference.models import PublicService, StructureType
from passerelles.reference.reader import ReferenceSet, read_directory
from passerelles.sources.models import Source


def _hash(model: Any) -> str:
    payload = json.dumps(model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha1(payload.encode(), usedforsecurity=False).hexdigest()


def load_reference(session: Session, directory: Path, *, dry_run: bool = False) -> ImportReport:
    ref = read_directory(directory)  # raises InvalidReferenceData listing every error
    report = ImportReport(importer="reference", source=str(directory), dry_run=dry_run)
    _load_sources(session, ref, report)
    _load_places(session, ref, report)
    _load_structure_types(session, ref, report)
    _load_public_services(session, ref, report)
    cert_ids = _load_certifications(session, ref, report)
    occ_ids = _load_occupations(session, ref, report)
    _load_links(session, ref, cert_ids, occ_ids)
    _load_pathway_rules(session, ref, report)
    if dry_run:
        session.rollback()
    return report


def _counted(report: ImportReport, entity: str, existing: Any, new_hash: str) -> str:
    counts = report.entity(entity)
    if existing is None:
        counts.created += 1
        return "created"
    if existing != new_hash:
        counts.updated += 1
        return "updated"
    counts.unchanged += 1
    return "unchanged"


def _load_sources(session: Session, ref: ReferenceSet, report: ImportReport) -> None:
    existing = {s.slug: s for s in session.scalars(select(Source))}
    for sid, src in ref.sources.items():
        row = existing.get(sid)
        values = {
            "title": src.title,
            "publisher": src.publisher,
            "kind": src.kind,
            "url": src.url,
            "date": src.date,
            "licence": src.licence,
        }
        if row is None:
            session.add(Source(slug=sid, **values))
            report.entity("source").created += 1
        elif row.version is not None or not any(getattr(row, k) != v for k, v in values.items()):
            # An imported dataset (ROME…) describes itself, with its version: the importer owns that row.
            report.entity("source").unchanged += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            report.entity("source").updated += 1
        else:
            report.entity("source").unchanged += 1
    session.flush()


def _load_places(session: Session, ref: ReferenceSet, report: ImportReport) -> None:
    regions = {r.code: r for r in session.scalars(select(Region))}
    for code, region in ref.regions.items():
        row = regions.get(code)
        if row is None:
            session.add(Region(code=code, name=region.name))
            report.entity("region").created += 1
        elif row.name != region.name:
            row.name = region.name
            report.entity("region").updated += 1
        else:
            report.entity("region").unchanged += 1
    session.flush()
    deps = {d.code: d for d in session.scalars(select(Departement))}
    for code, dep in ref.departements.items():
        drow = deps.get(code)
        if drow is None:
            session.add(Departement(code=code, name=dep.name, region_code=dep.region))
            report.entity("departement").created += 1
        elif (drow.name, drow.region_code) != (dep.name, dep.region):
            drow.name, drow.region_code = dep.name, dep.region
            report.entity("departement").updated += 1
        else:
            report.entity("departement").unchanged += 1
    session.flush()


def _load_structure_types(session: Session, ref: ReferenceSet, report: ImportReport) -> None:
    rows = {s.slug: s for s in session.scalars(select(StructureType))}
    for slug, st in ref.structure_types.items():
        values = {"acronym": st.acronym, "name": st.name, "description": st.description}
        row = rows.get(slug)
        if row is None:
            session.add(StructureType(slug=slug, **values))
            report.entity("structure_type").created += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            report.entity("structure_type").updated += 1
        else:
            report.entity("structure_type").unchanged += 1
    session.flush()


def _load_public_services(session: Session, ref: ReferenceSet, report: ImportReport) -> None:
    rows = {s.slug: s for s in session.scalars(select(PublicService))}
    counts = report.entity("public_service")
    for slug, svc in ref.public_services.items():
        values = {"name": svc.name, "url": svc.url, "description": svc.description, "sources": list(svc.sources)}
        row = rows.pop(slug, None)
        if row is None:
            session.add(PublicService(slug=slug, **values))
            counts.created += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            counts.updated += 1
        else:
            counts.unchanged += 1
    for row in rows.values():  # a service removed from the data leaves the pages too
        session.delete(row)
        counts.removed += 1
    session.flush()


def _load_certifications(session: Session, ref: ReferenceSet, report: ImportReport) -> dict[str, int]:
    rows = {c.slug: c for c in session.scalars(select(Certification))}
    for slug, cert in ref.certifications.items():
        h = _hash(cert)
        row = rows.get(slug)
        outcome = _counted(report, "certification", row.row_hash if row else None, h)
        if outcome == "unchanged":
            continue
        if row is None:
            row = Certification(slug=slug)
            session.add(row)
            rows[slug] = row
        row.name, row.acronym, row.kind, row.status = cert.name, cert.acronym, cert.kind, cert.status
        row.level_eu = cert.level.eu if cert.level else None
        row.level_fr = cert.level.fr_old if cert.level else None
        row.duration_hours = cert.duration.hours if cert.duration else None
        row.months_min = cert.duration.months_min if cert.duration else None
        row.months_max = cert.duration.months_max if cert.duration else None
        row.min_age = cert.admission.min_age if cert.admission else None
        row.detail = cert.model_dump(mode="json")
        row.row_hash = h
        row.routes = [
            CertificationRoute(position=i, route=r.route, available=r.available, note=r.note)
            for i, r in enumerate(cert.routes)
        ]
        row.rncp_codes = [CertificationRncp(code=r.code, verified=r.verified) for r in cert.rncp]
    session.flush()
    return {slug: row.id for slug, row in rows.items()}


def _load_occupations(session: Session, ref: ReferenceSet, report: ImportReport) -> dict[str, int]:
    rows = {o.slug: o for o in session.scalars(select(Occupation))}
    for slug, occ in ref.occupations.items():
        h = _hash(occ)
        row = rows.get(slug)
        outcome = _counted(report, "occupation", row.row_hash if row else None, h)
        if outcome == "unchanged":
            continue
        current = next(n for n in occ.names if n.kind == "current")
        if row is None:
            row = Occupation(slug=slug)
            session.add(row)
            rows[slug] = row
        row.name, row.name_feminine, row.summary = current.name, current.feminine, occ.summary.text
        row.nights = occ.conditions.nights if occ.conditions else None
        row.weekends = occ.conditions.weekends if occ.conditions else None
        row.profile = occ.model_dump(mode="json")
        row.row_hash = h
        row.names = [
            OccupationName(position=i, name=n.name, feminine=n.feminine, acronym=n.acronym, kind=n.kind, until=n.until)
            for i, n in enumerate(occ.names)
        ]
        row.rome_links = [
            OccupationRome(
                position=i, rome_version=r.version, code_rome=r.code, appellation_ogr=r.appellation_ogr, main=r.main
            )
            for i, r in enumerate(occ.rome)
        ]
    session.flush()
    return {slug: row.id for slug, row in rows.items()}


def _load_links(session: Session, ref: ReferenceSet, cert_ids: dict[str, int], occ_ids: dict[str, int]) -> None:
    """Links are derived from both sides: rebuilt each time (cheap, and never stale)."""
    session.execute(delete(OccupationCertification))
    session.execute(delete(CertificationReplacement))
    pairs: dict[tuple[str, str], tuple[str, str | None]] = {}
    for slug, occ in ref.occupations.items():
        for oc in occ.certifications:
            pairs[(slug, oc.certification)] = (oc.role, oc.note)
    for cslug, cert in ref.certifications.items():
        for oslug in cert.occupations:
            pairs.setdefault((oslug, cslug), ("possible", None))
    session.add_all(
        OccupationCertification(occupation_id=occ_ids[o], certification_id=cert_ids[c], role=role, note=note)
        for (o, c), (role, note) in sorted(pairs.items())
    )
    for cslug, cert in ref.certifications.items():
        for rep in cert.replaces:
            session.add(
                CertificationReplacement(
                    replaced_id=cert_ids[rep.certification], replacing_id=cert_ids[cslug], date=rep.date, note=rep.note
                )
            )
    session.flush()


__all__ = ["load_reference", "schemas"]


def _load_pathway_rules(session: Session, ref: ReferenceSet, report: ImportReport) -> None:
    """Rules are small and read whole by the planner: replaced as a set, counted by kind."""
    wanted = [
        (kind, i, item.model_dump(mode="json"))
        for kind, items in (
            ("general_diploma", list(ref.general_diplomas.values())),
            ("occupation_access", ref.occupation_access),
            ("admission", ref.admissions),
            ("reduction", ref.reductions),
            ("equivalence", ref.equivalences),
            ("vae", ref.vae_rules),
        )
        for i, item in enumerate(items)
    ]
    existing = [(r.kind, r.position, r.payload) for r in session.scalars(select(PathwayRule).order_by(PathwayRule.id))]
    counts = report.entity("pathway_rule")
    if existing == wanted:
        counts.unchanged += len(wanted)
        return
    old = {(k, json.dumps(p, sort_keys=True)) for k, _, p in existing}
    new = {(k, json.dumps(p, sort_keys=True)) for k, _, p in wanted}
    counts.created += len(new - old)
    counts.removed += len(old - new)
    counts.unchanged += len(new & old)
    session.execute(delete(PathwayRule))
    session.add_all(PathwayRule(kind=k, position=i, payload=p) for k, i, p in wanted)
    session.flush()
