"""One LHÉO record turned into validated provider, training and session records, or rejects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Dialect

from passerelles.importing.report import ImportReport, RecordError, Reject
from passerelles.importing.sync import Bound
from passerelles.trainings.lheo.fields import (
    CERTIFINFO,
    FINANCEUR,
    FORMACODE,
    LEVEL_EU,
    MODALITY,
    NDA,
    NSF,
    RECRUITMENT,
    ROME,
    ROUTE_ORDER,
    SIRET,
    Coordinates,
    codes_at,
    parse_amount,
    parse_date,
    parse_int,
    read_coordinates,
    rncp_code,
    short_hash,
    validated,
)
from passerelles.trainings.lheo.layouts import Layout
from passerelles.trainings.lheo.references import References
from passerelles.trainings.lheo.rows import SESSION, TRAINING, FrozenRecord, RowBinder
from passerelles.trainings.lheo.tree import Node, as_node, kid_text, text_of, texts_at
from passerelles.trainings.models import route_mask
from passerelles.trainings.schemas import PROVIDER_RULES, SESSION_RULES, TRAINING_RULES


@dataclass(slots=True)
class SessionOutcome:
    """A session read from a record (``session`` set), or a reject (``reason`` set), in document order."""

    entity: str
    position: str | tuple[str, str, int]  # a session read: (action, session, line), see :func:`reject_position`
    field: str
    session: FrozenRecord | None = None
    reason: str | None = None
    count: int = 1
    bound: Bound | None = None  # the session's row values converted for the driver (sync.bind_ahead)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickled by the reader processes, unpickled by the loading one: a plain tuple of the fields costs
        # about half what a slotted dataclass's own state (a dict per object) costs on both sides.
        return SessionOutcome, (
            self.entity,
            self.position,
            self.field,
            self.session,
            self.reason,
            self.count,
            self.bound,
        )


@dataclass(slots=True)
class ParsedFormation:
    """One record, read and checked on its own. Duplicates (of a formation or a session read earlier in
    the file) are decided later, in file order, by :class:`.importer.Deduplicate`: the records may be read
    by several processes (:mod:`passerelles.importing.pipeline`)."""

    line: int
    label: str
    provider: FrozenRecord
    training: FrozenRecord
    duplicate_field: str
    outcomes: list[SessionOutcome]
    sessions: list[FrozenRecord] = field(default_factory=list)
    training_bound: Bound | None = None  # the training's row values converted for the driver, by the reader
    session_bounds: list[Bound | None] = field(default_factory=list)  # those of ``sessions``

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return ParsedFormation, (  # see SessionOutcome.__reduce__
            self.line,
            self.label,
            self.provider,
            self.training,
            self.duplicate_field,
            self.outcomes,
            self.sessions,
            self.training_bound,
            self.session_bounds,
        )


def reject_position(position: str | tuple[str, str, int]) -> str:
    """A reject's position: ``position`` itself, or that of a session from its (action, session, line)."""
    if isinstance(position, str):
        return position
    action, session, line = position
    return f"{action}, session {session} (ligne {line})"


