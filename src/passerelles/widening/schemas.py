"""What a widened search says it widened: one ``Widening`` per step, with what it added and what it dropped."""

from __future__ import annotations

from pydantic import BaseModel


class Added(BaseModel):
    """A certification or an occupation a step added, and why a person of the searched profile could go there."""

    label: str
    reason: str


class Dropped(BaseModel):
    """A criterion a step took off: ``params`` are its query parameters, ``value`` what the person had chosen."""

    params: list[str]
    label: str
    value: str


class Widening(BaseModel):
    level: int
    text: str  # the sentence saying what the step widened
    kind: str | None = None  # « certifications proches », « métiers proches » for a step that adds some
    added: list[Added] = []
    dropped: list[Dropped] = []
