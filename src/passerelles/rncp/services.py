"""The register beside the project's certifications: differences (listed, never applied), a certification's
sheet, and the blocs de compétences two certifications share. No HTTP here."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, or_, select
from sqlalchemy.orm import Session

from passerelles.certifications.models import Certification, CertificationRncp, CertificationRoute
from passerelles.rncp.models import RncpBloc, RncpSheet

COMPARED_ROUTES = {
    "initiale": "formation initiale",
    "apprentissage": "apprentissage",
    "continue": "formation continue",
    "vae": "VAE",
}
_PUNCT = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """A title as compared: lower case, without accents, punctuation or extra spaces (« Diplôme d'État » and
    « DIPLOME D'ETAT » are the same)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(_PUNCT.sub(" ", plain).split())


class Difference(BaseModel):
    """One way a certification written by the project differs from its RNCP sheet."""

    certification: str  # slug
    name: str
    number: str
    field: str  # intitulé | niveau | état | voies
    project: str
    rncp: str

    @property
    def text(self) -> str:
        return (
            f"{self.name} ({self.number}) — {self.field} : « {self.project} » dans la fiche du projet, "
            f"« {self.rncp} » au RNCP (fiche du projet inchangée)"
        )


def _is_active(sheet: Mapping[str, Any], today: dt.date) -> bool:
    end = sheet.get("end_date")
    return bool(sheet.get("active")) and (end is None or end >= today)


def _primary(sheets: list[Mapping[str, Any]], today: dt.date) -> Mapping[str, Any]:
    """The sheet a certification is compared with: its active one (the latest decided), else its latest."""
    active = [s for s in sheets if _is_active(s, today)] or sheets
    return max(active, key=lambda s: (s.get("decision_date") or dt.date.min, s["number"]))


def _date_fr(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "sans date de fin"


def _linked(
    db: Session | Connection, sheets: Mapping[str, Mapping[str, Any]], slugs: Iterable[str] | None = None
) -> list[tuple[Any, list[Mapping[str, Any]], bool]]:
    """(certification row, its sheets among ``sheets``, found by title) for each certification of the project
    that has some: by the RNCP numbers the project wrote, else (no number written) by the same title."""
    query = select(
        Certification.id, Certification.slug, Certification.name, Certification.level_eu, Certification.status
    ).order_by(Certification.slug)
    if slugs is not None:
        query = query.where(Certification.slug.in_(sorted(set(slugs))))
    certs = db.execute(query).all()
    codes: dict[int, list[str]] = defaultdict(list)
    for cid, code in db.execute(select(CertificationRncp.certification_id, CertificationRncp.code)):
        codes[cid].append(code)
    by_title: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for sheet in sheets.values():
        by_title[sheet.get("title_key") or fold(sheet["title"])].append(sheet)
    out = []
    for cert in certs:
        if codes.get(cert.id):
            found = [sheets[c] for c in sorted(codes[cert.id]) if c in sheets]
            if found:
                out.append((cert, found, False))
        elif by_title.get(fold(cert.name)):
            out.append((cert, by_title[fold(cert.name)], True))
    return out


def _compare(
    db: Session | Connection, sheets: Mapping[str, Mapping[str, Any]], today: dt.date | None = None
) -> list[Difference]:
    today = today or dt.date.today()
    if not sheets:
        return []
    linked = _linked(db, sheets)
    if not linked:
        return []
    routes: dict[int, set[str]] = defaultdict(set)
    for cid, route in db.execute(
        select(CertificationRoute.certification_id, CertificationRoute.route).where(
            CertificationRoute.certification_id.in_(sorted(c.id for c, _, _ in linked)),
            CertificationRoute.available.is_(True),
        )
    ):
        routes[cid].add(route)
    out: list[Difference] = []
    for cert, found, by_title in linked:
        sheet = _primary(found, today)

        def diff(field: str, project: str, rncp: str, cert: Any = cert, sheet: Mapping[str, Any] = sheet) -> None:
            out.append(
                Difference(
                    certification=cert.slug,
                    name=cert.name,
                    number=sheet["number"],
                    field=field,
                    project=project,
                    rncp=rncp,
                )
            )

        if by_title:
            diff("numéro RNCP", "non écrit", f"{sheet['number']}, fiche de même intitulé")
        elif fold(cert.name) != fold(sheet["title"]):
            diff("intitulé", cert.name, sheet["title"])
        if cert.level_eu and sheet.get("level_eu") and cert.level_eu != sheet["level_eu"]:
            diff("niveau", f"niveau {cert.level_eu}", f"niveau {sheet['level_eu']}")
        project_active = cert.status != "abolished"
        rncp_active = any(_is_active(s, today) for s in found)
        if project_active != rncp_active:
            end = sheet.get("end_date")
            rncp_state = "active" if rncp_active else f"inactive (fin d'enregistrement : {_date_fr(end)})"
            diff("état", "en vigueur" if project_active else "abrogée", rncp_state)
        # The routes are compared only where the project wrote some (an old diploma has none).
        if routes[cert.id]:
            for route, label in COMPARED_ROUTES.items():
                mine, theirs = route in routes[cert.id], route in (sheet.get("routes") or [])
                if mine != theirs:
                    diff(
                        "voies",
                        f"{label} {'ouverte' if mine else 'non indiquée'}",
                        f"{label} {'ouverte' if theirs else 'fermée'}",
                    )
    return out


def differences_for(conn: Connection, sheets: Mapping[str, Mapping[str, Any]]) -> list[Difference]:
    """Differences between the project's certifications and the sheets of a file being imported."""
    return _compare(conn, sheets)


def _rows(sheets: Iterable[RncpSheet]) -> dict[str, dict[str, Any]]:
    return {
        s.number: {
            "number": s.number,
            "title": s.title,
            "title_key": s.title_key,
            "level_eu": s.level_eu,
            "active": s.active,
            "end_date": s.end_date,
            "decision_date": s.decision_date,
            "routes": s.routes,
        }
        for s in sheets
    }


def differences(db: Session, today: dt.date | None = None) -> list[Difference]:
    """Differences between the project's certifications and the stored register (``data status``)."""
    return _compare(db, _stored(db), today)


def _stored(db: Session, slugs: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """The stored sheets that may be a project certification's: by the numbers written, or by the title."""
    names = (
        select(Certification.name)
        if slugs is None
        else select(Certification.name).where(Certification.slug.in_(sorted(set(slugs))))
    )
    keys = sorted({fold(n) for n in db.scalars(names)})
    sheets = db.scalars(
        select(RncpSheet).where(
            or_(RncpSheet.number.in_(select(CertificationRncp.code)), RncpSheet.title_key.in_(keys or [""]))
        )
    ).all()
    return _rows(sheets)


@dataclass(frozen=True)
class SharedBloc:
    title: str
    codes: tuple[str, str]


@dataclass(frozen=True)
class SharedBlocs:
    """Blocs of the same title in the sheets of two certifications (``numbers``: their sheet numbers)."""

    numbers: tuple[str, str]
    blocs: list[SharedBloc]


def _sheet_numbers(db: Session, slugs: Iterable[str], today: dt.date) -> dict[str, str]:
    """slug → number of the sheet compared with (the active one, else the latest), for imported sheets."""
    slugs = sorted(set(slugs))
    return {cert.slug: _primary(found, today)["number"] for cert, found, _ in _linked(db, _stored(db, slugs), slugs)}


def shared_blocs(
    db: Session, pairs: Iterable[tuple[str, str]], today: dt.date | None = None
) -> dict[tuple[str, str], SharedBlocs]:
    """For each pair of certification slugs whose RNCP sheets are imported, the blocs de compétences of the
    same title in both (a fact of the register: whether one exempts from the other is for the texts and the
    training body to say)."""
    today = today or dt.date.today()
    pairs = [p for p in pairs if p[0] != p[1]]
    numbers = _sheet_numbers(db, {s for p in pairs for s in p}, today)
    wanted = sorted({numbers[s] for p in pairs for s in p if s in numbers})
    if not wanted:
        return {}
    blocs: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    for row in db.execute(
        select(RncpBloc.sheet_number, RncpBloc.title_key, RncpBloc.title, RncpBloc.code)
        .where(RncpBloc.sheet_number.in_(wanted))
        .order_by(RncpBloc.sheet_number, RncpBloc.position)
    ):
        blocs[row.sheet_number].setdefault(row.title_key, (row.title, row.code))
    out: dict[tuple[str, str], SharedBlocs] = {}
    for a, b in pairs:
        na, nb = numbers.get(a), numbers.get(b)
        if na is None or nb is None or na == nb:
            continue
        common = [
            SharedBloc(title=title, codes=(code, blocs[nb][key][1]))
            for key, (title, code) in blocs[na].items()
            if key in blocs[nb]
        ]
        if common:
            out[(a, b)] = SharedBlocs(numbers=(na, nb), blocs=common)
    return out
