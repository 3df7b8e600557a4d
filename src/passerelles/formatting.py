"""French formatting for the pages, with Babel (CLDR data for ``fr_FR``): the Jinja filters registered by
:func:`register` in ``web.make_templates``, the one place where numbers, money, dates, months, distances and
plurals are written. Templates use them instead of ``strftime``, ``round`` or ``'s' if n > 1``.

- ``number``: « 12 345 » (narrow no-break space between thousands); ``digits`` keeps decimals (« 3,5 »).
- ``eur``: « 1 070 € » (whole euros when the amount is whole or ≥ 100, else cents: « 12,50 € »).
- ``date_fr``: « 05/12/2026 »; ``date_long``: « 5 décembre 2026 »; ``month``: « décembre 2026 » (from a
  date, or a « 2026-12 » string, never shown raw).
- ``km``: « 12 km » (« 1,5 km » under 10 km).
- ``salary``: an offer's pay, « 1 800 € à 2 000 € par mois ».
- ``plural``: « 0 offre », « 1 offre », « 2 offres » (French: 0 and 1 take the singular).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

LOCALE = "fr_FR"


def number(value: Any, digits: int = 0) -> str:
    if value is None or value == "":
        return ""
    fmt = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(value, format=fmt, locale=LOCALE)


def eur(value: Any) -> str:
    if value is None or value == "":
        return ""
    amount = Decimal(str(value))
    whole = amount == amount.to_integral_value() or abs(amount) >= 100
    pattern = "#,##0\u00a0¤" if whole else "#,##0.00\u00a0¤"
    return format_currency(amount, "EUR", format=pattern, locale=LOCALE, currency_digits=False)


def _as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value)
    try:
        if len(text) == 7:  # « 2026-12 »
            return dt.date(int(text[:4]), int(text[5:7]), 1)
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def date_fr(value: Any) -> str:
    d = _as_date(value)
    return format_date(d, "dd/MM/yyyy", locale=LOCALE) if d else ("" if value is None else str(value))


def date_long(value: Any) -> str:
    d = _as_date(value)
    return format_date(d, "d MMMM y", locale=LOCALE) if d else ("" if value is None else str(value))


def month(value: Any) -> str:
    d = _as_date(value)
    return format_date(d, "LLLL y", locale=LOCALE) if d else ("" if value is None else str(value))


def source_date(value: str | None) -> str:
    """A source's date as precise as it is given: « 28 novembre 2023 », « 1er mai 2023 », « décembre 2010 »,
    « 2021 »; anything else as it is."""
    if not value:
        return ""
    d = _as_date(value) if len(value) in (7, 10) else None
    if d is None:
        return value
    if len(value) == 7:
        return month(d)
    return f"1er {format_date(d, 'MMMM y', locale=LOCALE)}" if d.day == 1 else date_long(d)


def km(value: Any) -> str:
    if value is None or value == "":
        return ""
    v = float(value)
    return f"{number(v, 1 if v < 10 else 0)}\u00a0km"


def plural(count: Any, singular: str, plural_form: str | None = None, *, show: bool = True) -> str:
    """« 0 offre », « 1 offre », « 2 offres »: French takes the singular below 2."""
    n = count or 0
    word = singular if abs(n) < 2 else (plural_form or singular + "s")
    return f"{number(n)}\u00a0{word}" if show else word


_PERIODS = {"mois": "par mois", "an": "par an", "heure": "de l'heure"}
_EUROS = re.compile(r"([0-9]+(?:[.,][0-9]+)?)\s*Euros?\b", re.IGNORECASE)


def salary(offer: Any) -> str:
    """An offer's pay: « 1 800 € à 2 000 € par mois » from its amounts, else its text with every amount
    written the French way (« Mensuel de 1800.00 Euros » → « Mensuel de 1 800 € »)."""
    low, high = getattr(offer, "salary_min", None), getattr(offer, "salary_max", None)
    period = _PERIODS.get(getattr(offer, "salary_period", None) or "")
    if low is not None and period:
        amounts = eur(low) if high in (None, low) else f"{eur(low)} à {eur(high)}"
        return f"{amounts} {period}"
    text = getattr(offer, "salary_text", None) if not isinstance(offer, str) else offer
    if not text:
        return ""
    return _EUROS.sub(lambda m: eur(Decimal(m.group(1).replace(",", "."))), text)


def register(env: Any) -> None:
    """Register the filters on a Jinja environment."""
    env.filters.update(
        number=number,
        eur=eur,
        date_fr=date_fr,
        date_long=date_long,
        month=month,
        month_fr=month,
        date_source=source_date,
        km=km,
        plural=plural,
        salary=salary,
    )
