"""The search service behind one small interface (``SearchBackend``), used by pages, API and CLI.

The index is tantivy (``passerelles.search.index``), built from the database (the system of record);
the French analysis is ours (``passerelles.search.text``) and runs identically at index and query time.

- ``SearchBackend.search(query, types=, limit=)``: the short form (pathways, occupation pages, CLI).
- ``SearchBackend.query(SearchQuery) -> SearchPage``: filters, facets, radius, sorting, pages, snippets.
- ``SearchBackend.suggest(prefix)``: autocomplete on occupation and certification names.

``IndexReplica`` reads a published index directory and follows its ``CURRENT`` pointer (a new version is
picked up on the next search); ``build_index(session)`` builds one in memory from the database.
"""

from __future__ import annotations

import bisect
import datetime as dt
import html
import json
import math
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, cast

import tantivy
from sqlalchemy.orm import Session

from passerelles.search.index import FACET_FIELDS, Places, build_in_memory, current_version
from passerelles.search.schemas import (
    FacetValue,
    PlaceInfo,
    ResultType,
    SearchHit,
    SearchPage,
    SearchQuery,
    SearchResult,
    Suggestion,
)
from passerelles.search.synonyms import Synonyms, load_synonyms
from passerelles.search.text import analyze, analyze_spans, ending_corrections, fold, near, typo_budget
from passerelles.settings import PROJECT_ROOT

MAX_QUERY_CHARS = 200
MAX_QUERY_TOKENS = 8
SYNONYMS_FILE = PROJECT_ROOT / "data" / "search" / "synonyms.yaml"
PLACE_MIN_POPULATION = 5000  # a commune name is read in free text only for towns (avoids "Aide", "Nuit"…)
DISTANCE_CANDIDATES = 20000  # radius and distance sort: candidates examined exactly
# Sessions and offers are counted exactly only when the postings they can match are at most this many
# (an upper bound from document frequencies); beyond, tantivy ranks the top results without counting
# (block-max WAND prunes most of the postings) and the total reads « plus de 10 000 ».
COUNT_CAP = 10000
EARTH_KM = 6371.0088

# Words that say which kind of result is wanted ("formation aide soignant", "emploi infirmier"): the
# sessions or offers get a bonus that brings them next to the occupation's own page.
INTENTS = {
    "formation": "training",
    "former": "training",
    "emploi": "offer",
    "offre": "offer",
    "cdi": "offer",
    "cdd": "offer",
    "recrutement": "offer",
    "poste": "offer",
    "job": "offer",
}
INTENT_BONUS = 25.0
FIELD_BOOST = {"names": 3.0, "alt": 1.6, "body": 0.4, "place": 1.0}
EXACT_BOOST = 12.0
LEAN_FIELDS = ("names", "body", "place")
SYNONYM_BOOST = 2.0

TYPE_LABELS = {
    "occupation": "Métiers",
    "certification": "Diplômes et certifications",
    "training": "Sessions de formation",
    "offer": "Offres d'emploi",
}
ROUTE_LABELS = {
    "initiale": "Formation initiale",
    "continue": "Formation continue",
    "apprentissage": "Apprentissage",
    "vae": "VAE",
    "distance": "À distance",
}
MODALITY_LABELS = {"presentiel": "Présentiel", "distance": "À distance", "mixte": "Mixte"}
WORKING_TIME_LABELS = {"temps_plein": "Temps plein", "temps_partiel": "Temps partiel"}
CONTRACT_LABELS = {
    "CDI": "CDI",
    "CDD": "CDD",
    "MIS": "Intérim",
    "SAI": "Saisonnier",
    "LIB": "Libéral",
    "APP": "Apprentissage",
    "PRO": "Professionnalisation",
}
FACET_TITLES = {
    "type": "Type",
    "region": "Région",
    "departement": "Département",
    "level": "Niveau",
    "route": "Voie d'accès",
    "modality": "Modalité",
    "contract": "Contrat",
    "working_time": "Temps de travail",
}


