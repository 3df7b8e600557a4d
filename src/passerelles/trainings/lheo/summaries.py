"""LHÉO « léger »: indexes of offer summaries (``resume-offre``) that point at the full offers, imported as
sessions of their own (source ``lheo-leger``) and linked to their full offer once it is in the store.

Two shapes are read, both as the LHÉO sources publish them:

- LHÉO 2.3 ``lheo-index/resumes-offres/resume-offre`` (``lheo-2.3.xsd``, namespace ``http://lheo.gouv.fr/2.3``;
  validated against the XSD like the full offers): ``intitule-formation``, ``domaine-formation/code-*``,
  ``nom-organisme``, ``SIRET``, ``codepostal``, ``code-INSEE-commune``, ``ville``, ``modalites-enseignement``,
  ``code-public-vise``, ``nombre-heures-total``, ``session`` (the full ``session`` type: ``periode``,
  ``periode-inscription``, ``etat-recrutement``, ``modalites-inscription``…), ``certification``; attributes
  ``numero``, ``href``/``file`` (where the full offer is).
- The older ``lheo-leger/resumes-offres/resume-offre`` (lheo/lheo-schema ``definition/exemples/exemple-leger.xml``,
  no namespace): ``intitule-action``, ``domaine-formation/codes-*/code-*``, ``FOAD``, ``codes-public-vise``,
  ``sessions/session``, ``extras[@info='geolocalisation']``; explicit checks only (no XSD describes it).

A summary is linked to its full offer (:func:`link_summaries`, after every LHÉO import) by the offer's number
(``numero``, the full offer's ``formation/@numero``), else by the provider's SIRET and the same title
(case, accents and spacing aside) when exactly one full offer matches; each of its sessions to the full
offer's session with the same start date. A linked session is left out of the lists: the full one stands for it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from passerelles.importing.limits import SAFE_XML_PARSER, ImportLimits
from passerelles.importing.report import ImportRefused, ImportReport, RecordError, Reject
from passerelles.trainings.lheo.extract import open_catalogue
from passerelles.trainings.lheo.fields import (
    CERTIFINFO,
    FORMACODE,
    INSEE,
    MODALITY,
    NSF,
    POSTCODE,
    RECRUITMENT,
    ROME,
    SIRET,
    codes_at,
    parse_date,
    parse_int,
    rncp_code,
    short_hash,
    validated,
)
from passerelles.trainings.lheo.guard import XmlGuard
from passerelles.trainings.lheo.layouts import NS_22, NS_23, VERSIONS
from passerelles.trainings.lheo.loader import Loader
from passerelles.trainings.lheo.memo import MEMO
from passerelles.trainings.lheo.reader import ParsedFormation, SessionOutcome
from passerelles.trainings.lheo.references import References
from passerelles.trainings.lheo.rows import PROVIDER, SESSION, TRAINING, FrozenRecord
from passerelles.trainings.lheo.stream import xsd_schema
from passerelles.trainings.lheo.tree import Node, local_name, record_tree, text_of, texts_at
from passerelles.trainings.models import route_mask
from passerelles.trainings.schemas import PROVIDER_RULES, SESSION_RULES, TRAINING_RULES

SUMMARY_ROOTS = ("lheo-leger", "lheo-index")
SUMMARY_SOURCE = "lheo-leger"


def root_name(stream: Any) -> tuple[str | None, str]:
    """(namespace, local name) of the document's root element, read through the guard."""
    guard = XmlGuard(stream)
    try:
        for _event, el in etree.iterparse(guard, events=("start",), **SAFE_XML_PARSER):
            q = etree.QName(el)
            return q.namespace, q.localname
    except etree.XMLSyntaxError as exc:
        if guard.refusal:
            raise ImportRefused(guard.refusal) from None
        raise ImportRefused(f"XML illisible (ligne {guard.true_line(exc.lineno)}) : {exc.msg}") from None
    if guard.refusal:
        raise ImportRefused(guard.refusal)
    raise ImportRefused("document vide : aucun élément racine")


def _first(node: Node, *paths: str) -> str | None:
    for path in paths:
        value = text_of(node.find(path))
        if value is not None:
            return value
    return None


def _codes(node: Node, paths: tuple[str, ...], pattern: Any, what: str) -> list[str]:
    out: list[str] = []
    for path in paths:
        for code in codes_at(node, path, pattern, what):
            if code not in out:
                out.append(code)
    return out


