from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from passerelles.sources.models import Source
from passerelles.sources.schemas import SourceOut


def sources_by_slug(session: Session, slugs: Iterable[str]) -> list[SourceOut]:
    wanted = sorted(set(slugs))
    if not wanted:
        return []
    rows = session.scalars(select(Source).where(Source.slug.in_(wanted)).order_by(Source.title))
    return [SourceOut.model_validate(r, from_attributes=True) for r in rows]


def list_sources(session: Session) -> list[SourceOut]:
    rows = session.scalars(select(Source).order_by(Source.kind, Source.title))
    return [SourceOut.model_validate(r, from_attributes=True) for r in rows]


def cited(obj: object) -> set[str]:
    """Every source id cited anywhere in a JSON-like structure (``sources: [...]`` lists)."""
    found: set[str] = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "sources" and isinstance(value, list):
                found.update(v for v in value if isinstance(v, str))
            else:
                found |= cited(value)
    elif isinstance(obj, list):
        for item in obj:
            found |= cited(item)
    return found