class RecordReader:
    """Turns one LHÉO record into validated provider, training and session records (or rejects).

    Every :class:`RecordError` carries the element path from the record (``formation`` or
    ``offre-formation``) down, e.g. ``action/session/periode/debut``.
    """

    def __init__(
        self,
        layout: Layout,
        refs: References,
        report: ImportReport,
        file_name: str,
        true_line: Callable[[int | None], int | None],
        base: dict[str, Any] | None = None,
        dialect: Dialect | None = None,
    ) -> None:
        self.layout = layout
        # The loader's row is ``{**base, **record, ids…}``: with the dialect, the reader converts the values
        # of ``base`` and the record for the driver ahead (in a reader process, see rows.RowBinder).
        self.binder = RowBinder(base, dialect)
        self.refs = refs
        self.report = report
        self.file_name = file_name
        self.true_line = true_line
        self.unlinked_rncp: dict[str, int] = {}
        self.pending: list[Reject] = []  # the current record's rejects (formations), until taken
        self._contact_of: tuple[Node, Coordinates] | None = None
        self._last_contact: FrozenRecord | None = None

    def reject(self, entity: str, position: str, field: str, reason: str, count: int = 1) -> None:
        self.pending.append(Reject(source=self.file_name, position=position, field=field, reason=reason))

    def read(self, rec: Node, line: int) -> ParsedFormation | None:
        L = self.layout
        numero = (rec.get("numero") or "").strip() if L.numbered else ""
        title = text_of(rec.find(L.title))
        label = f"formation {numero}" if numero else "formation sans numéro" + (f" « {title[:60]} »" if title else "")
        position = f"{label} (ligne {line})"
        try:
            provider = self._provider(rec.find(L.provider))
            training = self._training(rec, numero, title, provider)
        except RecordError as err:
            self.reject("training", position, err.field, err.reason)
            return None
        outcomes: list[SessionOutcome] = []
        for index, action in enumerate(rec.findall(L.actions), start=1):
            outcomes.extend(self._action_sessions(rec, action, index, training, label, line))
        duplicate_field = "@numero" if numero else L.title
        parsed = ParsedFormation(line, label, provider, training, duplicate_field, outcomes)
        parsed.training_bound = self.binder.bind(TRAINING, training)
        return parsed

    def _provider(self, el: Any) -> FrozenRecord:
        p = self.layout.provider
        if el is None:
            raise RecordError(p, "organisme responsable absent")
        el = as_node(el)
        siret = text_of(el.find("SIRET-organisme-formation/SIRET"))
        nda = text_of(el.find("numero-activite"))
        if siret is not None and not SIRET.match(siret):
            raise RecordError(f"{p}/SIRET-organisme-formation/SIRET", f"SIRET invalide : « {siret} » (14 chiffres)")
        if siret:
            external_id = siret
        elif nda and NDA.match(nda):
            external_id = f"NDA{nda}"
        else:
            raise RecordError(f"{p}/SIRET-organisme-formation/SIRET", "organisme sans SIRET ni numéro d'activité")
        name = text_of(el.find("nom-organisme")) or text_of(el.find("raison-sociale"))
        if not name:
            raise RecordError(f"{p}/nom-organisme", "nom de l'organisme absent")
        coords = f"{p}/coordonnees-organisme/coordonnees"
        place = read_coordinates(el.find("coordonnees-organisme/coordonnees"), coords)
        values = {
            "external_id": external_id,
            "siret": siret,
            "name": name,
            "address": place.address,
            "postcode": place.postcode,
            "city": place.city,
            # Informational address: an unknown commune leaves the code empty, it rejects nothing.
            "commune_code": self.refs.commune(place.insee, place.postcode, place.city),
            "phone": place.phone,
            "email": place.email,
            "website": place.website,
        }
        paths = {
            "external_id": f"{p}/SIRET-organisme-formation/SIRET",
            "name": f"{p}/nom-organisme",
            "phone": f"{coords}/telfixe/numtel",
            "email": f"{coords}/courriel",
        }
        return validated(PROVIDER_RULES, values, paths)

    def _training(self, rec: Node, numero: str, title: str | None, provider: FrozenRecord) -> FrozenRecord:
        L = self.layout
        if not title:
            raise RecordError(L.title, "intitulé de la formation absent")
        rncp: list[str] = []
        for value in texts_at(rec, L.rncp):
            code = rncp_code(value)
            if code is None:
                raise RecordError(L.rncp, f"code RNCP invalide : « {value} »")
            if code not in rncp:
                rncp.append(code)
        certifinfo = codes_at(rec, L.certifinfo, CERTIFINFO, "code CERTIFINFO")
        certification_id = self.refs.certification(rncp)
        if certification_id is None:
            # Catalogues generated by Passerelles name the certification in their own extras.
            own = text_of(rec.find("extras[@info='passerelles']/extra[@info='certification']"))
            certification_id = self.refs.by_slug.get(own) if own else None
        if rncp and certification_id is None:
            for code in rncp:
                self.unlinked_rncp[code] = self.unlinked_rncp.get(code, 0) + 1
        level_code = text_of(rec.find(L.level))
        if level_code is not None and level_code not in LEVEL_EU:
            raise RecordError(L.level, f"code de niveau inconnu : « {level_code} »")
        actions = rec.findall(L.actions)
        external_id = (
            numero
            or "h:"
            + short_hash(
                provider["external_id"],
                title,
                rncp,
                certifinfo,
                [text_of(a.find(f"{L.place}/adresse/codepostal")) for a in actions],
                [texts_at(a, f"{L.place}/adresse/ligne") for a in actions],
            )[:24]
        )
        values = {
            "external_id": external_id,
            "title": title,
            "objective": text_of(rec.find(L.objective)),
            "content": text_of(rec.find(L.content)),
            "result": text_of(rec.find(L.result)),
            "certification_id": certification_id,
            "rncp": rncp,
            "certifinfo": certifinfo,
            "formacodes": codes_at(rec, L.formacode, FORMACODE, "code FORMACODE"),
            "nsf": codes_at(rec, L.nsf, NSF, "code NSF"),
            "rome_codes": codes_at(rec, L.rome, ROME, "code ROME"),
            "level_eu": LEVEL_EU.get(level_code) if level_code else None,
            "offer_url": None,  # a full offer: neither a summary's link nor its target (see lheo.summaries)
            "full_training_id": None,
        }
        return validated(TRAINING_RULES, values, {"external_id": "@numero", "title": L.title})

    def _action_sessions(
        self, rec: Node, action: Node, index: int, training: FrozenRecord, label: str, line: int
    ) -> list[SessionOutcome]:
        L = self.layout
        session_els = action.findall(L.sessions)
        if not session_els:
            return []
        numero = (action.get("numero") or "").strip() if L.numbered else ""
        action_label = f"{label}, action {numero or index}" if L.numbered else label
        action_line = self._line(action.sourceline, line) if action is not rec else line
        try:
            common = self._action(rec, action)
        except RecordError as err:
            count = len(session_els)
            position = f"{action_label} (ligne {action_line})"
            reason = f"{err.reason} ; {count} session(s) non chargée(s)"
            return [SessionOutcome("training_session", position, err.field, reason=reason, count=count)]
        action_id = (
            numero
            or "a:"
            + short_hash(common["address"], common["postcode"], common["city"], common["modality"], common["rhythm"])[
                :12
            ]
        )
        sessions: list[SessionOutcome] = []
        # The sessions of an action share its values (the same objects): converted for the driver once.
        chained = False  # a session of this action was converted: the next ones take its shared values
        numbered_field, dated_field = f"{L.session_prefix}@numero", f"{L.session_prefix}periode"
        for s in session_els:
            s_numero = (s.get("numero") or "").strip() if L.numbered else ""
            period = s.find("periode")
            if type(period) is Node and len(s.kids["periode"]) == 1:
                debut, fin = kid_text(period, "debut"), kid_text(period, "fin")
            else:  # no period, or several: the first "debut" and the first "fin" may be in different ones
                debut, fin = text_of(s.find("periode/debut")), text_of(s.find("periode/fin"))
            dates = f"{debut or '?'}-{fin or '?'}"
            # Formatted only for a reject: most sessions never need it (and it is pickled smaller).
            s_position = (action_label, s_numero or dates, self._line(s.sourceline, line))
            session_id = s_numero or f"s:{dates}"
            external_id = f"{training['external_id']}/{action_id}/{session_id}"
            if len(external_id) > 160:
                external_id = "h:" + short_hash(training["external_id"], action_id, session_id)
            try:
                record = self._session(rec, action, s, common, external_id, training, debut, fin)
            except RecordError as err:
                position = reject_position(s_position)
                sessions.append(SessionOutcome("training_session", position, err.field, reason=err.reason))
                continue
            field = numbered_field if s_numero else dated_field
            bound = self.binder.bind(SESSION, record, chained=chained)
            chained = chained or bound is not None
            sessions.append(SessionOutcome("training_session", s_position, field, session=record, bound=bound))
        return sessions

    def _shared_contact(self, contact: dict[str, Any]) -> FrozenRecord:
        """``contact``, read-only, or the equal one of the session before (the same object: converted for
        the driver and pickled once for both)."""
        if contact == self._last_contact:
            return self._last_contact
        self._last_contact = frozen = FrozenRecord(contact)
        return frozen

    def _contact(self, rec: Node) -> Coordinates:
        """The record's own contact, read once for all its sessions."""
        if self._contact_of is None or self._contact_of[0] is not rec:
            self._contact_of = (rec, read_coordinates(rec.find(self.layout.contact), self.layout.contact))
        return self._contact_of[1]

    def _line(self, line: int | None, default: int) -> int:
        mapped = self.true_line(line)
        return mapped if mapped is not None else default

    def _action(self, rec: Node, action: Node) -> dict[str, Any]:
        """Values shared by the sessions of one action; paths are prefixed from the record down."""
        L = self.layout
        ap = L.action_prefix
        place = read_coordinates(action.find(L.place), ap + L.place)
        commune_code = None
        latitude, longitude = place.latitude, place.longitude
        if place.postcode or place.city or place.insee:
            commune_code = self.refs.commune(place.insee, place.postcode, place.city)
            if commune_code is None:
                known = [
                    f"code postal {place.postcode}" if place.postcode else "",
                    f"code INSEE {place.insee}" if place.insee else "",
                ]
                where = ", ".join(k for k in known if k)
                raise RecordError(
                    f"{ap}{L.place}/adresse/ville",
                    f"commune inconnue : « {place.city or ''} »" + (f" ({where})" if where else ""),
                )
            if latitude is None or longitude is None:
                latitude, longitude = self.refs.places.coordinates(commune_code)
        modality_code = text_of(action.find(L.modality))
        if modality_code is not None and modality_code not in MODALITY:
            raise RecordError(ap + L.modality, f"code de modalité inconnu : « {modality_code} »")
        hours = parse_int(text_of(action.find(L.hours)), ap + L.hours)
        if hours is not None and hours > 100_000:
            raise RecordError(ap + L.hours, f"nombre d'heures hors limites : {hours}")
        price_text = text_of(action.find(L.price_total))
        hourly = text_of(action.find(L.price_hourly))
        places = None
        if L.places:
            counts = [parse_int(v, ap + L.places) for v in texts_at(action, L.places)]
            places = sum(c for c in counts if c is not None) if counts else None
            if places is not None and places > 1_000_000:
                raise RecordError(ap + L.places, f"nombre de places hors limites : {places}")
        publics = texts_at(action, L.public)
        alternance = (text_of(action.find(L.alternance)) or "").lower()
        initial = text_of(action.find(L.initial)) if L.initial else None
        routes = set()
        if "81061" in publics or initial == "1":  # public de la formation initiale
            routes.add("initiale")
        # Formacode "public visé" families: 80… job seekers, 82… employees, 83… everyone.
        if any(p.startswith(("80", "83")) or (p.startswith("82") and p != "82027") for p in publics):
            routes.add("continue")
        if "82027" in publics or "apprenti" in alternance:  # contrat d'apprentissage
            routes.add("apprentissage")
        information_dates: list[str] = []
        if L.information_dates:
            for value in texts_at(action, L.information_dates):
                day = parse_date(value, ap + L.information_dates)
                if day is not None and day.isoformat() not in information_dates:
                    information_dates.append(day.isoformat())
        information = (
            read_coordinates(action.find(L.information_address), ap + L.information_address)
            if L.information_address
            else Coordinates()
        )
        information_where = " ".join(p for p in (information.postcode, information.city) if p)
        cpf = bool(L.cpf and texts_at(rec, L.cpf)) or any(
            el.find("extras[@info='eligibilite-cpf']") is not None for el in (rec, action)
        )
        return {
            "address": place.address,
            "postcode": place.postcode,
            "city": place.city,
            "commune_code": commune_code,
            "latitude": latitude,
            "longitude": longitude,
            "modality": MODALITY.get(modality_code) if modality_code else None,
            "routes": [r for r in ROUTE_ORDER if r in routes],
            "route_mask": route_mask(routes),
            "duration_hours": hours,
            "duration_text": text_of(action.find(L.duration)),
            "rhythm": text_of(action.find(L.rhythm)),
            "cost_eur": parse_amount(price_text, ap + L.price_total),
            "cost_text": price_text or (f"{hourly} € TTC de l'heure" if hourly else None),
            "funding": codes_at(action, L.funding, FINANCEUR, "code financeur", ap + L.funding),
            "cpf_eligible": True if cpf else None,
            "admission": text_of(action.find(L.admission)),
            "prerequisites": text_of(action.find(L.prerequisites)),
            "places": places,
            "information_dates": sorted(information_dates),
            "information_address": ", ".join(p for p in (information.address, information_where) if p) or None,
            "full_session_id": None,
        }

    def _session(
        self,
        rec: Node,
        action: Node,
        s: Node,
        common: dict[str, Any],
        external_id: str,
        training: FrozenRecord,
        debut: str | None,
        fin: str | None,
    ) -> FrozenRecord:
        """``debut`` and ``fin``: the texts of the session's ``periode``, read by the caller already."""
        L = self.layout
        sp, ap = L.session_prefix, L.action_prefix
        start = parse_date(debut, sp + "periode/debut")
        end = parse_date(fin, sp + "periode/fin")
        if start and end and end < start:
            raise RecordError(sp + "periode/fin", f"fin ({end:%d/%m/%Y}) avant le début ({start:%d/%m/%Y})")
        # LHÉO 2.x: registration per session; LHÉO 1.3: per offer.
        holder, prefix = (s, sp) if L.numbered else (action, ap)
        registration_start = parse_date(text_of(holder.find(L.registration_start)), prefix + L.registration_start)
        registration_end = parse_date(text_of(holder.find(L.registration_end)), prefix + L.registration_end)
        registration = read_coordinates(holder.find(L.registration_address), prefix + L.registration_address)
        if registration_start and registration_end and registration_end < registration_start:
            raise RecordError(
                prefix + L.registration_end,
                f"fin des inscriptions ({registration_end:%d/%m/%Y}) avant leur début ({registration_start:%d/%m/%Y})",
            )
        state_code = text_of(s.find(L.state)) if L.state else None
        if state_code is not None and state_code not in RECRUITMENT:
            raise RecordError(f"{sp}{L.state}", f"état du recrutement inconnu : « {state_code} »")
        contact_el = s.find(L.session_contact) if L.session_contact else None
        who = read_coordinates(contact_el, L.contact) if contact_el is not None else self._contact(rec)
        website = text_of(s.find(L.session_url)) if L.session_url else None
        website = website or text_of(action.find(L.action_url)) or text_of(rec.find(L.url))
        where = " ".join(p for p in (registration.postcode, registration.city) if p)
        contact = {
            "name": who.name,
            "phone": who.phone,
            "email": who.email,
            "website": website,
            "registration_address": ", ".join(p for p in (registration.address, where) if p),
        }
        certification_id = training["certification_id"]
        if L.session_rncp:
            codes = [c for c in (rncp_code(v) for v in texts_at(s, L.session_rncp)) if c]
            certification_id = self.refs.certification(codes) or certification_id
        values = {
            **common,
            "external_id": external_id,
            "certification_id": certification_id,
            "title": training["title"],
            "start_date": start,
            "end_date": end,
            "registration_start": registration_start,
            "registration_end": registration_end,
            "recruitment_state": RECRUITMENT.get(state_code) if state_code else None,
            "registration_terms": text_of(s.find(L.registration_terms)) if L.registration_terms else None,
            "contact": self._shared_contact({k: v for k, v in contact.items() if v}),
        }
        return validated(SESSION_RULES, values, {"external_id": f"{sp}@numero"})