class SummaryReader:
    """One ``resume-offre`` → a :class:`ParsedFormation` (provider, training, session outcomes) or rejects."""

    def __init__(self, refs: References, file_name: str) -> None:
        self.refs = refs
        self.file_name = file_name
        self.pending: list[Reject] = []

    def read(self, rec: Node, line: int) -> ParsedFormation | None:
        numero = (rec.get("numero") or "").strip()
        title = _first(rec, "intitule-formation", "intitule-action")
        label = f"résumé d'offre {numero}" if numero else "résumé d'offre" + (f" « {title[:60]} »" if title else "")
        position = f"{label} (ligne {line})"
        try:
            provider = self._provider(rec)
            training = self._training(rec, numero, title, provider)
            common = self._common(rec)
        except RecordError as err:
            self.pending.append(Reject(source=self.file_name, position=position, field=err.field, reason=err.reason))
            return None
        outcomes = []
        for index, s in enumerate(rec.findall("session") + rec.findall("sessions/session"), start=1):
            s_line = s.sourceline or line
            s_numero = (s.get("numero") or "").strip()
            s_position = f"{label}, session {s_numero or index} (ligne {s_line})"
            try:
                record = self._session(s, common, training)
            except RecordError as err:
                outcomes.append(SessionOutcome("training_session", s_position, err.field, reason=err.reason))
                continue
            outcomes.append(SessionOutcome("training_session", s_position, "session/periode", session=record))
        return ParsedFormation(line, label, provider, training, "@numero" if numero else "intitule-formation", outcomes)

    def _provider(self, rec: Node) -> FrozenRecord:
        siret = text_of(rec.find("SIRET"))
        if siret is None or not SIRET.match(siret):
            raise RecordError("SIRET", f"SIRET invalide : « {siret or ''} » (14 chiffres)")
        name = text_of(rec.find("nom-organisme"))
        if not name:
            raise RecordError("nom-organisme", "nom de l'organisme absent")
        values = {
            "external_id": siret,
            "siret": siret,
            "name": name,
            "address": None,
            "postcode": None,
            "city": None,
            "commune_code": None,
            "phone": None,
            "email": None,
            "website": None,
        }
        return validated(PROVIDER_RULES, values, {"name": "nom-organisme"})

    def _training(self, rec: Node, numero: str, title: str | None, provider: FrozenRecord) -> FrozenRecord:
        if not title:
            raise RecordError("intitule-formation", "intitulé de la formation absent")
        rncp: list[str] = []
        for value in texts_at(rec, "certification/code-RNCP"):
            code = rncp_code(value)
            if code is None:
                raise RecordError("certification/code-RNCP", f"code RNCP invalide : « {value} »")
            if code not in rncp:
                rncp.append(code)
        certifinfo = codes_at(rec, "certification/code-CERTIFINFO", CERTIFINFO, "code CERTIFINFO")
        url = (rec.get("href") or rec.get("file") or "").strip() or None
        external_id = (
            numero
            or "r:" + short_hash(provider["external_id"], title, rncp, certifinfo, text_of(rec.find("codepostal")))[:24]
        )
        values = {
            "external_id": external_id,
            "title": title,
            "objective": None,
            "content": None,
            "result": None,
            "certification_id": self.refs.certification(rncp),
            "rncp": rncp,
            "certifinfo": certifinfo,
            "formacodes": _codes(
                rec,
                ("domaine-formation/code-FORMACODE", "domaine-formation/codes-FORMACODE/code-FORMACODE"),
                FORMACODE,
                "code FORMACODE",
            ),
            "nsf": _codes(rec, ("domaine-formation/code-NSF", "domaine-formation/codes-NSF/code-NSF"), NSF, "code NSF"),
            "rome_codes": _codes(
                rec, ("domaine-formation/code-ROME", "domaine-formation/codes-ROME/code-ROME"), ROME, "code ROME"
            ),
            "level_eu": None,
            "offer_url": url[:2000] if url else None,
        }
        return validated(TRAINING_RULES, values, {"external_id": "@numero", "title": "intitule-formation"})

    def _common(self, rec: Node) -> dict[str, Any]:
        postcode, insee, city = text_of(rec.find("codepostal")), text_of(rec.find("code-INSEE-commune")), None
        city = text_of(rec.find("ville"))
        if postcode is not None and not POSTCODE.match(postcode):
            raise RecordError("codepostal", f"code postal invalide : « {postcode} »")
        if insee is not None and not INSEE.match(insee):
            raise RecordError("code-INSEE-commune", f"code INSEE invalide : « {insee} »")
        commune_code = None
        latitude = longitude = None
        if postcode or insee or city:
            commune_code = self.refs.commune(insee, postcode, city)
            if commune_code is None:
                raise RecordError("ville", f"commune inconnue : « {city or ''} » (code postal {postcode or '-'})")
            latitude, longitude = self.refs.places.coordinates(commune_code)
        for attr in ("latitude", "longitude"):
            raw = text_of(rec.find(f"extras[@info='geolocalisation']/extra[@info='{attr}']"))
            if raw is not None:
                try:
                    number = round(float(raw.replace(",", ".")), 6)
                except ValueError:
                    raise RecordError(
                        f"extras/extra[@info='{attr}']", f"coordonnée non numérique : « {raw} »"
                    ) from None
                if attr == "latitude":
                    latitude = number
                else:
                    longitude = number
        modality_code = _first(rec, "modalites-enseignement", "FOAD")
        if modality_code is not None and modality_code not in MODALITY:
            raise RecordError("modalites-enseignement", f"code de modalité inconnu : « {modality_code} »")
        publics = texts_at(rec, "code-public-vise") + texts_at(rec, "codes-public-vise/code-public-vise")
        routes = []
        if "81061" in publics:
            routes.append("initiale")
        if any(p.startswith(("80", "83")) or (p.startswith("82") and p != "82027") for p in publics):
            routes.append("continue")
        if "82027" in publics:
            routes.append("apprentissage")
        return {
            "address": None,
            "postcode": postcode,
            "city": city,
            "commune_code": commune_code,
            "latitude": latitude,
            "longitude": longitude,
            "modality": MODALITY.get(modality_code) if modality_code else None,
            "routes": routes,
            "route_mask": route_mask(routes),
            "duration_hours": parse_int(text_of(rec.find("nombre-heures-total")), "nombre-heures-total"),
            "duration_text": None,
            "rhythm": None,
            "cost_eur": None,
            "cost_text": None,
            "funding": [],
            "cpf_eligible": None,
            "admission": None,
            "prerequisites": None,
            "places": None,
            "information_dates": [],
            "information_address": None,
        }

    def _session(self, s: Node, common: dict[str, Any], training: FrozenRecord) -> FrozenRecord:
        debut, fin = text_of(s.find("periode/debut")), text_of(s.find("periode/fin"))
        start = parse_date(debut, "session/periode/debut")
        end = parse_date(fin, "session/periode/fin")
        if start and end and end < start:
            raise RecordError("session/periode/fin", f"fin ({end:%d/%m/%Y}) avant le début ({start:%d/%m/%Y})")
        reg_path = "session/periode-inscription/periode/"
        reg_start = parse_date(text_of(s.find("periode-inscription/periode/debut")), reg_path + "debut")
        reg_end = parse_date(text_of(s.find("periode-inscription/periode/fin")), reg_path + "fin")
        if reg_start and reg_end and reg_end < reg_start:
            raise RecordError(reg_path + "fin", "fin des inscriptions avant leur début")
        state = text_of(s.find("etat-recrutement"))
        if state is not None and state not in RECRUITMENT:
            raise RecordError("session/etat-recrutement", f"état du recrutement inconnu : « {state} »")
        session_id = (s.get("numero") or "").strip() or f"s:{debut or '?'}-{fin or '?'}"
        values = {
            **common,
            "external_id": f"{training['external_id']}/{session_id}"[:160],
            "certification_id": training["certification_id"],
            "title": training["title"],
            "start_date": start,
            "end_date": end,
            "registration_start": reg_start,
            "registration_end": reg_end,
            "recruitment_state": RECRUITMENT.get(state) if state else None,
            "registration_terms": text_of(s.find("modalites-inscription")),
            "contact": FrozenRecord({"website": training["offer_url"]} if training["offer_url"] else {}),
        }
        return validated(SESSION_RULES, values, {"external_id": "session/@numero"})


