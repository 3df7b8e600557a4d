from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from passerelles.certifications.models import Certification
from passerelles.occupations.models import Occupation
from passerelles.sources.models import Source
from passerelles.sources.schemas import SourceOut, TeamNote


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
        if obj.get("data_team"):
            return found  # a working note: its sources are the data team's, not the page's
        for key, value in obj.items():
            if key == "sources" and isinstance(value, list):
                found.update(v for v in value if isinstance(v, str))
            else:
                found |= cited(value)
    elif isinstance(obj, list):
        for item in obj:
            found |= cited(item)
    return found


class SourceNotes:
    """The numbered notes of one page: each source gets its number the first time the page cites it
    (« [1] », « [2] »…), and the list at the end of the page gives them in that order, then any source
    the page relies on without citing it inline. Made fresh for every page rendered."""

    def __init__(self, sources: Iterable[SourceOut]) -> None:
        self._known = {s.slug: s for s in sources}
        self._numbers: dict[str, int] = {}

    def cite(self, ids: Iterable[str]) -> list[tuple[int, SourceOut]]:
        """(number, source) of each known id, numbering new ones, in number order."""
        found = []
        for sid in dict.fromkeys(ids):
            source = self._known.get(sid)
            if source is None:
                continue
            if sid not in self._numbers:
                self._numbers[sid] = len(self._numbers) + 1
            found.append((self._numbers[sid], source))
        return sorted(found, key=lambda x: x[0])

    def listed(self) -> list[tuple[int, SourceOut]]:
        """Every source of the page, numbered: the cited ones in citation order, then the others."""
        for sid in self._known:
            if sid not in self._numbers:
                self._numbers[sid] = len(self._numbers) + 1
        return sorted(((n, self._known[sid]) for sid, n in self._numbers.items()), key=lambda x: x[0])


def _team_texts(obj: object) -> list[str]:
    """Texts of the ``data_team`` notes anywhere in a JSON-like structure."""
    found: list[str] = []
    if isinstance(obj, dict):
        if obj.get("data_team") and isinstance(obj.get("text"), str):
            found.append(obj["text"])
        else:
            for value in obj.values():
                found += _team_texts(value)
    elif isinstance(obj, list):
        for item in obj:
            found += _team_texts(item)
    return found


def team_notes(session: Session) -> list[TeamNote]:
    """Every working note for the data team: ``data_team`` statements of the occupations and certifications,
    and RNCP codes still to verify."""
    notes: list[TeamNote] = []
    for slug, name, profile in session.execute(select(Occupation.slug, Occupation.name, Occupation.profile)):
        notes += [TeamNote(page=name, url=f"/metiers/{slug}", text=" ".join(t.split())) for t in _team_texts(profile)]
    for slug, name, detail in session.execute(select(Certification.slug, Certification.name, Certification.detail)):
        url = f"/certifications/{slug}"
        notes += [TeamNote(page=name, url=url, text=" ".join(t.split())) for t in _team_texts(detail)]
        for r in (detail or {}).get("rncp") or []:
            if not r.get("verified", True):
                notes.append(
                    TeamNote(page=name, url=url, text=f"Code {r['code']} à confirmer (source unique ou peu sûre).")
                )
    return sorted(notes, key=lambda n: (n.page, n.text))
