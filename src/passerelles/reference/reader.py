"""Read and validate the project's reference files (``data/*.yaml``): extract → read → validate.

Validation is two-staged: each file against :class:`ReferenceFile`, then the whole set for
cross-references (unknown source id, unknown slug, duplicate ids). Errors name file, record and field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from passerelles.reference.schemas import (
    Certification,
    CertificationAdmission,
    Condition,
    Departement,
    Equivalence,
    GeneralDiploma,
    Occupation,
    OccupationAccess,
    PublicService,
    Reduction,
    ReferenceFile,
    Region,
    SmicValue,
    Source,
    StructureType,
    VaeRule,
)


@dataclasses.dataclass(frozen=True)
class ReferenceError_:
    file: str
    record: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.record}: {self.field}: {self.reason}"


class InvalidReferenceData(Exception):
    def __init__(self, errors: list[ReferenceError_]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclasses.dataclass
class ReferenceSet:
    sources: dict[str, Source] = dataclasses.field(default_factory=dict)
    occupations: dict[str, Occupation] = dataclasses.field(default_factory=dict)
    certifications: dict[str, Certification] = dataclasses.field(default_factory=dict)
    structure_types: dict[str, StructureType] = dataclasses.field(default_factory=dict)
    public_services: dict[str, PublicService] = dataclasses.field(default_factory=dict)
    smic: list[SmicValue] = dataclasses.field(default_factory=list)
    regions: dict[str, Region] = dataclasses.field(default_factory=dict)
    departements: dict[str, Departement] = dataclasses.field(default_factory=dict)
    general_diplomas: dict[str, GeneralDiploma] = dataclasses.field(default_factory=dict)
    occupation_access: list[OccupationAccess] = dataclasses.field(default_factory=list)
    admissions: list[CertificationAdmission] = dataclasses.field(default_factory=list)
    reductions: list[Reduction] = dataclasses.field(default_factory=list)
    equivalences: list[Equivalence] = dataclasses.field(default_factory=list)
    vae_rules: list[VaeRule] = dataclasses.field(default_factory=list)
    files: list[str] = dataclasses.field(default_factory=list)


def _record_label(data: Any, loc: tuple[int | str, ...]) -> tuple[str, str]:
    """Turn a pydantic error location into (record, field) using the record's slug/id/code when present."""
    if len(loc) >= 2 and isinstance(loc[1], int):
        section = str(loc[0])
        try:
            item = data[section][loc[1]]
            ident = item.get("slug") or item.get("id") or item.get("code") or f"#{loc[1]}"
        except (KeyError, IndexError, TypeError, AttributeError):
            ident = f"#{loc[1]}"
        return f"{section}[{ident}]", ".".join(str(p) for p in loc[2:]) or "(record)"
    return "(file)", ".".join(str(p) for p in loc) or "(file)"


