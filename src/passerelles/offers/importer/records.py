"""One feed record made into an offer row (or rejected with its field and reason): validation against the
feed's schema, normalisation, commune resolution; then the read → validate step of a reader process."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.schema import Table

from passerelles.importing.report import RecordError
from passerelles.importing.sync import (
    Bound,
    bind_ahead,
)
from passerelles.offers import schemas
from passerelles.offers.importer.feeds import TOO_DEEP, FeedReader, text_excerpt
from passerelles.offers.importer.normalise import (
    detect_night_work,
    detect_weekend_work,
    ft_contract_type,
    jobposting_contract,
    parse_hours,
    parse_salary,
    structure_type_from_name,
    working_time,
)
from passerelles.offers.models import JobOffer
from passerelles.places.resolver import CommuneIndex, ResolvedPlace

CODE_ROME = re.compile(r"^[A-N][0-9]{4}$")
ROME_IN_TEXT = re.compile(r"\b([A-N][0-9]{4})\b")
POSTCODE_IN_TEXT = re.compile(r"\b([0-9]{5})\b")
SIRET = re.compile(r"^[0-9]{14}$")
DEPARTEMENT_PREFIX = re.compile(r"^\s*(?:[0-9]{2,3}|2A|2B)\s*-\s*")
JOB_OFFER = cast(Table, JobOffer.__table__)
CLOSED_EXPIRED = "date de fin dépassée"

PYDANTIC_REASONS = {
    "missing": "champ obligatoire absent",
    "string_type": "texte attendu",
    "string_too_short": "valeur vide",
    "string_unicode": "caractère interdit (encodage invalide)",
    "float_type": "nombre attendu",
    "float_parsing": "nombre attendu",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "bool_type": "booléen attendu (true ou false)",
    "bool_parsing": "booléen attendu (true ou false)",
    "model_type": "objet attendu",
    "model_attributes_type": "objet attendu",
    "list_type": "liste attendue",
    "finite_number": "nombre fini attendu",
}


def _reason(error: Any) -> str:
    kind = error["type"]
    if kind == "string_too_long":
        limit = int(error.get("ctx", {}).get("max_length", 0))
        size = len(error["input"]) if isinstance(error.get("input"), str) else 0
        return f"texte trop long ({size:_} caractères, maximum {limit:_})".replace("_", " ")
    if kind.startswith(("datetime", "date")):
        return f"date invalide {str(error.get('input'))[:40]!r} : date ISO 8601 attendue (ex. 2024-03-01T08:00:00Z)"
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    return PYDANTIC_REASONS.get(kind, f"valeur invalide ({error['msg']})")


def _field(loc: tuple[Any, ...], prefix: str = "") -> str:
    parts = [prefix] if prefix else []
    parts += [str(p) for p in loc]
    return ".".join(parts) or "(enregistrement)"


M = TypeVar("M", bound=BaseModel)


def _validate(model: type[M], data: Any, prefix: str = "") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise RecordError(_field(err["loc"], prefix), _reason(err)) from None


@dataclass(slots=True)
class OfferRow:
    row: dict[str, Any]  # job_offer columns but id, employer_id and row_hash
    siret: str | None
    naf: str | None
    bound: Bound | None = None  # the row's values converted for the driver by the reader (sync.bind_ahead)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Sent from a reader process to the loading one: a plain tuple of the fields unpickles at about half
        # the cost of a slotted dataclass's own state (a dict per object).
        return OfferRow, (self.row, self.siret, self.naf, self.bound)


FT_FIELDS = {
    "external_id": "id",
    "title": "intitule",
    "appellation": "appellationlibelle",
    "employer_name": "entreprise.nom",
    "contract_text": "typeContratLibelle",
    "salary_text": "salaire.libelle",
    "city": "lieuTravail.libelle",
    "url": "origineOffre.urlOrigine",
    "naf": "secteurActivite",
}
JOBPOSTING_FIELDS = {
    "external_id": "identifier",
    "employer_name": "hiringOrganization.name",
    "contract_text": "employmentType",
    "city": "jobLocation.address.addressLocality",
}


def _check_texts(values: dict[str, Any], fields: dict[str, str]) -> None:
    """PostgreSQL refuses NUL in text, and a lone surrogate (an escaped "\\ud800" in JSON) cannot be
    encoded at all: either would fail a whole batch, so the record is rejected here."""
    texts = [v for v in values.values() if type(v) is str]
    joined = "\n".join(texts)
    try:
        joined.encode("utf-8")  # all at once: the usual case, a clean record, costs one pass
    except UnicodeEncodeError:
        pass
    else:
        if "\x00" not in joined:
            return
    for column, value in values.items():
        if type(value) is not str:
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise RecordError(fields.get(column, column), "caractère interdit (encodage invalide)") from None
        if "\x00" in value:
            raise RecordError(fields.get(column, column), "caractère interdit (NUL)")


def _siret(value: str | None, notes: Counter[str]) -> str | None:
    if not value:
        return None
    digits = re.sub(r"[\s.]", "", value)
    if SIRET.match(digits):
        return digits
    notes["SIRET invalide ignoré"] += 1
    return None


def _coords(
    lat: float | None, lon: float | None, place: ResolvedPlace, notes: Counter[str]
) -> tuple[float | None, float | None]:
    if lat is not None and lon is not None:
        if -90 <= lat <= 90 and -180 <= lon <= 180 and (lat, lon) != (0, 0):
            return lat, lon
        notes["coordonnées hors bornes ignorées (centre de la commune retenu)"] += 1
    return place.latitude, place.longitude


def _expiry(row: dict[str, Any], now: dt.datetime, notes: Counter[str]) -> None:
    valid = row["valid_through"]
    if valid is not None and valid <= now:
        row["closed_at"] = valid  # the date it ended: a re-import computes the same row
        row["closed_reason"] = CLOSED_EXPIRED
        notes["offre du flux dont la date de fin est dépassée (enregistrée fermée)"] += 1
    else:
        row["closed_at"] = None
        row["closed_reason"] = None


def _ft_row(data: Any, ctx: ImportContext) -> OfferRow:
    o = _validate(schemas.FtOffre, data)
    lieu = o.lieuTravail or schemas.FtLieuTravail()
    code_rome = o.romeCode.upper() if o.romeCode else None
    if code_rome is not None and not CODE_ROME.match(code_rome):
        raise RecordError("romeCode", f"code ROME invalide : {o.romeCode!r}")
    label = DEPARTEMENT_PREFIX.sub("", lieu.libelle) if lieu.libelle else None
    place = ctx.communes.resolve(
        code=lieu.commune,
        postcode=lieu.codePostal,
        city=label if (lieu.commune or lieu.codePostal) else None,
        code_field="lieuTravail.commune",
        postcode_field="lieuTravail.codePostal",
        notes=ctx.notes,
    )
    if place.commune_code is None and lieu.libelle:
        place = ResolvedPlace(None, None, lieu.libelle[:200], None, None)
    lat, lon = _coords(lieu.latitude, lieu.longitude, place, ctx.notes)
    entreprise = o.entreprise or schemas.FtEntreprise()
    salaire = o.salaire or schemas.FtSalaire()
    low, high, period = parse_salary(salaire.libelle)
    salary_text = " — ".join(
        t for t in (salaire.libelle, salaire.commentaire, salaire.complement1, salaire.complement2) if t
    )
    contract_text = ", ".join(
        t for t in (o.typeContratLibelle, o.natureContrat if o.natureContrat != "Contrat travail" else None) if t
    )
    scanned = "\n".join(
        t for t in (o.intitule, o.dureeTravailLibelle, o.conditionExercice, o.complementExercice, o.description) if t
    ).lower()
    positions = o.nombrePostes if o.nombrePostes is not None and 1 <= o.nombrePostes <= 10_000 else None
    apply_url, apply_email = apply_contact(o.contact.urlPostulation, o.contact.courriel) if o.contact else (None, None)
    row: dict[str, Any] = {
        "source": ctx.source,
        "external_id": o.id,
        "title": o.intitule,
        "description": o.description,
        "code_rome": code_rome,
        "appellation": o.appellationlibelle,
        "employer_name": entreprise.nom,
        "structure_type": structure_type_from_name(entreprise.nom),
        "contract_type": ft_contract_type(o.typeContrat, o.natureContrat, o.alternance),
        "contract_text": contract_text or None,
        "working_time": working_time(o.dureeTravailLibelleConverti),
        "hours_per_week": parse_hours(o.dureeTravailLibelle),
        "salary_min": low,
        "salary_max": high,
        "salary_period": period,
        "salary_text": salary_text or None,
        "night_work": detect_night_work(scanned, lowered=True),
        "weekend_work": detect_weekend_work(scanned, lowered=True),
        "commune_code": place.commune_code,
        "postcode": place.postcode,
        "city": place.city,
        "latitude": lat,
        "longitude": lon,
        "positions": positions,
        "url": o.origineOffre.urlOrigine if o.origineOffre else None,
        "apply_url": apply_url,
        "apply_email": apply_email,
        "published_at": o.dateCreation,
        "updated_at": o.dateActualisation,
        "valid_through": None,  # the API serves open offers only; they close by leaving the feed
        "is_demo": ctx.is_demo,
    }
    naf = o.secteurActivite if o.secteurActivite and len(o.secteurActivite) <= 10 else None
    _check_texts(row, FT_FIELDS)
    _check_texts({"naf": naf}, FT_FIELDS)
    _expiry(row, ctx.now, ctx.notes)
    return OfferRow(row, _siret(entreprise.siret, ctx.notes), naf)


APPLY_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,180}\.[A-Za-z]{2,24}")
APPLY_URL = re.compile(r"https?://[^\s<>\"']{3,1990}")


def apply_contact(url: str | None, text: str | None) -> tuple[str | None, str | None]:
    """Where to apply, from a feed's contact: an http(s) address (given as such, or written inside the
    text, as France Travail does: « Pour postuler, utiliser le lien suivant : https://… ») and an e-mail
    address found in the text. Anything else (a javascript: link, a phone number) is not kept."""
    found_url = None
    for candidate in (url, text):
        m = APPLY_URL.search(candidate or "")
        if m:
            found_url = m.group(0).rstrip(".,;)")
            break
    m = APPLY_EMAIL.search(text or "")
    return found_url, m.group(0) if m else None


def _jobposting_apply(value: Any) -> tuple[str | None, str | None]:
    for item in _as_list(value):
        if isinstance(item, dict):
            point = _validate(schemas.ContactPoint, item, "applicationContact")
            url, email = apply_contact(point.url, point.email)
            if url or email:
                return url, email
    return None, None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _jobposting_id(jp: schemas.JobPosting) -> str:
    for raw in _as_list(jp.identifier):
        value: Any = raw
        if isinstance(raw, dict):
            value = _validate(schemas.PropertyValue, raw, "identifier").value
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip():
            ext = str(value).strip()
            break
    else:
        ext = jp.id_ or jp.url or ""
    if not ext:
        raise RecordError("identifier", "identifiant absent (identifier, @id ou url)")
    if len(ext) > schemas.MAX_ID:
        raise RecordError("identifier", f"identifiant trop long ({len(ext)} caractères, maximum {schemas.MAX_ID})")
    return ext


def _rome_code(value: Any) -> str | None:
    for item in _as_list(value):
        texts = [item] if isinstance(item, str) else []
        if isinstance(item, dict):
            texts = [str(item.get(k)) for k in ("codeValue", "name") if item.get(k) is not None]
        for candidate in texts:
            m = ROME_IN_TEXT.search(candidate)
            if m:
                return m.group(1)
    return None


SALARY_UNITS = {"HOUR": "heure", "MONTH": "mois", "YEAR": "an"}
UNIT_WORDS = {"heure": "Horaire", "mois": "Mensuel", "an": "Annuel"}


def _jobposting_salary(value: Any, notes: Counter[str]) -> tuple[float | None, float | None, str | None, str | None]:
    if not isinstance(value, dict):
        return None, None, None, None
    amount = _validate(schemas.MonetaryAmount, value, "baseSalary")
    if amount.currency and amount.currency.upper() != "EUR":
        notes["salaire dans une autre monnaie que l'euro ignoré"] += 1
        return None, None, None, None
    if isinstance(amount.value, schemas.QuantitativeValue):
        q = amount.value
        low = q.minValue if q.minValue is not None else q.value
        high = q.maxValue if q.maxValue is not None else q.value
        period = SALARY_UNITS.get((q.unitText or "").upper())
    else:
        low = high = amount.value
        period = None
    if low is None and high is None:
        return None, None, None, None
    low, high = low if low is not None else high, high if high is not None else low
    if low is not None and high is not None and low > high:
        low, high = high, low
    if period is None or low is None or low <= 0:
        return None, None, None, None
    text = f"{UNIT_WORDS[period]} de {low:g} Euros" + (f" à {high:g} Euros" if high != low else "")
    return low, high, period, text


def _jobposting_row(data: Any, ctx: ImportContext) -> OfferRow:
    if isinstance(data, dict):
        types = [str(t) for t in _as_list(data.get("@type"))]
        if types and not any(t.rsplit("/", 1)[-1].rsplit(":", 1)[-1] == "JobPosting" for t in types):
            raise RecordError("@type", f"type {', '.join(types)[:60]!r} : seules les offres JobPosting sont importées")
    jp = _validate(schemas.JobPosting, data)
    external_id = _jobposting_id(jp)
    org = schemas.Organization()
    if isinstance(jp.hiringOrganization, str):
        org = schemas.Organization(name=jp.hiringOrganization.strip()[: schemas.MAX_SHORT])
    elif isinstance(jp.hiringOrganization, dict):
        org = _validate(schemas.Organization, jp.hiringOrganization, "hiringOrganization")
    siret_raw = org.taxID
    for ident in _as_list(org.identifier):
        if isinstance(ident, schemas.PropertyValue) and (ident.name or "").upper() in {"SIRET", ""}:
            siret_raw = siret_raw or ident.value
        elif isinstance(ident, str):
            siret_raw = siret_raw or ident
    locations = _as_list(jp.jobLocation)
    place_in = schemas.Place()
    if locations and isinstance(locations[0], dict):
        place_in = _validate(schemas.Place, locations[0], "jobLocation")
    address = place_in.address
    postcode = city = None
    if isinstance(address, schemas.PostalAddress):
        postcode, city = address.postalCode, address.addressLocality
    elif isinstance(address, str):
        m = POSTCODE_IN_TEXT.search(address)
        postcode = m.group(1) if m else None
    place = ctx.communes.resolve(
        code=None,
        postcode=postcode,
        city=city,
        code_field="jobLocation.address",
        postcode_field="jobLocation.address.postalCode",
        notes=ctx.notes,
    )
    geo = place_in.geo or schemas.GeoCoordinates()
    lat, lon = _coords(geo.latitude, geo.longitude, place, ctx.notes)
    contract, time = jobposting_contract(jp.employmentType)
    low, high, period, salary_text = _jobposting_salary(jp.baseSalary, ctx.notes)
    scanned = "\n".join(t for t in (jp.title, jp.workHours, jp.description) if t).lower()
    positions = jp.totalJobOpenings if jp.totalJobOpenings is not None and 1 <= jp.totalJobOpenings <= 10_000 else None
    apply_url, apply_email = _jobposting_apply(jp.applicationContact)
    row: dict[str, Any] = {
        "source": ctx.source,
        "external_id": external_id,
        "title": jp.title,
        "description": jp.description,
        "code_rome": _rome_code(jp.occupationalCategory),
        "appellation": None,
        "employer_name": org.name,
        "structure_type": structure_type_from_name(org.name),
        "contract_type": contract,
        "contract_text": ", ".join(_as_list(jp.employmentType)) or None,
        "working_time": time,
        "hours_per_week": parse_hours(jp.workHours, weekly_only=True),
        "salary_min": low,
        "salary_max": high,
        "salary_period": period,
        "salary_text": salary_text,
        "night_work": detect_night_work(scanned, lowered=True),
        "weekend_work": detect_weekend_work(scanned, lowered=True),
        "commune_code": place.commune_code,
        "postcode": place.postcode,
        "city": place.city,
        "latitude": lat,
        "longitude": lon,
        "positions": positions,
        "url": jp.url,
        "apply_url": apply_url,
        "apply_email": apply_email,
        "published_at": jp.datePosted,
        "updated_at": None,
        "valid_through": jp.validThrough,
        "is_demo": ctx.is_demo,
    }
    _check_texts(row, JOBPOSTING_FIELDS)
    _expiry(row, ctx.now, ctx.notes)
    return OfferRow(row, _siret(siret_raw, ctx.notes), None)


def _raw_id(data: Any, fmt: str) -> str | None:
    """The record's identifier as written, for the reject's position, without validating anything."""
    if not isinstance(data, dict):
        return None
    keys = ("id",) if fmt == "france_travail" else ("identifier", "@id", "url")
    candidates = [data.get(k) for k in keys]
    for value in candidates:
        if isinstance(value, dict):
            value = value.get("value")
        if isinstance(value, list) and value:
            value = value[0].get("value") if isinstance(value[0], dict) else value[0]
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()[:120]
    return None


@dataclass(slots=True)
class Outcome:
    """What reading and validating made of one record: an offer, or where and why it is rejected.
    Built in a reader process and sent to the loading one, so it carries plain values only."""

    unit: str
    index: int
    offer: OfferRow | None = None
    ident: str | None = None  # a rejected record's identifier as written, when it has one
    field: str | None = None
    reason: str | None = None
    excerpt: str | None = None
    readable: bool = True
    notes: dict[str, int] | None = None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return Outcome, (  # see OfferRow.__reduce__
            self.unit,
            self.index,
            self.offer,
            self.ident,
            self.field,
            self.reason,
            self.excerpt,
            self.readable,
            self.notes,
        )


def read_records(reader: FeedReader, ctx: ImportContext, shard: int, shards: int) -> Generator[Outcome, None, bool]:
    """One :class:`Outcome` for each record of this shard (record ``i`` when ``i % shards == shard``), in
    the feed's order; returns whether the feed was read to its end."""
    build = _ft_row if ctx.fmt == "france_travail" else _jobposting_row
    local = replace(ctx, notes=Counter())  # notes travel with their record
    if shards > 1:
        reader.skip = lambda ordinal: ordinal % shards != shard
    for ordinal, rec in enumerate(reader):
        if ordinal % shards != shard:
            continue
        if rec.error is not None:
            yield Outcome(
                rec.unit, rec.index, field="(enregistrement)", reason=rec.error, excerpt=rec.excerpt, readable=False
            )
            continue
        if not isinstance(rec.data, dict):
            reason = "objet JSON attendu"
            try:
                excerpt = text_excerpt(json.dumps(rec.data)[:200])
            except RecursionError:
                excerpt, reason = None, TOO_DEEP
            yield Outcome(rec.unit, rec.index, field="(enregistrement)", reason=reason, excerpt=excerpt)
            continue
        try:
            offer = build(rec.data, local)
            if ctx.dialect is not None:
                offer.bound = bind_ahead(JOB_OFFER, ctx.dialect, offer.row)
            item = Outcome(rec.unit, rec.index, offer=offer)
        except RecursionError:  # nesting that the parser took but validating it does not
            item = Outcome(
                rec.unit, rec.index, ident=_raw_id(rec.data, ctx.fmt), field="(enregistrement)", reason=TOO_DEEP
            )
        except RecordError as exc:
            excerpt = record_excerpt(rec.data, ctx.fmt)
            item = Outcome(
                rec.unit,
                rec.index,
                ident=_raw_id(rec.data, ctx.fmt),
                field=exc.field,
                reason=exc.reason,
                excerpt=excerpt,
            )
        if local.notes:
            item.notes = dict(local.notes)
            local.notes.clear()
        yield item
    return reader.complete


@dataclass
class ImportContext:
    source: str
    fmt: str
    is_demo: bool
    now: dt.datetime
    dry_run: bool
    communes: CommuneIndex
    notes: Counter[str]
    employers: dict[str, int | None]  # SIRET → employer id, for the whole import
    dialect: Dialect | None = None  # the database's, so that readers convert values for its driver
    batches: int = 0


def record_excerpt(data: dict[str, Any], fmt: str) -> str:
    keys = ("id", "intitule", "dateCreation") if fmt == "france_travail" else ("identifier", "title", "datePosted")
    small = {k: (v[:80] if isinstance(v, str) else v) for k, v in data.items() if k in keys}
    try:
        return json.dumps(small, ensure_ascii=False, default=str)[:200]
    except RecursionError:
        return ""
