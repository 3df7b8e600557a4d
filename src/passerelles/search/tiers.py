"""Sessions and offers read bucket by bucket (see ``passerelles.search.fields.TIERED_FIELDS``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import tantivy

from passerelles.search.fields import TIERED_FIELDS, week_of
from passerelles.search.nearby import DISTANCE_CANDIDATES, Nearby
from passerelles.search.query import FIELD_BOOST, Memo, Words, count_of
from passerelles.search.schemas import SearchQuery

# Sessions and offers are read bucket by bucket (see passerelles.search.fields.TIERED_FIELDS): a first
# step covers at least this many records of a kind, each next step four times more, until a page is full.
FIRST_STEP_DOCS = 5000


class Tiers(Nearby):
    """The buckets of sessions and offers and the steps a page is filled with (a base of ``SearchEngine``)."""

    buckets: dict[str, list[tuple[str, int]]]
    _steps_cache: dict[tuple[str, str, int], list[list[str]]]
    _in_place: Memo[str, bool]

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
                counted += count_of(res)
            else:
                counted += len(hits) if len(res.hits) < limit else round(len(hits) * count_of(res) / max(1, limit))
            out += [(n, key, a, d) for key, a, d in hits]
            if len(out) >= need:
                return out[:need], counted, n == len(steps) - 1
        return out, counted, True