def read_file(path: Path) -> tuple[ReferenceFile | None, list[ReferenceError_]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return None, [ReferenceError_(path.name, "(file)", "(file)", f"YAML illisible : {exc}")]
    if data is None:
        data = {}
    try:
        return ReferenceFile.model_validate(data), []
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            record, field = _record_label(data, tuple(err["loc"]))
            errors.append(ReferenceError_(path.name, record, field, err["msg"]))
        return None, errors


def _source_ids(obj: Any) -> Iterable[tuple[str, str]]:
    """Yield (field path, source id) for every ``sources`` list nested in a model."""
    if isinstance(obj, list):
        for i, item in enumerate(obj):
            for path, sid in _source_ids(item):
                yield f"{i}.{path}" if path else str(i), sid
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if name == "sources" and isinstance(value, list):
                for sid in value:
                    yield "sources", sid
            else:
                for path, sid in _source_ids(value):
                    yield f"{name}.{path}", sid


def read_directory(directory: Path) -> ReferenceSet:
    """Read every ``*.yaml`` in ``directory``; raise :class:`InvalidReferenceData` listing every error."""
    ref = ReferenceSet()
    errors: list[ReferenceError_] = []
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise InvalidReferenceData([ReferenceError_(str(directory), "(dir)", "(dir)", "aucun fichier YAML")])
    owners: dict[tuple[str, str], str] = {}
    parsed: list[tuple[str, ReferenceFile]] = []
    for path in files:
        content, errs = read_file(path)
        errors.extend(errs)
        if content is None:
            continue
        ref.files.append(path.name)
        parsed.append((path.name, content))
        for section, key in (
            ("sources", "id"),
            ("occupations", "slug"),
            ("certifications", "slug"),
            ("structure_types", "slug"),
            ("public_services", "slug"),
            ("regions", "code"),
            ("departements", "code"),
            ("general_diplomas", "slug"),
        ):
            target: dict[str, Any] = getattr(ref, section)
            for item in getattr(content, section):
                ident = getattr(item, key)
                if ident in target:
                    errors.append(
                        ReferenceError_(
                            path.name,
                            f"{section}[{ident}]",
                            key,
                            f"identifiant déjà défini dans {owners[(section, ident)]}",
                        )
                    )
                    continue
                target[ident] = item
                owners[(section, ident)] = path.name
        for section in ("smic", "occupation_access", "admissions", "reductions", "equivalences", "vae_rules"):
            getattr(ref, section).extend(getattr(content, section))

    def check(file: str, record: str, field: str, value: str | None, known: dict[str, Any], what: str) -> None:
        if value is not None and value not in known:
            errors.append(ReferenceError_(file, record, field, f"{what} : {value!r}"))

    for file, content in parsed:
        for section in ("occupations", "certifications", "structure_types", "public_services"):
            for item in getattr(content, section):
                record = f"{section}[{item.slug}]"
                for field_path, sid in _source_ids(item):
                    check(file, record, field_path, sid, ref.sources, "source inconnue")
        for smic in content.smic:
            for field_path, sid in _source_ids(smic):
                check(file, f"smic[{smic.since}]", field_path, sid, ref.sources, "source inconnue")
        for occ in content.occupations:
            record = f"occupations[{occ.slug}]"
            for i, wp in enumerate(occ.workplaces):
                check(
                    file,
                    record,
                    f"workplaces.{i}.structure",
                    wp.structure,
                    ref.structure_types,
                    "type de structure inconnu",
                )
            for i, oc in enumerate(occ.certifications):
                check(
                    file,
                    record,
                    f"certifications.{i}.certification",
                    oc.certification,
                    ref.certifications,
                    "certification inconnue",
                )
            for i, ev in enumerate(occ.evolutions):
                check(file, record, f"evolutions.{i}.occupation", ev.occupation, ref.occupations, "métier inconnu")
                check(
                    file,
                    record,
                    f"evolutions.{i}.certification",
                    ev.certification,
                    ref.certifications,
                    "certification inconnue",
                )
            for i, rel in enumerate(occ.related):
                check(file, record, f"related.{i}", rel, ref.occupations, "métier inconnu")
            for i, svc in enumerate(occ.further):
                check(file, record, f"further.{i}", svc, ref.public_services, "service public inconnu")
            if not any(n.kind == "current" for n in occ.names):
                errors.append(ReferenceError_(file, record, "names", "aucun nom actuel (kind: current)"))
        for cert in content.certifications:
            record = f"certifications[{cert.slug}]"
            for i, slug in enumerate(cert.occupations):
                check(file, record, f"occupations.{i}", slug, ref.occupations, "métier inconnu")
            for i, rep in enumerate(cert.replaces):
                check(
                    file,
                    record,
                    f"replaces.{i}.certification",
                    rep.certification,
                    ref.certifications,
                    "certification inconnue",
                )
            for i, ex in enumerate(cert.exemptions):
                check(
                    file,
                    record,
                    f"exemptions.{i}.from_certification",
                    ex.from_certification,
                    ref.certifications,
                    "certification inconnue",
                )
        for dep in content.departements:
            check(file, f"departements[{dep.code}]", "region", dep.region, ref.regions, "région inconnue")
    _check_rules(parsed, ref, errors)
    if errors:
        raise InvalidReferenceData(errors)
    return ref


def _check_rules(parsed: list[tuple[str, ReferenceFile]], ref: ReferenceSet, errors: list[ReferenceError_]) -> None:
    """Cross-references of the pathway rules: every slug and source id must exist."""
    diplomas = {**ref.certifications, **ref.general_diplomas}

    def need(file: str, record: str, field: str, value: str | None, known: dict[str, Any], label: str) -> None:
        if value is not None and value not in known:
            errors.append(ReferenceError_(file, record, field, f"{label} : {value!r}"))

    def condition(file: str, record: str, prefix: str, cond: Condition) -> None:
        for i, slug in enumerate(cond.certifications_any):
            need(file, record, f"{prefix}.certifications_any.{i}", slug, diplomas, "diplôme inconnu")
        for i, slug in enumerate(cond.experience_any):
            need(file, record, f"{prefix}.experience_any.{i}", slug, ref.occupations, "métier inconnu")

    def sources(file: str, record: str, model: Any) -> None:
        for field_path, sid in _source_ids(model):
            need(file, record, field_path, sid, ref.sources, "source inconnue")

    for file, content in parsed:
        for gd in content.general_diplomas:
            sources(file, f"general_diplomas[{gd.slug}]", gd)
        for acc in content.occupation_access:
            record = f"occupation_access[{acc.occupation}]"
            need(file, record, "occupation", acc.occupation, ref.occupations, "métier inconnu")
            for j, opt in enumerate(acc.options):
                condition(file, record, f"options.{j}.condition", opt.condition)
                need(
                    file,
                    record,
                    f"options.{j}.then_certification",
                    opt.then_certification,
                    ref.certifications,
                    "certification inconnue",
                )
            sources(file, record, acc)
        for adm in content.admissions:
            record = f"admissions[{adm.certification}]"
            need(file, record, "certification", adm.certification, ref.certifications, "certification inconnue")
            for j, aopt in enumerate(adm.options):
                condition(file, record, f"options.{j}.condition", aopt.condition)
            sources(file, record, adm)
        for red in content.reductions:
            record = f"reductions[{red.holder_of}->{red.certification}]"
            need(file, record, "certification", red.certification, ref.certifications, "certification inconnue")
            need(file, record, "holder_of", red.holder_of, diplomas, "diplôme inconnu")
            sources(file, record, red)
        for eq in content.equivalences:
            record = f"equivalences[{eq.holder_of}->{eq.gives}]"
            need(file, record, "holder_of", eq.holder_of, ref.certifications, "certification inconnue")
            need(file, record, "gives", eq.gives, ref.certifications, "certification inconnue")
            sources(file, record, eq)
        for vae in content.vae_rules:
            record = f"vae_rules[{vae.certification}]"
            need(file, record, "certification", vae.certification, ref.certifications, "certification inconnue")
            for j, occ in enumerate(vae.experience_any):
                need(file, record, f"experience_any.{j}", occ, ref.occupations, "métier inconnu")
            sources(file, record, vae)


if __name__ == "__main__":  # pragma: no cover - helper for authors of the YAML files
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "data")
    try:
        result = read_directory(target)
    except InvalidReferenceData as exc:
        print(f"{len(exc.errors)} erreur(s) :")
        for e in exc.errors:
            print(" -", e)
        raise SystemExit(1) from None
    print(
        f"OK: {len(result.sources)} sources, {len(result.occupations)} métiers, "
        f"{len(result.certifications)} certifications, {len(result.structure_types)} types de structure, "
        f"{len(result.regions)} régions, {len(result.departements)} départements"
    )
