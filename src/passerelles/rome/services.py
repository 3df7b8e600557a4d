"""Read the imported ROME referential (no HTTP here)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passerelles.occupations.models import Occupation, OccupationRome
from passerelles.rome.models import RomeAppellation, RomeFiche, RomeFicheItem, RomeItem, RomeMobility, RomeText
from passerelles.rome.schemas import RomeFicheDetail, RomeFicheRef, RomeItemOut, RomeMobilityOut
from passerelles.sources.models import Source

CORE_ORDER = {"Principale": 0, "Émergente": 1, None: 2}


def rome_url(code: str) -> str:
    return f"/metiers/rome/{code}"


def latest_version(session: Session) -> str | None:
    value = session.scalar(select(func.max(RomeFiche.rome_version)))
    return str(value) if value else None


def fiche_ref(f: RomeFiche) -> RomeFicheRef:
    return RomeFicheRef(
        code_rome=f.code_rome, rome_version=f.rome_version, libelle=f.libelle, url=rome_url(f.code_rome)
    )


# ROME reference rows of one version never change until that version is imported again, which rewrites
# its source row (checksum and load time): a per-process cache keyed on the database and that row is safe.
_FICHE_CACHE_SIZE = 512


@dataclass(frozen=True)
class _FicheCore:
    """What a fiche page shows from the ROME rows alone (no occupation of ours)."""

    code_rome: str
    libelle: str
    grand_domaine: str | None
    domaine: str | None
    riasec: list[str]
    emploi_reglemente: bool
    texts: dict[str, list[str]]
    appellations: list[str]
    groups: dict[str, list[RomeItemOut]]
    contexts: dict[str, list[str]]
    targets: list[RomeFicheRef]


_fiche_cache: dict[tuple[object, ...], _FicheCore | None] = {}


def _rome_load_key(session: Session, version: str) -> tuple[object, ...] | None:
    row = session.execute(
        select(Source.checksum, Source.loaded_at).where(Source.slug == f"rome-{version.replace('.', '')}")
    ).first()
    if row is None or not row.checksum:
        return None  # not imported through the importer: read afresh every time
    return (str(session.get_bind().engine.url), version, row.checksum, row.loaded_at)


def _fiche_core(session: Session, version: str, code: str) -> _FicheCore | None:
    load_key = _rome_load_key(session, version)
    key = (*load_key, code) if load_key else None
    if key is not None and key in _fiche_cache:
        return _fiche_cache[key]
    found = _read_fiche_core(session, version, code)
    if key is not None:
        if len(_fiche_cache) >= _FICHE_CACHE_SIZE:
            _fiche_cache.clear()
        _fiche_cache[key] = found
    return found


def _read_fiche_core(session: Session, version: str, code: str) -> _FicheCore | None:
    fiche = session.get(RomeFiche, (version, code))
    if fiche is None:
        return None
    texts: dict[str, list[str]] = defaultdict(list)
    for t in session.scalars(
        select(RomeText)
        .where(RomeText.rome_version == version, RomeText.code_rome == fiche.code_rome)
        .order_by(RomeText.kind, RomeText.position)
    ):
        texts[t.kind].append(t.text)
    appellations = list(
        session.scalars(
            select(RomeAppellation.libelle_long)
            .where(RomeAppellation.rome_version == version, RomeAppellation.code_rome == fiche.code_rome)
            .order_by(RomeAppellation.peu_usite, RomeAppellation.libelle_long)
        )
    )
    groups: dict[str, list[RomeItemOut]] = defaultdict(list)
    contexts: dict[str, list[str]] = defaultdict(list)
    for link, item in session.execute(
        select(RomeFicheItem, RomeItem)
        .join(
            RomeItem,
            (RomeItem.rome_version == RomeFicheItem.rome_version) & (RomeItem.code_ogr == RomeFicheItem.code_ogr),
        )
        .where(RomeFicheItem.rome_version == version, RomeFicheItem.code_rome == fiche.code_rome)
        .order_by(RomeItem.libelle)
    ):
        if item.kind == "contexte":
            contexts[item.categorie or "Autres"].append(item.libelle)
        else:
            groups[item.kind].append(
                RomeItemOut(
                    code_ogr=item.code_ogr,
                    libelle=item.libelle,
                    categorie=item.categorie,
                    coeur_metier=link.coeur_metier,
                )
            )
    for items in groups.values():
        items.sort(key=lambda i: (CORE_ORDER.get(i.coeur_metier, 2), i.libelle))
    targets = [
        fiche_ref(target)
        for _mob, target in session.execute(
            select(RomeMobility, RomeFiche)
            .join(
                RomeFiche,
                (RomeFiche.rome_version == RomeMobility.rome_version)
                & (RomeFiche.code_rome == RomeMobility.code_rome_cible),
            )
            .where(RomeMobility.rome_version == version, RomeMobility.code_rome == fiche.code_rome)
            .order_by(RomeMobility.ordre)
        )
    ]
    return _FicheCore(
        code_rome=fiche.code_rome,
        libelle=fiche.libelle,
        grand_domaine=fiche.grand_domaine_libelle,
        domaine=fiche.domaine_libelle,
        riasec=[x for x in (fiche.riasec_majeur, fiche.riasec_mineur) if x],
        emploi_reglemente=fiche.emploi_reglemente,
        texts=dict(texts),
        appellations=appellations,
        groups=dict(groups),
        contexts=dict(contexts),
        targets=targets,
    )


def get_fiche(session: Session, code: str, version: str | None = None) -> RomeFicheDetail | None:
    version = version or latest_version(session)
    if version is None:
        return None
    fiche = _fiche_core(session, version, code.upper())
    if fiche is None:
        return None
    targets, texts, groups, contexts = fiche.targets, fiche.texts, fiche.groups, fiche.contexts
    # One query for the occupations of every mobility target (first main occupation per code, as before).
    target_occ: dict[str, tuple[str, str]] = {}
    if targets:
        for code, slug, name in session.execute(
            select(OccupationRome.code_rome, Occupation.slug, Occupation.name)
            .join(Occupation, Occupation.id == OccupationRome.occupation_id)
            .where(
                OccupationRome.rome_version == version,
                OccupationRome.main,
                OccupationRome.code_rome.in_({t.code_rome for t in targets}),
            )
            .order_by(Occupation.id)
        ):
            target_occ.setdefault(code, (slug, name))
    mobilites = []
    for target in targets:
        occ = target_occ.get(target.code_rome)
        mobilites.append(
            RomeMobilityOut(
                fiche=target,
                occupation_slug=occ[0] if occ else None,
                occupation_name=occ[1] if occ else None,
            )
        )
    linked = session.execute(
        select(Occupation.slug, Occupation.name)
        .join(OccupationRome)
        .where(OccupationRome.code_rome == fiche.code_rome, OccupationRome.rome_version == version)
        .order_by(Occupation.name)
    ).all()
    occupations = [{"slug": slug, "name": name, "url": f"/metiers/{slug}"} for slug, name in dict.fromkeys(linked)]
    return RomeFicheDetail(
        code_rome=fiche.code_rome,
        rome_version=version,
        libelle=fiche.libelle,
        url=rome_url(fiche.code_rome),
        grand_domaine=fiche.grand_domaine,
        domaine=fiche.domaine,
        riasec=list(fiche.riasec),
        emploi_reglemente=fiche.emploi_reglemente,
        definition=list(texts.get("definition", [])),
        acces_metier=list(texts.get("acces_metier", [])),
        appellations=list(fiche.appellations),
        savoir_faire=list(groups.get("savoir_faire", [])),
        savoir_etre=list(groups.get("savoir_etre", [])),
        savoirs=list(groups.get("savoir", [])),
        contextes={k: list(v) for k, v in contexts.items()},
        mobilites=mobilites,
        occupations=occupations,
    )
