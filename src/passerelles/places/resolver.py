"""The importers' commune resolver: a record's INSEE code, postcode and city name to one commune of the COG,
from every commune held in memory (about 37 000, one query per import), so that resolving costs no query.

Order: the INSEE code; else the postcode (among the communes sharing it, the one whose name matches the
city, else the most specific then the most populous); else a city name (keyed by
:func:`passerelles.places.names.name_key`) that designates one commune only. A code or postcode that matches
no commune rejects the record (:class:`~passerelles.importing.report.RecordError`); a record with no usable
place is kept without a commune.

:meth:`CommuneIndex.named_in_postcode_area` is the stricter rule of the training catalogues (LHÉO), whose
places name their city: the city's name must match, within the postcode or, for a CEDEX or outdated
postcode, as the only commune of that name in the postcode's département.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, select
from sqlalchemy.sql.schema import Table

from passerelles.importing.report import RecordError
from passerelles.places.models import Commune
from passerelles.places.names import name_key

POSTCODE = re.compile(r"^[0-9]{5}$")


def departements_of_postcode(postcode: str) -> tuple[str, ...]:
    """The départements a postcode can lie in (Corsica's 20xxx are in 2A or 2B; overseas use three digits)."""
    if postcode.startswith("97"):
        return (postcode[:3],)
    if postcode.startswith("20"):
        return ("2A", "2B")
    return (postcode[:2],)


def departement_of_commune(code_insee: str) -> str:
    """The COG writes a commune's département as its code's prefix (three characters overseas)."""
    return code_insee[:3] if code_insee.startswith("97") else code_insee[:2]


@dataclass(frozen=True, slots=True)
class ResolvedPlace:
    """Where a record is: a commune of the COG (with its centre), or only the city as written (no commune)."""

    commune_code: str | None
    postcode: str | None
    city: str | None
    latitude: float | None
    longitude: float | None


class CommuneIndex:
    """Every commune in memory (about 37 000): INSEE code, postcode and name look-ups without a query."""

    def __init__(self, rows: Iterable[tuple[str, str, list[str] | None, int | None, float | None, float | None]]):
        self.by_code: dict[str, tuple[str, float | None, float | None]] = {}
        # Each commune's name key, worked out once here: matching a record's city against the communes of
        # its postcode then costs a dict look-up per candidate, not a name_key call.
        self.name_keys: dict[str, str] = {}
        by_postcode: dict[str, list[tuple[int, int, str]]] = {}
        by_name: dict[str, list[str]] = {}
        for code, name, postcodes, population, lat, lon in rows:
            self.by_code[code] = (name, lat, lon)
            for p in postcodes or []:
                # The most specific commune first (an arrondissement before its city), then the most populous.
                by_postcode.setdefault(p, []).append((len(postcodes or []), -(population or 0), code))
            key = self.name_keys[code] = name_key(name)
            by_name.setdefault(key, []).append(code)
        self.by_postcode = {p: [c for _, _, c in sorted(v)] for p, v in by_postcode.items()}
        self.by_name = by_name

    @classmethod
    def load(cls, conn: Connection) -> CommuneIndex:
        table = cast(Table, Commune.__table__)
        rows = conn.execute(
            select(
                table.c.code_insee,
                table.c.name,
                table.c.postcodes,
                table.c.population,
                table.c.latitude,
                table.c.longitude,
            )
        )
        return cls(cast(Any, row) for row in rows)

    def __len__(self) -> int:
        return len(self.by_code)

    def coordinates(self, code: str) -> tuple[float | None, float | None]:
        """A known commune's centre (latitude, longitude), ``(None, None)`` when the COG gives none."""
        _, lat, lon = self.by_code[code]
        return lat, lon

    def named_in_postcode_area(self, code: str | None, postcode: str | None, city: str | None) -> str | None:
        """A known INSEE code; else the commune of that postcode whose name is the city's; else, for a CEDEX
        or outdated postcode, the only commune of the city's name in the postcode's département(s)."""
        if code and code in self.by_code:
            return code
        if not city or not postcode:
            return None
        wanted = name_key(city)
        for candidate in self.by_postcode.get(postcode, ()):
            if self.name_keys[candidate] == wanted:
                return candidate
        areas = departements_of_postcode(postcode)
        named = [c for c in self.by_name.get(wanted, ()) if departement_of_commune(c) in areas]
        return named[0] if len(named) == 1 else None

    def _place(self, code: str, postcode: str | None) -> ResolvedPlace:
        name, lat, lon = self.by_code[code]
        return ResolvedPlace(code, postcode, name, lat, lon)

    def _by_postcode(self, postcode: str, city: str | None) -> ResolvedPlace | None:
        candidates = self.by_postcode.get(postcode)
        if not candidates:
            return None
        if len(candidates) > 1 and city:
            wanted = name_key(city)
            for code in candidates:
                if self.name_keys[code] == wanted:
                    return self._place(code, postcode)
        return self._place(candidates[0], postcode)

    def resolve(
        self,
        *,
        code: str | None,
        postcode: str | None,
        city: str | None,
        code_field: str,
        postcode_field: str,
        notes: Counter[str],
    ) -> ResolvedPlace:
        """INSEE code first, then postcode (with the city's name among several communes), then a name that
        designates one commune only. A code or postcode that matches no commune rejects the record."""
        if postcode is not None and not POSTCODE.match(postcode):
            if code and code.upper() in self.by_code:
                return self._place(code.upper(), None)  # the INSEE code is enough: the bad postcode is dropped
            raise RecordError(postcode_field, f"code postal invalide : {postcode!r}")
        if code:
            code = code.upper()
            if code in self.by_code:
                return self._place(code, postcode)
            place = self._by_postcode(postcode, city) if postcode else None
            if place is None:
                raise RecordError(code_field, f"commune inconnue : code INSEE {code!r}")
            notes["code commune inconnu, commune retrouvée par son code postal"] += 1
            return place
        if postcode:
            place = self._by_postcode(postcode, city)
            if place is None:
                raise RecordError(postcode_field, f"commune inconnue : code postal {postcode!r}")
            return place
        if city:
            codes = self.by_name.get(name_key(city), [])
            if len(codes) == 1:
                return self._place(codes[0], None)
        notes["lieu de travail sans commune précise (enregistrée sans commune)"] += 1
        return ResolvedPlace(None, None, city[:200] if city else None, None, None)
