from __future__ import annotations

from pydantic import BaseModel


class SourceOut(BaseModel):
    slug: str
    title: str
    publisher: str
    kind: str
    url: str | None = None
    date: str | None = None
    licence: str | None = None
    version: str | None = None
