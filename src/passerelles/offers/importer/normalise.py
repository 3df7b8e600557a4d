"""Offer texts made into values: salary, hours, contract, working time, night and weekend work, kind of
structure. Pure functions, shared by both feeds (and the demonstration generator's tests)."""

from __future__ import annotations

import functools
import re

from unidecode import unidecode

CONTRACT_CODE = re.compile(r"^[A-Z]{2,5}$")


SALARY_PERIOD = {"mensuel": "mois", "annuel": "an", "horaire": "heure"}
SALARY_AMOUNT = re.compile(r"([0-9][0-9 \u00a0\u202f]*(?:[.,][0-9]+)?)\s*(?:Euros?|EUR|€)", re.IGNORECASE)


def _amount(text: str) -> float:
    return float(re.sub(r"[ \u00a0\u202f]", "", text).replace(",", "."))


@functools.lru_cache(maxsize=4096)  # a feed repeats the same few hundred wordings
def parse_salary(libelle: str | None) -> tuple[float | None, float | None, str | None]:
    """(min, max, period) from France Travail's ``salaire.libelle``; (None, None, None) when unclear.

    « Mensuel de 1800.00 Euros à 2000.00 Euros sur 12 mois » → (1800, 2000, "mois");
    « Horaire de 11.88 Euros » → (11.88, 11.88, "heure"): a single amount is both bounds.
    """
    if not libelle:
        return None, None, None
    words = libelle.strip().split(None, 1)
    period = SALARY_PERIOD.get(words[0].lower()) if words else None
    if period is None:
        return None, None, None
    # Only what precedes « sur N mois »: the number of months is not an amount.
    amounts = [_amount(m) for m in SALARY_AMOUNT.findall(re.split(r"\bsur\s+[0-9]", libelle)[0])]
    if not amounts or len(amounts) > 2 or any(a <= 0 for a in amounts):
        return None, None, None
    low, high = min(amounts), max(amounts)
    return low, high, period


FT_HOURS = re.compile(r"^\s*([0-9]{1,2})\s*H\s*([0-9]{2})?", re.IGNORECASE)
WEEKLY_HOURS = re.compile(
    r"\b([0-9]{1,2}(?:[.,][0-9]+)?)\s*(?:h(?=[0-9])|h\b|heures?\b)\s*([0-9]{2})?[^0-9]{0,20}?(?:semaine|hebdo)",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=4096)
def parse_hours(text: str | None, *, weekly_only: bool = False) -> float | None:
    """Weekly hours: « 35H/semaine » → 35.0, « 24H30/semaine » → 24.5.

    France Travail's ``dureeTravailLibelle`` always states a weekly duration first. For free text
    (``weekly_only``, JobPosting ``workHours``) the text must say « semaine » or « hebdo », so that a
    schedule such as « 8h-17h » is not read as 8 hours a week.
    """
    if not text:
        return None
    if weekly_only:
        m = WEEKLY_HOURS.search(text)
        if not m:
            return None
        hours = float(m.group(1).replace(",", ".")) + (int(m.group(2)) / 60 if m.group(2) else 0)
    else:
        m = FT_HOURS.match(text)
        if not m:
            return None
        hours = int(m.group(1)) + (int(m.group(2)) / 60 if m.group(2) else 0)
    return round(hours, 2) if 0 < hours <= 60 else None


def working_time(label: str | None) -> str | None:
    """« Temps plein » → temps_plein, « Temps partiel » → temps_partiel (``dureeTravailLibelleConverti``)."""
    if not label:
        return None
    text = label.strip().lower()
    if text.startswith("temps plein"):
        return "temps_plein"
    if text.startswith("temps partiel"):
        return "temps_partiel"
    return None


def ft_contract_type(type_contrat: str | None, nature: str | None, alternance: bool | None) -> str | None:
    """France Travail's ``typeContrat`` code (CDI, CDD, MIS, SAI, LIB…), or the work-study contract.

    A work-study offer is APP (apprentissage) or PRO (professionnalisation) as ``natureContrat`` says, or
    ALT when it only says ``alternance``.
    """
    nature_l = (nature or "").lower()
    if "apprenti" in nature_l:
        return "APP"
    if "professionnalisation" in nature_l:
        return "PRO"
    if alternance:
        return "ALT"
    code = (type_contrat or "").strip().upper()
    return code if CONTRACT_CODE.match(code) else None


