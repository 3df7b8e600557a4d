"""Occupation queries, shared by pages, API and CLI (no HTTP here)."""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from passerelles.certifications.models import Certification, OccupationCertification
from passerelles.certifications.schemas import LEVEL_LABELS
from passerelles.certifications.services import certification_url, to_ref
from passerelles.occupations.models import Occupation, OccupationName, OccupationRome, OnisepMetier
from passerelles.occupations.schemas import (
    LevelGroup,
    Link,
    LinkedCertification,
    LiveFigures,
    OccupationDetail,
    OccupationSummary,
    PayBar,
    PayChart,
)
from passerelles.offers.schemas import OfferQuery
from passerelles.offers.services import PANEL_TTL_S, search_offers
from passerelles.places.services import (
    PlaceFilter,
    PlaceIndex,
    PlaceResolution,
    UnknownPlace,
    read_place_field,
    resolve_place,
)
from passerelles.reference.models import PublicService, StructureType
from passerelles.reference.schemas import Occupation as OccupationFacts
from passerelles.reference.schemas import PayRange
from passerelles.rome.models import RomeAppellation, RomeFiche
from passerelles.rome.services import fiche_ref, get_fiche
from passerelles.search.text import fold
from passerelles.sources.services import cited, sources_by_slug
from passerelles.trainings.schemas import TrainingQuery
from passerelles.trainings.services import search_sessions
from passerelles.webforms import query_string

ROLE_ORDER = {"principale": 0, "possible": 1, "evolution": 2}


def occupation_url(slug: str) -> str:
    return f"/metiers/{slug}"


def name_slug(name: str) -> str:
    """A name as it would read in an address: « Aide médico-psychologique » → ``aide-medico-psychologique``."""
    return "-".join(fold(name).split())


def occupation_slug_for_name(session: Session, name: str) -> str | None:
    """The occupation one of whose names (current, former or synonym, masculine or feminine, acronym, or a
    ROME appellation the project tied to it) reads ``name`` in an address; ``None`` when no occupation or
    several do. Only asked for an unknown address, so read from the database each time (a few hundred rows)."""
    wanted = name_slug(name)
    found: set[str] = set()
    for slug, *names in session.execute(
        select(Occupation.slug, OccupationName.name, OccupationName.feminine, OccupationName.acronym).join(
            OccupationName, OccupationName.occupation_id == Occupation.id
        )
    ):
        if any(n and name_slug(n) == wanted for n in names):
            found.add(slug)
    appellations = session.execute(
        select(Occupation.slug, RomeAppellation.libelle_long, RomeAppellation.libelle_court)
        .join(OccupationRome, OccupationRome.occupation_id == Occupation.id)
        .join(
            RomeAppellation,
            (RomeAppellation.code_ogr == OccupationRome.appellation_ogr)
            & (RomeAppellation.rome_version == OccupationRome.rome_version),
        )
    )
    for slug, *labels in appellations:
        # « Educateur spécialisé / Educatrice spécialisée »: each form, and the whole label.
        forms = {part for label in labels if label for part in (label, *label.split("/"))}
        if any(name_slug(f) == wanted for f in forms):
            found.add(slug)
    return found.pop() if len(found) == 1 else None


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


# ---------------------------------------------------------------- the visitor's territory and live figures

PLACE_PARAMS = ("commune", "region", "departement", "rayon")


@dataclass
class Territory:
    """The place a visitor chose (the parameters /formations uses for a place), resolved."""

    params: dict[str, str]
    place: PlaceFilter
    error: str | None = None
    resolution: PlaceResolution | None = None  # what the place picker shows

    @property
    def text(self) -> str:
        return self.params.get("commune", "")

    @property
    def chosen(self) -> bool:
        return bool(self.params) and self.error is None


