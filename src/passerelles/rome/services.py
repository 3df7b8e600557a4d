"""Read the imported ROME referential (no HTTP here)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session, load_only

from passerelles.occupations.models import Occupation, OccupationRome
from passerelles.rome.models import RomeAppellation, RomeFiche, RomeFicheItem, RomeItem, RomeMobility, RomeText
from passerelles.rome.schemas import RomeFicheDetail, RomeFicheRef, RomeItemOut, RomeMobilityOut

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


def get_fiche(session: Session, code: str, version: str | None = None) -> RomeFicheDetail | None:
    version = version or latest_version(session)
    if version is None:
        return None
    fiche = session.get(RomeFiche, (version, code.upper()))
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
    mobilites = []
    for _mob, target in session.execute(
        select(RomeMobility, RomeFiche)
        .join(
            RomeFiche,
            (RomeFiche.rome_version == RomeMobility.rome_version)
            & (RomeFiche.code_rome == RomeMobility.code_rome_cible),
        )
        .where(RomeMobility.rome_version == version, RomeMobility.code_rome == fiche.code_rome)
        .order_by(RomeMobility.ordre)
    ):
        occ = occupation_for_code(session, version, target.code_rome)
        mobilites.append(
            RomeMobilityOut(
                fiche=fiche_ref(target),
                occupation_slug=occ.slug if occ else None,
                occupation_name=occ.name if occ else None,
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
        grand_domaine=fiche.grand_domaine_libelle,
        domaine=fiche.domaine_libelle,
        riasec=[x for x in (fiche.riasec_majeur, fiche.riasec_mineur) if x],
        emploi_reglemente=fiche.emploi_reglemente,
        definition=texts["definition"],
        acces_metier=texts["acces_metier"],
        appellations=appellations,
        savoir_faire=groups["savoir_faire"],
        savoir_etre=groups["savoir_etre"],
        savoirs=groups["savoir"],
        contextes=dict(contexts),
        mobilites=mobilites,
        occupations=occupations,
    )


def occupation_for_code(session: Session, version: str, code: str) -> Occupation | None:
    return session.scalar(
        select(Occupation)
        .join(OccupationRome)
        .where(OccupationRome.code_rome == code, OccupationRome.rome_version == version, OccupationRome.main)
        .order_by(Occupation.id)
        .limit(1)
        .options(load_only(Occupation.slug, Occupation.name))  # not the JSON profile (read once per mobility)
    )


def fiche_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(RomeFiche)) or 0)
