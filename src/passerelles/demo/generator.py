"""Generator of realistic, schema-valid DEMONSTRATION data for benchmarks and demos.

Two files, both streamed to disk with bounded memory and byte-identical for the same seed, scale and
reference date:

* ``write_lheo_catalogue`` — a regional training catalogue in LHÉO 2.3 (namespace ``http://lheo.gouv.fr/2.3``),
  valid against ``lheo-2.3.xsd``: organismes (IFSI-IFAS, instituts de travail social, lycées, CFA, organismes
  privés, universités), formations for the sector's current certifications (real RNCP codes and durations from
  ``data/certifications.yaml``), actions in real communes (INSEE code, postcode, coordinates) with modality,
  access route, cost and funders, sessions over the next 18 months with their recruitment state.
* ``write_offers`` — job offers shaped like France Travail "Offres d'emploi v2" (one JSON object per line),
  for the sector's occupations and ROME codes (``data/occupations.yaml`` and the ROME 4.60 appellations), with
  realistic contracts, working time, salaries, employers and publication dates over the past 60 days.

Places are real communes (COG ``communes.json`` joined with La Poste ``laposte_hexasmal.csv`` on the INSEE code,
read in place from the open-data directory; Paris, Lyon and Marseille by arrondissement, as France Travail
does): a région first, in proportion to its population, then one of its communes large enough for the kind
of organisation, in proportion to theirs. Organisations, employers, SIRET numbers (Luhn-valid), street
addresses, e-mails (``.demo.invalid``) and phone numbers (ARCEP ranges reserved for fiction) are invented;
every organisation name, formation title, description and employer name says ``(données de démonstration)``.

Speed and memory: texts that repeat (certifications, organisations, employers, kinds of action) are built
once and reused; organisation and employer pools are capped (50 000 and 40 000), so memory stays bounded
whatever the size, and the file is written through a temporary file renamed at the end.

Sources of the fixed lists below: LHÉO dictionaries shipped with the schema (financeurs, publics, modalités,
niveaux); legacy Formacode thesaurus (``formacode_legacy/FCod-utf-8.csv``); INSEE NAF rév. 2 sub-classes;
France Travail offer fields. Salaries and prices are plausible orders of magnitude, not statistics.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import json
import os
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from random import Random
from typing import Any, Generic, Literal, TypeVar, cast

import yaml

from passerelles.demo import DEMO_LABEL

__all__ = [
    "DEMO_LABEL",
    "DEMO_SUFFIX",
    "LHEO_NAMESPACE",
    "main",
    "write_lheo_catalogue",
    "write_offers",
]

DEMO_SUFFIX = f" ({DEMO_LABEL})"
LHEO_NAMESPACE = "http://lheo.gouv.fr/2.3"
HORIZON_DAYS = 548  # sessions start within the next 18 months
OFFER_WINDOW_DAYS = 60  # offers were published during the past 60 days
_FLUSH_CHARS = 1 << 20

T = TypeVar("T")


# ----------------------------------------------------------------------------------------------------------------
# Small tools
# ----------------------------------------------------------------------------------------------------------------


class _Sampler(Generic[T]):
    """Weighted choice from a uniform number in [0, 1) (only ``Random.random`` is used: stable across Pythons)."""

    __slots__ = ("_cum", "_last", "_total", "items")

    def __init__(self, items: Iterable[T], weights: Iterable[float]) -> None:
        self.items: list[T] = []
        self._cum: list[float] = []
        total = 0.0
        for item, weight in zip(items, weights, strict=True):
            if weight > 0:
                total += weight
                self.items.append(item)
                self._cum.append(total)
        if not self.items:
            raise ValueError("nothing to sample from")
        self._total = total
        self._last = len(self.items) - 1

    def weights(self) -> list[float]:
        return [c - p for c, p in zip(self._cum, [0.0, *self._cum[:-1]], strict=True)]

    def pick(self, r: float) -> T:
        i = bisect.bisect_right(self._cum, r * self._total)
        return self.items[i if i < self._last else self._last]


def _luhn_complete(digits: str) -> str:
    """Append the check digit that makes ``digits`` + key pass the Luhn test (SIREN, SIRET)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return digits + str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """True when ``number`` (digits only) passes the Luhn test, as SIREN and SIRET numbers do."""
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _x(text: str) -> str:
    """Escape text content for XML."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip(" ,;:") + "…"


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _slug(text: str, limit: int = 40) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub("-", ascii_text.lower()).strip("-")[:limit].strip("-") or "demo"


_SLUGS: dict[str, str] = {}


def _cached_slug(text: str, limit: int) -> str:
    s = _SLUGS.get(text)
    if s is None:
        s = _SLUGS[text] = _slug(text, limit)
    return s


def _host(template: str, nom: str, city: str) -> str:
    """An invented host name under the reserved ``.invalid`` top-level domain, from a name template."""
    head = _SLUGS.get(template)
    if head is None:
        words = [w for w in _slug(re.sub(r"\{[a-z]+\}", " ", template), 200).split("-") if len(w) > 2]
        head = _SLUGS[template] = "-".join(words) if len(words) <= 2 else "".join(w[0] for w in words)
    parts = [head, _cached_slug(nom, 30) if "{nom}" in template else "", _cached_slug(city, 40)]
    return "-".join(x for x in parts if x)[:63].strip("-") + ".demo.invalid"


def _digits(r: Callable[[], float], n: int) -> str:
    return "".join(chr(48 + int(r() * 10)) for _ in range(n))


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, min(d.day, 28))


def _ymd(d: date) -> str:
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _masculine(label: str) -> str:
    """One form of a ROME appellation: « Agent / Agente de service hospitalier (ASH) » → « Agent de service
    hospitalier (ASH) »; the words after the feminine form are shared by both."""
    if " / " not in label:
        return label
    left, right = label.split(" / ", 1)
    shared = right.split()[len(left.split()) :]
    return " ".join([left, *shared])


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


# ----------------------------------------------------------------------------------------------------------------
# Fixed lists (curated)
# ----------------------------------------------------------------------------------------------------------------

RESIDENCE_NAMES = (
    "Les Tilleuls", "Les Jardins d'Automne", "Le Clos Fleuri", "Les Glycines", "La Roseraie", "Les Hortensias",
    "Le Val Fleuri", "Les Peupliers", "Bel Air", "Les Cèdres", "Les Charmilles", "Le Bois Joli", "Les Acacias",
    "La Source", "Les Lilas", "Le Verger", "Les Mimosas", "La Colline", "Les Marronniers", "Le Moulin",
    "Les Platanes", "L'Orée du Bois", "Les Camélias", "La Farandole", "Les Oliviers", "Le Petit Prince",
    "Les Coquelicots", "La Passerelle", "Les Écureuils", "Le Phare", "Les Sources", "La Maison Bleue",
    "L'Arc-en-Ciel", "Les Rives", "Le Jardin des Sens", "Les Alizés", "La Clairière", "Les Myosotis",
    "Le Cèdre Bleu", "Les Saules", "Les Lucioles", "Les Petits Loups", "La Ribambelle", "Les Capucines",
)  # fmt: skip
NAMESAKES = (
    "Jean Moulin", "Marie Curie", "Louise Michel", "Simone Veil", "Victor Hugo", "Jules Ferry", "Jean Jaurès",
    "Émile Zola", "George Sand", "Camille Claudel", "Olympe de Gouges", "Condorcet", "Marcel Pagnol",
    "Jacques Prévert", "Paul Éluard", "Pierre Mendès France", "Gustave Eiffel", "Albert Camus",
    "Antoine de Saint-Exupéry", "Jean Monnet", "Lucie Aubrac", "Rosa Parks", "Germaine Tillion", "Hélène Boucher",
)  # fmt: skip
STREETS = (
    "rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Pasteur", "rue des Écoles",
    "rue du Général de Gaulle", "place de la Mairie", "rue de l'Hôpital", "avenue de la Gare", "rue du Stade",
    "chemin des Vignes", "rue des Lilas", "allée des Tilleuls", "rue du Moulin", "rue de la Paix", "avenue Foch",
    "rue Gambetta", "rue Pierre Curie", "rue des Acacias", "boulevard de la Liberté", "rue Jules Ferry",
    "avenue du Maréchal Leclerc", "rue Jean Moulin", "rue de la Fontaine", "route de la Forêt", "rue Pasteur",
    "avenue de la Libération", "rue Émile Zola", "rue des Jardins", "impasse des Sources",
)  # fmt: skip
# Telephone ranges the ARCEP reserves for fiction, by area (01 Île-de-France … 05 south-west; 06 for overseas).
FICTION_PHONE_PREFIX = {"1": "01 99 00", "2": "02 61 91", "3": "03 53 01", "4": "04 65 71", "5": "05 36 49"}
REGION_PHONE_AREA = {
    "11": "1", "24": "2", "28": "2", "52": "2", "53": "2", "27": "3", "32": "3", "44": "3",
    "84": "4", "93": "4", "94": "4", "75": "5", "76": "5",
}  # fmt: skip
OVERSEAS_COLLECTIVITIES = frozenset({"975", "977", "978", "984", "986", "987", "988", "989"})

# LHÉO dict-financeurs (code-financeur).
FINANCEURS = {
    0: "Autre",
    2: "Collectivité territoriale - Conseil régional",
    3: "Fonds européens - FSE",
    4: "France Travail (ex-Pôle emploi)",
    5: "Entreprise",
    7: "AGEFIPH",
    10: "Bénéficiaire de l'action",
    12: "État - Ministère de l'éducation nationale",
    13: "État - Autre",
    16: "OPCA / opérateur de compétences (OPCO)",
}
# Legacy Formacode labels (FCod-utf-8.csv) used for offers' "formations" and the LHÉO domaine.
FORMACODE_LABELS = {
    "43436": "aide soignant", "44051": "auxiliaire puériculture", "43439": "puériculture", "43448": "infirmier",
    "44028": "auxiliaire vie", "44004": "aide médico-psychologique", "44072": "travail social",
    "44092": "éducateur spécialisé", "44050": "éducateur jeune enfant", "44083": "assistant social",
    "44026": "famille", "44007": "conseil familial conjugal", "32032": "encadrement",
    "44047": "direction établissement médicosocial", "14289": "gérontologie", "43059": "gériatrie",
    "43437": "personnel paramédical", "35015": "secrétariat médicosocial", "44035": "médiation socioculturelle",
    "44054": "action sociale", "44022": "aide médicosociale", "43454": "santé secteur sanitaire",
    "44067": "animation socioculturelle", "44024": "personne handicapée",
}  # fmt: skip
FT_LEVELS = {
    3: "CAP, BEP et équivalents",
    4: "Bac ou équivalent",
    5: "Bac+2 ou équivalents",
    6: "Bac+3, Bac+4 ou équivalents",
    7: "Bac+5 et plus ou équivalents",
}
QUALIFICATIONS = {
    "5": "Employé non qualifié",
    "6": "Employé qualifié",
    "7": "Technicien",
    "8": "Agent de maîtrise",
    "9": "Cadre",
}
SMIC_MONTHLY = 1801.80


@dataclass(frozen=True)
class _OrgType:
    min_pop: int
    routes: tuple[str, ...]  # access routes this kind of organisation runs, by preference
    names: tuple[tuple[str, str], ...]  # (nom-organisme, raison-sociale) templates
    sessions_per_org: float
    uai: bool
    places: tuple[int, int]


ORG_TYPES: dict[str, _OrgType] = {
    "ifsi": _OrgType(
        8000,
        ("initiale", "continue", "apprentissage"),
        (
            (
                "Institut de formation en soins infirmiers du Centre hospitalier de {ville}",
                "Centre hospitalier de {ville}",
            ),
            ("IFSI-IFAS du Centre hospitalier de {ville}", "Centre hospitalier de {ville}"),
            ("Institut de formation paramédical de {ville}", "Centre hospitalier de {ville}"),
            (
                "Institut de formation aux professions de santé de {ville}",
                "Groupement hospitalier de territoire {dept}",
            ),
        ),
        12,
        True,
        (25, 90),
    ),
    "social": _OrgType(
        20000,
        ("initiale", "continue", "apprentissage"),
        (
            ("Institut régional du travail social {region}", "Association IRTS {region}"),
            ("École supérieure de travail social de {ville}", "Association ESTS de {ville}"),
            ("Institut de formation en travail social de {ville}", "Association IFTS de {ville}"),
            ("Centre de formation aux métiers de l'accompagnement social de {ville}", "Association CFMAS {dept}"),
        ),
        18,
        False,
        (18, 45),
    ),
    "lycee": _OrgType(
        3000,
        ("initiale", "apprentissage"),
        (
            ("Lycée professionnel {nom} de {ville}", "Lycée professionnel {nom}"),
            ("Lycée polyvalent {nom} de {ville}", "Lycée polyvalent {nom}"),
            ("Lycée des métiers de la santé et du social {nom} de {ville}", "Lycée {nom}"),
        ),
        3,
        True,
        (15, 30),
    ),
    "cfa": _OrgType(
        10000,
        ("apprentissage",),
        (
            ("CFA sanitaire et social de {ville}", "Association CFA sanitaire et social {dept}"),
            ("CFA des métiers de la santé et de l'autonomie {region}", "Association CFA santé autonomie {region}"),
            ("Unité de formation par apprentissage santé-social de {ville}", "CFA interprofessionnel {dept}"),
        ),
        8,
        True,
        (8, 24),
    ),
    "prive": _OrgType(
        5000,
        ("continue", "apprentissage"),
        (
            ("Institut de formation sanitaire et sociale de {ville}", "IFSS {ville} SAS"),
            ("Centre de formation professionnelle santé-social de {ville}", "CFP Santé Social {dept}"),
            ("{ville} Formation Santé Social", "{ville} Formation SARL"),
            ("Centre de formation pour adultes de {ville}", "Association CFPA {dept}"),
            ("Institut de formation aux métiers de l'aide à la personne de {ville}", "IFMAP {ville}"),
        ),
        6,
        False,
        (10, 24),
    ),
    "universite": _OrgType(
        40000,
        ("initiale", "apprentissage", "continue"),
        (
            ("IUT de {ville} – département Carrières sociales", "Université de {ville}"),
            ("Université de {ville} – UFR Sciences humaines et sociales", "Université de {ville}"),
        ),
        3,
        True,
        (24, 60),
    ),
    "specialise": _OrgType(
        100000,
        ("continue",),
        (
            (
                "Centre de formation en rééducation des déficients visuels de {ville}",
                "Association CFRDV {ville}",
            ),
        ),
        2,
        False,
        (8, 15),
    ),
}


@dataclass(frozen=True)
class _CertTuning:
    weight: float
    orgs: tuple[tuple[str, float], ...]
    months: tuple[int, ...]  # usual start months; () = any time of year
    price: tuple[float, float] | None  # € per hour in the centre; None = free public education
    entry: int  # LHÉO code-niveau-entree (dict-niveaux: 1 none, 4 V, 5 IV, 6 III, 7 II)
    formacodes: tuple[str, ...]
    nsf: str
    hours: tuple[int, int] | None = None  # fallback (centre, entreprise) when the YAML has none
    months_fallback: tuple[int, int] | None = None
    rome: tuple[str, ...] = ()  # when no occupation of occupations.yaml names the certification


CERT_TUNING: dict[str, _CertTuning] = {
    "deas": _CertTuning(
        20, (("ifsi", 0.65), ("prive", 0.15), ("cfa", 0.12), ("lycee", 0.08)), (1, 3, 9), (8.5, 12), 1,
        ("43436",), "331",
    ),
    "dei": _CertTuning(10, (("ifsi", 1.0),), (2, 9), (6, 9), 5, ("43448",), "331"),
    "deap": _CertTuning(
        6, (("ifsi", 0.7), ("prive", 0.2), ("cfa", 0.1)), (1, 9), (8.5, 12), 1, ("44051", "43439"), "331",
        months_fallback=(12, 18),
    ),
    "asg": _CertTuning(
        6, (("ifsi", 0.3), ("prive", 0.7)), (), (12, 18), 4, ("14289", "43059"), "331",
        hours=(140, 0), months_fallback=(4, 6),
    ),
    "deaes": _CertTuning(
        14, (("social", 0.45), ("prive", 0.3), ("cfa", 0.15), ("lycee", 0.1)), (1, 3, 9), (10, 14), 1,
        ("44028", "44004"), "332",
    ),
    "deme": _CertTuning(5, (("social", 0.9), ("cfa", 0.1)), (1, 9, 10), (11, 15), 1, ("44072",), "332"),
    "dees": _CertTuning(5, (("social", 0.9), ("cfa", 0.1)), (9,), (10, 14), 5, ("44092",), "332"),
    "deets": _CertTuning(1, (("social", 1.0),), (9,), (10, 14), 5, ("44072",), "332", hours=(1200, 2100)),
    "deeje": _CertTuning(3, (("social", 0.9), ("cfa", 0.1)), (9,), (10, 14), 5, ("44050",), "332"),
    "deass": _CertTuning(3, (("social", 1.0),), (9,), (10, 14), 5, ("44083",), "332"),
    "detisf": _CertTuning(
        1.5, (("social", 0.9), ("cfa", 0.1)), (1, 9), (10, 13), 1, ("44026", "44072"), "332"
    ),
    "demf": _CertTuning(
        0.8, (("social", 1.0),), (1, 10), (14, 20), 6, ("44007", "44026"), "332", months_fallback=(18, 36)
    ),
    "caferuis": _CertTuning(
        2, (("social", 0.85), ("prive", 0.15)), (1, 3, 9, 10), (14, 20), 6, ("32032", "44072"), "332",
        hours=(400, 420),
    ),
    "cafdes": _CertTuning(0.8, (("social", 1.0),), (1, 9, 10), (15, 22), 7, ("44047",), "332"),
    "cqp-assistant-medical": _CertTuning(
        2.5, (("prive", 1.0),), (), (12, 16), 5, ("43437",), "331", hours=(279, 0), months_fallback=(12, 12)
    ),
    "tp-sams": _CertTuning(
        3, (("prive", 0.7), ("cfa", 0.3)), (), (9, 13), 4, ("35015",), "324", hours=(805, 210),
        months_fallback=(8, 12),
    ),
    "tp-msads": _CertTuning(
        1.5, (("prive", 0.8), ("social", 0.2)), (), (9, 13), 4, ("44035", "44054"), "332", hours=(735, 140),
        months_fallback=(9, 12),
    ),
    "bac-pro-assp": _CertTuning(
        12, (("lycee", 0.85), ("cfa", 0.15)), (9,), None, 1, ("44022", "43454"), "330", hours=(2500, 770),
        months_fallback=(34, 34),
    ),
    "bts-sp3s": _CertTuning(
        3, (("lycee", 0.85), ("cfa", 0.15)), (9,), None, 5, ("44054", "43454"), "330", hours=(1650, 455),
        months_fallback=(22, 22),
    ),
    "but-carrieres-sociales": _CertTuning(
        1, (("universite", 1.0),), (9,), None, 5, ("44072", "44067"), "332", hours=(1800, 840),
        months_fallback=(34, 34), rome=("K1207", "K1201", "K1204"),
    ),
    "licence-pro-intervention-sociale": _CertTuning(
        1, (("universite", 1.0),), (9,), None, 6, ("44054",), "332", hours=(450, 560), months_fallback=(10, 10),
        rome=("K1201", "K1204", "K1207"),
    ),
    "caerldv": _CertTuning(
        0.1, (("specialise", 1.0),), (9, 10), (15, 22), 7, ("44024",), "332", hours=(700, 350),
        months_fallback=(9, 9),
    ),
}  # fmt: skip
_DEFAULT_TUNING = _CertTuning(1, (("prive", 0.6), ("social", 0.4)), (), (10, 15), 1, ("44072",), "332")


@dataclass(frozen=True)
class _StructureTuning:
    weight: float
    min_pop: int
    naf: str
    naf_label: str
    names: tuple[str, ...]
    nights: bool = False
    weekends: bool = True


NAF = {
    "86.10Z": "Activités hospitalières",
    "86.21Z": "Activité des médecins généralistes",
    "86.90D": "Activités des infirmiers et des sages-femmes",
    "87.10A": "Hébergement médicalisé pour personnes âgées",
    "87.10B": "Hébergement médicalisé pour enfants handicapés",
    "87.10C": "Hébergement médicalisé pour adultes handicapés et autre hébergement médicalisé",
    "87.20A": "Hébergement social pour handicapés mentaux et malades mentaux",
    "87.90A": "Hébergement social pour enfants en difficultés",
    "87.90B": "Hébergement social pour adultes et familles en difficultés et autre hébergement social",
    "88.10A": "Aide à domicile",
    "88.10C": "Aide par le travail",
    "88.91A": "Accueil de jeunes enfants",
    "88.99B": "Action sociale sans hébergement n.c.a.",
    "84.11Z": "Administration publique générale",
    "84.12Z": "Administration publique (tutelle) de la santé, de la formation, de la culture et des services sociaux, "
    "autre que sécurité sociale",
    "84.30C": "Distribution sociale de revenus",
}


def _st(
    weight: float, min_pop: int, naf: str, *names: str, nights: bool = False, weekends: bool = True
) -> _StructureTuning:
    return _StructureTuning(weight, min_pop, naf, NAF[naf], names, nights, weekends)


STRUCTURES: dict[str, _StructureTuning] = {
    "ehpad": _st(5, 300, "87.10A", "EHPAD {nom}", "EHPAD Résidence {nom}", "EHPAD {nom} de {ville}",
                 "Maison de retraite {nom}", nights=True),
    "usld": _st(0.6, 5000, "86.10Z", "Unité de soins de longue durée du Centre hospitalier de {ville}", nights=True),
    "ime": _st(1.5, 2000, "87.10B", "IME {nom}", "Institut médico-éducatif {nom}", "IME de {ville}", nights=True),
    "iem": _st(0.4, 5000, "87.10B", "IEM {nom}", "Institut d'éducation motrice de {ville}", nights=True),
    "mas": _st(1.2, 1000, "87.10C", "MAS {nom}", "Maison d'accueil spécialisée {nom}", nights=True),
    "fam": _st(1.0, 1000, "87.10C", "FAM {nom}", "Foyer d'accueil médicalisé {nom}", nights=True),
    "foyer-de-vie": _st(1.0, 1000, "87.20A", "Foyer de vie {nom}", "Foyer occupationnel {nom}", nights=True),
    "esat": _st(0.8, 2000, "88.10C", "ESAT {nom}", "ESAT de {ville}", weekends=False),
    "mdph": _st(0.2, 20000, "84.12Z", "Maison départementale des personnes handicapées ({dept})", weekends=False),
    "mecs": _st(1.2, 2000, "87.90A", "MECS {nom}", "Maison d'enfants à caractère social {nom}", nights=True),
    "service-ase": _st(0.5, 20000, "84.11Z", "Conseil départemental ({dept}) – Aide sociale à l'enfance"),
    "chrs": _st(0.8, 10000, "87.90B", "CHRS {nom}", "Centre d'hébergement et de réinsertion sociale {nom}",
                nights=True),
    "centre-social": _st(0.5, 2000, "88.99B", "Centre social {nom}", "Centre social et culturel de {ville}"),
    "ssiad": _st(1.5, 1000, "86.90D", "SSIAD de {ville}", "Service de soins infirmiers à domicile {nom}"),
    "saad": _st(4, 500, "88.10A", "SAAD {nom}", "Aide à domicile {nom}",
                "Service d'aide et d'accompagnement à domicile de {ville}", "{nom} Services à domicile"),
    "hopital": _st(5, 5000, "86.10Z", "Centre hospitalier de {ville}", "Hôpital de {ville}",
                   "Centre hospitalier intercommunal de {ville}", nights=True),
    "hopital-psychiatrique": _st(1, 10000, "86.10Z", "Centre hospitalier spécialisé de {ville}", "EPSM de {ville}",
                                 nights=True),
    "clinique": _st(2, 10000, "86.10Z", "Clinique {nom}", "Polyclinique de {ville}",
                    "Clinique de soins médicaux et de réadaptation {nom}", nights=True),
    "cabinet-medical": _st(2, 500, "86.21Z", "Cabinet médical {nom}", "Cabinet de médecine générale de {ville}",
                           "Maison de santé pluriprofessionnelle de {ville}", weekends=False),
    "centre-de-sante": _st(1, 5000, "86.21Z", "Centre de santé municipal de {ville}", "Centre de santé {nom}",
                           weekends=False),
    "creche": _st(3, 1000, "88.91A", "Crèche {nom}", "Multi-accueil {nom}", "Micro-crèche {nom}", weekends=False),
    "pmi": _st(0.4, 20000, "84.11Z", "Conseil départemental ({dept}) – Protection maternelle et infantile",
               weekends=False),
    "caf": _st(0.3, 20000, "84.30C", "Caisse d'allocations familiales ({dept})", weekends=False),
    "collectivite-territoriale": _st(1, 2000, "84.11Z", "CCAS de {ville}", "Mairie de {ville}",
                                     "Conseil départemental ({dept})", weekends=False),
    "association": _st(1, 2000, "88.99B", "Association {nom}", "Association d'entraide de {ville}",
                       "Association {nom} – Solidarités"),
    "entreprise": _st(0.2, 5000, "88.99B", "Entreprise d'insertion {nom}", weekends=False),
    # Not a structure type of structure_types.yaml: the practice that offers a liberal replacement (LIB).
    "cabinet-infirmier": _st(0, 1000, "86.90D", "Cabinet infirmier {nom}", "Cabinet de soins infirmiers de {ville}"),
}  # fmt: skip
STRUCTURE_SHORT = {
    "ehpad": "EHPAD", "usld": "USLD", "ime": "IME", "iem": "IEM", "mas": "MAS", "fam": "FAM",
    "foyer-de-vie": "foyer de vie", "esat": "ESAT", "mecs": "MECS", "chrs": "CHRS", "ssiad": "SSIAD",
    "saad": "domicile", "hopital": "hôpital", "hopital-psychiatrique": "psychiatrie", "clinique": "clinique",
    "cabinet-medical": "cabinet médical", "centre-de-sante": "centre de santé", "creche": "crèche",
}  # fmt: skip
# At home: a nursing service (SSIAD) for care occupations that work in one, else a home-help service (SAAD).
# "ecole" and "service-penitentiaire" do not publish such offers.
STRUCTURE_ALIASES = {"domicile": "saad"}


@dataclass(frozen=True)
class _JobTuning:
    weight: float
    pay: tuple[int, int]  # monthly gross, full time, start of the band
    qualification: str
    appellations: tuple[tuple[int, float], ...] = ()
    hourly_share: float = 0.0
    annual_share: float = 0.0
    part_time_share: float = 0.2
    tension: float = 0.2  # share flagged "offresManqueCandidats"
    contracts: tuple[float, float, float, float, float] = (0.46, 0.36, 0.09, 0.06, 0.0)  # CDI CDD MIS ALT LIB


JOB_TUNING: dict[str, _JobTuning] = {
    "aide-soignant": _JobTuning(22, (1850, 2350), "6", ((10891, 5), (10893, 2), (10892, 1), (10895, 1)),
                                0.05, 0, 0.2, 0.5),
    "infirmier": _JobTuning(16, (2250, 2950), "7", ((15545, 6), (38222, 1.5), (15549, 1), (15544, 1), (512256, 1),
                                                   (15553, 0.5), (488662, 0.5)),
                            0.03, 0.05, 0.15, 0.5, (0.47, 0.33, 0.08, 0.02, 0.10)),
    "accompagnant-educatif-et-social": _JobTuning(14, (1830, 2150), "6",
                                                  ((511182, 4), (140948, 2), (140949, 2), (10856, 1)),
                                                  0.1, 0, 0.3, 0.4),
    "assistant-de-vie-dependance": _JobTuning(12, (1805, 1990), "6",
                                              ((38087, 2), (11453, 3), (11256, 1), (11257, 1), (11255, 1)),
                                              0.45, 0, 0.55, 0.3, (0.55, 0.33, 0.04, 0.08, 0.0)),
    "agent-de-service-hospitalier": _JobTuning(10, (1805, 1950), "5", ((10698, 5), (10742, 1), (404263, 1)),
                                               0.1, 0, 0.3, 0.2, (0.38, 0.44, 0.14, 0.04, 0.0)),
    "auxiliaire-de-puericulture": _JobTuning(5, (1850, 2250), "6", (), 0.03, 0, 0.25, 0.4),
    "secretaire-medical": _JobTuning(5, (1810, 2250), "6", ((19397, 5), (19399, 1), (38904, 1)), 0.05, 0, 0.3, 0.1),
    "educateur-specialise": _JobTuning(5, (2050, 2700), "7", (), 0, 0.1, 0.15, 0.35),
    "moniteur-educateur": _JobTuning(4, (1900, 2350), "7", (), 0, 0, 0.15, 0.3),
    "educateur-de-jeunes-enfants": _JobTuning(3, (2000, 2500), "7", (), 0, 0.05, 0.2, 0.3),
    "assistant-medical": _JobTuning(2, (1850, 2300), "6", ((200145, 3), (11281, 1)), 0.05, 0, 0.3, 0.1),
    "assistant-de-service-social": _JobTuning(2, (2050, 2700), "7", ((11335, 3), (11253, 1)), 0, 0.1, 0.2, 0.2),
    "technicien-intervention-sociale-familiale": _JobTuning(1.5, (1850, 2300), "7", (), 0.05, 0, 0.3, 0.2),
    "mediateur-social": _JobTuning(1.5, (1810, 2150), "6", ((404483, 3), (10747, 1), (10319, 1)), 0.05, 0, 0.2, 0.05),
    "educateur-technique-specialise": _JobTuning(1, (2000, 2650), "7", ((14603, 3), (512071, 1)), 0, 0.05, 0.1, 0.1),
    "assistant-de-soins-en-gerontologie": _JobTuning(1, (1950, 2350), "6", (), 0.05, 0, 0.25, 0.2),
    "encadrant-unite-intervention-sociale": _JobTuning(1, (2900, 3800), "8", ((38657, 2), (18809, 1)), 0, 0.5, 0.05,
                                                       0.1, (0.82, 0.15, 0.0, 0.03, 0.0)),
    "directeur-etablissement-social": _JobTuning(0.6, (3800, 5200), "9", ((14391, 1), (14399, 1), (14292, 1)), 0, 0.7,
                                                 0.02, 0.05, (0.88, 0.12, 0.0, 0.0, 0.0)),
    "mediateur-familial": _JobTuning(0.3, (2300, 3000), "7", (), 0, 0.1, 0.4, 0.0),
    "instructeur-de-locomotion": _JobTuning(0.05, (2200, 2900), "7", ((16017, 1), (14592, 1)), 0, 0.1, 0.2, 0.0),
}  # fmt: skip
_DEFAULT_JOB = _JobTuning(0.5, (1850, 2400), "6")

PUBLICS = {
    "initiale": (("81061", 1.0), ("81024", 0.7)),
    "continue": (("80006", 0.9), ("82044", 0.8), ("82045", 0.5), ("82071", 0.4), ("81020", 0.2)),
    "apprentissage": (("82027", 1.0), ("82029", 0.5)),
}


# ----------------------------------------------------------------------------------------------------------------
# Reference world: places, certifications, occupations
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Place:
    code: str  # INSEE code (the arrondissement's for Paris, Lyon and Marseille, as France Travail does)
    name: str  # COG name ("Paris 15e Arrondissement")
    city: str  # city as people say it ("Paris")
    dept: str
    region: str
    postcodes: tuple[str, ...]
    population: int
    lat: float
    lon: float


@dataclass
class _Geo:
    places: list[Place]
    dept_names: dict[str, str]
    region_names: dict[str, str]
    by_min_pop: dict[int, tuple[_Sampler[str], dict[str, _Sampler[Place]]]] = field(default_factory=dict)
    by_dept: dict[str, _Sampler[Place]] = field(default_factory=dict)

    def pick(self, min_pop: int, r: Callable[[], float]) -> Place:
        """A commune: first a région, in proportion to its population, then one of its communes of at least
        ``min_pop`` inhabitants (its largest ones if it has none), in proportion to theirs."""
        found = self.by_min_pop.get(min_pop)
        if found is None:
            by_region: dict[str, list[Place]] = {}
            for p in self.places:
                by_region.setdefault(p.region, []).append(p)
            regions: list[str] = []
            weights: list[float] = []
            within: dict[str, _Sampler[Place]] = {}
            for code, places in by_region.items():
                chosen = [p for p in places if p.population >= min_pop]
                if not chosen:
                    chosen = sorted(places, key=lambda p: -p.population)[:3]
                regions.append(code)
                weights.append(float(sum(p.population for p in places)))
                within[code] = _Sampler(chosen, [float(p.population) for p in chosen])
            found = self.by_min_pop[min_pop] = (_Sampler(regions, weights), within)
        region_sampler, within = found
        return within[region_sampler.pick(r())].pick(r())

    def dept_sampler(self, dept: str) -> _Sampler[Place]:
        s = self.by_dept.get(dept)
        if s is None:
            if not self.by_dept:
                grouped: dict[str, list[Place]] = {}
                for p in self.places:
                    grouped.setdefault(p.dept, []).append(p)
                for code, chosen in grouped.items():
                    self.by_dept[code] = _Sampler(chosen, [float(p.population) for p in chosen])
            s = self.by_dept[dept]
        return s


@dataclass(frozen=True)
class _Cert:
    slug: str
    name: str
    acronym: str
    kind: str
    level_eu: int | None
    rncp: str | None  # digits only, as LHÉO writes code-RNCP
    routes: tuple[str, ...]
    distance: bool
    hours_centre: int
    hours_company: int
    months_min: int
    months_max: int
    rome: tuple[str, ...]
    summary: str
    selection: str
    prerequisites: str
    parcoursup: bool
    tuning: _CertTuning


@dataclass(frozen=True)
class _Job:
    slug: str
    name: str  # "Aide-soignant"
    tuning: _JobTuning
    appellations: _Sampler[tuple[str, str, str]]  # (appellation label, ROME code, ROME label)
    structures: _Sampler[str]
    nights: bool
    weekends: bool
    activities: tuple[str, ...]
    cert: _Cert | None
    cert_required: bool


@dataclass(frozen=True)
class _World:
    geo: _Geo
    certs: tuple[_Cert, ...]
    jobs: tuple[_Job, ...]
    sector_rome: frozenset[str]


def _resolve_dirs(data_dir: Path | None, reference_dir: Path | None) -> tuple[Path, Path]:
    if data_dir is not None and (data_dir / "certifications.yaml").is_file() and not (data_dir / "geo_fr").is_dir():
        reference_dir, data_dir = reference_dir or data_dir, None  # the project's data/ was given
    if data_dir is None or reference_dir is None:
        from passerelles.settings import Settings

        settings = Settings()
        data_dir = data_dir or settings.data_dir
        reference_dir = reference_dir or settings.reference_dir
    if data_dir is None or not (data_dir / "geo_fr").is_dir():
        raise FileNotFoundError(
            "répertoire de données ouvertes introuvable (geo_fr/, rome_v460/) : passez data_dir ou PASSERELLES_DATA_DIR"
        )
    return data_dir, reference_dir


def _read_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 (safe loaders)
    if not isinstance(data, dict):
        raise ValueError(f"{path} : un objet YAML est attendu")
    return cast(dict[str, Any], data)


def _load_geo(geo_dir: Path) -> _Geo:
    coords: dict[str, tuple[float, float]] = {}
    with (geo_dir / "laposte_hexasmal.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter=";")
        next(reader, None)
        for row in reader:
            if len(row) < 6 or not row[5] or row[0] in coords:
                continue
            try:
                lat_s, lon_s = row[5].split(",")
                coords[row[0]] = (float(lat_s), float(lon_s))
            except ValueError:
                continue
    records = json.loads((geo_dir / "communes.json").read_text(encoding="utf-8"))
    dept_names = {
        str(d["code"]): str(d["nom"]) for d in json.loads((geo_dir / "departements.json").read_text(encoding="utf-8"))
    }
    region_names = {
        str(r["code"]): str(r["nom"]) for r in json.loads((geo_dir / "regions.json").read_text(encoding="utf-8"))
    }
    parents: dict[str, str] = {}
    with_children: set[str] = set()
    names: dict[str, str] = {}
    for rec in records:
        names[str(rec.get("code"))] = str(rec.get("nom"))
        if rec.get("type") == "arrondissement-municipal" and rec.get("commune"):
            parents[str(rec["code"])] = str(rec["commune"])
            with_children.add(str(rec["commune"]))
    places: list[Place] = []
    for rec in records:
        kind, code = rec.get("type"), str(rec.get("code"))
        if kind not in ("commune-actuelle", "arrondissement-municipal") or code in with_children:
            continue
        dept, region, pop = str(rec.get("departement") or ""), str(rec.get("region") or ""), rec.get("population")
        if dept in OVERSEAS_COLLECTIVITIES or not region or not isinstance(pop, int) or pop <= 0:
            continue
        c = coords.get(code)
        if c is None:
            olds = [coords[o] for o in rec.get("anciensCodes", []) if o in coords]
            if olds:
                c = (sum(a for a, _ in olds) / len(olds), sum(b for _, b in olds) / len(olds))
        postcodes = tuple(sorted(str(p) for p in rec.get("codesPostaux") or ()))
        if c is None or not postcodes:
            continue
        name = str(rec.get("nom"))
        city = names.get(parents[code], name) if code in parents else name
        places.append(Place(code, name, city, dept, region, postcodes, pop, c[0], c[1]))
    if not places:
        raise ValueError(f"aucune commune utilisable dans {geo_dir}")
    return _Geo(places, dept_names, region_names)


def _read_rome(
    rome_dir: Path, wanted: set[int]
) -> tuple[dict[tuple[int, str], str], dict[int, list[str]], dict[str, str]]:
    labels: dict[tuple[int, str], str] = {}
    codes_of: dict[int, list[str]] = {}
    with (rome_dir / "unix_referentiel_appellation_v460_utf8.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            try:
                ogr = int(row["code_ogr"])
            except (KeyError, ValueError):
                continue
            if ogr in wanted:
                labels[(ogr, row["code_rome"])] = row["libelle_appellation_long"]
                codes_of.setdefault(ogr, []).append(row["code_rome"])
    rome_labels: dict[str, str] = {}
    with (rome_dir / "unix_referentiel_code_rome_v460_utf8.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            rome_labels[row["code_rome"]] = row["libelle_rome"]
    return labels, codes_of, rome_labels


def _text(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("text")
    return " ".join(str(value).split()) if value else ""


def _choose_rncp(entries: Any) -> str | None:
    if not isinstance(entries, list) or not entries:
        return None
    current = [e for e in entries if isinstance(e, dict) and e.get("code")]
    if not current:
        return None
    dated = [e for e in current if isinstance(e.get("valid_until"), date)]
    chosen = max(dated, key=lambda e: cast(date, e["valid_until"])) if dated else current[0]  # the newest fiche
    digits = re.sub(r"\D", "", str(chosen["code"]))
    return digits or None


def _build_certs(raw: dict[str, Any], occupation_rome: dict[str, list[str]]) -> tuple[_Cert, ...]:
    certs: list[_Cert] = []
    for c in raw.get("certifications", []):
        if not isinstance(c, dict) or c.get("status") == "abolished":
            continue
        route_flags = {r.get("route"): bool(r.get("available")) for r in c.get("routes") or [] if isinstance(r, dict)}
        routes = tuple(r for r in ("initiale", "continue", "apprentissage") if route_flags.get(r))
        if not routes:
            continue
        slug = str(c["slug"])
        tuning = CERT_TUNING.get(slug, _DEFAULT_TUNING)
        duration = c.get("duration") or {}
        centre = duration.get("theory_hours")
        company = duration.get("practice_hours")
        total = duration.get("hours")
        if centre is None:
            centre, company = tuning.hours or ((total, 0) if total else (600, 210))
        company = company or 0
        if total and total > centre + company:  # e.g. DEAES: 546 h + 21 h AFGSU + 840 h
            centre = total - company
        months_min = duration.get("months_min")
        months_max = duration.get("months_max")
        if months_min is None:
            months_min = tuning.months_fallback[0] if tuning.months_fallback else (months_max or 12)
        if months_max is None:
            months_max = max(months_min, tuning.months_fallback[1] if tuning.months_fallback else months_min)
        rome: list[str] = []
        for occ in c.get("occupations") or []:
            for code in occupation_rome.get(str(occ), []):
                if code not in rome:
                    rome.append(code)
        admission = c.get("admission") or {}
        selection = _text(admission.get("selection")) or "Sélection sur dossier et entretien."
        prereq = " ".join(_text(p) for p in admission.get("prerequisites") or []) or "Aucune condition spécifique."
        level = (c.get("level") or {}).get("eu")
        certs.append(
            _Cert(
                slug=slug,
                name=_text(c.get("name")) or slug,
                acronym=_text(c.get("acronym")) or slug.upper(),
                kind=str(c.get("kind") or ""),
                level_eu=int(level) if isinstance(level, int) else None,
                rncp=_choose_rncp(c.get("rncp")),
                routes=routes,
                distance=bool(route_flags.get("distance")),
                hours_centre=int(centre),
                hours_company=int(company),
                months_min=int(months_min),
                months_max=max(int(months_min), int(months_max)),
                rome=tuple(rome[:5]) or tuning.rome,
                summary=_text(c.get("summary")),
                selection=selection,
                prerequisites=prereq,
                parcoursup="parcoursup" in selection.lower(),
                tuning=tuning,
            )
        )
    return tuple(certs)


def _build_jobs(
    raw: dict[str, Any], certs: dict[str, _Cert], rome_dir: Path
) -> tuple[tuple[_Job, ...], frozenset[str]]:
    occupations = [o for o in raw.get("occupations", []) if isinstance(o, dict)]
    wanted: set[int] = set()
    for o in occupations:
        for r in o.get("rome") or []:
            if isinstance(r, dict) and r.get("appellation_ogr"):
                wanted.add(int(r["appellation_ogr"]))
        wanted.update(ogr for ogr, _ in JOB_TUNING.get(str(o.get("slug")), _DEFAULT_JOB).appellations)
    labels, codes_of, rome_labels = _read_rome(rome_dir, wanted)
    jobs: list[_Job] = []
    sector: set[str] = set()
    for o in occupations:
        slug = str(o["slug"])
        tuning = JOB_TUNING.get(slug, _DEFAULT_JOB)
        romes = [r for r in o.get("rome") or [] if isinstance(r, dict) and r.get("code")]
        own_codes = [str(r["code"]) for r in romes]
        main_code = next((str(r["code"]) for r in romes if r.get("main")), own_codes[0] if own_codes else None)
        weights: dict[int, float] = {}
        for r in romes:
            if r.get("appellation_ogr"):
                weights[int(r["appellation_ogr"])] = 3.0 if r.get("main") else 1.0
        for ogr, w in tuning.appellations:
            weights[ogr] = w
        items: list[tuple[str, str, str]] = []
        item_weights: list[float] = []
        for ogr, w in weights.items():
            codes = codes_of.get(ogr, [])
            code = main_code if main_code in codes else next((c for c in codes if c in own_codes), None)
            if code is None or code not in rome_labels:
                continue
            items.append((labels[(ogr, code)], code, rome_labels[code]))
            item_weights.append(w)
        if not items:
            continue
        structures: list[str] = []
        for w in o.get("workplaces") or []:
            s = str(w.get("structure"))
            if s == "domicile" and any(x.get("structure") == "ssiad" for x in o.get("workplaces") or []):
                s = "ssiad"
            s = STRUCTURE_ALIASES.get(s, s)
            if s in STRUCTURES and s not in structures:
                structures.append(s)
        if not structures:
            structures = ["association"]
        names = [n for n in o.get("names") or [] if isinstance(n, dict)]
        name = next((str(n["name"]) for n in names if n.get("kind") == "current"), slug.replace("-", " ").capitalize())
        activities = tuple(
            f"- {_text(a.get('title'))} : {_lower_first(_text(a.get('text')))}"
            for a in o.get("activities") or []
            if isinstance(a, dict) and a.get("title") and a.get("text")
        ) or (f"- Missions du métier de {name.lower()}.",)
        principal = next(
            (str(c.get("certification")) for c in o.get("certifications") or [] if c.get("role") == "principale"),
            None,
        )
        cert = certs.get(principal) if principal else None
        conditions = o.get("conditions") or {}
        jobs.append(
            _Job(
                slug=slug,
                name=name,
                tuning=tuning,
                appellations=_Sampler(items, item_weights),
                structures=_Sampler(structures, [STRUCTURES[s].weight for s in structures]),
                nights=bool(conditions.get("nights")),
                weekends=bool(conditions.get("weekends")),
                activities=activities,
                cert=cert,
                cert_required=cert is not None and cert.kind == "diplome_etat",
            )
        )
        sector.update(code for _, code, _ in items)
    return tuple(jobs), frozenset(sector)


@lru_cache(maxsize=4)
def _load_world(data_dir: Path, reference_dir: Path) -> _World:
    geo = _load_geo(data_dir / "geo_fr")
    occupations = _read_yaml(reference_dir / "occupations.yaml")
    occupation_rome: dict[str, list[str]] = {}
    for o in occupations.get("occupations", []):
        codes: list[str] = []
        for r in sorted(o.get("rome") or [], key=lambda r: not r.get("main")):
            if r.get("code") and str(r["code"]) not in codes:
                codes.append(str(r["code"]))
        occupation_rome[str(o.get("slug"))] = codes
    certs = _build_certs(_read_yaml(reference_dir / "certifications.yaml"), occupation_rome)
    if not certs:
        raise ValueError("aucune certification en vigueur dans certifications.yaml")
    jobs, sector = _build_jobs(occupations, {c.slug: c for c in certs}, data_dir / "rome_v460")
    if not jobs:
        raise ValueError("aucun métier avec appellation ROME connue dans occupations.yaml")
    return _World(geo, certs, jobs, sector)


def sector_rome_codes(data_dir: Path | None = None, reference_dir: Path | None = None) -> frozenset[str]:
    """ROME codes the offers generator draws from (the occupations' codes found in the ROME export)."""
    return _load_world(*_resolve_dirs(data_dir, reference_dir)).sector_rome


# ----------------------------------------------------------------------------------------------------------------
# Streaming writer
# ----------------------------------------------------------------------------------------------------------------


class _Out:
    """Buffered text output to ``path`` through a temporary file, renamed into place on success."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = self.tmp.open("w", encoding="utf-8", newline="\n")
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= _FLUSH_CHARS:
            self.flush()

    def flush(self) -> None:
        self.fh.write("".join(self.parts))
        self.parts.clear()
        self.size = 0

    def close(self, ok: bool) -> None:
        try:
            if ok:
                self.flush()
        finally:
            self.fh.close()
        if ok:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def _place_fields(p: Place, r: Callable[[], float]) -> tuple[str, str, float, float]:
    """(street line, postcode, latitude, longitude) of an invented address in commune ``p``."""
    street = f"{1 + int(r() * 120)} {STREETS[int(r() * len(STREETS))]}"
    postcode = p.postcodes[int(r() * len(p.postcodes))]
    return street, postcode, p.lat + (r() - 0.5) * 0.012, p.lon + (r() - 0.5) * 0.016


def _phone(region: str, r: Callable[[], float]) -> str:
    prefix = FICTION_PHONE_PREFIX.get(REGION_PHONE_AREA.get(region, ""), "06 39 98")
    return f"{prefix} {_digits(r, 2)} {_digits(r, 2)}"


# ----------------------------------------------------------------------------------------------------------------
# LHÉO catalogue
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class _Organisme:
    numero: str
    type: str
    place: Place
    xml: str  # organisme-formation-responsable element
    address_xml: str  # <adresse> of its main site, with coordinates
    inscription_xml: str  # <adresse-inscription> (short address)
    contact_xml: str  # <coordonnees> with phone and e-mail


def _adresse_xml(p: Place, r: Callable[[], float]) -> tuple[str, str]:
    """(full <adresse> with coordinates, short <adresse>) of an invented address in commune ``p``."""
    street, postcode, lat, lon = _place_fields(p, r)
    short = (
        f"<adresse><ligne>{_x(street)}</ligne><codepostal>{postcode}</codepostal><ville>{_x(p.city[:50])}</ville>"
        f"<departement>{p.dept}</departement><code-INSEE-commune>{p.code}</code-INSEE-commune>"
    )
    full = (
        f"{short}<region>{p.region}</region><pays>FR</pays><geolocalisation><latitude>{lat:.6f}</latitude>"
        f"<longitude>{lon:.6f}</longitude></geolocalisation></adresse>"
    )
    return full, short + "</adresse>"


def _uai(dept: str, r: Callable[[], float]) -> str:
    prefix = {"2A": "620", "2B": "720"}.get(dept, dept.zfill(3))
    body = prefix + _digits(r, 4)
    return body + "ABCDEFGHJKLMNPRSTUVWXYZ"[int(body) % 23]


def _new_organisme(world: _World, kind: str, number: int, r: Callable[[], float]) -> _Organisme:
    geo = world.geo
    spec = ORG_TYPES[kind]
    p = geo.pick(spec.min_pop, r)
    nom = NAMESAKES[int(r() * len(NAMESAKES))]
    fmt = {
        "ville": p.city,
        "dept": geo.dept_names.get(p.dept, p.dept),
        "region": geo.region_names.get(p.region, p.region),
        "nom": nom,
    }
    name_t, raison_t = spec.names[int(r() * len(spec.names))]
    if kind == "ifsi" and p.population >= 100_000 and r() < 0.5:
        name_t, raison_t = "Instituts de formation paramédicale du CHU de {ville}", "CHU de {ville}"
    name = name_t.format(**fmt)
    raison = raison_t.format(**fmt)
    siren = _luhn_complete(str(1 + int(r() * 9)) + _digits(r, 7))
    siret = _luhn_complete(siren + "000" + _digits(r, 1))
    d2 = p.dept[:2].replace("A", "0").replace("B", "0")
    nda = p.region + d2 + _digits(r, 5) + d2  # déclaration d'activité: région, département, ordre
    host = _host(name_t, nom, p.city)
    phone = _phone(p.region, r)
    address, short = _adresse_xml(p, r)
    contact = (
        f"<coordonnees><telfixe><numtel>{phone}</numtel></telfixe><courriel>contact@{host}</courriel></coordonnees>"
    )
    numero = f"DEMO-OF{number:06d}"
    uai = f"<code-UAI-organisme-formation><code-UAI>{_uai(p.dept, r)}</code-UAI></code-UAI-organisme-formation>"
    xml = (
        f'<organisme-formation-responsable numero="{numero}"><numero-activite>{nda}</numero-activite>'
        f"<SIRET-organisme-formation><SIRET>{siret}</SIRET></SIRET-organisme-formation>"
        f"<nom-organisme>{_x(name + DEMO_SUFFIX)}</nom-organisme>"
        f"<raison-sociale>{_x(raison + DEMO_SUFFIX)}</raison-sociale>"
        f"<coordonnees-organisme><coordonnees>{address}<telfixe><numtel>{phone}</numtel></telfixe>"
        f"<courriel>contact@{host}</courriel><web><urlweb>https://{host}/</urlweb></web></coordonnees>"
        f"</coordonnees-organisme><contact-organisme>{contact}</contact-organisme>"
        f"<renseignements-specifiques>Organisme fictif ({DEMO_LABEL}) : nom, SIRET, adresse et coordonnées "
        f"sont inventés.</renseignements-specifiques>{uai if spec.uai else ''}</organisme-formation-responsable>"
    )
    inscription = f"<adresse-inscription>{short}</adresse-inscription>"
    return _Organisme(numero, kind, p, xml, address, inscription, contact)


@dataclass(frozen=True)
class _CertXml:
    """Escaped text blocks of a certification, computed once per catalogue."""

    cert: _Cert
    domaine: str
    head: str  # objectif, resultats, contenu, certifiante
    tail: str  # parcours, niveau d'entrée, objectif général, certification, niveau de sortie
    conditions: str
    recrutement: str
    org_types: _Sampler[str]
    entry_required: int
    starts: tuple[tuple[date, ...], ...]  # candidate start dates (a few draws of the intake days)
    flexible: bool  # may be taught partly or fully at a distance


def _cert_xml(cert: _Cert, today: date, r: Callable[[], float]) -> _CertXml:
    t = cert.tuning
    domaine = (
        "<domaine-formation>"
        + "".join(f"<code-FORMACODE>{f}</code-FORMACODE>" for f in t.formacodes[:5])
        + f"<code-NSF>{t.nsf}</code-NSF>"
        + "".join(f"<code-ROME>{c}</code-ROME>" for c in cert.rome[:5])
        + "</domaine-formation>"
    )
    level = f", certification de niveau {cert.level_eu}" if cert.level_eu else ""
    rncp = f" (fiche RNCP{cert.rncp})" if cert.rncp else ""
    objectif = _cut(f"{cert.summary or cert.name}{DEMO_SUFFIX}", 3000)
    resultats = _cut(f"Certification visée : {cert.name} ({cert.acronym}){level}{rncp}.{DEMO_SUFFIX}", 3000)
    hours = cert.hours_centre + cert.hours_company
    company = (
        f" et {_thousands(cert.hours_company)} h de stage ou de période en entreprise" if cert.hours_company else ""
    )
    span = (
        f"{cert.months_min} mois"
        if cert.months_min == cert.months_max
        else (f"{cert.months_min} à {cert.months_max} mois")
    )
    contenu = _cut(
        f"Formation de {_thousands(hours)} h : {_thousands(cert.hours_centre)} h d'enseignements en centre{company}, "
        f"sur {span} selon le parcours. Programme organisé par blocs de "
        f"compétences, évaluations en cours de formation et mises en situation professionnelle.{DEMO_SUFFIX}",
        3000,
    )
    head = (
        f"<objectif-formation>{_x(objectif)}</objectif-formation>"
        f"<resultats-attendus>{_x(resultats)}</resultats-attendus>"
        f"<contenu-formation>{_x(contenu)}</contenu-formation><certifiante>1</certifiante>"
    )
    sortie = {3: 4, 4: 5, 5: 6, 6: 7, 7: 8, 8: 8}.get(cert.level_eu or 0, 0)
    tail = (
        f"<parcours-de-formation>1</parcours-de-formation><code-niveau-entree>{t.entry}</code-niveau-entree>"
        f"<objectif-general-formation>6</objectif-general-formation>"
        + (f"<certification><code-RNCP>{cert.rncp}</code-RNCP></certification>" if cert.rncp else "")
        + f"<code-niveau-sortie>{sortie}</code-niveau-sortie>"
    )
    orgs = [(k, w) for k, w in t.orgs if k in ORG_TYPES] or [("prive", 1.0)]
    # Start dates within the next 18 months: the usual intake months (first Monday after a day drawn in
    # the first ten days of the month), or any Monday for courses that start all year round.
    first, last = today + timedelta(days=14), today + timedelta(days=HORIZON_DAYS)
    draws: list[tuple[date, ...]] = []
    if t.months:
        for _ in range(4):
            found: list[date] = []
            for year in (today.year, today.year + 1, today.year + 2):
                for m in sorted(set(t.months)):
                    d = date(year, m, 1) + timedelta(days=int(r() * 10))
                    d += timedelta(days=(7 - d.weekday()) % 7)
                    if first <= d <= last:
                        found.append(d)
            if found:
                draws.append(tuple(found))
    if not draws:
        monday = first + timedelta(days=(7 - first.weekday()) % 7)
        draws.append(tuple(monday + timedelta(weeks=w) for w in range((last - monday).days // 7 + 1)))
    return _CertXml(
        cert=cert,
        domaine=domaine,
        head=head,
        tail=tail,
        conditions=_x(_cut(cert.prerequisites, 3000)),
        recrutement=_x(_cut(cert.selection, 3000)),
        org_types=_Sampler([k for k, _ in orgs], [w for _, w in orgs]),
        entry_required=1 if t.entry > 1 else 0,
        starts=tuple(draws),
        flexible=cert.distance or cert.slug in FLEXIBLE_CERTS,
    )


FLEXIBLE_CERTS = frozenset({"tp-sams", "tp-msads", "cqp-assistant-medical", "caferuis", "cafdes", "demf", "asg"})
_MODALITY_CODE = {"presentiel": 0, "mixte": 1, "distance": 2}
_MODALITY_FORMACODES = {"presentiel": ("96414",), "mixte": ("96414", "96129"), "distance": ("96128",)}
_PEDAGOGY = {
    "presentiel": "Cours, travaux dirigés et mises en situation en centre ; stages en structures.",
    "mixte": "Enseignements en centre et à distance (plateforme en ligne) ; stages en structures.",
    "distance": "Formation à distance avec tutorat ; regroupements ponctuels et stages en structures.",
}
_ACTION_VARIANTS = 8


@dataclass(frozen=True)
class _ActionVariant:
    """Everything in an action but its number, place and sessions; drawn a few times per kind of action."""

    head: str  # from rythme-formation to prise-en-charge-frais-possible
    mid: str  # modalites-entrees-sorties
    tail: str  # from the optional equipment texts to </action>
    session_mid: str  # modalites-inscription … <periode-inscription><periode>
    session_tail: str  # nombre de places … </session>
    months: int
    school_year: bool


def _action_variant(cb: _CertXml, org_type: str, route: str, modality: str, r: Callable[[], float]) -> _ActionVariant:
    cert = cb.cert
    t = cert.tuning
    spec = ORG_TYPES[org_type]
    months = cert.months_max if route == "apprentissage" or cert.kind == "bac_pro" else cert.months_min
    centre, company = cert.hours_centre, cert.hours_company
    if route == "apprentissage" and company == 0:
        company = centre // 2
    total = centre + company
    publics = [code for code, w in PUBLICS[route] if r() < w] or [PUBLICS[route][0][0]]
    prix_horaire: float | None = None
    if t.price is not None:
        prix_horaire = round(t.price[0] + r() * (t.price[1] - t.price[0]), 1)
    if route == "initiale":
        if org_type in ("lycee", "universite") or t.price is None:
            financeurs = [12] if org_type == "lycee" else [13, 10]
            frais = (
                "Gratuit : établissement public de l'Éducation nationale."
                if org_type == "lycee"
                else "Droits d'inscription universitaires annuels à la charge de l'étudiant."
            )
            prix_horaire = None
            conventionnement, perimetre = 0, 2 if org_type == "lycee" else 3
        else:
            financeurs = [2]
            frais = "Aucun frais de formation pour l'élève ou l'étudiant : coût pris en charge par la Région."
            conventionnement, perimetre = 1, 3
    elif route == "apprentissage":
        financeurs = [16, 5] if r() < 0.3 else [16]
        frais = "Aucun frais pour l'apprenti : coût pris en charge par l'opérateur de compétences (OPCO)."
        conventionnement, perimetre = 0, 3
        prix_horaire = prix_horaire or round(9 + r() * 4, 1)
    else:
        options = ((4, 0.45), (2, 0.35), (16, 0.3), (5, 0.2), (10, 0.2), (7, 0.05), (3, 0.05))
        financeurs = [code for code, w in options if r() < w] or [10]
        frais = "Reste à charge possible selon le financement mobilisé (CPF, employeur, France Travail, Région)."
        conventionnement, perimetre = (1 if 2 in financeurs or 4 in financeurs else 0), 3
        prix_horaire = prix_horaire or round(9 + r() * 5, 1)
    pec = 1 if any(f != 10 for f in financeurs) else 0
    low, high = (8, 24) if route == "apprentissage" else spec.places
    places = low + int(r() * (high - low + 1))
    if route == "apprentissage":
        rythme = "Alternance"
        alternance = (
            f"Contrat d'apprentissage ou de professionnalisation : {_thousands(centre)} h en centre de formation, "
            "le reste du temps chez l'employeur (rythme indicatif : une semaine en centre, deux à trois semaines "
            "en structure)."
        )
    else:
        rythme = "Temps plein" if route == "initiale" or r() < 0.8 else "Temps partiel"
        alternance = (
            f"Alternance d'enseignements en centre ({_thousands(centre)} h) et de stages en structures du secteur "
            f"({_thousands(company)} h)."
            if company
            else "Sans période en entreprise."
        )
    if route == "initiale" and cert.parcoursup:
        inscription = "Candidature sur Parcoursup, puis entretien selon l'établissement."
    elif route == "initiale" and cert.kind == "bac_pro":
        inscription = "Affectation après la classe de troisième (procédure Affelnet) ou candidature en cours de cursus."
    elif route == "apprentissage":
        inscription = "Candidature auprès du centre ; signature d'un contrat avec un employeur avant l'entrée."
    else:
        inscription = "Dossier de candidature à déposer auprès de l'organisme, puis entretien."
    optional = ""
    if org_type == "lycee" and r() < 0.4:
        optional += "<hebergement>Internat</hebergement>"
    if r() < 0.5:
        optional += (
            "<acces-handicapes>Locaux accessibles ; aménagements étudiés avec le référent handicap.</acces-handicapes>"
        )
    money = ""
    if prix_horaire is not None:
        money = (
            f"<prix-horaire-TTC>{prix_horaire:.2f}</prix-horaire-TTC>"
            f"<prix-total-TTC>{round(prix_horaire * centre):.2f}</prix-total-TTC>"
        )
    main_funder = next((f for f in financeurs if f in (2, 4, 12, 16)), None)  # funds the places
    funders = "".join(
        f"<organisme-financeur><code-financeur>{f}</code-financeur>"
        + (f"<nb-places-financees>{places}</nb-places-financees>" if f == main_funder else "")
        + "</organisme-financeur>"
        for f in financeurs[:8]
    )
    detail = _cut("Financements possibles : " + ", ".join(FINANCEURS.get(f, "Autre") for f in financeurs) + ".", 600)
    head = (
        f"<rythme-formation>{rythme}</rythme-formation>"
        + "".join(f"<code-public-vise>{c}</code-public-vise>" for c in publics[:10])
        + f"<niveau-entree-obligatoire>{cb.entry_required}</niveau-entree-obligatoire>"
        f"<modalites-alternance>{_x(alternance)}</modalites-alternance>"
        f"<modalites-enseignement>{_MODALITY_CODE[modality]}</modalites-enseignement>"
        f"<conditions-specifiques>{cb.conditions}</conditions-specifiques>"
        f"<prise-en-charge-frais-possible>{pec}</prise-en-charge-frais-possible>"
    )
    permanent = 1 if not t.months and r() < 0.3 else 0
    # Eligible to the personal training account (CPF): most continuing-education actions leading to an
    # RNCP certification are; apprenticeship and initial training are funded otherwise.
    cpf = (
        '<extras info="eligibilite-cpf"><extra info="eligible">1</extra></extras>'
        if route == "continue" and cert.rncp and r() < 0.8
        else ""
    )
    mid = f"<modalites-entrees-sorties>{permanent}</modalites-entrees-sorties>\n"
    codes = _MODALITY_FORMACODES[modality] + (("96142",) if route == "apprentissage" else ())
    tail = (
        optional + "<langue-formation>fr</langue-formation>"
        f"<modalites-recrutement>{cb.recrutement}</modalites-recrutement>"
        f"<modalites-pedagogiques>{_x(_PEDAGOGY[modality])}</modalites-pedagogiques>"
        + "".join(f"<code-modalite-pedagogique>{c}</code-modalite-pedagogique>" for c in codes)
        + f"<frais-restants>{_x(frais)}</frais-restants>"
        f"<code-perimetre-recrutement>{perimetre}</code-perimetre-recrutement>{money}"
        f"<duree-indicative>{months} mois ({_thousands(total)} h)</duree-indicative>"
        f"<nombre-heures-centre>{centre}</nombre-heures-centre>"
        f"<nombre-heures-entreprise>{company}</nombre-heures-entreprise>"
        f"<nombre-heures-total>{total}</nombre-heures-total>"
        f"<detail-conditions-prise-en-charge>{_x(detail)}</detail-conditions-prise-en-charge>"
        f"<conventionnement>{conventionnement}</conventionnement>{funders}{cpf}"
        f'<extras info="passerelles"><extra info="voie">{route}</extra>'
        f'<extra info="modalite">{modality}</extra></extras></action>\n'
    )
    return _ActionVariant(
        head=head,
        mid=mid,
        tail=tail,
        session_mid=f"<modalites-inscription>{_x(inscription)}</modalites-inscription><periode-inscription><periode>",
        session_tail=f'<extras info="session"><extra info="nombre-places">{places}</extra></extras></session>\n',
        months=months,
        school_year=t.months == (9,),  # September intake only: the course ends with the school year
    )


def write_lheo_catalogue(
    path: Path,
    *,
    sessions: int,
    seed: int = 1,
    today: date | None = None,
    data_dir: Path | None = None,
    reference_dir: Path | None = None,
) -> dict[str, int]:
    """Write an LHÉO 2.3 catalogue of exactly ``sessions`` demonstration sessions to ``path``.

    ``data_dir`` is the open-data directory (``geo_fr/``, ``rome_v460/``; default: settings), ``reference_dir``
    the project's YAML facts (default: settings). Same seed, size and ``today`` give the same bytes.
    Returns the counts ``{"organismes", "formations", "actions", "sessions"}``.
    """
    if sessions < 1:
        raise ValueError("sessions doit être au moins 1 (LHÉO exige au moins une formation)")
    today = today or date.today()
    world = _load_world(*_resolve_dirs(data_dir, reference_dir))
    geo = world.geo
    rnd = Random(f"passerelles-demo:lheo:{seed}")
    r = rnd.random
    cert_blocks = [_cert_xml(c, today, r) for c in world.certs]
    cert_sampler = _Sampler(cert_blocks, [c.cert.tuning.weight for c in cert_blocks])

    # Organisation pools, sized from the expected sessions per organisation type, filled lazily: an
    # organisation drawn again offers another of its formations.
    total_weight = sum(c.cert.tuning.weight for c in cert_blocks)
    expected: dict[str, float] = {}
    for cb in cert_blocks:
        share = cb.cert.tuning.weight / total_weight
        orgs = [(k, w) for k, w in cb.cert.tuning.orgs if k in ORG_TYPES] or [("prive", 1.0)]
        org_total = sum(w for _, w in orgs)
        for kind, w in orgs:
            expected[kind] = expected.get(kind, 0.0) + sessions * share * w / org_total
    caps = {k: max(1, round(v / ORG_TYPES[k].sessions_per_org)) for k, v in expected.items()}
    scale = min(1.0, 50_000 / max(1, sum(caps.values())))
    caps = {k: max(1, int(v * scale)) for k, v in caps.items()}
    pools: dict[str, dict[int, _Organisme]] = {k: {} for k in caps}
    variants: dict[tuple[str, str, str, str], list[_ActionVariant | None]] = {}
    ymd_cache: dict[date, str] = {}

    def ymd(d: date) -> str:
        s = ymd_cache.get(d)
        if s is None:
            s = ymd_cache[d] = _ymd(d)
        return s

    n_org = n_formation = n_action = n_session = 0
    out = _Out(path)
    ok = False
    try:
        out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<lheo xmlns="{LHEO_NAMESPACE}">\n<offres>\n')
        while n_session < sessions:
            cb = cert_sampler.pick(r())
            cert = cb.cert
            kind = cb.org_types.pick(r())
            idx = int(r() * caps[kind])
            org = pools[kind].get(idx)
            if org is None:
                n_org += 1
                org = pools[kind][idx] = _new_organisme(world, kind, n_org, r)
            routes = [x for x in ORG_TYPES[kind].routes if x in cert.routes] or list(cert.routes)
            u = r()
            n_actions = 1 if u < 0.5 else (2 if u < 0.85 else 3)
            first_route = 0 if r() < 0.6 else int(r() * len(routes))
            n_formation += 1
            parts = [
                f'<formation numero="DEMO-F{n_formation:07d}">{cb.domaine}<intitule-formation>',
                "",  # title, known once the actions' routes are
                f"</intitule-formation>{cb.head}<contact-formation>{org.contact_xml}</contact-formation>{cb.tail}\n",
            ]
            action_routes: list[str] = []
            for a in range(n_actions):
                if n_session >= sessions:
                    break
                route = routes[(first_route + a) % len(routes)]
                u = r()
                if cb.flexible and route == "continue":
                    modality = "presentiel" if u < 0.65 else ("distance" if u >= 0.9 and cert.distance else "mixte")
                else:
                    modality = "presentiel" if u < 0.93 else "mixte"
                key = (cert.slug, kind, route, modality)
                slots = variants.get(key)
                if slots is None:
                    slots = variants[key] = [None] * _ACTION_VARIANTS
                v = int(r() * _ACTION_VARIANTS)
                variant = slots[v]
                if variant is None:
                    variant = slots[v] = _action_variant(cb, kind, route, modality, r)
                address = (
                    org.address_xml if r() >= 0.18 else _adresse_xml(geo.dept_sampler(org.place.dept).pick(r()), r)[0]
                )
                # Sessions: one to four intakes among the candidate start dates.
                candidates = cb.starts[int(r() * len(cb.starts))]
                k = min(1 + int(r() * 4), len(candidates), sessions - n_session)
                starts = sorted(_pick_distinct(r, list(candidates), k))
                n_action += 1
                action_routes.append(route)
                parts.append(f'<action numero="DEMO-A{n_action:07d}">{variant.head}<lieu-de-formation><coordonnees>')
                parts.append(address)
                parts.append(f"</coordonnees></lieu-de-formation>{variant.mid}")
                months = variant.months
                for start in starts:
                    n_session += 1
                    if variant.school_year:
                        end = date(start.year + max(1, (months + 11) // 12), 6, 20) + timedelta(days=int(r() * 14))
                    else:
                        end = _add_months(start, months) - timedelta(days=3 + int(r() * 10))
                    open_from = start - timedelta(days=90 + int(r() * 120))
                    open_until = start - timedelta(days=7 + int(r() * 35))
                    # Recruitment: closed once registration has ended or, for the nearest sessions, when full.
                    u = r()
                    full = u < 0.25 and (start - today).days < 120
                    state = 2 if open_until < today or full else (3 if u > 0.96 else 1)
                    parts.append(
                        f'<session numero="DEMO-S{n_session:07d}"><periode><debut>{ymd(start)}</debut>'
                        f"<fin>{ymd(end)}</fin></periode>{org.inscription_xml}{variant.session_mid}"
                        f"<debut>{ymd(open_from)}</debut><fin>{ymd(open_until)}</fin></periode></periode-inscription>"
                        f"<etat-recrutement>{state}</etat-recrutement>{variant.session_tail}"
                    )
                parts.append(variant.tail)
            if all(x == "apprentissage" for x in action_routes):
                variant_title = " – par apprentissage"
            elif all(x == "continue" for x in action_routes):
                variant_title = " – formation continue"
            else:
                variant_title = ""
            parts[1] = _x(_cut(f"{cert.name} ({cert.acronym}){variant_title}{DEMO_SUFFIX}", 255))
            parts.append(org.xml)
            parts.append(
                f'<extras info="passerelles"><extra info="demonstration">1</extra>'
                f'<extra info="certification">{cert.slug}</extra></extras></formation>\n'
            )
            out.write("".join(parts))
        out.write(
            f'</offres>\n<extras info="passerelles"><extra info="avertissement">Catalogue fictif ({DEMO_LABEL}) '
            f"généré par Passerelles pour les tests et les démonstrations.</extra>"
            f'<extra info="graine">{seed}</extra><extra info="date-de-reference">{today.isoformat()}</extra>'
            f"</extras>\n</lheo>\n"
        )
        ok = True
    finally:
        out.close(ok)
    return {"organismes": n_org, "formations": n_formation, "actions": n_action, "sessions": n_session}


def _pick_distinct(r: Callable[[], float], items: list[T], k: int) -> list[T]:
    k = min(k, len(items))
    for i in range(k):
        j = i + int(r() * (len(items) - i))
        items[i], items[j] = items[j], items[i]
    return items[:k]


# ----------------------------------------------------------------------------------------------------------------
# France Travail offers
# ----------------------------------------------------------------------------------------------------------------

_enc: Callable[[str], str] = json.encoder.encode_basestring  # C-accelerated, keeps non-ASCII as is
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(frozen=True, slots=True)
class _Employer:
    structure: str
    opening: str  # JSON-escaped start of the offers' descriptions: "<name>, <intro> à <city>, recrute un(e) "
    lieu: str  # '"lieuTravail":{…}'
    entreprise: str  # '"entreprise":{…}'
    contact: str  # '"contact":{…}'
    naf: str  # '"codeNAF":…,"secteurActivite":…,"secteurActiviteLibelle":…'


def _new_employer(world: _World, structure: str, r: Callable[[], float]) -> _Employer:
    geo = world.geo
    spec = STRUCTURES[structure]
    p = geo.pick(spec.min_pop, r)
    template = spec.names[int(r() * len(spec.names))]
    if structure == "hopital" and p.population >= 100_000 and r() < 0.4:
        template = "CHU de {ville}"
    nom = RESIDENCE_NAMES[int(r() * len(RESIDENCE_NAMES))]
    name = template.format(nom=nom, ville=p.city, dept=geo.dept_names.get(p.dept, p.dept))
    if structure == "ehpad":
        intro = f"établissement d'hébergement pour personnes âgées dépendantes de {40 + int(r() * 90)} lits"
    elif structure in ("hopital", "clinique", "hopital-psychiatrique", "usld"):
        beds = 30 + int(r() * min(1500.0, p.population / 60))  # a large hospital needs a large town
        intro = f"établissement de santé de {beds} lits et places"
    elif structure in ("ssiad", "saad"):
        intro = f"service à domicile accompagnant {60 + int(r() * 400)} personnes"
    elif structure == "creche":
        intro = f"établissement d'accueil du jeune enfant de {12 + int(r() * 50)} places"
    elif structure in ("ime", "iem", "mas", "fam", "foyer-de-vie", "mecs", "chrs", "esat"):
        intro = f"établissement médico-social de {20 + int(r() * 80)} places géré par une association"
    elif structure == "cabinet-infirmier":
        intro = f"cabinet de {2 + int(r() * 4)} infirmiers libéraux"
    else:
        intro = "structure du secteur sanitaire, social et médico-social"
    host = _host(template, nom, p.city)
    _street, postcode, lat, lon = _place_fields(p, r)
    lieu = (
        f'"lieuTravail":{{"libelle":{_enc(f"{p.dept} - {p.name}")},"latitude":{round(lat, 6)!r},'
        f'"longitude":{round(lon, 6)!r},"codePostal":"{postcode}","commune":"{p.code}"}}'
    )
    entreprise = (
        f'"entreprise":{{"nom":{_enc(name + DEMO_SUFFIX)},'
        f'"description":{_enc(f"{name}, {intro}, à {p.city}. Employeur fictif ({DEMO_LABEL}).")},'
        '"entrepriseAdaptee":false}'
    )
    contact = (
        f'"contact":{{"nom":{_enc(f"{name} - Service des ressources humaines")},'
        f'"courriel":{_enc(f"recrutement@{host}")}}}'
    )
    naf = f'"codeNAF":"{spec.naf}","secteurActivite":"{spec.naf[:2]}","secteurActiviteLibelle":{_enc(spec.naf_label)}'
    opening = _enc(f"{name}, {intro} à {p.city}, recrute un(e) ")[1:-1]
    return _Employer(structure, opening, lieu, entreprise, contact, naf)


@dataclass(frozen=True)
class _JobPlan:
    """Pre-serialised parts of the offers of one occupation."""

    job: _Job
    # JSON-escaped (title base, same lowered, appellation) and the '"romeCode":…' fragment
    appellations: _Sampler[tuple[str, str, str, str]]
    activities: tuple[str, ...]  # JSON-escaped mission lines
    contracts: _Sampler[str]
    qualification: str
    formations: str  # ',"formations":[…]' or ""
    formations_alternance: str
    profile: str  # JSON-escaped
    profile_alternance: str
    liberal: tuple[str, str, str, str] | None  # the appellation of a liberal practice, if the occupation has one


def _job_plan(job: _Job) -> _JobPlan:
    items = [
        (
            _enc(_masculine(label))[1:-1],
            _enc(_lower_first(_masculine(label)))[1:-1],
            _enc(label)[1:-1],
            f'"romeCode":"{code}","romeLibelle":{_enc(rome_label)},"appellationlibelle":{_enc(label)}',
        )
        for label, code, rome_label in job.appellations.items
    ]
    weights = job.appellations.weights()
    cert = job.cert
    formations = formations_alt = ""
    if cert is not None:
        code = cert.tuning.formacodes[0]
        common = {
            "codeFormation": code,
            "domaineLibelle": FORMACODE_LABELS.get(code, cert.acronym.lower()),
            "niveauLibelle": FT_LEVELS.get(cert.level_eu or 4, "Bac ou équivalent"),
            "commentaire": cert.acronym,
        }
        formations = ',"formations":' + _dumps([{**common, "exigence": "E" if job.cert_required else "S"}])
        formations_alt = ',"formations":' + _dumps([{**common, "exigence": "S"}])
        need = "exigé" if job.cert_required else "souhaité"
        profile = f"{cert.name} ({cert.acronym}) {need}."
        profile_alt = f"Vous préparez le {cert.name} ({cert.acronym}) en alternance avec notre structure."
    else:
        profile = profile_alt = "Une première expérience dans le secteur sanitaire ou médico-social est appréciée."
    q = job.tuning.qualification
    return _JobPlan(
        job=job,
        appellations=_Sampler(items, weights),
        activities=tuple(_enc(a)[1:-1] for a in job.activities),
        contracts=_Sampler(["CDI", "CDD", "MIS", "ALT", "LIB"], list(job.tuning.contracts)),
        qualification=f'"qualificationCode":"{q}","qualificationLibelle":{_enc(QUALIFICATIONS[q])}',
        formations=formations,
        formations_alternance=formations_alt,
        profile=_enc(profile)[1:-1],
        profile_alternance=_enc(profile_alt)[1:-1],
        liberal=next((item for item in items if "libéral" in item[2]), None),
    )


_HOURS_PART = ((17.5, 1.0), (20.0, 2.0), (24.0, 2.0), (28.0, 2.0), (30.0, 2.0), (32.0, 1.0))
_CDD_MONTHS = ((1, 2.0), (2, 2.0), (3, 3.0), (4, 1.0), (6, 3.0), (9, 0.5), (12, 1.5), (18, 0.3))
_MIS_MONTHS = ((1, 4.0), (2, 2.0), (3, 2.0), (6, 1.0))
_EXPERIENCE = (("D", "Débutant accepté", 0.55), ("S", "1 An(s)", 0.2), ("S", "6 Mois", 0.1), ("S", "2 An(s)", 0.05),
               ("E", "1 An(s)", 0.06), ("E", "2 An(s)", 0.03), ("E", "3 An(s)", 0.01))  # fmt: skip
DEMO_NOTICE = (
    f"Offre fictive ({DEMO_LABEL}) générée par Passerelles pour les tests et les démonstrations : ne pas postuler."
)


def _hours_label(h: float) -> str:
    whole = int(h)
    minutes = round((h - whole) * 60)
    return f"{whole}H{minutes:02d}" if minutes else f"{whole}H"


def _contract_fragment(kind: str, label: str, nature: str) -> str:
    return f'"typeContrat":"{kind}","typeContratLibelle":{_enc(label)},"natureContrat":{_enc(nature)}'


def write_offers(
    path: Path,
    *,
    offers: int,
    seed: int = 1,
    today: date | None = None,
    data_dir: Path | None = None,
    fmt: Literal["jsonl", "array"] = "jsonl",
    reference_dir: Path | None = None,
) -> dict[str, int]:
    """Write ``offers`` France Travail-shaped demonstration offers to ``path`` (JSON Lines, or one JSON array).

    Same seed, size, ``today`` and format give the same bytes. Returns ``{"offers", "employers"}``.
    """
    if offers < 0:
        raise ValueError("offers doit être positif ou nul")
    if fmt not in ("jsonl", "array"):
        raise ValueError("fmt doit valoir 'jsonl' ou 'array'")
    today = today or date.today()
    world = _load_world(*_resolve_dirs(data_dir, reference_dir))
    rnd = Random(f"passerelles-demo:offers:{seed}")
    r = rnd.random
    plans = [_job_plan(j) for j in world.jobs]
    jobs = _Sampler(plans, [p.job.tuning.weight for p in plans])

    # Employer pools per structure type, sized from the expected number of offers (about 5 offers each).
    total_weight = sum(p.job.tuning.weight for p in plans)
    expected: dict[str, float] = {}
    for p in plans:
        items = p.job.structures.items
        sw = [STRUCTURES[s].weight for s in items]
        share = offers * p.job.tuning.weight / total_weight
        for s, w in zip(items, sw, strict=True):
            expected[s] = expected.get(s, 0.0) + share * w / sum(sw)
        lib = share * p.job.tuning.contracts[4] / sum(p.job.tuning.contracts)
        expected["cabinet-infirmier"] = expected.get("cabinet-infirmier", 0.0) + lib
    caps = {s: max(1, round(v / 5)) for s, v in expected.items()}
    scale = min(1.0, 40_000 / max(1, sum(caps.values())))
    caps = {s: max(1, int(v * scale)) for s, v in caps.items()}
    pools: dict[str, dict[int, _Employer]] = {s: {} for s in caps}
    n_employers = 0

    hours_part = _Sampler([h for h, _ in _HOURS_PART], [w for _, w in _HOURS_PART])
    cdd_months = _Sampler([m for m, _ in _CDD_MONTHS], [w for _, w in _CDD_MONTHS])
    mis_months = _Sampler([m for m, _ in _MIS_MONTHS], [w for _, w in _MIS_MONTHS])
    experience = _Sampler(
        [
            (
                f'"experienceExige":"{c}","experienceLibelle":{_enc(lab)}',
                c,
                _enc(
                    " Débutant(e) accepté(e)."
                    if c == "D"
                    else f" Expérience {'exigée' if c == 'E' else 'souhaitée'} : {lab.lower()}."
                )[1:-1],
            )
            for c, lab, _ in _EXPERIENCE
        ],
        [w for _, _, w in _EXPERIENCE],
    )
    notice = _enc(DEMO_NOTICE)[1:-1]
    beginner = experience.items[0]
    contracts_cdi = _contract_fragment("CDI", "Contrat à durée indéterminée", "Contrat travail")
    contracts_lib = _contract_fragment("LIB", "Profession libérale", "Emploi non salarié")
    contracts_cdd = {
        m: _contract_fragment("CDD", f"Contrat à durée déterminée - {m} Mois", "Contrat travail")
        for m, _ in _CDD_MONTHS
    }
    contracts_mis = {m: _contract_fragment("MIS", f"Intérim - {m} Mois", "Contrat travail") for m, _ in _MIS_MONTHS}
    contracts_alt = {
        (m, nature): _contract_fragment("CDD", f"Contrat à durée déterminée - {m} Mois", nature)
        for m in (12, 18, 24, 36)
        for nature in ("Contrat apprentissage", "Cont. professionnalisation")
    }
    durations: dict[tuple[float, str, bool], str] = {}
    days = [date.fromordinal(today.toordinal() - a).isoformat() for a in range(OFFER_WINDOW_DAYS)]
    clock: dict[int, str] = {}
    width = max(6, len(str(offers)))

    out = _Out(path)
    ok = False
    try:
        if fmt == "array":
            out.write("[")
        for n in range(1, offers + 1):
            plan = jobs.pick(r())
            job = plan.job
            tuning = job.tuning
            masc, masc_lower, appellation, rome_fragment = plan.appellations.pick(r())
            contract = plan.contracts.pick(r())
            if contract == "LIB" and plan.liberal is not None:
                masc, masc_lower, appellation, rome_fragment = plan.liberal
            structure = "cabinet-infirmier" if contract == "LIB" else job.structures.pick(r())
            idx = int(r() * caps[structure])
            emp = pools[structure].get(idx)
            if emp is None:
                n_employers += 1
                emp = pools[structure][idx] = _new_employer(world, structure, r)
            st = STRUCTURES[structure]
            # Contract.
            alternance = False
            if contract == "CDI":
                contract_fragment, phrase = contracts_cdi, "en CDI"
            elif contract == "CDD":
                m = cdd_months.pick(r())
                contract_fragment, phrase = contracts_cdd[m], f"en CDD de {m} mois"
            elif contract == "MIS":
                m = mis_months.pick(r())
                contract_fragment, phrase = contracts_mis[m], f"en mission d'intérim de {m} mois"
            elif contract == "LIB":
                contract_fragment, phrase = contracts_lib, "pour des remplacements en exercice libéral"
            else:
                alternance = True
                m = (12, 18, 24, 36)[int(r() * 4)]
                if r() < 0.75:
                    nature, phrase = "Contrat apprentissage", "en contrat d'apprentissage"
                else:
                    nature, phrase = "Cont. professionnalisation", "en contrat de professionnalisation"
                contract_fragment = contracts_alt[(m, nature)]
            # Working time and schedule.
            part_time = contract != "LIB" and r() < tuning.part_time_share
            if part_time:
                hours = hours_part.pick(r())
            else:
                u = r()
                hours = 35.0 if u < 0.85 else (37.5 if u < 0.93 else 39.0)
            night = job.nights and st.nights and r() < 0.18
            weekend = job.weekends and st.weekends and r() < 0.5
            u = r()
            if night:
                horaire = "Travail de nuit"
            elif weekend and u < 0.5:
                horaire = "Travail samedi et dimanche"
            else:
                horaire = "Horaires normaux" if u < 0.75 else ("Travail en journée" if u < 0.9 else "Travail en équipe")
            duration_key = (hours, horaire, part_time)
            duration = durations.get(duration_key)
            if duration is None:
                duration = durations[duration_key] = (
                    f'"dureeTravailLibelle":"{_hours_label(hours)} {horaire}",'
                    f'"dureeTravailLibelleConverti":"{"Temps partiel" if part_time else "Temps plein"}"'
                )
            # Salary, in France Travail's wording.
            if contract == "LIB":
                salaire = '{"commentaire":"Rétrocession d\'honoraires selon convention"}'
            elif alternance:
                pct = (0.53, 0.61, 0.78, 1.0)[int(r() * 4)]
                salaire = f'{{"libelle":"Mensuel de {SMIC_MONTHLY * pct:.2f} Euros sur 12 mois"}}'
            elif r() < 0.08:
                salaire = '{"commentaire":"Selon grille de la convention collective"}'
            else:
                lo, hi = tuning.pay
                base = lo + r() * (hi - lo) * 0.6
                top = base + 100 + r() * 400
                single = r() < 0.35
                v = r()
                if v < tuning.hourly_share:
                    unit, a, b, over = "Horaire", base / 151.67, top / 151.67, "12"
                elif v < tuning.hourly_share + tuning.annual_share and not part_time:
                    unit, a, b, over = "Annuel", round(base * 12, -2), round(top * 12, -2), "12"
                else:
                    ratio = hours / 35.0
                    unit, a, b = "Mensuel", round(base * ratio, -1), round(top * ratio, -1)
                    over = "13" if r() < 0.1 else "12"
                amount = f"{a:.2f} Euros" if single else f"{a:.2f} Euros à {b:.2f} Euros"
                extra = ',"complement1":"Mutuelle"' if r() < 0.4 else ""
                salaire = f'{{"libelle":"{unit} de {amount} sur {over} mois"{extra}}}'
            # Experience, title and description.
            exp_fragment, _exp_code, exp_text = beginner if alternance else experience.pick(r())
            if alternance:
                title = f"{masc} en alternance (H/F)"
            elif contract == "LIB":
                title = f"{masc} - remplacements (H/F)"
            elif night:
                title = f"{masc} de nuit (H/F)"
            elif r() < 0.3 and structure in STRUCTURE_SHORT:
                title = f"{masc} - {STRUCTURE_SHORT[structure]} (H/F)"
            else:
                title = appellation if r() < 0.3 else f"{masc} (H/F)"
            profile = plan.profile_alternance if alternance else plan.profile
            activities = plan.activities
            start = int(r() * len(activities))
            missions = "\\n".join(activities[start : start + 2 + int(r() * 2)])
            schedule = (
                f"temps partiel ({hours:g} h par semaine)".replace(".5 h", " h 30") if part_time else "temps plein"
            )
            if night:
                schedule += ", poste de nuit (21 h – 7 h) en roulement"
            if weekend:
                schedule += (
                    ", un week-end sur deux travaillé" if r() < 0.6 else ", travail les week-ends et jours fériés"
                )
            if structure in ("hopital", "clinique", "ehpad") and not night and r() < 0.3:
                schedule += ", journées de 12 h"
            description = (  # already JSON-escaped: "\\n" is a line break
                f"{emp.opening}{masc_lower} {phrase}.\\n\\nVos missions :\\n{missions}"
                f"\\n\\nProfil : {profile}{exp_text}\\n\\nConditions : {schedule}.\\n\\n{notice}"
            )
            # Dates (UTC) within the past 60 days; the update follows the creation.
            age = int(r() * OFFER_WINDOW_DAYS)
            c_sec = 25_200 + int(r() * 46_800)
            upd = int(r() * (age + 1) * 0.7)
            u_sec = 25_200 + int(r() * 46_800) if upd else min(86_399, c_sec + int(r() * 3600))
            c_clock = clock.get(c_sec)
            if c_clock is None:
                c_clock = clock[c_sec] = f"T{c_sec // 3600:02d}:{c_sec // 60 % 60:02d}:{c_sec % 60:02d}.000Z"
            u_clock = clock.get(u_sec)
            if u_clock is None:
                u_clock = clock[u_sec] = f"T{u_sec // 3600:02d}:{u_sec // 60 % 60:02d}:{u_sec % 60:02d}.000Z"
            postes = "1" if r() < 0.86 else str(2 + int(r() * 3))
            handi = "true" if r() < 0.08 else "false"
            if night and weekend:
                context = ',"contexteTravail":{"horaires":["Travail de nuit","Travail le week-end"]}'
            elif night:
                context = ',"contexteTravail":{"horaires":["Travail de nuit"]}'
            elif weekend:
                context = ',"contexteTravail":{"horaires":["Travail le week-end"]}'
            else:
                context = ""
            tension = "true" if r() < tuning.tension else "false"
            line = "".join(
                (
                    '{"id":"DEMO',
                    str(n).zfill(width),
                    '","intitule":"',
                    title,
                    '","description":"',
                    description,
                    '","dateCreation":"',
                    days[age],
                    c_clock,
                    '","dateActualisation":"',
                    days[age - upd],
                    u_clock,
                    '",',
                    emp.lieu,
                    ",",
                    rome_fragment,
                    ",",
                    emp.entreprise,
                    ",",
                    contract_fragment,
                    ",",
                    exp_fragment,
                    plan.formations_alternance if alternance else plan.formations,
                    ',"salaire":',
                    salaire,
                    ",",
                    duration,
                    ',"alternance":',
                    "true" if alternance else "false",
                    ",",
                    emp.contact,
                    ',"nombrePostes":',
                    postes,
                    ',"accessibleTH":',
                    handi,
                    ",",
                    plan.qualification,
                    ",",
                    emp.naf,
                    context,
                    ',"origineOffre":{"origine":"1"},"offresManqueCandidats":',
                    tension,
                    "}",
                )
            )
            if fmt == "array":
                out.write(("\n" if n == 1 else ",\n") + line)
            else:
                out.write(line + "\n")
        if fmt == "array":
            out.write("\n]\n" if offers else "]\n")
        ok = True
    finally:
        out.close(ok)
    return {"offers": offers, "employers": n_employers}


# ----------------------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m passerelles.demo.generator lheo OUT --sessions N`` or ``offers OUT --offers N``."""
    parser = argparse.ArgumentParser(
        prog="python -m passerelles.demo.generator",
        description=f"Génère des données de démonstration ({DEMO_LABEL}) : catalogue LHÉO ou offres d'emploi.",
    )
    sub = parser.add_subparsers(dest="kind", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("out", type=Path, help="fichier à écrire")
    common.add_argument("--seed", type=int, default=1, help="graine (défaut : 1)")
    common.add_argument("--today", type=date.fromisoformat, default=None, help="date de référence AAAA-MM-JJ")
    common.add_argument("--data-dir", type=Path, default=None, help="données ouvertes (geo_fr/, rome_v460/)")
    common.add_argument("--reference-dir", type=Path, default=None, help="faits YAML du projet (data/)")
    lheo = sub.add_parser("lheo", parents=[common], help="catalogue de formations LHÉO 2.3")
    lheo.add_argument("--sessions", type=int, required=True)
    offers = sub.add_parser("offers", parents=[common], help="offres d'emploi façon France Travail")
    offers.add_argument("--offers", type=int, required=True)
    offers.add_argument("--format", choices=("jsonl", "array"), default="jsonl")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        if args.kind == "lheo":
            counts = write_lheo_catalogue(
                args.out,
                sessions=args.sessions,
                seed=args.seed,
                today=args.today,
                data_dir=args.data_dir,
                reference_dir=args.reference_dir,
            )
        else:
            counts = write_offers(
                args.out,
                offers=args.offers,
                seed=args.seed,
                today=args.today,
                data_dir=args.data_dir,
                fmt=args.format,
                reference_dir=args.reference_dir,
            )
    except (OSError, ValueError) as exc:
        print(f"erreur : {exc}", file=sys.stderr)
        return 1
    report = {**counts, "path": str(args.out), "seconds": round(time.perf_counter() - started, 2)}
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
