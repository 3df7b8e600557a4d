"""data·inclusion importer: structures and services (schema v1) → ``support_structure``/``support_service``.

Extract → read → validate → load, as every importer of the project:

- **extract**: one JSON file — an array of structures, JSON Lines, or an object ``{"structures": […],
  "services": […]}`` — and optionally a second file of services (the two files data·inclusion publishes);
  a file over :data:`MAX_BYTES`, not UTF-8, not JSON or nested beyond reason is refused whole;
- **read**: each record is a JSON object (anything else is a reject naming its position);
- **validate**: the official pydantic models of the schema (package ``data-inclusion-schema``, pinned) check
  each record; a bad one is rejected with its id and field, in French, and never stops the others; the
  commune is found in the COG by INSEE code, else by postcode and name (``places.resolver``);
- **load**: rows are created, updated (by a hash of their values) or left unchanged; a service whose
  structure is not in the file or the store is rejected.

The data·inclusion « réseaux porteurs » name the kind of structure (France Travail, mission locale, Cap
emploi); CIO and Carif-Oref points are recognised by their name.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, cast

from data_inclusion.schema.v1 import Service, Structure
from pydantic import ValidationError
from sqlalchemy import Table, select
from sqlalchemy.engine import Engine

from passerelles import errors
from passerelles.accompaniment.models import SupportService, SupportStructure
from passerelles.accompaniment.schemas import NETWORK_KINDS
from passerelles.importing.limits import ImportLimits
from passerelles.importing.report import ImportRefused, ImportReport, RecordError, Reject
from passerelles.importing.sync import sync_rows
from passerelles.places.resolver import CommuneIndex

MAX_BYTES = 256 * 1024 * 1024  # the national structures file is about a tenth of this
STRUCTURES = cast(Table, SupportStructure.__table__)
SERVICES = cast(Table, SupportService.__table__)
CIO = re.compile(r"\b(CIO|centre d.information et d.orientation)\b", re.IGNORECASE)
CARIF = re.compile(r"\bcarif\b", re.IGNORECASE)


def _read(path: Path) -> tuple[list[Any], list[Any]]:
    """(structures, services) records of one file, as parsed JSON values (objects, or whatever was there)."""
    if not path.is_file():
        raise ImportRefused(f"fichier introuvable : {path.name}")
    if path.stat().st_size > MAX_BYTES:
        raise ImportRefused(f"{path.name} : fichier trop gros (plus de {MAX_BYTES // 1024 // 1024} Mo)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ImportRefused(f"{path.name} : le fichier n'est pas en UTF-8 (octet {exc.start})") from exc
    try:
        data = json.loads(text)
    except RecursionError as exc:
        raise ImportRefused(f"{path.name} : JSON imbriqué trop profondément") from exc
    except json.JSONDecodeError:
        data = _json_lines(path.name, text)
    if isinstance(data, dict) and ("structures" in data or "services" in data):
        structures, services = data.get("structures") or [], data.get("services") or []
        if not isinstance(structures, list) or not isinstance(services, list):
            raise ImportRefused(f"{path.name} : « structures » et « services » doivent être des listes")
        return structures, services
    if isinstance(data, list):
        # A file of services has records with a « structure_id ».
        if data and all(isinstance(r, dict) and "structure_id" in r for r in data):
            return [], data
        return data, []
    raise ImportRefused(f"{path.name} : une liste de structures (JSON ou JSON Lines) est attendue")


def _json_lines(name: str, text: str) -> list[Any]:
    records: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except (json.JSONDecodeError, RecursionError) as exc:
            if not records:
                raise ImportRefused(f"{name} : ni JSON ni JSON Lines (ligne {number})") from exc
            records.append(_Broken(number))
    return records


class _Broken:
    """A line of a JSON Lines file that is not JSON: rejected at its place, the others go on."""

    def __init__(self, line: int) -> None:
        self.line = line


def _kind(structure: Structure) -> str:
    for network in structure.reseaux_porteurs or []:
        kind = NETWORK_KINDS.get(str(getattr(network, "value", network)))
        if kind:
            return kind
    if CIO.search(structure.nom):
        return "cio"
    if CARIF.search(structure.nom):
        return "carif_oref"
    return "autre"


def _validated(model: type[Structure] | type[Service], record: Any) -> Any:
    if isinstance(record, _Broken):
        raise RecordError("(ligne)", f"ligne {record.line} : JSON invalide")
    if not isinstance(record, dict):
        raise RecordError("(enregistrement)", "un objet JSON est attendu")
    try:
        return model.model_validate(record, context={"ignore_warnings": True})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(enregistrement)"
        raise RecordError(field, errors.reason(cast(dict[str, Any], err))) from None


def _position(kind: str, number: int, record: Any) -> str:
    rid = record.get("id") if isinstance(record, dict) else None
    return f"{kind} n° {number}" + (f" (id {str(rid)[:80]})" if rid else "")


def _reject(report: ImportReport, entity: str, source: str, position: str, exc: RecordError, record: Any) -> None:
    shown = json.dumps(record, ensure_ascii=False)[:200] if isinstance(record, dict) else None
    report.reject(entity, Reject(source=source, position=position, field=exc.field, reason=exc.reason, record=shown))


def _structure_row(s: Structure, communes: CommuneIndex, notes: Counter[str], is_demo: bool) -> dict[str, Any]:
    place = communes.resolve(
        code=s.code_insee, postcode=s.code_postal, city=s.commune,
        code_field="code_insee", postcode_field="code_postal", notes=notes,
    )  # fmt: skip
    lat, lon = s.latitude, s.longitude
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        lat, lon = place.latitude, place.longitude  # the commune's centre
    address = ", ".join(p for p in (s.adresse, s.complement_adresse) if p) or None
    return {
        "source_id": s.id,
        "source": s.source,
        "kind": _kind(s),
        "name": s.nom,
        "description": s.description,
        "address": address[:300] if address else None,
        "postcode": place.postcode or s.code_postal,
        "commune_code": place.commune_code,
        "commune_name": place.city,
        "latitude": lat,
        "longitude": lon,
        "phone": (s.telephone or "")[:40] or None,
        "email": str(s.courriel) if s.courriel else None,
        "website": str(s.site_web) if s.site_web else None,
        "hours": s.horaires_accueil,
        "networks": sorted(str(getattr(n, "value", n)) for n in s.reseaux_porteurs or []),
        "source_url": str(s.lien_source) if s.lien_source else None,
        "updated_on": s.date_maj,
        "is_demo": is_demo,
    }


def _service_row(s: Service, structure_id: int) -> dict[str, Any]:
    return {
        "source_id": s.id,
        "structure_id": structure_id,
        "name": s.nom,
        "description": s.description,
        "themes": sorted(str(getattr(t, "value", t)) for t in s.thematiques or []),
        "modes": sorted(str(getattr(m, "value", m)) for m in s.modes_accueil or []),
        "fees": str(getattr(s.frais, "value", s.frais)) if s.frais else None,
        "access": s.conditions_acces,
        "link": str(s.lien_mobilisation or s.lien_source) if (s.lien_mobilisation or s.lien_source) else None,
        "phone": (s.telephone or "")[:40] or None,
        "email": str(s.courriel) if s.courriel else None,
        "hours": s.horaires_accueil,
    }


def import_structures(
    engine: Engine,
    path: Path,
    *,
    services_path: Path | None = None,
    dry_run: bool = False,
    is_demo: bool = False,
    limits: ImportLimits | None = None,
) -> ImportReport:
    limits = limits or ImportLimits()
    structures, services = _read(path)
    if services_path is not None:
        more_structures, more_services = _read(services_path)
        structures, services = structures + more_structures, services + more_services
    report = ImportReport(importer="structures", source=str(path), dry_run=dry_run)
    notes: Counter[str] = Counter()
    with engine.begin() as conn:
        communes = CommuneIndex.load(conn)
        rows: dict[str, dict[str, Any]] = {}
        for number, record in enumerate(structures, start=1):
            try:
                structure = _validated(Structure, record)
                rows[structure.id] = _structure_row(structure, communes, notes, is_demo)
            except RecordError as exc:
                _reject(report, "structure", path.name, _position("structure", number, record), exc, record)
        checked: list[tuple[int, Any, Service]] = []
        for number, record in enumerate(services, start=1):
            try:
                checked.append((number, record, _validated(Service, record)))
            except RecordError as exc:
                _reject(report, "service", path.name, _position("service", number, record), exc, record)
        read = len(structures) + len(services)
        if limits.too_many_rejects(report.totals.rejected, read):
            raise ImportRefused(limits.rejects_refusal(path.name, report.totals.rejected, read))
        sync_rows(conn, STRUCTURES, ("source_id",), rows.values(), report.entity("structure"), dry_run=dry_run)
        ids: dict[str, int] = {row[0]: row[1] for row in conn.execute(select(STRUCTURES.c.source_id, STRUCTURES.c.id))}
        service_rows = []
        for number, record, service in checked:
            structure_id = ids.get(service.structure_id)
            if structure_id is None and not (dry_run and service.structure_id in rows):
                error = RecordError("structure_id", f"structure inconnue : {service.structure_id!r}")
                _reject(report, "service", path.name, _position("service", number, record), error, record)
                continue
            service_rows.append(_service_row(service, structure_id or 0))
        sync_rows(conn, SERVICES, ("source_id",), service_rows, report.entity("service"), dry_run=dry_run)
    report.warnings.extend(f"{n} : {count}" for n, count in notes.items())
    return report