def read_summaries(
    stream: Any, refs: References, file_name: str, xsd: Path | None, report: ImportReport
) -> Iterator[ParsedFormation | None]:
    """Each ``resume-offre`` of the document, read (``None`` when rejected: its reject is in ``report``)."""
    guard = XmlGuard(stream)
    reader = SummaryReader(refs, file_name)
    schema = None
    checked_root = False
    parser = etree.iterparse(guard, events=("end",), tag="{*}resume-offre", **SAFE_XML_PARSER)
    try:
        for _event, el in parser:
            if not checked_root:
                namespace = etree.QName(el.getroottree().getroot()).namespace
                if namespace is not None and namespace not in VERSIONS:
                    raise ImportRefused(f"espace de noms inconnu : « {namespace} » (index de résumés d'offres)")
                if namespace in (NS_22, NS_23) and xsd is not None:
                    schema = MEMO.schemas.get(xsd) or xsd_schema(xsd)
                else:
                    report.warnings.append(
                        "LHÉO léger sans espace de noms 2.x : résumés validés par les contrôles explicites seulement"
                    )
                checked_root = True
            line = guard.true_line(el.sourceline) or 0
            problem = None
            if schema is not None:
                if etree.QName(el).namespace == NS_22:
                    for sub in el.iter(tag=etree.Element):
                        sub.tag = f"{{{NS_23}}}{local_name(sub.tag)}"
                if not schema.validate(el):
                    problem = str(schema.error_log[0].message).replace("{" + NS_23 + "}", "")
            if problem is not None:
                reader.pending.append(
                    Reject(
                        source=file_name,
                        position=f"résumé d'offre (ligne {line})",
                        field="resume-offre",
                        reason=f"non conforme au schéma LHÉO 2.3 : {problem}",
                    )
                )
                parsed = None
            else:
                parsed = reader.read(record_tree(el), line)
            for r in reader.pending:
                report.reject("training", r)
            reader.pending = []
            el.clear(keep_tail=False)
            yield parsed
    except etree.XMLSyntaxError as exc:
        if guard.refusal:
            raise ImportRefused(guard.refusal) from None
        raise ImportRefused(f"XML illisible (ligne {guard.true_line(exc.lineno)}) : {exc.msg}") from None
    if guard.refusal:
        raise ImportRefused(guard.refusal)


