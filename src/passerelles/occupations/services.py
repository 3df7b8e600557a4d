"""Occupation queries, shared by pages, API and CLI (no HTTP here)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from passerelles.certifications.models import Certification, OccupationCertification
from passerelles.certifications.schemas import LEVEL_LABELS
from passerelles.certifications.services import certification_url, to_ref
from passerelles.occupations.models import Occupation, OnisepMetier
from passerelles.occupations.schemas import LevelGroup, Link, LinkedCertification, OccupationDetail, OccupationSummary
from passerelles.reference.models import PublicService, StructureType
from passerelles.reference.schemas import Occupation as OccupationFacts
from passerelles.rome.models import RomeFiche
from passerelles.rome.services import fiche_ref, get_fiche
from passerelles.sources.services import cited, sources_by_slug

ROLE_ORDER = {"principale": 0, "possible": 1, "evolution": 2}


def occupation_url(slug: str) -> str:
    return f"/metiers/{slug}"


def _summary(o: Occupation) -> OccupationSummary:
    return OccupationSummary(
        slug=o.slug,
        name=o.name,
        name_feminine=o.name_feminine,
        acronyms=sorted({n.acronym for n in o.names if n.acronym and n.kind != "former"}),
        former_names=[n.name + (f" ({n.acronym})" if n.acronym else "") for n in o.names if n.kind == "former"],
        summary=o.summary,
        rome_codes=list(dict.fromkeys(r.code_rome for r in o.rome_links)),
        url=occupation_url(o.slug),
    )


def list_occupations(session: Session) -> list[OccupationSummary]:
    stmt = select(Occupation).options(selectinload(Occupation.names), selectinload(Occupation.rome_links))
    return sorted((_summary(o) for o in session.scalars(stmt)), key=lambda s: s.name)


def get_occupation(session: Session, slug: str) -> OccupationDetail | None:
    occ = session.scalar(
        select(Occupation)
        .where(Occupation.slug == slug)
        .options(selectinload(Occupation.names), selectinload(Occupation.rome_links))
    )
    if occ is None:
        return None
    facts = OccupationFacts.model_validate(occ.profile)
    keys = dict.fromkeys((link.rome_version, link.code_rome) for link in occ.rome_links)
    rome = [fiche_ref(f) for key in keys if (f := session.get(RomeFiche, key)) is not None]
    main_link = next((r for r in occ.rome_links if r.main), None)
    rome_main = get_fiche(session, main_link.code_rome, main_link.rome_version) if main_link else None

    groups: dict[int | None, list[LinkedCertification]] = {}
    for link, cert in session.execute(
        select(OccupationCertification, Certification)
        .join(Certification, Certification.id == OccupationCertification.certification_id)
        .where(OccupationCertification.occupation_id == occ.id)
    ):
        groups.setdefault(cert.level_eu, []).append(
            LinkedCertification(certification=to_ref(cert), role=link.role, note=link.note)
        )
    by_level = [
        LevelGroup(
            level_eu=level,
            label=f"Niveau {level} ({LEVEL_LABELS.get(level, '')})" if level else "Sans niveau, CQP, attestations",
            certifications=sorted(
                items,
                key=lambda i: (ROLE_ORDER.get(i.role, 9), i.certification.status != "active", i.certification.name),
            ),
        )
        for level, items in sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    ]

    # Slugs and names only: the full rows carry each fiche's JSON profile, not needed here.
    names = {slug: name for slug, name in session.execute(select(Occupation.slug, Occupation.name))}
    cert_names = {slug: name for slug, name in session.execute(select(Certification.slug, Certification.name))}
    evolutions = []
    for ev in facts.evolutions:
        url = (
            occupation_url(ev.occupation)
            if ev.occupation in names
            else certification_url(ev.certification)
            if ev.certification in cert_names
            else None
        )
        evolutions.append(Link(title=ev.title, url=url, text=ev.text))
    related = [Link(title=names[s], url=occupation_url(s)) for s in facts.related if s in names]
    structure_labels = {s.slug: s.name for s in session.scalars(select(StructureType))}
    onisep = [
        Link(title=m.libelle, url=m.url)
        for m in session.scalars(
            select(OnisepMetier).where(OnisepMetier.onisep_id.in_(facts.onisep)).order_by(OnisepMetier.libelle)
        )
    ]
    services = {s.slug: s for s in session.scalars(select(PublicService).where(PublicService.slug.in_(facts.further)))}
    further = [
        Link(title=services[slug].name, url=services[slug].url, text=services[slug].description)
        for slug in facts.further
        if slug in services
    ]
    summary = _summary(occ)
    return OccupationDetail(
        **summary.model_dump(),
        facts=facts,
        rome=rome,
        rome_main=rome_main,
        certifications_by_level=by_level,
        evolutions=evolutions,
        related=related,
        structure_labels=structure_labels,
        onisep=list({link.title: link for link in onisep}.values()),
        further=further,
        sources=sources_by_slug(
            session,
            cited(occ.profile)
            | ({"rome-460"} if rome else set())
            | {sid for slug in facts.further if slug in services for sid in services[slug].sources},
        ),
    )
