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


class TeamNote(BaseModel):
    """A working note for the data team (``data_team: true`` in the reference data, or an unverified code):
    shown in ``/sources`` to administrators and by ``passerelles data status``, never on public pages."""

    page: str
    url: str
    text: str
