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
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, cast

import orjson
import tantivy
from sqlalchemy.orm import Session

from passerelles.search.index import (
    CELL_DEGREES,
    COARSE_CELLS,
    FACET_FIELDS,
    SCHEMA_VERSION,
    TIERED_FIELDS,
    Places,
    build_in_memory,
    current_version,
    week_of,
)
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
from passerelles.search.text import (
    analyze,
    analyze_spans,
    ending_corrections,
    fold,
    near,
    spans_of,
    typo_budget,
)
from passerelles.settings import PROJECT_ROOT

K = TypeVar("K")
V = TypeVar("V")
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
REFERENCE_FIELDS = ("names", "alt", "body")  # only occupations and diplomas have words there
SYNONYM_BOOST = 2.0
TYPO_CANDIDATES = 4
# Sessions and offers are read bucket by bucket (see passerelles.search.index.TIERED_FIELDS): a first
# step covers at least this many records of a kind, each next step four times more, until a page is full.
FIRST_STEP_DOCS = 5000
MAX_CELLS = 30  # beyond, a circle is read from the large map cells
MAX_POINTS = 20000  # places counted at most in one search sorted by distance

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


class Memo(Generic[K, V]):
    """``compute(key)`` remembered for the life of an opened index version (the index does not change
    under it), forgotten all at once past ``bound`` keys so that memory stays bounded."""

    def __init__(self, compute: Callable[[K], V], bound: int = 50000) -> None:
        self._compute = compute
        self._bound = bound
        self._values: dict[K, V] = {}

    def __call__(self, key: K) -> V:
        try:
            return self._values[key]
        except KeyError:
            if len(self._values) >= self._bound:
                self._values.clear()
            value = self._values[key] = self._compute(key)
            return value


class Words(dict[str, float]):
    """The words sessions and offers are searched with, and their weights. ``typos`` are known words read
    for an unknown one: each scores a constant, as a fuzzy match would, not by how rare it is."""

    typos: frozenset[str] = frozenset()
    # Dictionary meanings ("ehpad" → établissement d'hébergement pour personnes âgées dépendantes): each
    # must be found whole (all its words) in a record, with its weight.
    phrases: tuple[tuple[tuple[str, ...], float], ...] = ()

    @property
    def empty(self) -> bool:
        return not self and not self.phrases

    def all_of(self, schema: tantivy.Schema, field: str, terms: list[str], boost: float) -> tantivy.Query:
        """Records holding every one of ``terms`` in ``field`` (a phrase's words), scored with ``boost``."""
        if len(terms) == 1:
            return tantivy.Query.boost_query(tantivy.Query.term_query(schema, field, terms[0]), boost)
        musts = [(tantivy.Occur.Must, tantivy.Query.term_query(schema, field, t)) for t in terms]
        return tantivy.Query.boost_query(tantivy.Query.boolean_query(musts), boost)

    def query(self, schema: tantivy.Schema, field: str, term: str, word: str, boost: float) -> tantivy.Query:
        """The term ``term`` of ``field``, standing for ``word``, scored with ``boost``."""
        q = tantivy.Query.term_query(schema, field, term)
        if word in self.typos:
            return tantivy.Query.const_score_query(q, boost)
        return tantivy.Query.boost_query(q, boost)


