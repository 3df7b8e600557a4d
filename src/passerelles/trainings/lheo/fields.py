"""The fields of a record: LHÉO code lists and patterns, and the functions that read and check one value
(dates, numbers, amounts, codes, coordinates). A broken value raises :class:`RecordError` naming its path."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from passerelles.importing.report import RecordError  # field: the LHÉO element path
from passerelles.trainings.lheo.memo import MEMO
from passerelles.trainings.lheo.rows import FrozenRecord
from passerelles.trainings.lheo.tree import Node, as_node, kid_text, kid_texts, text_of, texts_at
from passerelles.trainings.schemas import Rule, check_record

# dict-niveaux (LHÉO): codes 0–8 are the 1969 levels (0 not given, 1 no specific level, 2 = VI … 8 = I),
# mapped to the 2019 national/European levels by the usual equivalence (V → 3, IV → 4, III → 5, II → 6,
# I → 7); LHÉO 2.3 added codes 11–18 for levels 1–8 ("nouvelle table des niveaux", lheo-schema PEL-37).
LEVEL_EU: dict[str, int | None] = {
    "0": None,
    "1": None,
    "2": 1,
    "3": 2,
    "4": 3,
    "5": 4,
    "6": 5,
    "7": 6,
    "8": 7,
    **{str(10 + n): n for n in range(1, 9)},
}
MODALITY = {"0": "presentiel", "1": "mixte", "2": "distance"}  # dict-FOAD
RECRUITMENT = {"1": "ouvert", "2": "ferme", "3": "suspendu"}  # dict-etat-recrutement
ROUTE_ORDER = ("initiale", "continue", "apprentissage", "vae")

SIRET = re.compile(r"^[0-9]{14}$")
NDA = re.compile(r"^[0-9A-Za-z]{8,11}$")
POSTCODE = re.compile(r"^[0-9]{5}$")
INSEE = re.compile(r"^(?:[0-9]{2}|2A|2B)[0-9]{3}$")
RNCP = re.compile(r"^(?:RNCP)?\s*([0-9]{1,6})$", re.IGNORECASE)
CERTIFINFO = re.compile(r"^[0-9]{1,10}$")
FORMACODE = re.compile(r"^[0-9]{5}$")
NSF = re.compile(r"^[0-9]{3}[a-zA-Z]?$")
ROME = re.compile(r"^(?:[A-N][0-9]{4}|[0-9]{5})$")
FINANCEUR = re.compile(r"^[0-9]{1,2}$")
DIGITS = re.compile(r"^[0-9]{1,9}$")
LHEO_DATE = re.compile(r"^[0-9]{8}$")


def parse_date(value: str | None, field: str) -> dt.date | None:
    if value is None:
        return None
    known = MEMO.dates.get(value)  # a catalogue repeats its dates
    if known is not None:
        return known
    date = _read_date(value, field)
    return date if date is None else MEMO.remember(MEMO.dates, value, date)


def _read_date(value: str, field: str) -> dt.date | None:
    if not LHEO_DATE.match(value):
        raise RecordError(field, f"date au format AAAAMMJJ attendue : « {value} »")
    if value in ("00000000", "99999999"):  # LHÉO: date not known
        return None
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise RecordError(field, f"date inexistante : « {value} » ({value[6:]}/{value[4:6]}/{value[:4]})") from None


def parse_int(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    if not DIGITS.match(value):
        raise RecordError(field, f"nombre entier attendu : « {value} »")
    return int(value)


def parse_amount(value: str | None, field: str) -> Decimal | None:
    """``prix-total-TTC`` is a free string in the XSD: a number we can read, or ``None`` (kept as text)."""
    if value is None:
        return None
    cleaned = re.sub(r"(?i)\s|€|eur(os?)?|ttc", "", value.replace("\u00a0", "")).replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    if amount < 0 or amount >= Decimal("100000000"):
        raise RecordError(field, f"montant hors limites : « {value} »")
    return amount.quantize(Decimal("0.01"))


def _coordinate(value: str | None, field: str, bound: float) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        raise RecordError(field, f"coordonnée non numérique : « {value} »") from None
    if not -bound <= number <= bound:
        raise RecordError(field, f"coordonnée hors limites : « {value} »")
    return round(number, 6)


def codes_at(parent: Node, path: str, pattern: re.Pattern[str], what: str, field: str | None = None) -> list[str]:
    codes: list[str] = []
    for value in texts_at(parent, path):
        if not pattern.match(value):
            raise RecordError(field or path, f"{what} invalide : « {value} »")
        if value not in codes:
            codes.append(value)
    return codes


def validated(rules: dict[str, Rule], values: dict[str, Any], paths: dict[str, str]) -> FrozenRecord:
    """``values`` once checked against the record's rules (:mod:`passerelles.trainings.schemas`), read-only
    from then on (see :mod:`.rows`)."""
    broken = check_record(values, rules)
    if broken is not None:
        name, reason = broken
        raise RecordError(paths.get(name, name), reason)
    return FrozenRecord(values)


@dataclass
class Coordinates:
    address: str | None = None
    postcode: str | None = None
    city: str | None = None
    insee: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None


def read_coordinates(el: Any, field: str) -> Coordinates:
    """An LHÉO ``coordonnees`` (or bare ``adresse``) element; the same shape in 1.3 and 2.x."""
    if el is None:
        return Coordinates()
    el = as_node(el)
    bare = el.tag == "adresse"
    address = el if bare else as_node(el.find("adresse"))
    lines = [] if bare else [*kid_texts(el, "nom"), *kid_texts(el, "ligne")]
    place = Coordinates(name=kid_text(el, "nom"))
    if address is not None:
        prefix = field if bare else f"{field}/adresse"
        lines += kid_texts(address, "ligne")
        place.postcode = postcode = kid_text(address, "codepostal")
        if postcode is not None and not POSTCODE.match(postcode):
            raise RecordError(f"{prefix}/codepostal", f"code postal invalide : « {postcode} »")
        place.city = city = kid_text(address, "ville")
        if city is not None and len(city) > 200:
            raise RecordError(f"{prefix}/ville", f"nom de ville trop long ({len(city)} caractères)")
        place.insee = insee = kid_text(address, "code-INSEE-commune")
        if insee is not None and not INSEE.match(insee):
            raise RecordError(f"{prefix}/code-INSEE-commune", f"code INSEE invalide : « {insee} »")
        kids = address.kids
        if "geolocalisation" in kids or "extras" in kids:
            for attr, bound in (("latitude", 90.0), ("longitude", 180.0)):
                node = address.find(f"geolocalisation/{attr}")
                path = f"{prefix}/geolocalisation/{attr}"
                if node is None:
                    node = address.find(f"extras/extra[@info='{attr}']")
                    path = f"{prefix}/extras/extra[@info='{attr}']"
                setattr(place, attr, _coordinate(text_of(node), path, bound))
    if lines:
        unique: list[str] = []
        for line in lines:
            if line not in unique:
                unique.append(line)
        place.address = ", ".join(unique)
    if address is not el:
        place.phone = text_of(el.find("telfixe/numtel")) or text_of(el.find("portable/numtel"))
        place.email = kid_text(el, "courriel")
        place.website = text_of(el.find("web/urlweb"))
    return place


def short_hash(*parts: Any) -> str:
    payload = "\x1f".join(repr(p) for p in parts)
    return hashlib.sha1(payload.encode(), usedforsecurity=False).hexdigest()


def rncp_code(value: str) -> str | None:
    m = RNCP.match(value.strip())
    return f"RNCP{int(m.group(1))}" if m else None
