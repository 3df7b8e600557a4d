"""Certification queries, shared by pages, API and CLI (no HTTP here)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from passerelles.certifications.models import Certification, CertificationReplacement, OccupationCertification
from passerelles.certifications.schemas import (
    LEVEL_LABELS,
    CertificationDetail,
    CertificationRef,
    OccupationLink,
    ReplacementOut,
)
from passerelles.occupations.models import Occupation
from passerelles.reference.schemas import Certification as CertificationFacts
from passerelles.sources.services import cited, sources_by_slug


def certification_url(slug: str) -> str:
    return f"/certifications/{slug}"


def to_ref(c: Certification) -> CertificationRef:
    return CertificationRef(
        slug=c.slug,
        name=c.name,
        acronym=c.acronym,
        level_eu=c.level_eu,
        level_fr=c.level_fr,
        status=c.status,
        url=certification_url(c.slug),
    )


def list_certifications(session: Session, *, level: int | None = None) -> list[CertificationRef]:
    stmt = select(Certification).order_by(Certification.level_eu.nulls_last(), Certification.name)
    if level is not None:
        stmt = stmt.where(Certification.level_eu == level)
    return [to_ref(c) for c in session.scalars(stmt)]


def get_certification(session: Session, slug: str) -> CertificationDetail | None:
    cert = session.scalar(select(Certification).where(Certification.slug == slug))
    if cert is None:
        return None
    other = aliased(Certification)
    replaces = [
        ReplacementOut(certification=to_ref(c), date=r.date, note=r.note)
        for r, c in session.execute(
            select(CertificationReplacement, other)
            .join(other, other.id == CertificationReplacement.replaced_id)
            .where(CertificationReplacement.replacing_id == cert.id)
            .order_by(other.name)
        )
    ]
    replaced_by = [
        ReplacementOut(certification=to_ref(c), date=r.date, note=r.note)
        for r, c in session.execute(
            select(CertificationReplacement, other)
            .join(other, other.id == CertificationReplacement.replacing_id)
            .where(CertificationReplacement.replaced_id == cert.id)
            .order_by(other.name)
        )
    ]
    occupations = [
        OccupationLink(slug=o.slug, name=o.name, url=f"/metiers/{o.slug}")
        for o in session.scalars(
            select(Occupation)
            .join(OccupationCertification, OccupationCertification.occupation_id == Occupation.id)
            .where(OccupationCertification.certification_id == cert.id)
            .order_by(Occupation.name)
        )
    ]
    return CertificationDetail(
        slug=cert.slug,
        name=cert.name,
        acronym=cert.acronym,
        url=certification_url(cert.slug),
        level_eu=cert.level_eu,
        level_fr=cert.level_fr,
        level_label=LEVEL_LABELS.get(cert.level_eu) if cert.level_eu else None,
        status=cert.status,
        facts=CertificationFacts.model_validate(cert.detail),
        replaces=replaces,
        replaced_by=replaced_by,
        occupations=occupations,
        sources=sources_by_slug(session, cited(cert.detail)),
    )