EMPLOYMENT_TYPES: dict[str, tuple[str | None, str | None]] = {
    # schema.org employmentType values, and the French codes some feeds put there.
    "FULL_TIME": (None, "temps_plein"),
    "PART_TIME": (None, "temps_partiel"),
    "CONTRACTOR": ("LIB", None),
    "CDI": ("CDI", None),
    "CDD": ("CDD", None),
    "INTERIM": ("MIS", None),
    "MIS": ("MIS", None),
    "SAISONNIER": ("SAI", None),
    "SAI": ("SAI", None),
    "LIBERAL": ("LIB", None),
    "LIB": ("LIB", None),
    "APPRENTISSAGE": ("APP", None),
    "APPRENTICESHIP": ("APP", None),
    "APP": ("APP", None),
    "PROFESSIONNALISATION": ("PRO", None),
    "PRO": ("PRO", None),
    "TEMPS_PLEIN": (None, "temps_plein"),
    "TEMPS_PARTIEL": (None, "temps_partiel"),
}


def jobposting_contract(employment_type: str | list[str] | None) -> tuple[str | None, str | None]:
    """(contract_type, working_time) from ``employmentType``; TEMPORARY, INTERN… say too little: None."""
    values = [employment_type] if isinstance(employment_type, str) else list(employment_type or [])
    contract = time = None
    for raw in values:
        key = re.sub(r"[^A-Z]+", "_", unidecode(raw).upper()).strip("_")
        c, t = EMPLOYMENT_TYPES.get(key, (None, None))
        contract = contract or c
        time = time or t
    return contract, time


NIGHT_NO = re.compile(
    r"\b(?:pas|jamais|aucun|aucune|sans|hors)\s+(?:de\s+)?(?:travail\s+(?:de\s+)?|poste\s+(?:de\s+)?|garde\s+(?:de\s+)?)?nuits?\b",
    re.IGNORECASE,
)
NIGHT_YES = re.compile(
    r"\b(?:de|en)\s+nuit\b|\bnuits?\s+(?:fixes?|uniquement|exclusivement)\b|\b[0-9]+\s+nuits?\b"
    r"|\bveill(?:eur|euse|eurs|euses)\b",
    re.IGNORECASE,
)
WEEKEND_NO = re.compile(
    r"\b(?:pas|jamais|aucun|aucune|sans|hors)\s+(?:de\s+)?(?:travail\s+(?:le\s+|les\s+)?)?week[- ]?ends?\b"
    r"|\b(?:du\s+)?lundi\s+au\s+vendredi\b",
    re.IGNORECASE,
)
WEEKEND_YES = re.compile(
    r"\bweek[- ]?ends?\b|\bsamedis?\s+(?:et|,)\s+dimanches?\b|\bdimanches?\s+et\s+(?:les\s+)?jours?\s+f[ée]ri[ée]s\b",
    re.IGNORECASE,
)


