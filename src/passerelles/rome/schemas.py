from __future__ import annotations

from pydantic import BaseModel


class RomeFicheRef(BaseModel):
    code_rome: str
    rome_version: str
    libelle: str
    url: str


class RomeItemOut(BaseModel):
    code_ogr: int
    libelle: str
    categorie: str | None = None
    coeur_metier: str | None = None


class RomeMobilityOut(BaseModel):
    fiche: RomeFicheRef
    occupation_slug: str | None = None
    occupation_name: str | None = None


class RomeFicheDetail(BaseModel):
    code_rome: str
    rome_version: str
    libelle: str
    url: str
    grand_domaine: str | None
    domaine: str | None
    riasec: list[str]
    emploi_reglemente: bool
    definition: list[str]
    acces_metier: list[str]
    appellations: list[str]
    savoir_faire: list[RomeItemOut]
    savoir_etre: list[RomeItemOut]
    savoirs: list[RomeItemOut]
    contextes: dict[str, list[str]]
    mobilites: list[RomeMobilityOut]
    occupations: list[dict[str, str]]
