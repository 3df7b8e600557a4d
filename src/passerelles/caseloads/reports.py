"""What the caseload gives to read beyond one file: the funders' dashboard (from anonymous outcome events)
and the counsellor's CSV export of their list."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from passerelles.accounts.models import Account, Platform
from passerelles.accounts.services import AccessDenied, InvalidInput
from passerelles.caseloads.models import OutcomeEvent
from passerelles.caseloads.schemas import Dashboard, DashboardRow, FileSummary
from passerelles.exports import csv_text

INDICATORS = {
    "accompagnees": "Personnes accompagnées",
    "entree_formation": "Entrées en formation",
    "diplome": "Diplômes obtenus",
    "embauche": "Embauches",
    "en_poste_6_mois": "En poste à 6 mois",
}


CSV_COLUMNS = [
    "id",
    "nom",
    "prenom",
    "commune",
    "statut",
    "conseiller",
    "derniere_etape",
    "prochaine_action",
    "visible_employeurs",
]


def csv_rows(rows: list[FileSummary]) -> str:
    """The caseload export (formula cells neutralised by the shared CSV writer)."""
    return csv_text(
        CSV_COLUMNS,
        (
            [
                r.id,
                r.last_name,
                r.first_name,
                r.commune_code or "",
                r.status,
                r.counsellor or "",
                r.last_step or "",
                r.next_action_on.isoformat() if r.next_action_on else "",
                "oui" if r.visible_employeurs else "non",
            ]
            for r in rows
        ),
    )


def dashboard(session: Session, actor: Account, platform_id: int | None, start: dt.date, end: dt.date) -> Dashboard:
    """Figures for funders, from anonymous outcome events: they survive the erasure of files."""
    if actor.role == "conseiller":
        if platform_id not in (None, actor.platform_id):
            raise AccessDenied("Tableau de bord de votre plateforme seulement.")
        platform_id = actor.platform_id
    elif actor.role != "admin":
        raise AccessDenied("Réservé aux conseillers et administrateurs.")
    platform = session.get(Platform, platform_id) if platform_id is not None else None
    if platform is None:
        raise InvalidInput("plateforme", "Plateforme inconnue.")
    if end < start:
        raise InvalidInput("fin", "La fin de période précède son début.")
    events = session.execute(
        select(OutcomeEvent.kind, OutcomeEvent.on, OutcomeEvent.subject_key).where(
            OutcomeEvent.platform_id == platform.id, OutcomeEvent.on >= start, OutcomeEvent.on <= end
        )
    ).all()
    counts = Counter(kind for kind, _on, _key in events)
    people = {key for _kind, _on, key in events}
    months: dict[tuple[int, int], dict[str, Any]] = defaultdict(lambda: {k: 0 for k in INDICATORS} | {"_people": set()})
    for kind, on, key in events:
        m = months[on.year, on.month]  # not strftime: thousands of events per call
        m["_people"].add(key)
        if kind in INDICATORS:
            m[kind] += 1
    by_month: list[dict[str, int | str]] = []
    for month in sorted(months):
        m = months[month]
        row: dict[str, int | str] = {"month": f"{month[0]:04d}-{month[1]:02d}", "accompagnees": len(m["_people"])}
        row |= {k: int(m[k]) for k in INDICATORS if k != "accompagnees"}
        by_month.append(row)
    rows = [DashboardRow(indicator="accompagnees", label=INDICATORS["accompagnees"], value=len(people))]
    rows += [
        DashboardRow(indicator=k, label=v, value=counts.get(k, 0)) for k, v in INDICATORS.items() if k != "accompagnees"
    ]
    return Dashboard(
        platform_id=platform.id, platform=platform.name, start=start, end=end, rows=rows, by_month=by_month
    )