class Vocabulary:
    """The words of names (``names``, ``alt``; ``rw`` for sessions and offers) with their frequencies, in a
    small tantivy index of their own: the candidates for a word the index does not know, found with tantivy's fuzzy
    automaton over a few thousand words instead of the million documents.

    The search then asks for those words as plain terms, which keeps its disjunction a union of term
    queries: the form tantivy can prune (block-max WAND) instead of scoring every matching document."""

    def __init__(self, searcher: tantivy.Searcher) -> None:
        counts: dict[str, int] = {}
        for field in ("names", "alt", "rw"):
            for term, n in searcher.terms_with_prefix(field, ""):
                counts[term] = counts.get(term, 0) + int(n)
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("t", stored=True, tokenizer_name="raw", index_option="basic")
        sb.add_integer_field("df", fast=True)
        self.schema = sb.build()
        index = tantivy.Index(self.schema)
        writer = index.writer(50_000_000, 1)
        for term, n in counts.items():
            writer.add_document(tantivy.Document(t=term, df=n))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        self.searcher = index.searcher()
        self.size = len(counts)

    def candidates(self, token: str, limit: int) -> list[str]:
        """Known words within the typo budget of ``token`` (same first letter), most frequent first."""
        budget = typo_budget(token)
        if not budget or not self.size:
            return []
        q = tantivy.Query.fuzzy_term_query(self.schema, "t", token, budget, True, False)
        res = self.searcher.search(q, 64, count=False, order_by_field="df")
        out: list[str] = []
        for _df, addr in res.hits:
            word = str(self.searcher.doc(addr).get_first("t"))
            if word[:1] == token[:1] and word != token:
                out.append(word)
                if len(out) >= limit:
                    break
        return out


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
        # Looked up word by word on every search: remembered (see Memo).
        self._df = Memo(self._doc_freq)
        self._in_place: Memo[str, bool] = Memo(lambda token: self.searcher.doc_freq("place", token) > 0)
        self._is_name_word = Memo(self._search_name_word)
        self._candidates: Memo[str, list[str]] = Memo(lambda t: self.vocabulary.candidates(t, TYPO_CANDIDATES))
        self.vocabulary = Vocabulary(self.searcher)
        self.buckets = self._read_buckets()
        self._steps_cache: dict[tuple[str, str, int], list[list[str]]] = {}

    @classmethod
    def open(cls, folder: Path, synonyms: Synonyms) -> SearchEngine:
        index = tantivy.Index.open(str(folder))
        places = Places.from_json(json.loads((folder / "places.json").read_text()))
        suggest = json.loads((folder / "suggest.json").read_text())
        return cls(index, places, suggest, synonyms)

    # --- query building ---------------------------------------------------------------------------

    def _doc_freq(self, token: str) -> int:
        """Documents holding ``token`` in any text field (a sum: an upper bound of the union)."""
        return sum(self.searcher.doc_freq(f, token) for f in ("names", "alt", "body", "rw", "place"))

    def _known(self, token: str) -> bool:
        return self._df(token) > 0

    def _search_name_word(self, token: str) -> bool:
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
            tantivy.Query.boost_query(tantivy.Query.term_query(self.schema, f, token), FIELD_BOOST[f])
            for f in REFERENCE_FIELDS
        ]
        budget = typo_budget(token)
        if fuzzy and budget:
            for candidate in self._candidates(token):
                for f in ("names", "alt"):
                    q = tantivy.Query.term_query(self.schema, f, candidate)
                    parts.append(tantivy.Query.const_score_query(q, FIELD_BOOST[f] * 0.8))
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
    ) -> tuple[
        tantivy.Query | None,
        Callable[[], tantivy.Query] | None,
        set[str],
        list[str],
        tuple[str, str] | None,
        float,
        Words,
    ]:
        """(full query, builder of the facets' query, terms to highlight, unknown words, place found in the
        text, upper bound of the documents holding the words, the words sessions and offers are searched
        with).

        The full query (fields, whole names, phrases, dictionary) ranks occupations and diplomas; sessions
        and offers (a million documents) are read bucket by bucket with the same words (``Words``: typo
        candidates and dictionary meanings included), see ``_records``."""
        tokens = tuple(dict.fromkeys(analyze(q[:MAX_QUERY_CHARS])))[:MAX_QUERY_TOKENS]
        if not tokens:
            return None, None, set(), [], None, float(self.searcher.num_docs), Words()
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
        phrases: dict[tuple[str, ...], float] = {}
        for expansion in self.synonyms.expand(tokens):
            for phrase in expansion.means:
                terms.update(phrase)
                boost = SYNONYM_BOOST * len(expansion.matched) * weight
                clauses.append((tantivy.Occur.Should, self._phrase_query(phrase, boost)))
                clauses.append((tantivy.Occur.Should, self._exact(" ".join(phrase), EXACT_BOOST * 0.5 * weight)))
                if phrase not in phrases and phrase != tokens:
                    phrases[phrase] = 0.5 * weight
        # Sessions and offers: the words, plus for an unknown word the known words within its typo budget.
        words = Words(lean_terms)
        words.phrases = tuple(phrases.items())
        typos = []
        for t in unknown:
            for candidate in self._candidates(t):
                if candidate not in words:
                    words[candidate] = 0.8 * lean_terms.get(t, 1.0)
                    typos.append(candidate)
                terms.add(candidate)  # highlighted like the words typed
        words.typos = frozenset(typos)
        bound = self._bound(words, exact)
        return (
            tantivy.Query.boolean_query(clauses),
            lambda: self._lean(words, exact),
            terms,
            unknown,
            place,
            bound,
            words,
        )

    def _bound(self, words: Words, exact: str) -> float:
        """An upper bound of the documents holding the words (a sum of document frequencies)."""
        bound = float(self.searcher.doc_freq("exact", exact))
        bound += sum(self._df(t) for t in words)
        bound += sum(min(self._df(t) for t in phrase) for phrase, _weight in words.phrases)
        return bound

    def _lean(self, words: Words, exact: str) -> tantivy.Query:
        """Every document holding one of the words: what facets count (built only when they are asked)."""
        clauses = [(tantivy.Occur.Should, self._exact(exact, EXACT_BOOST))]
        fields = ("names", "alt", "body", "rw", "place")
        for t in words:
            for f in fields:
                clauses.append((tantivy.Occur.Should, tantivy.Query.term_query(self.schema, f, t)))
        for phrase, _weight in words.phrases:
            each = [
                tantivy.Query.boolean_query(
                    [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, f, t)) for f in fields]
                )
                for t in phrase
            ]
            clauses.append((tantivy.Occur.Should, tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in each])))
        return tantivy.Query.boolean_query(clauses)

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

        terms = self._terms
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
                out["commune"] = self._box(lat, lon, radius)
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

    def _terms(self, field: str, values: Iterable[str]) -> tantivy.Query:
        """Documents with one of ``values`` in ``field``: term queries, which an intersection can skip
        through (a term set would first read every posting of every value into a bit set)."""
        queries = [tantivy.Query.term_query(self.schema, field, v) for v in dict.fromkeys(values)]
        if len(queries) == 1:
            return queries[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])

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

    # --- sessions and offers, bucket by bucket -------------------------------------------------------

    def _read_buckets(self) -> dict[str, list[tuple[str, int]]]:
        """Buckets of each kind with their sizes, from the marker terms (``~o20680``) of the tiered field."""
        out: dict[str, list[tuple[str, int]]] = {"training": [], "offer": []}
        for term, n in self.searcher.terms_with_prefix("tn", "~"):
            kind = {"t": "training", "o": "offer"}.get(term[1:2])
            if kind:
                out[kind].append((term[1:], int(n)))
        return out

    def _steps(self, kind: str, sort: str) -> list[list[str]]:
        key = (kind, sort, week_of(dt.date.today()))
        steps = self._steps_cache.get(key)
        if steps is None:
            steps = self._steps_cache[key] = self._plan_steps(kind, sort)
        return steps

    def _plan_steps(self, kind: str, sort: str) -> list[list[str]]:
        """The buckets of ``kind`` grouped in steps, in the order a page is filled.

        By relevance: newest offers first; sessions starting from this week on (soonest first), then those
        already started (latest first). By date: the sort's own order. Unknown dates come last."""
        buckets = [(b, n) for b, n in self.buckets[kind] if b[1:] != "x"]
        undated = [(b, n) for b, n in self.buckets[kind] if b[1:] == "x"]

        def week(b: tuple[str, int]) -> int:
            return int(b[0][1:])

        if kind == "offer" or sort == "date_publication":
            ordered = sorted(buckets, key=week, reverse=True)
        elif sort == "date_debut":
            ordered = sorted(buckets, key=week)
        else:
            now = week_of(dt.date.today())
            ordered = sorted((b for b in buckets if week(b) >= now), key=week)
            ordered += sorted((b for b in buckets if week(b) < now), key=week, reverse=True)
        steps: list[list[str]] = []
        current: list[str] = []
        size, goal = 0, FIRST_STEP_DOCS
        for name, n in ordered:
            current.append(name)
            size += n
            if size >= goal:
                steps.append(current)
                current, size, goal = [], 0, goal * 4
        current += [b for b, _n in undated]
        if current:
            steps.append(current)
        return steps

    def _tiered(self, words: Words, buckets: list[str]) -> tantivy.Query:
        """A union of term queries over the tiered fields of ``buckets``: the form tantivy prunes."""
        s = self.schema
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if words.empty:  # no text: every record of the buckets (their marker term)
            return tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, tantivy.Query.term_query(s, "tn", f"~{b}")) for b in buckets]
            )
        # Only the fields a word can be found in: sessions have no body; few words are place names.
        fields = {
            t: [
                (field, FIELD_BOOST[source] * weight)
                for source, field in TIERED_FIELDS.items()
                if source == "names"
                or (source == "body" and buckets and buckets[0][0] == "o")
                or (source == "place" and self._in_place(t))
            ]
            for t, weight in words.items()
        }
        for b in buckets:
            for t, per_field in fields.items():
                for field, boost in per_field:
                    clauses.append((tantivy.Occur.Should, words.query(s, field, f"{t}~{b}", t, boost)))
            for phrase, weight in words.phrases:
                q = words.all_of(s, "tn", [f"{t}~{b}" for t in phrase], FIELD_BOOST["names"] * weight)
                clauses.append((tantivy.Occur.Should, q))
        return tantivy.Query.boolean_query(clauses)

    def _records(
        self,
        kinds: list[str],
        words: Words,
        filters: list[tantivy.Query],
        r: SearchQuery,
        circle: tuple[float, float, float] | None,
        need: int,
        cheap: bool,
    ) -> tuple[list[tuple[int, float, Any, float | None]], int, bool]:
        """Up to ``need`` sessions or offers, as (step, score or sort key, address, distance) in page order,
        with how many were counted and whether that count is complete.

        Steps are read in order until the page is full; a step's results all come before the next one's
        (so page 2 continues page 1). When the words and filters can only match a few thousand records
        (``cheap``), every bucket is read in one step and counted exactly."""
        steps: list[list[str]] = self._steps(kinds[0], r.sort) if circle is None else [[]]
        if cheap and steps:
            steps = [[b for step in steps for b in step]]
        order = None
        if r.sort == "date_debut":
            order = ("start", tantivy.Order.Asc)
        elif r.sort == "date_publication":
            order = ("published", tantivy.Order.Desc)
        out: list[tuple[int, float, Any, float | None]] = []
        counted = 0
        for n, buckets in enumerate(steps):
            words_query = self._tiered(words, buckets) if circle is None else self._geo(words, kinds, *circle)
            query = self._combine(words_query, filters)
            limit = need if circle is None else min(DISTANCE_CANDIDATES, 2 * need + 50)
            while True:
                if order:
                    res = self.searcher.search(query, limit, count=True, order_by_field=order[0], order=order[1])
                else:
                    res = self.searcher.search(query, limit, count=True)
                hits: list[tuple[float, Any, float | None]] = [(float(k), a, None) for k, a in res.hits]
                if circle is not None:
                    hits = self._within(hits, circle)
                full = len(res.hits) < limit or len(hits) >= need - len(out) or limit >= DISTANCE_CANDIDATES
                if full:
                    break
                limit = min(DISTANCE_CANDIDATES, limit * 4)
            if circle is None:
                counted += _count(res)
            else:
                counted += len(hits) if len(res.hits) < limit else round(len(hits) * _count(res) / max(1, limit))
            out += [(n, key, a, d) for key, a, d in hits]
            if len(out) >= need:
                return out[:need], counted, n == len(steps) - 1
        return out, counted, True

    def _within(
        self, hits: list[tuple[float, Any, float | None]], circle: tuple[float, float, float]
    ) -> list[tuple[float, Any, float | None]]:
        """The hits inside the circle (exact distance from the documents' coordinates), with it."""
        lat0, lon0, radius = circle
        addrs = [a for _k, a, _d in hits]
        if not addrs:
            return []
        lats = self.searcher.fast_field_values("lat", addrs)
        lons = self.searcher.fast_field_values("lon", addrs)
        kept: list[tuple[float, Any, float | None]] = []
        known: dict[tuple[float, float], float] = {}  # records share places (a commune's centre): measured once
        for (key, addr, _d), la, lo in zip(hits, lats, lons, strict=True):
            if la is not None and lo is not None:
                d = known.get((la, lo))
                if d is None:
                    d = known[(la, lo)] = haversine_km(lat0, lon0, la, lo)
                if d <= radius:
                    kept.append((key, addr, d))
        return kept

    def _cells(self, kind: str, lat: float, lon: float, radius: float) -> list[str]:
        """The map cells of ``kind`` (see passerelles.search.index.CELL_DEGREES) that cover the circle's
        square: small cells, or the large ones when the small would be many."""
        dlat = radius / 111.2
        dlon = radius / (111.32 * max(0.01, math.cos(math.radians(lat))))
        for prefix, size in ((kind[0], CELL_DEGREES), (kind[0].upper(), CELL_DEGREES * COARSE_CELLS)):
            rows = range(math.floor((lat - dlat) / size), math.floor((lat + dlat) / size) + 1)
            columns = range(math.floor((lon - dlon) / size), math.floor((lon + dlon) / size) + 1)
            if len(rows) * len(columns) <= MAX_CELLS or prefix.isupper():
                return [f"{prefix}{i}:{j}" for i in rows for j in columns]
        raise AssertionError("unreachable")

    def _geo(self, words: Words, kinds: list[str], lat: float, lon: float, radius: float) -> tantivy.Query:
        """Records of ``kinds`` in the cells around the point that hold the words (or all of them)."""
        s = self.schema
        cells = [c for kind in kinds for c in self._cells(kind, lat, lon, radius)]
        if words.empty:
            queries = [tantivy.Query.term_query(s, "tg", f"@{c}") for c in cells]
        else:
            queries = [words.query(s, "tg", f"{t}@{c}", t, weight) for c in cells for t, weight in words.items()]
            queries += [
                words.all_of(s, "tg", [f"{t}@{c}" for t in phrase], weight)
                for c in cells
                for phrase, weight in words.phrases
            ]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])

    def _nearest(
        self,
        kinds: list[str],
        words: Words,
        filters: list[tantivy.Query],
        circle: tuple[float, float, float],
        need: int,
    ) -> tuple[list[tuple[int, float, Any, float | None]], int, bool]:
        """Sorted by distance: circles of growing size around the commune until one holds a page of records
        (those are then the nearest of all), each read from the postings of the cells it covers.

        Records are counted per place (a terms aggregation on ``point``, in tantivy): only the places are
        measured, then the records of the nearest places fetched. Records often share a place (a
        commune's centre), so a city's thousands of offers are a few hundred places."""
        lat0, lon0, radius = circle
        rho = max(2.0, radius / 8)
        while True:
            rho = min(rho, radius)
            query = self._combine(self._geo(words, kinds, lat0, lon0, rho), filters)
            agg = self.searcher.aggregate(query, {"p": {"terms": {"field": "point", "size": MAX_POINTS}}})["p"]
            if agg.get("sum_other_doc_count"):  # too many places to count them all: measure each record
                res = self.searcher.search(query, DISTANCE_CANDIDATES, count=False)
                hits = self._within([(0.0, a, None) for _s, a in res.hits], (lat0, lon0, rho))
                hits.sort(key=lambda x: x[2] or 0.0)
                if rho >= radius or len(hits) >= need:
                    return [(0, 0.0, a, d) for _k, a, d in hits[:need]], len(hits), False
                rho *= 3
                continue
            places = self._places_within(agg["buckets"], lat0, lon0, rho, need)
            inside = sum(n for _d, _k, n in places)
            if rho >= radius or inside >= need:
                return self._at_places(query, places, need), inside, rho >= radius
            rho *= 3

    @staticmethod
    def _places_within(buckets: list[dict[str, Any]], lat0: float, lon0: float, radius: float, need: int) -> list[Any]:
        """(distance, point, records) of the aggregated places within ``radius``, nearest first.

        Places are first put on a flat map (within 0.05 % of the great-circle distance up to 300 km: a few
        float operations); only those near the circle's edge, or among the nearest, are measured exactly."""
        ky = EARTH_KM * math.pi / 180
        half = math.pi / 360
        near_edge, margin = [], 0.005 * radius + 0.01
        sure: list[tuple[float, str, int]] = []
        for bucket in buckets:
            key = bucket["key"]
            la, _comma, lo = key.partition(",")
            lat = float(la)
            d = math.hypot((lat - lat0) * ky, (float(lo) - lon0) * ky * math.cos((lat + lat0) * half))
            if d <= radius - margin:
                sure.append((d, key, int(bucket["doc_count"])))
            elif d <= radius + margin:
                near_edge.append((key, int(bucket["doc_count"])))
        out = []
        for key, n in near_edge:
            la, _comma, lo = key.partition(",")
            d = haversine_km(lat0, lon0, float(la), float(lo))
            if d <= radius:
                out.append((d, key, n))
        sure.sort()
        # The places that fill the page are measured exactly (the flat distance may swap close places),
        # and those within the flat map's error of the last of them.
        cutoff, count = math.inf, 0
        for i, (d, key, n) in enumerate(sure):
            if d > cutoff:
                out += sure[i:]  # beyond the page: their order and distance are not shown
                break
            la, _comma, lo = key.partition(",")
            out.append((haversine_km(lat0, lon0, float(la), float(lo)), key, n))
            count += n
            if count >= need and cutoff == math.inf:
                cutoff = d + 2 * margin
        out.sort()
        return out

    def _at_places(
        self, query: tantivy.Query, places: list[tuple[float, str, int]], need: int
    ) -> list[tuple[int, float, Any, float | None]]:
        """The ``need`` records of ``query`` at the nearest of ``places`` (distance, point, count), nearest
        first: every record of the places before the last one needed, the best of that last one."""
        out: list[tuple[int, float, Any, float | None]] = []
        whole: list[str] = []
        taken = 0
        distance: dict[str, float] = {}
        for d, key, n in places:
            distance[key] = d
            if taken + n < need:
                whole.append(key)
                taken += n
                continue
            groups = [(whole, taken), ([key], need - taken)] if whole else [([key], need - taken)]
            break
        else:
            groups = [(whole, taken)] if whole else []
        for keys, limit in groups:
            if limit <= 0:
                continue
            res = self.searcher.search(self._combine(query, [self._terms("point", keys)]), limit, count=False)
            addrs = [a for _s, a in res.hits]
            if addrs:
                lats = self.searcher.fast_field_values("lat", addrs)
                lons = self.searcher.fast_field_values("lon", addrs)
                for a, la, lo in zip(addrs, lats, lons, strict=True):
                    out.append((0, 0.0, a, distance.get(f"{float(la or 0):.6f},{float(lo or 0):.6f}", 0.0)))
        out.sort(key=lambda x: x[3] or 0.0)
        return out

    def _box(self, lat: float, lon: float, radius: float) -> tantivy.Query:
        s = self.schema
        dlat = radius / 111.2
        dlon = radius / (111.32 * max(0.01, math.cos(math.radians(lat))))
        return tantivy.Query.boolean_query(
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

    # --- the full search --------------------------------------------------------------------------

    def query(self, r: SearchQuery) -> SearchPage:
        started = time.perf_counter()
        text, lean, terms, unknown, place, lean_bound, words = self._text(r.q)
        filters, circle = self._filters(r, place)
        need = r.page * r.per_page
        first = (r.page - 1) * r.per_page
        wanted = set(r.types) or {"occupation", "certification", "training", "offer"}
        merged: list[tuple[float, Any, float | None]] = []
        total, complete = 0, True
        # Occupations and diplomas (a few thousand documents): the full query, counted.
        reference_kinds = [k for k in ("occupation", "certification") if k in wanted]
        if reference_kinds and r.sort == "pertinence" and circle is None:
            reference_filters = [f for k, f in filters.items() if k not in ("type", "text_place")]
            if text is None or len(reference_kinds) == 1:
                # The words of the full query are only in occupations and diplomas (sessions and offers keep
                # theirs in their own fields): the type is a filter only without words or for one kind.
                reference_filters.append(self._terms("type", reference_kinds))
            query = self._combine(text, reference_filters)
            res = self.searcher.search(query, need, count=True, weight_by_field=None if place else "weight")
            merged = [(float(score), addr, None) for score, addr in res.hits]
            total += _count(res)
        # Sessions and offers: bucket by bucket.
        # (The circle is read from map cells, then measured: its square is not a filter here.)
        record_filters = [f for k, f in filters.items() if k not in ("type", "text_place", "commune" if circle else "")]
        place_from_text = bool(place and not (r.commune or r.departement or r.region))
        if place and place_from_text:
            record_filters.append(self._place_query(*place))
        cheap = min(lean_bound, self._filter_bound(r)) <= COUNT_CAP
        record_lists: list[list[tuple[int, float, Any, float | None]]] = []
        intents = {INTENTS[t] for t in words if t in INTENTS}
        kinds: list[str] = [k for k in ("training", "offer") if k in wanted and self._applies(k, r)]
        # Around a commune, both kinds are read in one search of their map cells (unless a word asks for
        # one kind, which then gets its bonus); elsewhere each kind walks its own buckets.
        one_search = circle is not None and not intents & set(kinds)
        for group in [kinds] if one_search and kinds else [[k] for k in kinds]:
            if r.sort == "distance" and circle is not None:
                found, counted, done = self._nearest(group, words, record_filters, circle, need)
            else:
                found, counted, done = self._records(group, words, record_filters, r, circle, need, cheap)
            if r.sort == "pertinence" and (intents & set(group) or place_from_text):
                # Asked for by a word ("formation", "emploi") or located where the text says: before the
                # general pages of occupations and diplomas.
                found = [(n, key + INTENT_BONUS, a, d) for n, key, a, d in found]
            record_lists.append(found)
            total += counted
            complete = complete and done
        hits = self._merge(merged, record_lists, r.sort, need)[first:need]
        distances = {id(a): d for _k, a, d in hits if d is not None}
        results = [
            self._hit(key if r.sort == "pertinence" else 0.0, addr, terms, [], r.highlight, distances.get(id(addr)))
            for key, addr, _d in hits
        ]
        facets = self._facets(lean() if lean else None, filters, r) if r.facets else {}
        place_info = None
        if place:
            place_info = PlaceInfo(code=place[1], name=self.gazetteer.name(*place), kind=place[0], from_query=True)
        elif r.commune:
            code = self.gazetteer.commune(r.commune)
            place_info = PlaceInfo(code=code, name=self.places.communes[code][0], kind="commune", from_query=False)
        return SearchPage(
            query=r.q,
            total=total,
            total_exact=complete,
            total_at_least=not complete,
            page=r.page,
            per_page=r.per_page,
            sort=r.sort,
            results=results,
            facets=facets,
            place=place_info,
            corrections=self._corrections(unknown, results),
            took_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    @staticmethod
    def _applies(kind: str, r: SearchQuery) -> bool:
        """Whether records of ``kind`` can pass the filters and sort of ``r`` (each filter is of one kind)."""
        if kind == "offer":
            return not (r.level or r.route or r.modality or r.start_from or r.start_to or r.sort == "date_debut")
        return not (r.contract or r.working_time or r.published_since or r.sort == "date_publication")

    @staticmethod
    def _merge(
        reference: list[tuple[float, Any, float | None]],
        records: list[list[tuple[int, float, Any, float | None]]],
        sort: str,
        need: int,
    ) -> list[tuple[float, Any, float | None]]:
        """One list in page order. Records of both kinds: by step, then by score (or date, or distance);
        occupations and diplomas are interleaved with them by score."""
        rows = [x for lst in records for x in lst]
        if sort == "date_debut":
            rows.sort(key=lambda x: (x[1], x[0]))
        elif sort == "date_publication":
            rows.sort(key=lambda x: (-x[1], x[0]))
        elif sort == "distance":
            rows.sort(key=lambda x: x[3] or 0.0)
        else:
            rows.sort(key=lambda x: (x[0], -x[1]))
        if sort != "pertinence":
            return [(key, a, d) for _n, key, a, d in rows[:need]]
        out: list[tuple[float, Any, float | None]] = []
        i = j = 0
        while len(out) < need and (i < len(reference) or j < len(rows)):
            if j >= len(rows) or (i < len(reference) and reference[i][0] >= rows[j][1]):
                out.append(reference[i])
                i += 1
            else:
                out.append((rows[j][1], rows[j][2], rows[j][3]))
                j += 1
        return out

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
        p = orjson.loads(doc.get_first("payload") or b"{}")
        kind = key.split(":", 1)[0]
        rtype = cast(ResultType, "occupation" if kind == "rome" else kind)
        snippet = p.get("text")
        start, published = p.get("start"), p.get("published")
        return hit_of(
            {
                "type": rtype,
                "id": p.get("id") or key.split(":", 1)[1],
                "title": p["title"],
                "url": p["url"],
                "score": round(score, 3),
                "rome_codes": p.get("rome_codes") or [],
                "matched": self._matched(p, terms) if p.get("aliases") else None,
                "subtitle": p.get("subtitle"),
                "key": key,
                "snippet": snippet,
                "highlight": mark(snippet, terms, unknown) if highlight and snippet else None,
                "city": p.get("city"),
                "commune": p.get("commune"),
                "distance_km": round(distance, 2) if distance is not None else None,
                "start_date": dt.date.fromisoformat(start) if start else None,
                "published_at": dt.datetime.fromisoformat(published) if published else None,
                "contract": p.get("contract"),
                "modality": p.get("modality"),
                "is_demo": bool(p.get("demo")),
            }
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


def hit_of(values: dict[str, Any]) -> SearchHit:
    """``SearchHit.model_construct(**values)`` for a complete set of values, without pydantic's per-field
    work (a fifth of a search's time for a page of 20): the values come from our own index, typed by the
    caller. tests/test_search.py checks it builds the same object as ``model_construct``."""
    if values.keys() != SearchHit.model_fields.keys():
        raise ValueError(f"champs attendus : {list(SearchHit.model_fields)}")
    hit = SearchHit.__new__(SearchHit)
    object.__setattr__(hit, "__dict__", values)
    object.__setattr__(hit, "__pydantic_fields_set__", set(values))
    object.__setattr__(hit, "__pydantic_extra__", None)
    object.__setattr__(hit, "__pydantic_private__", None)
    return hit


def _count(res: Any) -> int:
    return int(getattr(res, "count", 0) or 0)


def _day(value: dt.date | None, *, end: bool = False) -> dt.datetime | None:
    if value is None:
        return None
    moment = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return moment + dt.timedelta(days=1) - dt.timedelta(microseconds=1) if end else moment


def mark(text: str, terms: set[str], unknown: list[str]) -> str:
    """``text`` HTML-escaped, words whose analysed form the query asked for wrapped in <mark>."""
    if unknown:
        spans = [s for s in analyze_spans(text) if s[2] in terms or any(near(u, s[2]) for u in unknown)]
    else:
        spans = spans_of(text, frozenset(terms))
    out, pos = [], 0
    for start, end, _token in spans:
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
    """A version is published in ``root``, was built from this database, with this code's schema (an index
    of an older schema lacks fields the queries read: it is rebuilt by ``passerelles index update``)."""
    folder = current_version(root)
    if folder is None:
        return False
    try:
        info = json.loads((folder / "info.json").read_text())
    except (OSError, ValueError):
        return False
    from sqlalchemy.engine import make_url

    return bool(
        info.get("schema_version") == SCHEMA_VERSION
        and info.get("database") == make_url(database_url).render_as_string(hide_password=True)
    )


def build_index(session: Session, synonyms_file: Path = SYNONYMS_FILE) -> SearchEngine:
    """A search engine over an index built in memory from ``session``'s database."""
    index, places, suggest = build_in_memory(session)
    return SearchEngine(index, places, suggest, load_synonyms(synonyms_file))


def open_backend(session: Session, root: Path, database_url: str, synonyms_file: Path = SYNONYMS_FILE) -> SearchBackend:
    """The published replica in ``root`` when it belongs to this database, else an index built in memory."""
    if published(root, database_url):
        return IndexReplica(root, load_synonyms(synonyms_file))
    return build_index(session, synonyms_file)