def territory(index: PlaceIndex, params: Mapping[str, str]) -> Territory:
    """Resolve the place parameters (commune, région, département, rayon); an unknown place gives all of
    France and a message naming what was not found."""
    kept = {k: v.strip()[:120] for k in PLACE_PARAMS if (v := params.get(k)) and v.strip()}
    rayon_text = kept.get("rayon")
    rayon = int(rayon_text) if rayon_text and rayon_text.isdigit() and 1 <= int(rayon_text) <= 300 else None
    if rayon_text and rayon is None:
        kept.pop("rayon")
    resolution, where = read_place_field(
        index, kept.get("commune"), region=kept.get("region"), departement=kept.get("departement")
    )
    if kept.get("commune") and resolution.error:
        return Territory(kept, resolve_place(index), resolution.error, resolution)
    try:
        place = resolve_place(
            index,
            region=where["region"],
            departement=where["departement"],
            commune=where["commune"],
            radius_km=rayon,
        )
    except UnknownPlace as exc:
        return Territory(kept, resolve_place(index), exc.message, resolution)
    return Territory(kept, place, None, resolution)


_figures_cache: dict[tuple[str, str, str | None, dt.date], tuple[float, LiveFigures]] = {}
_figures_lock = threading.Lock()


def live_figures(session: Session, slug: str, place: PlaceFilter, index: PlaceIndex) -> LiveFigures:
    """``compute_live_figures``, kept ``PANEL_TTL_S`` seconds per occupation and région, as the labour-market
    panel is: sessions and offers change with imports, a few times a day."""
    bind = session.get_bind()
    key = (str(getattr(bind, "url", id(bind))), slug, place.region_code, dt.date.today())
    clock = time.monotonic()
    found = _figures_cache.get(key)
    if found is not None and found[0] > clock:
        return found[1]
    figures = compute_live_figures(session, slug, place, index)
    with _figures_lock:
        if len(_figures_cache) >= 512:
            _figures_cache.clear()
        _figures_cache[key] = (clock + PANEL_TTL_S, figures)
    return figures


def compute_live_figures(session: Session, slug: str, place: PlaceFilter, index: PlaceIndex) -> LiveFigures:
    """Upcoming sessions and open offers of the occupation in the visitor's région (all of France without
    one), counted by the very searches /formations and /emploi run for the linked criteria."""
    region = place.region_code
    where = {"metier": slug, "region": region}
    trainings = search_sessions(session, TrainingQuery.model_validate(where), page_size=1)
    offers = search_offers(session, OfferQuery.model_validate(where), page_size=1)
    return LiveFigures(
        region_label=index.region_label(region) if region else "en France",
        # A search that finds nothing widens itself: the région's own count is then zero.
        trainings=0 if trainings.widened else trainings.total,
        trainings_url="/formations?" + query_string(where),
        offers=offers.total,
        offers_url="/emploi?" + query_string(where),
        has_demo=trainings.has_demo or offers.has_demo,
    )


def _career_rank(p: PayRange) -> int:
    label = p.label.lower()
    if p.experience_years is not None:
        return p.experience_years
    if "début" in label or "minimum" in label:
        return -1
    if "fin" in label:
        return 99
    return 50


def pay_chart(pay: list[PayRange]) -> PayChart | None:
    """The occupation's sourced pay figures of the most common basis (brut or net, per month or year),
    earliest in a career first; ``None`` without figures."""
    priced = [p for p in pay if p.min_eur or p.max_eur]
    if not priced:
        return None
    bases: dict[tuple[str, str], int] = {}
    for p in priced:
        bases[(p.basis, p.period)] = bases.get((p.basis, p.period), 0) + 1
    basis, period = max(bases, key=lambda k: (bases[k], k == ("brut", "mois")))
    chosen = sorted((p for p in priced if (p.basis, p.period) == (basis, period)), key=_career_rank)
    bars = [
        PayBar(
            label=p.label,
            min_eur=p.min_eur or p.max_eur or 0,
            max_eur=p.max_eur or p.min_eur or 0,
            year=p.year,
            note=p.note,
            sources=list(p.sources),
        )
        for p in chosen
    ]
    top = max(b.max_eur for b in bars)
    step = 500 if period == "mois" else 5000
    return PayChart(basis=basis, period=period, bars=bars, top=int(math.ceil(top * 1.1 / step) * step))