class SearchBackend(Protocol):
    def search(self, query: str, *, types: set[str] | None = None, limit: int = 20) -> list[SearchResult]: ...

    def query(self, request: SearchQuery) -> SearchPage: ...

    def suggest(self, prefix: str, *, limit: int = 8) -> list[Suggestion]: ...

    def document(self, key: str) -> dict[str, Any] | None: ...


class UnknownPlace(ValueError):
    """The commune of a search is not known: the message names it."""


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


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
        self.commune_by_name: dict[str, str] = {}
        for code, (name, *_rest) in sorted(places.communes.items(), key=lambda x: x[1][4]):
            self.commune_by_name[fold(name)] = code  # the most populated wins (sorted ascending)

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
        code = self.commune_by_name.get(fold(text))
        if code is None:
            raise UnknownPlace(f"commune inconnue : « {text[:80]} »")
        return code


class SearchEngine:
    """One opened index version: stateless between calls, safe to share between threads."""

    def __init__(self, index: tantivy.Index, places: Places, suggest: list[list[str]], synonyms: Synonyms) -> None:
        self.index = index
        self.schema = index.schema
        self.searcher = index.searcher()
        self.places = places
        self.gazetteer = Gazetteer(places)
        self.synonyms = synonyms
        self.suggest_rows = suggest
        self.suggest_keys = [row[0] for row in suggest]
        self._df_cache: dict[str, int] = {}

    @classmethod
    def open(cls, folder: Path, synonyms: Synonyms) -> SearchEngine:
        index = tantivy.Index.open(str(folder))
        places = Places.from_json(json.loads((folder / "places.json").read_text()))
        suggest = json.loads((folder / "suggest.json").read_text())
        return cls(index, places, suggest, synonyms)

    # --- query building ---------------------------------------------------------------------------

    def _df(self, token: str) -> int:
        """Documents holding ``token`` in any text field (a sum: an upper bound of the union)."""
        df = self._df_cache.get(token)
        if df is None:
            df = sum(self.searcher.doc_freq(f, token) for f in ("names", "alt", "body", "place"))
            if len(self._df_cache) > 50000:
                self._df_cache.clear()
            self._df_cache[token] = df
        return df

    def _known(self, token: str) -> bool:
        return self._df(token) > 0

    def _is_name_word(self, token: str) -> bool:
        """A word of occupation or diploma names (not of a session's or offer's free text)."""
        q = tantivy.Query.boolean_query(
            [
                (
                    tantivy.Occur.Must,
                    tantivy.Query.term_set_query(self.schema, "type", ["occupation", "certification"]),
                ),
                (
                    tantivy.Occur.Must,
                    tantivy.Query.boolean_query(
                        [
                            (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "names", token)),
                            (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "alt", token)),
                        ]
                    ),
                ),
            ]
        )
        return bool(self.searcher.search(q, 1, count=False).hits)

    def _token_query(self, token: str, fuzzy: bool) -> tantivy.Query:
        parts = [
            tantivy.Query.boost_query(tantivy.Query.term_query(self.schema, f, token), boost)
            for f, boost in FIELD_BOOST.items()
        ]
        budget = typo_budget(token)
        if fuzzy and budget:
            for f in ("names", "alt"):
                q = tantivy.Query.fuzzy_term_query(self.schema, f, token, budget, True, False)
                parts.append(tantivy.Query.boost_query(q, FIELD_BOOST[f] * 0.8))
            # A typo in an inflected ending ("puericultrise") escapes the stemmer: read the ending as the
            # nearest known one, and keep the stems that the index knows.
            for corrected in ending_corrections(token):
                if self._known(corrected):
                    for f in ("names", "alt"):
                        q = tantivy.Query.term_query(self.schema, f, corrected)
                        parts.append(tantivy.Query.boost_query(q, FIELD_BOOST[f] * 0.8))
        return tantivy.Query.disjunction_max_query(parts, 0.1)

    def _phrase_query(self, tokens: tuple[str, ...], boost: float) -> tantivy.Query:
        musts = [
            (
                tantivy.Occur.Must,
                tantivy.Query.disjunction_max_query(
                    [
                        tantivy.Query.boost_query(tantivy.Query.term_query(self.schema, "names", t), 1.0),
                        tantivy.Query.boost_query(tantivy.Query.term_query(self.schema, "alt", t), 0.6),
                    ],
                    0.0,
                ),
            )
            for t in tokens
        ]
        return tantivy.Query.boost_query(tantivy.Query.boolean_query(musts), boost)

    def _exact(self, value: str, score: float) -> tantivy.Query:
        return tantivy.Query.const_score_query(tantivy.Query.term_query(self.schema, "exact", value), score)

    def _text(
        self, q: str
    ) -> tuple[tantivy.Query | None, tantivy.Query | None, set[str], list[str], tuple[str, str] | None, float]:
        """(full query, lean query, query terms for highlighting, unknown words, place found in the text,
        upper bound of the documents the lean query matches).

        The full query (fields, whole names, phrases, dictionary) ranks occupations and diplomas; sessions
        and offers (a million documents) are ranked by the lean query of the same words (dictionary words
        included), a flat disjunction of term queries that tantivy evaluates several times faster."""
        tokens = tuple(dict.fromkeys(analyze(q[:MAX_QUERY_CHARS])))[:MAX_QUERY_TOKENS]
        if not tokens:
            return None, None, set(), [], None, float(self.searcher.num_docs)
        place = None
        found = self.gazetteer.find(tokens, self._is_name_word)
        if found:
            start, end, kind, code = found
            place = (kind, code)
            tokens = tokens[:start] + tokens[end:]
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        unknown = [t for t in tokens if not self._known(t)]
        lean_terms: dict[str, float] = dict.fromkeys(tokens, 1.0)
        for t in tokens:
            clauses.append((tantivy.Occur.Should, self._token_query(t, t in unknown)))
        terms = set(tokens)
        exact = " ".join(tokens)
        # A whole name, acronym or code typed as such: a constant bonus (no length normalisation, so an
        # occupation with many names is not penalised against a ROME fiche with one).
        clauses.append((tantivy.Occur.Should, self._exact(exact, EXACT_BOOST)))
        if len(tokens) > 1:
            clauses.append((tantivy.Occur.Should, self._phrase_query(tokens, 1.5)))
        # When the query is itself a name or acronym of some record (DEAES, AS), that record leads and
        # the dictionary only adds related results; otherwise (AVS, "personnes âgées") it leads the way.
        direct = self.searcher.doc_freq("exact", exact) > 0
        weight = 0.25 if direct else 1.0
        for expansion in self.synonyms.expand(tokens):
            for phrase in expansion.means:
                terms.update(phrase)
                boost = SYNONYM_BOOST * len(expansion.matched) * weight
                clauses.append((tantivy.Occur.Should, self._phrase_query(phrase, boost)))
                clauses.append((tantivy.Occur.Should, self._exact(" ".join(phrase), EXACT_BOOST * 0.5 * weight)))
                for t in phrase:
                    lean_terms.setdefault(t, 0.5 * weight)
        lean, bound = self._lean(lean_terms, unknown, exact)
        return tantivy.Query.boolean_query(clauses), lean, terms, unknown, place, bound

    def _lean(self, words: dict[str, float], unknown: list[str], exact: str) -> tuple[tantivy.Query, float]:
        """The lean query and an upper bound of the documents it matches (sum of document frequencies)."""
        bound: float = self.searcher.doc_freq("exact", exact)
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for t, weight in words.items():
            # No ``alt``: on sessions and offers it mostly repeats ``names`` (an offer's ROME appellation is
            # its title), and each field is one more union of up to 300 000 postings for common words.
            for f in LEAN_FIELDS:
                q = tantivy.Query.term_query(self.schema, f, t)
                clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(q, FIELD_BOOST[f] * weight)))
            bound += self._df(t)
            if t in unknown and typo_budget(t):
                q = tantivy.Query.fuzzy_term_query(self.schema, "names", t, typo_budget(t), True, False)
                clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(q, FIELD_BOOST["names"] * 0.8)))
                bound = math.inf
        clauses.append((tantivy.Occur.Should, self._exact(exact, EXACT_BOOST)))  # a ROME code
        for kind in {INTENTS[t] for t in words if t in INTENTS}:
            bonus = tantivy.Query.term_query(self.schema, "type", kind)
            clauses.append((tantivy.Occur.Should, tantivy.Query.const_score_query(bonus, INTENT_BONUS)))
            bound += self.searcher.doc_freq("type", kind)
        return tantivy.Query.boolean_query(clauses), bound

    def _filter_bound(self, r: SearchQuery) -> float:
        """An upper bound of the documents the term filters of ``r`` let through (inf when unknown)."""
        bound = math.inf
        for field, values in (
            ("type", r.types),
            ("region", [r.region] if r.region else []),
            ("departement", [r.departement] if r.departement else []),
            ("level", [str(v) for v in r.level]),
            ("route", r.route),
            ("modality", r.modality),
            ("contract", r.contract),
            ("working_time", r.working_time),
        ):
            if values:
                bound = min(bound, sum(self.searcher.doc_freq(field, v) for v in values))
        return bound

    def _filters(
        self, r: SearchQuery, place: tuple[str, str] | None
    ) -> tuple[dict[str, tantivy.Query], tuple[float, float, float] | None]:
        """Filter queries by facet name (so that a facet can be counted without its own filter)."""
        s = self.schema
        out: dict[str, tantivy.Query] = {}

        def terms(field: str, values: Iterable[str]) -> tantivy.Query:
            return tantivy.Query.term_set_query(s, field, list(values))

        if r.types:
            out["type"] = terms("type", r.types)
        if r.region:
            out["region"] = terms("region", [r.region])
        if r.departement:
            out["departement"] = terms("departement", [r.departement])
        if r.level:
            out["level"] = terms("level", [str(v) for v in r.level])
        if r.route:
            out["route"] = terms("route", r.route)
        if r.modality:
            out["modality"] = terms("modality", r.modality)
        if r.contract:
            out["contract"] = terms("contract", r.contract)
        if r.working_time:
            out["working_time"] = terms("working_time", r.working_time)
        if r.start_from or r.start_to:
            out["start"] = tantivy.Query.range_query(
                s, "start", tantivy.FieldType.Date, _day(r.start_from), _day(r.start_to, end=True)
            )
        if r.published_since:
            out["published"] = tantivy.Query.range_query(
                s, "published", tantivy.FieldType.Date, _day(r.published_since), None
            )
        if r.sort == "date_debut":
            out["sort"] = tantivy.Query.exists_query("start")
        elif r.sort == "date_publication":
            out["sort"] = tantivy.Query.exists_query("published")
        circle = None
        if r.commune:
            code = self.gazetteer.commune(r.commune)
            if r.radius_km or r.sort == "distance":
                _n, _d, lat, lon, _p = self.places.communes[code]
                if lat is None or lon is None:
                    raise UnknownPlace(f"commune sans coordonnées : « {code} »")
                radius = r.radius_km or 1000.0  # sorted by distance without a radius: the whole country
                circle = (lat, lon, radius)
                dlat = radius / 111.2
                dlon = radius / (111.32 * max(0.01, math.cos(math.radians(lat))))
                out["commune"] = tantivy.Query.boolean_query(
                    [
                        (
                            tantivy.Occur.Must,
                            tantivy.Query.range_query(s, "lat", tantivy.FieldType.Float, lat - dlat, lat + dlat),
                        ),
                        (
                            tantivy.Occur.Must,
                            tantivy.Query.range_query(s, "lon", tantivy.FieldType.Float, lon - dlon, lon + dlon),
                        ),
                    ]
                )
            else:
                out["commune"] = terms("commune", [code])
        elif r.sort == "distance":
            raise UnknownPlace("le tri par distance demande une commune")
        if place and not (r.commune or r.departement or r.region):
            out["text_place"] = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Should, self._place_query(*place)),
                    # Occupations and diplomas have no place: they stay, sessions and offers must be there.
                    (tantivy.Occur.Should, terms("type", ["occupation", "certification"])),
                ]
            )
        return out, circle

    def _place_query(self, kind: str, code: str) -> tantivy.Query:
        if kind == "commune":
            # By name, so that "Lyon" also covers Lyon 1er … 9e Arrondissement.
            tokens = analyze(self.places.communes[code][0])
            return tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "place", t)) for t in tokens]
            )
        return tantivy.Query.term_query(self.schema, kind, code)

    @staticmethod
    def _combine(text: tantivy.Query | None, filters: Iterable[tantivy.Query]) -> tantivy.Query:
        clauses = [(tantivy.Occur.Must, text)] if text is not None else []
        clauses += [(tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in filters]
        if not clauses:
            return tantivy.Query.all_query()
        if text is None:
            clauses.append((tantivy.Occur.Should, tantivy.Query.all_query()))
        return tantivy.Query.boolean_query(clauses)

    # --- the full search --------------------------------------------------------------------------

    def query(self, r: SearchQuery) -> SearchPage:
        started = time.perf_counter()
        text, lean, terms, unknown, place, lean_bound = self._text(r.q)
        filters, circle = self._filters(r, place)
        if place and text is not None and lean is not None and "text_place" in filters:
            # A place in the text says "where": results located there come before the general pages.
            boost = tantivy.Query.boost_query(self._place_query(*place), 4.0)
            text, lean = (
                tantivy.Query.boolean_query([(tantivy.Occur.Must, q), (tantivy.Occur.Should, boost)])
                for q in (text, lean)
            )
        weight = None if place else "weight"
        need = r.page * r.per_page
        first = (r.page - 1) * r.per_page
        distances: dict[int, float] = {}
        at_least = False
        searcher = self.searcher
        wanted = set(r.types) or {"occupation", "certification", "training", "offer"}
        if circle is None and r.sort == "pertinence":
            # Two searches merged by score: the full query on the few thousand reference documents, the
            # lean one on sessions and offers. Both score with the same index statistics.
            hits_all: list[tuple[float, Any]] = []
            total = 0
            for group, q, w in (
                (("occupation", "certification"), text, weight),
                (("training", "offer"), lean, None),
            ):
                kinds = [k for k in group if k in wanted]
                if not kinds:
                    continue
                if group[0] == "training" and len(kinds) == 2:
                    # Excluding the few thousand reference documents costs less than intersecting with the
                    # million records.
                    reference = tantivy.Query.term_set_query(self.schema, "type", ["occupation", "certification"])
                    part = tantivy.Query.boolean_query(
                        [
                            (tantivy.Occur.Must, self._combine(q, filters.values())),
                            (tantivy.Occur.MustNot, reference),
                        ]
                    )
                else:
                    restrict = tantivy.Query.term_set_query(self.schema, "type", kinds)
                    part = self._combine(q, [*filters.values(), restrict])
                # Reference documents are few: counted. Sessions and offers are counted only when the
                # bound says it is cheap; otherwise tantivy prunes (block-max WAND) and does not count.
                count = group[0] != "training" or min(lean_bound, self._filter_bound(r)) <= COUNT_CAP
                res = searcher.search(part, need, count=count, weight_by_field=w)
                hits_all += [(float(score), addr) for score, addr in res.hits]
                if count or len(res.hits) < need:
                    total += _count(res) if count else len(res.hits)
                else:
                    total += COUNT_CAP
                    at_least = True
            hits_all.sort(key=lambda x: -x[0])
            hits = hits_all[first:need]
            exact_total = not at_least
        elif circle is None:
            query = self._combine(lean, filters.values())
            field = "start" if r.sort == "date_debut" else "published"
            order = tantivy.Order.Asc if r.sort == "date_debut" else tantivy.Order.Desc
            count = min(lean_bound, self._filter_bound(r)) <= COUNT_CAP
            res = searcher.search(query, need, count=count, order_by_field=field, order=order)
            hits = [(0.0, addr) for _score, addr in res.hits[first:need]]
            if count or len(res.hits) < need:
                total, exact_total = (_count(res) if count else len(res.hits)), True
            else:
                total, exact_total, at_least = COUNT_CAP, False, True
        else:
            query = self._combine(lean, filters.values())
            lat0, lon0, radius = circle
            # Sorted by distance, every candidate of the bounding box is measured. Sorted by relevance, the
            # best candidates are measured until the page is full (the square's corners are outside).
            limit = DISTANCE_CANDIDATES if r.sort == "distance" else min(DISTANCE_CANDIDATES, 2 * need + 50)
            # The box is not bounded by document frequencies: counted only when the text or term filters
            # are; otherwise fewer hits than asked means every candidate was seen.
            count = min(lean_bound, self._filter_bound(r)) <= COUNT_CAP
            while True:
                res = searcher.search(query, limit, count=count)
                kept: list[tuple[float, float, Any]] = []
                addrs = [a for _s, a in res.hits]
                lats = searcher.fast_field_values("lat", addrs) if addrs else []
                lons = searcher.fast_field_values("lon", addrs) if addrs else []
                for (score, addr), la, lo in zip(res.hits, lats, lons, strict=True):
                    if la is not None and lo is not None:
                        d = haversine_km(lat0, lon0, la, lo)
                        if d <= radius:
                            kept.append((float(score), d, addr))
                complete = _count(res) <= limit if count else len(res.hits) < limit
                if len(kept) >= need or complete or limit >= DISTANCE_CANDIDATES:
                    break
                limit = min(DISTANCE_CANDIDATES, limit * 4)
            if r.sort == "distance":
                kept.sort(key=lambda x: x[1])
            exact_total = complete
            if exact_total:
                total = len(kept)
            elif count:
                total = round(len(kept) * _count(res) / max(1, len(addrs)))
            else:
                total, at_least = len(kept), True
            hits = []
            for score, d, addr in kept[first:need]:
                distances[id(addr)] = d
                hits.append((score, addr))
        results = [self._hit(score, addr, terms, unknown, r.highlight, distances.get(id(addr))) for score, addr in hits]
        facets = self._facets(lean, filters, r) if r.facets else {}
        place_info = None
        if place:
            place_info = PlaceInfo(code=place[1], name=self.gazetteer.name(*place), kind=place[0], from_query=True)
        elif r.commune:
            code = self.gazetteer.commune(r.commune)
            place_info = PlaceInfo(code=code, name=self.places.communes[code][0], kind="commune", from_query=False)
        return SearchPage(
            query=r.q,
            total=total,
            total_exact=exact_total,
            total_at_least=at_least,
            page=r.page,
            per_page=r.per_page,
            sort=r.sort,
            results=results,
            facets=facets,
            place=place_info,
            corrections=self._corrections(unknown, results),
            took_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _facets(
        self, text: tantivy.Query | None, filters: dict[str, tantivy.Query], r: SearchQuery
    ) -> dict[str, list[FacetValue]]:
        """Disjunctive counts: each facet counted with every filter but its own."""
        groups: dict[tuple[str, ...], list[str]] = {}
        for f in FACET_FIELDS:
            others = tuple(k for k in filters if k != f)
            groups.setdefault(others, []).append(f)
        counts: dict[str, dict[str, int]] = {}
        for others, fields in groups.items():
            q = self._combine(text, [filters[k] for k in others])
            aggs = {f: {"terms": {"field": f, "size": 120 if f == "departement" else 30}} for f in fields}
            result = self.searcher.aggregate(q, aggs)
            for f in fields:
                counts[f] = {b["key"]: int(b["doc_count"]) for b in result[f]["buckets"]}
        selected: dict[str, set[str]] = {
            "type": set(r.types),
            "region": {r.region} if r.region else set(),
            "departement": {r.departement} if r.departement else set(),
            "level": {str(v) for v in r.level},
            "route": set(r.route),
            "modality": set(r.modality),
            "contract": set(r.contract),
            "working_time": set(r.working_time),
        }
        out: dict[str, list[FacetValue]] = {}
        for f, values in counts.items():
            items = [
                FacetValue(value=v, label=self._label(f, v), count=c, selected=v in selected[f])
                for v, c in values.items()
            ]
            for v in selected[f] - set(values):
                items.append(FacetValue(value=v, label=self._label(f, v), count=0, selected=True))
            out[f] = (
                sorted(items, key=lambda x: (-x.count, x.label))
                if f not in ("level",)
                else sorted(items, key=lambda x: x.value)
            )
        return out

    def _label(self, facet: str, value: str) -> str:
        if facet == "type":
            return TYPE_LABELS.get(value, value)
        if facet == "region":
            return self.places.regions.get(value, value)
        if facet == "departement":
            return f"{self.places.departements.get(value, (value,))[0]} ({value})"
        if facet == "level":
            return f"Niveau {value}"
        if facet == "route":
            return ROUTE_LABELS.get(value, value)
        if facet == "modality":
            return MODALITY_LABELS.get(value, value)
        if facet == "contract":
            return CONTRACT_LABELS.get(value, value)
        return WORKING_TIME_LABELS.get(value, value)

    def _hit(
        self, score: float, addr: Any, terms: set[str], unknown: list[str], highlight: bool, distance: float | None
    ) -> SearchHit:
        doc = self.searcher.doc(addr)
        key = str(doc.get_first("key"))
        p = json.loads(doc.get_first("payload") or b"{}")
        kind = key.split(":", 1)[0]
        rtype = cast(ResultType, "occupation" if kind == "rome" else kind)
        snippet = p.get("text")
        return SearchHit(
            type=rtype,
            id=p.get("id") or key.split(":", 1)[1],
            key=key,
            title=p["title"],
            url=p["url"],
            score=round(score, 3),
            rome_codes=p.get("rome_codes") or [],
            subtitle=p.get("subtitle"),
            matched=self._matched(p, terms),
            snippet=snippet,
            highlight=mark(snippet, terms, unknown) if highlight and snippet else None,
            city=p.get("city"),
            commune=p.get("commune"),
            distance_km=round(distance, 2) if distance is not None else None,
            start_date=p.get("start"),
            published_at=p.get("published"),
            contract=p.get("contract"),
            modality=p.get("modality"),
            is_demo=bool(p.get("demo")),
        )

    @staticmethod
    def _matched(payload: dict[str, Any], terms: set[str]) -> str | None:
        """The other name of a result that the query found (e.g. the former name "Aide médico-psychologique")."""
        title_tokens = set(analyze(payload["title"]))
        if not terms or terms <= title_tokens:
            return None
        best, best_n = None, 0
        for name in payload.get("aliases") or []:
            n = len(terms & set(analyze(name)))
            if n > best_n:
                best, best_n = name, n
        return best

    @staticmethod
    def _corrections(unknown: list[str], results: list[SearchHit]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for u in unknown:
            seen: dict[str, None] = {}
            for hit in results[:10]:
                for token in analyze(hit.title):
                    if token != u and near(u, token):
                        seen[token] = None
            out[u] = list(seen)[:3]
        return out

    # --- short form, autocomplete, one document ---------------------------------------------------

    def search(self, query: str, *, types: set[str] | None = None, limit: int = 20) -> list[SearchResult]:
        if not fold(query):
            return []
        page = self.query(
            SearchQuery(
                q=query[:MAX_QUERY_CHARS],
                types=sorted(types or []),
                per_page=min(limit, 100),
                facets=False,
                highlight=False,
            )
        )
        return [SearchResult(**h.model_dump(include=set(SearchResult.model_fields))) for h in page.results]

    def suggest(self, prefix: str, *, limit: int = 8) -> list[Suggestion]:
        """Names starting with ``prefix`` (or with a word starting with it): occupations first."""
        p = fold(prefix[:MAX_QUERY_CHARS])
        if len(p) < 2:
            return []
        out: dict[str, Suggestion] = {}
        i = bisect.bisect_left(self.suggest_keys, p)
        starts: list[list[str]] = []
        while i < len(self.suggest_keys) and self.suggest_keys[i].startswith(p) and len(starts) < 200:
            starts.append(self.suggest_rows[i])
            i += 1
        word = " " + p
        inner = [row for row in self.suggest_rows if word in " " + row[0]] if len(starts) < limit else []
        for row in sorted(starts, key=lambda x: (x[4], len(x[0]))) + inner:
            if row[1] not in out:
                out[row[1]] = Suggestion(label=row[1], type=row[2], url=row[3])
            if len(out) >= limit:
                break
        return list(out.values())

    def document(self, key: str) -> dict[str, Any] | None:
        res = self.searcher.search(tantivy.Query.term_query(self.schema, "key", key), 1)
        if not res.hits:
            return None
        doc = self.searcher.doc(res.hits[0][1])
        payload: dict[str, Any] = json.loads(doc.get_first("payload") or b"{}")
        payload["key"] = key
        return payload


def _count(res: Any) -> int:
    return int(getattr(res, "count", 0) or 0)


def _day(value: dt.date | None, *, end: bool = False) -> dt.datetime | None:
    if value is None:
        return None
    moment = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return moment + dt.timedelta(days=1) - dt.timedelta(microseconds=1) if end else moment


def mark(text: str, terms: set[str], unknown: list[str]) -> str:
    """``text`` HTML-escaped, words whose analysed form the query asked for wrapped in <mark>."""
    out, pos = [], 0
    for start, end, token in analyze_spans(text):
        hit = token in terms or any(near(u, token) for u in unknown)
        if hit:
            out.append(html.escape(text[pos:start]))
            out.append("<mark>" + html.escape(text[start:end]) + "</mark>")
            pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


class IndexReplica:
    """A read-only replica of a published index directory; follows ``CURRENT`` when it changes."""

    def __init__(self, root: Path, synonyms: Synonyms | None = None) -> None:
        self.root = root
        self.synonyms = synonyms or load_synonyms(SYNONYMS_FILE)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._engine: SearchEngine | None = None
        self.version: str | None = None

    def _pointer(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.root / "CURRENT")
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def engine(self) -> SearchEngine:
        stamp = self._pointer()
        if self._engine is None or stamp != self._stamp:
            with self._lock:
                if self._engine is None or stamp != self._stamp:
                    folder = current_version(self.root)
                    if folder is None:
                        raise FileNotFoundError(f"aucun index publié dans {self.root}")
                    self._engine = SearchEngine.open(folder, self.synonyms)
                    self._stamp, self.version = stamp, folder.name
        return self._engine

    def search(self, query: str, *, types: set[str] | None = None, limit: int = 20) -> list[SearchResult]:
        return self.engine().search(query, types=types, limit=limit)

    def query(self, request: SearchQuery) -> SearchPage:
        return self.engine().query(request)

    def suggest(self, prefix: str, *, limit: int = 8) -> list[Suggestion]:
        return self.engine().suggest(prefix, limit=limit)

    def document(self, key: str) -> dict[str, Any] | None:
        return self.engine().document(key)


def published(root: Path, database_url: str) -> bool:
    """A version is published in ``root`` and was built from this database."""
    folder = current_version(root)
    if folder is None:
        return False
    try:
        info = json.loads((folder / "info.json").read_text())
    except (OSError, ValueError):
        return False
    from sqlalchemy.engine import make_url

    return bool(info.get("database") == make_url(database_url).render_as_string(hide_password=True))


def build_index(session: Session) -> SearchEngine:
    """A search engine over an index built in memory from ``session``'s database."""
    index, places, suggest = build_in_memory(session)
    return SearchEngine(index, places, suggest, load_synonyms(SYNONYMS_FILE))


def open_backend(session: Session, root: Path, database_url: str) -> SearchBackend:
    """The published replica in ``root`` when it belongs to this database, else an index built in memory."""
    if published(root, database_url):
        return IndexReplica(root)
    return build_index(session)
