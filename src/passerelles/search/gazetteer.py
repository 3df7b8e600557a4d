"""Places in a search: the communes, départements and régions an index carries (``Places``, saved with each
version so that a replica needs no database), and the ``Gazetteer`` that finds a place named in a query's
text or resolves the commune of a filter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from passerelles.places.models import Commune, Departement, Region
from passerelles.places.names import name_key
from passerelles.search.text import analyze

PLACE_MIN_POPULATION = 5000  # a commune name is read in free text only for towns (avoids "Aide", "Nuit"…)


@dataclass
class Places:
    """The gazetteer a replica needs without the database: communes, départements, régions."""

    communes: dict[str, tuple[str, str, float | None, float | None, int]]  # code → name, dept, lat, lon, pop
    departements: dict[str, tuple[str, str]]  # code → name, région code
    regions: dict[str, str]  # code → name

    def to_json(self) -> dict[str, Any]:
        return {"communes": self.communes, "departements": self.departements, "regions": self.regions}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Places:
        return cls(
            {k: tuple(v) for k, v in data["communes"].items()},
            {k: tuple(v) for k, v in data["departements"].items()},
            data["regions"],
        )


def read_places(session: Session) -> Places:
    communes = {
        code: (name, dept, lat, lon, pop or 0)
        for code, name, dept, lat, lon, pop in session.execute(
            select(
                Commune.code_insee,
                Commune.name,
                Commune.departement_code,
                Commune.latitude,
                Commune.longitude,
                Commune.population,
            )
        )
    }
    departements = {
        c: (n, r) for c, n, r in session.execute(select(Departement.code, Departement.name, Departement.region_code))
    }
    regions = {code: name for code, name in session.execute(select(Region.code, Region.name))}
    return Places(communes, departements, regions)


class UnknownPlace(ValueError):
    """The commune of a search is not known: the message names it."""


class Gazetteer:
    """Place names a query may contain (towns, départements, régions), on analysed tokens."""

    def __init__(self, places: Places) -> None:
        self.places = places
        self.by_tokens: dict[tuple[str, ...], tuple[str, str]] = {}
        best_pop: dict[tuple[str, ...], int] = {}
        for code, (name, _dept, _lat, _lon, pop) in places.communes.items():
            key = analyze(name)
            if key and pop >= PLACE_MIN_POPULATION and pop > best_pop.get(key, -1):
                best_pop[key] = pop
                self.by_tokens[key] = ("commune", code)
        for code, (name, _region) in places.departements.items():
            self.by_tokens.setdefault(analyze(name), ("departement", code))
        for code, name in places.regions.items():
            self.by_tokens.setdefault(analyze(name), ("region", code))
        self.by_tokens.pop((), None)
        self.longest = max((len(k) for k in self.by_tokens), default=0)
        # The commune of a filter, by the one commune-name key (« St-Étienne » finds Saint-Étienne); the
        # free text above keeps the analysed tokens, which the query's words are made of.
        self.commune_by_name: dict[str, str] = {}
        for code, (name, *_rest) in sorted(places.communes.items(), key=lambda x: x[1][4]):
            self.commune_by_name[name_key(name)] = code  # the most populated wins (sorted ascending)

    def find(self, tokens: tuple[str, ...], is_word: Any = None) -> tuple[int, int, str, str] | None:
        """The last place name in ``tokens`` (start, end, kind, code): places usually end a query.

        A one-word name that is also a word of occupation names ("hôpital" is a town in Moselle) is read
        as that word, not as the place."""
        for n in range(min(self.longest, len(tokens)), 0, -1):
            for i in range(len(tokens) - n, -1, -1):
                hit = self.by_tokens.get(tokens[i : i + n])
                if hit and (n < len(tokens)):  # a query that is only a place name stays a text search
                    if n == 1 and is_word is not None and is_word(tokens[i]):
                        continue
                    return i, i + n, hit[0], hit[1]
        return None

    def name(self, kind: str, code: str) -> str:
        if kind == "commune":
            return self.places.communes[code][0]
        if kind == "departement":
            return self.places.departements[code][0]
        return self.places.regions[code]

    def commune(self, text: str) -> str:
        text = text.strip()
        if text in self.places.communes:
            return text
        code = self.commune_by_name.get(name_key(text))
        if code is None:
            raise UnknownPlace(f"commune inconnue : « {text[:80]} »")
        return code