def _around(lower: str, words: tuple[str, ...], before: int = 45, after: int = 30) -> str:
    """The pieces of ``lower`` around each occurrence of ``words``: the patterns below then run on a few
    dozen characters instead of a whole description (they are slow on long texts)."""
    spans: list[tuple[int, int]] = []
    for word in words:
        start = lower.find(word)
        while start != -1:
            spans.append((max(start - before, 0), start + len(word) + after))
            start = lower.find(word, start + 1)
    spans.sort()
    merged: list[list[int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return "\n|\n".join(lower[lo:hi] for lo, hi in merged)


def _clear(text: str, yes: re.Pattern[str], no: re.Pattern[str]) -> bool | None:
    negated = no.search(text)
    rest = no.sub(" ", text) if negated else text
    said = yes.search(rest)
    if said and negated:
        return None  # the text says both: not clear
    if said:
        return True
    if negated:
        return False
    return None


NIGHT_WORDS = ("nuit", "veill")
WEEKEND_WORDS = ("week", "samedi", "dimanche", "lundi")


def detect_night_work(text: str | None, *, lowered: bool = False) -> bool | None:
    """True/False only when the text says it plainly (« poste de nuit », « pas de nuit »); else None."""
    if not text:
        return None
    pieces = _around(text if lowered else text.lower(), NIGHT_WORDS)
    return _clear(pieces, NIGHT_YES, NIGHT_NO) if pieces else None


def detect_weekend_work(text: str | None, *, lowered: bool = False) -> bool | None:
    """True/False only when plain (« un week-end sur deux », « du lundi au vendredi »); else None."""
    if not text:
        return None
    pieces = _around(text if lowered else text.lower(), WEEKEND_WORDS)
    return _clear(pieces, WEEKEND_YES, WEEKEND_NO) if pieces else None


_A = "['’]"  # straight or typographic apostrophe
STRUCTURE_NAMES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bE\.?H\.?P\.?A\.?D\b", re.IGNORECASE), "ehpad"),
    (re.compile(r"\bmaison de retraite\b", re.IGNORECASE), "ehpad"),
    (re.compile(r"\bUSLD\b"), "usld"),
    (re.compile(r"\bunit[ée] de soins de longue dur[ée]e\b", re.IGNORECASE), "usld"),
    (re.compile(r"\bIME\b"), "ime"),
    (re.compile(r"\binstitut m[ée]dico-[ée]ducatif\b", re.IGNORECASE), "ime"),
    (re.compile(r"\bIEM\b"), "iem"),
    (re.compile(rf"\binstitut d{_A}[ée]ducation motrice\b", re.IGNORECASE), "iem"),
    (re.compile(r"\bMAS\b"), "mas"),
    (re.compile(rf"\bmaison d{_A}accueil sp[ée]cialis[ée]e\b", re.IGNORECASE), "mas"),
    (re.compile(r"\bFAM\b"), "fam"),
    (re.compile(rf"\bfoyer d{_A}accueil m[ée]dicalis[ée]\b", re.IGNORECASE), "fam"),
    (re.compile(r"\bfoyer de vie\b|\bfoyer occupationnel\b", re.IGNORECASE), "foyer-de-vie"),
    (re.compile(r"\bE\.?S\.?A\.?T\b"), "esat"),
    (re.compile(r"\bMECS\b"), "mecs"),
    (re.compile(rf"\bmaison d{_A}enfants [àa] caract[èe]re social\b", re.IGNORECASE), "mecs"),
    (re.compile(r"\bCHRS\b"), "chrs"),
    (re.compile(rf"\bcentre d{_A}h[ée]bergement et de r[ée]insertion sociale\b", re.IGNORECASE), "chrs"),
    (re.compile(r"\bSSIAD\b"), "ssiad"),
    (re.compile(r"\bservice de soins infirmiers [àa] domicile\b", re.IGNORECASE), "ssiad"),
    (re.compile(r"\bSAAD\b"), "saad"),
    (
        re.compile(
            rf"\bservice d{_A}aide et d{_A}accompagnement [àa] domicile\b|\baide [àa] domicile\b|"
            r"\bservices? [àa] domicile\b",
            re.IGNORECASE,
        ),
        "saad",
    ),
    (re.compile(r"\bcentre hospitalier\b(?! sp[ée]cialis)|\bC\.?H\.?U\b|\bh[ôo]pital\b", re.IGNORECASE), "hopital"),
    (re.compile(r"\bcentre hospitalier sp[ée]cialis[ée]\b|\bEPSM\b", re.IGNORECASE), "hopital-psychiatrique"),
    (re.compile(r"\b(?:poly)?clinique\b", re.IGNORECASE), "clinique"),
    (re.compile(r"\bcr[eè]che\b|\bmulti-accueil\b", re.IGNORECASE), "creche"),
    (re.compile(r"\bcentre de sant[ée]\b", re.IGNORECASE), "centre-de-sante"),
    (
        re.compile(
            r"\bcabinet m[ée]dical\b|\bcabinet de m[ée]decine g[ée]n[ée]rale\b|"
            r"\bmaison de sant[ée] pluriprofessionnelle\b",
            re.IGNORECASE,
        ),
        "cabinet-medical",
    ),
    (re.compile(r"\bcentre social\b", re.IGNORECASE), "centre-social"),
    (re.compile(r"\bMDPH\b|\bmaison d[ée]partementale des personnes handicap[ée]es\b", re.IGNORECASE), "mdph"),
    (re.compile(rf"\baide sociale [àa] l{_A}enfance\b", re.IGNORECASE), "service-ase"),
    (re.compile(r"(?i:\bprotection maternelle et infantile\b)|\bPMI\b"), "pmi"),
    (re.compile(rf"\bcaisse d{_A}allocations familiales\b", re.IGNORECASE), "caf"),
    (re.compile(r"\bCCAS\b|\bmairie\b", re.IGNORECASE), "collectivite-territoriale"),
]
# A unit or a specialised hospital named after its hospital is that unit, not the hospital.
_MORE_SPECIFIC = {"usld": "hopital", "hopital-psychiatrique": "hopital"}


@functools.lru_cache(maxsize=65536)
def structure_type_from_name(name: str | None) -> str | None:
    """A structure type (``structure_types.yaml`` slug) when the employer's name says exactly one."""
    if not name:
        return None
    found = {slug for pattern, slug in STRUCTURE_NAMES if pattern.search(name)}
    found -= {general for specific, general in _MORE_SPECIFIC.items() if specific in found}
    return found.pop() if len(found) == 1 else None
