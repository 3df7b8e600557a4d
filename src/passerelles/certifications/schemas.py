from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from passerelles.reference.schemas import Certification as CertificationFacts
from passerelles.sources.schemas import SourceOut

LEVEL_LABELS = {3: "CAP, BEP", 4: "Bac", 5: "Bac + 2", 6: "Bac + 3 ou 4", 7: "Bac + 5", 8: "Doctorat"}
ROUTE_LABELS = {
    "initiale": "Formation initiale",
    "continue": "Formation continue",
    "apprentissage": "Apprentissage",
    "vae": "VAE",
    "distance": "À distance",
}


class CertificationRef(BaseModel):
    slug: str
    name: str
    acronym: str | None
    level_eu: int | None
    level_fr: str | None
    status: str
    url: str


class ReplacementOut(BaseModel):
    certification: CertificationRef
    date: dt.date
    note: str | None = None


class OccupationLink(BaseModel):
    slug: str
    name: str
    url: str


class CertificationDetail(BaseModel):
    slug: str
    name: str
    acronym: str | None
    url: str
    level_eu: int | None
    level_fr: str | None
    level_label: str | None
    status: str
    facts: CertificationFacts
    replaces: list[ReplacementOut]
    replaced_by: list[ReplacementOut]
    occupations: list[OccupationLink]
    sources: list[SourceOut]
