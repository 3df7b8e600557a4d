"""``SearchEngine``: one opened index version, the full search (``query``), the short form, autocomplete
and one document; ``hit_of`` and ``mark`` build what a result shows."""

from __future__ import annotations

import bisect
import datetime as dt
import html
import json
import time
from pathlib import Path
from typing import Any, cast

import orjson
import tantivy

from passerelles.search.facets import Filters
from passerelles.search.gazetteer import Gazetteer, Places
from passerelles.search.query import MAX_QUERY_CHARS, TYPO_CANDIDATES, Memo, Vocabulary, count_of
from passerelles.search.schemas import (
    PlaceInfo,
    ResultType,
    SearchHit,
    SearchPage,
    SearchQuery,
    SearchResult,
    Suggestion,
)
from passerelles.search.synonyms import Synonyms
from passerelles.search.text import analyze, analyze_spans, fold, near, spans_of
from passerelles.search.tiers import Tiers

# Sessions and offers are counted exactly only when the postings they can match are at most this many
# (an upper bound from document frequencies); beyond, tantivy ranks the top results without counting
# (block-max WAND prunes most of the postings) and the total reads « plus de 10 000 ».
COUNT_CAP = 10000

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


NAMED_CAP = 50  # occupations and diplomas a query may name, put before everything else on its pages


class SearchEngine(Filters, Tiers):
    """One opened index version: stateless between calls, safe to share between threads.

    Its parts live in their modules, as bases sharing the state set here: ``TextQueries`` (query.py, the
    words and the query that ranks occupations and diplomas), ``Nearby`` (nearby.py, around a commune),
    ``Tiers`` (tiers.py, sessions and offers bucket by bucket), ``Filters`` (facets.py, filters and facet
    counts). This class opens the version and puts a page together."""

    def __init__(self, index: tantivy.Index, places: Places, suggest: list[list[str]], synonyms: Synonyms) -> None:
        self.index = index
        self.schema = index.schema
        self.searcher = index.searcher()
        self.places = places
        self.gazetteer = Gazetteer(places)
        self.synonyms = synonyms.extended(self._names_of_occupations())
        self.suggest_rows = suggest
        self.suggest_keys = [row[0] for row in suggest]
        # Looked up word by word on every search: remembered (see Memo).
        self._df = Memo(self._doc_freq)
        self._in_place: Memo[str, bool] = Memo(lambda token: self.searcher.doc_freq("place", token) > 0)
        self._is_name_word = Memo(self._search_name_word)
        self._candidates: Memo[str, list[str]] = Memo(lambda t: self.vocabulary.candidates(t, TYPO_CANDIDATES))
        self._compound: Memo[str, tuple[str, ...]] = Memo(self._split_compound)
        self.vocabulary = Vocabulary(self.searcher)
        self.buckets = self._read_buckets()
        self._steps_cache: dict[tuple[str, str, int], list[list[str]]] = {}

    def _names_of_occupations(self) -> list[tuple[list[str], str]]:
        """Each written occupation's other names, feminine forms and acronyms, with its current name: the
        dictionary groups the data gives (an occupation added to data/occupations.yaml needs no entry in
        data/search/synonyms.yaml to be found by all its names)."""
        res = self.searcher.search(tantivy.Query.term_query(self.schema, "type", "occupation"), 10000, count=False)
        out = []
        for _score, addr in res.hits:
            doc = self.searcher.doc(addr)
            if not str(doc.get_first("key")).startswith("occupation:"):
                continue
            payload = orjson.loads(doc.get_first("payload") or b"{}")
            title = payload["title"]
            others = [a for a in payload.get("aliases") or [] if analyze(a) != analyze(title)]
            out.append((others, title))
        return out

    @classmethod
    def open(cls, folder: Path, synonyms: Synonyms) -> SearchEngine:
        index = tantivy.Index.open(str(folder))
        # orjson: a few times faster than json on these 2 MB files, and a parse holds the GIL (a version opened
        # in the background beside the served one stalls the searches of its process for that long).
        places = Places.from_json(orjson.loads((folder / "places.json").read_bytes()))
        suggest = orjson.loads((folder / "suggest.json").read_bytes())
        return cls(index, places, suggest, synonyms)

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
            # At least the named ones' worth, whatever the page: the occupations a query names lead every page
            # alike, so that page 2 follows page 1 (see _named).
            fetch = max(need, NAMED_CAP) if r.sort == "pertinence" else need
            res = self.searcher.search(query, fetch, count=True, weight_by_field=None if place else "weight")
            merged = [(float(score), addr, None) for score, addr in res.hits]
            total += count_of(res)
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
        if merged and r.sort == "pertinence" and not intents and not place_from_text:
            # Occupations and diplomas the query names (all its words in their names) come first: someone
            # typing a name ("aide medico psycologique") looks for the occupation before its offers.
            named = self._named(words, NAMED_CAP)
            lead = [x for x in merged if (x[1].segment_ord, x[1].doc) in named]
            merged = lead + [x for x in merged if (x[1].segment_ord, x[1].doc) not in named]
        else:
            lead = []
        hits = self._merge(merged, record_lists, r.sort, need, lead=len(lead))[first:need]
        distances = {id(a): d for _k, a, d in hits if d is not None}
        results = [
            self._hit(key if r.sort == "pertinence" else 0.0, addr, terms, [], r.highlight, distances.get(id(addr)))
            for key, addr, _d in hits
        ]
        facets, approximate = self._facets(lean, filters, r, lean_bound, place) if r.facets else ({}, False)
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
            facets_approximate=approximate,
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
        *,
        lead: int = 0,
    ) -> list[tuple[float, Any, float | None]]:
        """One list in page order. Records of both kinds: by step, then by score (or date, or distance);
        occupations and diplomas are interleaved with them by score, the first ``lead`` of them before all."""
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
        out: list[tuple[float, Any, float | None]] = list(reference[:lead])
        i, j = lead, 0
        while len(out) < need and (i < len(reference) or j < len(rows)):
            if j >= len(rows) or (i < len(reference) and reference[i][0] >= rows[j][1]):
                out.append(reference[i])
                i += 1
            else:
                out.append((rows[j][1], rows[j][2], rows[j][3]))
                j += 1
        return out

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
