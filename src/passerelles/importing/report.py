"""What every importer returns: counts per entity and the rejected records, each with its position."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field


class ImportRefused(Exception):
    """The input as a whole cannot be imported (missing, unreadable, hostile, wrong format)."""


class RecordError(Exception):
    """One record cannot be loaded: ``field`` as the source names it (a JSON field path, an XML element
    path…), ``reason`` in French. The importer turns it into a :class:`Reject` with the record's position."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Reject(BaseModel):
    """A record that was not loaded: where it is (file and line or element), which field, and why."""

    source: str
    position: str
    field: str
    reason: str
    record: str | None = None

    def __str__(self) -> str:
        return f"{self.source}:{self.position}: champ « {self.field} » : {self.reason}"


class EntityCounts(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    rejected: int = 0


class ImportReport(BaseModel):
    importer: str
    source: str
    version: str | None = None
    dry_run: bool = False
    status: Literal["ok", "refused"] = "ok"
    message: str | None = None
    counts: dict[str, EntityCounts] = Field(default_factory=dict)
    rejects: list[Reject] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    def entity(self, name: str) -> EntityCounts:
        return self.counts.setdefault(name, EntityCounts())

    def reject(self, entity: str, reject: Reject) -> None:
        self.entity(entity).rejected += 1
        self.rejects.append(reject)

    @property
    def totals(self) -> EntityCounts:
        total = EntityCounts()
        for c in self.counts.values():
            for key in ("created", "updated", "unchanged", "removed", "rejected"):
                setattr(total, key, getattr(total, key) + getattr(c, key))
        return total

    def write_rejects(self, path: Path) -> None:
        """Rejects as JSON Lines, one object per rejected record."""
        with path.open("w", encoding="utf-8") as fh:
            for r in self.rejects:
                fh.write(json.dumps(r.model_dump(), ensure_ascii=False) + "\n")

    def as_text(self, max_rejects: int = 50) -> str:
        version = f" (version {self.version})" if self.version else ""
        lines = [f"Import {self.importer} depuis {self.source}{version}"]
        if self.dry_run:
            lines.append("Simulation (--dry-run) : rien n'a été écrit.")
        if self.status == "refused":
            lines.append(f"Refusé : {self.message}")
        width = max((len(n) for n in self.counts), default=10)
        lines.append(f"{'':{width}}  créés  modifiés  inchangés  retirés  rejetés")
        for name, c in self.counts.items():
            lines.append(
                f"{name:{width}}  {c.created:5}  {c.updated:8}  {c.unchanged:9}  {c.removed:7}  {c.rejected:7}"
            )
        for w in self.warnings:
            lines.append(f"Attention : {w}")
        if self.rejects:
            lines.append(f"{len(self.rejects)} enregistrement(s) rejeté(s) :")
            lines.extend(f"  - {r}" for r in self.rejects[:max_rejects])
            if len(self.rejects) > max_rejects:
                lines.append(f"  … et {len(self.rejects) - max_rejects} autre(s)")
        return "\n".join(lines)
