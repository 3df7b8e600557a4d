"""The funding rules as the simulator reads them: ``data/funding.yaml`` (its ``funding:`` section and its
``sources:``) validated once per version of the file, every source id and scheme id checked. No HTTP here."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from passerelles.funding.schemas import FundingRules, Scheme
from passerelles.reference.schemas import Source

FILE_NAME = "funding.yaml"


class InvalidFundingRules(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class FundingBook:
    rules: FundingRules
    sources: dict[str, Source]

    @property
    def schemes(self) -> dict[str, Scheme]:
        return {s.id: s for s in self.rules.schemes}

    def cpf_participation(self) -> tuple[float, int, list[str]]:
        latest = max(self.rules.cpf_participation, key=lambda p: p.year)
        return latest.amount_eur, latest.year, list(latest.sources)


def parse_book(data: dict[str, Any], sources: dict[str, Source] | None = None) -> FundingBook:
    """Validate the ``funding:`` section and its ``sources:``; every source id and scheme id must exist."""
    errors: list[str] = []
    known = dict(sources or {})
    for raw in data.get("sources") or []:
        try:
            src = Source.model_validate(raw)
        except ValidationError as exc:
            errors.extend(f"sources: {e['loc']}: {e['msg']}" for e in exc.errors())
            continue
        known[src.id] = src
    try:
        rules = FundingRules.model_validate(data.get("funding") or {})
    except ValidationError as exc:
        raise InvalidFundingRules(
            errors + [f"funding: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        ) from None
    for path, sid in _source_ids(rules):
        if sid not in known:
            errors.append(f"funding: {path}: source inconnue : {sid!r}")
    ids = [s.id for s in rules.schemes]
    if len(ids) != len(set(ids)):
        errors.append("funding: schemes: identifiant en double")
    schemes = {s.id: s for s in rules.schemes}
    for c in rules.combinations:
        for sid in c.tuition:
            if schemes.get(sid) is None or schemes[sid].kind != "tuition":
                errors.append(f"funding: combinations[{c.id}]: financeur inconnu : {sid!r}")
        for sid in c.income:
            if schemes.get(sid) is None or schemes[sid].kind != "income":
                errors.append(f"funding: combinations[{c.id}]: revenu inconnu : {sid!r}")
    if errors:
        raise InvalidFundingRules(errors)
    return FundingBook(rules=rules, sources=known)


def _source_ids(obj: Any, path: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(obj, list):
        for i, item in enumerate(obj):
            found.extend(_source_ids(item, f"{path}.{i}" if path else str(i)))
    elif hasattr(type(obj), "model_fields"):
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            here = f"{path}.{name}" if path else name
            if name == "sources" and isinstance(value, list):
                found.extend((here, sid) for sid in value)
            else:
                found.extend(_source_ids(value, here))
    return found


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> FundingBook:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return parse_book(data)


def load_book(reference_dir: Path) -> FundingBook:
    """The rules of ``reference_dir/funding.yaml``, read again only when the file changes."""
    path = reference_dir / FILE_NAME
    return _load(str(path), path.stat().st_mtime_ns)
