"""Opening hours as people read them: the OpenStreetMap ``opening_hours`` syntax the data·inclusion schema
asks for (« Mo-Fr 08:30-12:30; PH off ») parsed by ``opening-hours-py`` and written in French
(« du lundi au vendredi : 8 h 30 – 12 h 30 ; fermé les jours fériés »)."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import opening_hours

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
# A week with no public holiday, to read the weekly pattern from (Monday 12 January 2026).
REFERENCE_MONDAY = dt.datetime(2026, 1, 12)
PUBLIC_HOLIDAYS_OFF = re.compile(r"\bPH\s+off\b", re.IGNORECASE)


def _clock(moment: dt.datetime) -> str:
    return f"{moment.hour} h" if moment.minute == 0 else f"{moment.hour} h {moment.minute:02d}"


def _day_ranges(days: list[int]) -> str:
    if len(days) == 1:
        return DAYS[days[0]]
    if len(days) == 7:
        return "tous les jours"
    if days == list(range(days[0], days[-1] + 1)):
        return f"du {DAYS[days[0]]} au {DAYS[days[-1]]}"
    return ", ".join(DAYS[d] for d in days[:-1]) + " et " + DAYS[days[-1]]


@lru_cache(maxsize=4096)
def in_french(value: str | None) -> str | None:
    """The weekly hours in French, or None when the text is empty or not valid opening_hours (never shown raw)."""
    if not value or not value.strip():
        return None
    try:
        parsed = opening_hours.OpeningHours(value.strip())
    except (opening_hours.ParserError, ValueError):  # type: ignore[attr-defined]
        return None
    by_day: list[tuple[str, ...]] = []
    for offset in range(7):
        start = REFERENCE_MONDAY + dt.timedelta(days=offset)
        spans: list[str] = []
        for begin, end, state, _comment in parsed.intervals(start, start + dt.timedelta(days=1)):
            if str(state) == "open":
                end_text = "minuit" if end.date() > start.date() else _clock(end)
                spans.append(f"{_clock(begin)} – {end_text}")
        by_day.append(tuple(spans))
    groups: list[tuple[tuple[str, ...], list[int]]] = []
    for day, day_spans in enumerate(by_day):
        if not day_spans:
            continue
        same = next((g for g in groups if g[0] == day_spans), None)
        if same is not None:
            same[1].append(day)
        else:
            groups.append((day_spans, [day]))
    if not groups:
        return None
    parts = [
        f"{_day_ranges(days)} : {'24 h sur 24' if shown == ('0 h – minuit',) else ', '.join(shown)}"
        for shown, days in groups
    ]
    text = " ; ".join(parts)
    if PUBLIC_HOLIDAYS_OFF.search(value):
        text += " ; fermé les jours fériés"
    return text[0].upper() + text[1:]