def import_summaries(
    engine: Engine,
    path: Path,
    file_name: str,
    report: ImportReport,
    dedup: Callable[[ParsedFormation], ParsedFormation | None],
    *,
    is_demo: bool,
    xsd: Path | None,
    limits: ImportLimits,
    full: bool,
    force: bool,
) -> ImportReport:
    """Read every summary first (an index is small), refuse the file as a whole if too many are bad, then
    load them in one batch and link them to their full offers."""
    report.version = "léger"
    refs = References.load(engine)
    origin = "demo" if is_demo else SUMMARY_SOURCE
    batch: list[ParsedFormation] = []
    read = 0
    with open_catalogue(path) as stream:
        for parsed in read_summaries(stream, refs, file_name, xsd, report):
            read += 1
            formation = dedup(parsed) if parsed is not None else None
            if formation is not None:
                batch.append(formation)
    sessions = sum(len(f.sessions) for f in batch)
    refusal = limits.stop_for_rejects(file_name, report.totals.rejected, read + sessions, written=False)
    if refusal is not None:
        raise ImportRefused(refusal)
    loader = Loader(engine, origin, is_demo, report, file_name)
    if batch:
        loader.load(batch)
    if full:
        loader.close_missing(None if force else limits)
    if read == 0:
        report.warnings.append("aucun résumé d'offre dans le fichier")
    if not report.dry_run:
        linked = link_summaries(engine)
        if linked:
            report.warnings.append(f"{linked} session(s) résumée(s) reliée(s) à la session de leur offre complète")
    return report


def _title_key(title: str) -> str:
    folded = unicodedata.normalize("NFKD", title.casefold())
    return " ".join("".join(c for c in folded if not unicodedata.combining(c)).split())


def link_summaries(engine: Engine) -> int:
    """Link each summary (source ``lheo-leger``) to its full offer, and its sessions to the full offer's
    session of the same start date; returns the number of summary sessions linked. Idempotent."""
    with engine.begin() as conn:
        summaries = conn.execute(
            select(TRAINING.c.id, TRAINING.c.external_id, TRAINING.c.title, TRAINING.c.provider_id).where(
                TRAINING.c.source == SUMMARY_SOURCE
            )
        ).all()
        if not summaries:
            return 0
        return sum(_link_one(conn, *row) for row in summaries)


def _link_one(conn: Connection, training_id: int, external_id: str, title: str, provider_id: int | None) -> int:
    full_sources = ("lheo",)
    match = None
    if not external_id.startswith("r:"):
        match = conn.scalar(
            select(TRAINING.c.id).where(TRAINING.c.source.in_(full_sources), TRAINING.c.external_id == external_id)
        )
    if match is None and provider_id is not None:
        siret = conn.scalar(select(PROVIDER.c.siret).where(PROVIDER.c.id == provider_id))
        if siret:
            candidates = conn.execute(
                select(TRAINING.c.id, TRAINING.c.title)
                .join(PROVIDER, PROVIDER.c.id == TRAINING.c.provider_id)
                .where(TRAINING.c.source.in_(full_sources), PROVIDER.c.siret == siret)
            ).all()
            same = [cid for cid, t in candidates if _title_key(t) == _title_key(title)]
            match = same[0] if len(same) == 1 else None
    conn.execute(update(TRAINING).where(TRAINING.c.id == training_id).values(full_training_id=match))
    full_sessions: dict[Any, int] = {}
    if match is not None:
        for sid, start in conn.execute(
            select(SESSION.c.id, SESSION.c.start_date)
            .where(SESSION.c.training_id == match, SESSION.c.closed_at.is_(None))
            .order_by(SESSION.c.id)
        ):
            full_sessions.setdefault(start, sid)
    linked = 0
    for sid, start in conn.execute(
        select(SESSION.c.id, SESSION.c.start_date).where(SESSION.c.training_id == training_id)
    ).all():
        target = full_sessions.get(start) if start is not None else None
        conn.execute(update(SESSION).where(SESSION.c.id == sid).values(full_session_id=target))
        linked += target is not None
    return linked
