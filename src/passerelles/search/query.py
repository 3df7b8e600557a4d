"""From a query's text to tantivy queries: the words (``Words``), typo candidates (``Vocabulary``), the
full query that ranks occupations and diplomas, and the query helpers every part of the engine uses."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

import tantivy

from passerelles.search.gazetteer import Gazetteer
from passerelles.search.synonyms import Synonyms
from passerelles.search.text import STOPWORDS, analyze, edit_distance, ending_corrections, stem, typo_budget

K = TypeVar("K")
V = TypeVar("V")
MAX_QUERY_CHARS = 200
MAX_QUERY_TOKENS = 8
FIELD_BOOST = {"names": 3.0, "alt": 1.6, "body": 0.4, "place": 1.0}
EXACT_BOOST = 12.0
REFERENCE_FIELDS = ("names", "alt", "body")  # only occupations and diplomas have words there
LEAN_FIELDS = (*REFERENCE_FIELDS, "rw", "place")  # and sessions and offers theirs in these (fields.add_tiered)
SYNONYM_BOOST = 2.0
TYPO_CANDIDATES = 4
CORRECTED_BOOST = 0.8  # a whole name read with its typos corrected scores a little less than typed right
MIN_COMPOUND = 7  # shortest run-together word tried as two words ("aidesoignant")


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
    # The words as typed, and with their typos corrected: an occupation or a diploma whose names hold all of
    # them is what the query names, and comes before sessions and offers (``SearchEngine.query``).
    whole: tuple[tuple[str, ...], ...] = ()

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


def count_of(res: Any) -> int:
    """The count of a tantivy search result (0 when it was not counted)."""
    return int(getattr(res, "count", 0) or 0)


class LeanQueries:
    """The facets' queries of a search's words (see facets.Lean), built when asked."""

    def __init__(self, owner: TextQueries, words: Words, exact: str) -> None:
        self.owner, self.words, self.exact = owner, words, exact

    def whole(self) -> tantivy.Query:
        return self.owner._lean(self.words, self.exact)

    def references(self) -> tantivy.Query:
        return self.owner._lean(self.words, self.exact, REFERENCE_FIELDS)

    def sample(self) -> tantivy.Query:
        return self.owner._lean(self.words, self.exact, ("rs",), with_exact=False)


class TextQueries:
    """The query text read against one opened index version (a base of ``SearchEngine``)."""

    schema: tantivy.Schema
    searcher: tantivy.Searcher
    gazetteer: Gazetteer
    synonyms: Synonyms
    vocabulary: Vocabulary
    _df: Memo[str, int]
    _is_name_word: Memo[str, bool]
    _candidates: Memo[str, list[str]]
    _compound: Memo[str, tuple[str, ...]]

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

    def _name_word(self, token: str) -> bool:
        """``token`` is a word of some occupation's or diploma's names (sessions and offers keep theirs elsewhere)."""
        return bool(self.searcher.doc_freq("names", token) or self.searcher.doc_freq("alt", token))

    def _split_compound(self, token: str) -> tuple[str, ...]:
        """A word typed without its space or hyphen ("aidesoignant") as the two name words it joins; the word
        itself when it is a name word or no cut gives two (memoised: a few term lookups per new word)."""
        if len(token) < MIN_COMPOUND or token.isdigit() or self._name_word(token):
            return (token,)
        best: tuple[int, tuple[str, ...]] | None = None
        for cut in range(3, len(token) - 2):
            left, right = stem(token[:cut]), token[cut:]
            if left in STOPWORDS or not (self._name_word(left) and self._name_word(right)):
                continue
            balance = min(cut, len(token) - cut)
            if best is None or balance > best[0]:
                best = (balance, (left, right))
        return best[1] if best else (token,)

    def _corrected(self, tokens: tuple[str, ...], unknown: list[str]) -> tuple[str, ...]:
        """``tokens`` with each unknown word read as its nearest known name word (fewest edits, then the most
        frequent): "aide medico psycologique" → "aide medico psychologique", a name that can then be
        matched whole and by the dictionary."""
        out = []
        for t in tokens:
            if t in unknown:
                candidates = self._candidates(t)
                if candidates:
                    budget = typo_budget(t)
                    t = min(candidates, key=lambda c: (edit_distance(t, c, budget), candidates.index(c)))
            out.append(t)
        return tuple(out)

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

    def _named(self, words: Words, limit: int) -> set[tuple[int, int]]:
        """Addresses of the written occupations and the diplomas whose names hold every word of the query (as
        typed or corrected): a search of the few thousand reference documents."""
        if not words.whole:
            return set()
        query = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, self._phrase_query(phrase, 1.0)) for phrase in words.whole]
        )
        res = self.searcher.search(query, limit, count=False)
        # The occupations and diplomas the project writes: a ROME fiche is often wider ("crèche" in the name
        # of a fiche does not make it what "travailler en crèche" names).
        return {
            (addr.segment_ord, addr.doc)
            for _score, addr in res.hits
            if not str(self.searcher.doc(addr).get_first("key")).startswith("rome:")
        }

    def _exact(self, value: str, score: float) -> tantivy.Query:
        return tantivy.Query.const_score_query(tantivy.Query.term_query(self.schema, "exact", value), score)

    def _text(
        self, q: str
    ) -> tuple[
        tantivy.Query | None,
        LeanQueries | None,
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
        text = q[:MAX_QUERY_CHARS]
        tokens = self.synonyms.unabbreviate(text, tuple(dict.fromkeys(analyze(text))))
        tokens = tuple(dict.fromkeys(part for t in tokens for part in self._compound(t)))[:MAX_QUERY_TOKENS]
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
        # Typos read as the nearest name words: the whole name and the dictionary get their chance too.
        corrected = self._corrected(tokens, unknown) if unknown else tokens
        if corrected != tokens:
            fixed = " ".join(corrected)
            direct = direct or self.searcher.doc_freq("exact", fixed) > 0
            clauses.append((tantivy.Occur.Should, self._exact(fixed, EXACT_BOOST * CORRECTED_BOOST)))
            clauses.append((tantivy.Occur.Should, self._phrase_query(corrected, 1.5 * CORRECTED_BOOST)))
        weight = 0.25 if direct else 1.0
        phrases: dict[tuple[str, ...], float] = {}
        expansions = self.synonyms.expand(tokens)
        if corrected != tokens:
            expansions += self.synonyms.expand(corrected)
        for expansion in expansions:
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
        words.whole = tuple(dict.fromkeys((tokens, corrected)))
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
            LeanQueries(self, words, exact),
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

    def _lean(
        self, words: Words, exact: str, fields: tuple[str, ...] = LEAN_FIELDS, *, with_exact: bool = True
    ) -> tantivy.Query:
        """Every document holding one of the words in ``fields`` (or, ``with_exact``, the whole query as a
        name): what facets count (built only when they are asked)."""
        clauses = [(tantivy.Occur.Should, self._exact(exact, EXACT_BOOST))] if with_exact else []
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

    def _terms(self, field: str, values: Iterable[str]) -> tantivy.Query:
        """Documents with one of ``values`` in ``field``: term queries, which an intersection can skip
        through (a term set would first read every posting of every value into a bit set)."""
        queries = [tantivy.Query.term_query(self.schema, field, v) for v in dict.fromkeys(values)]
        if len(queries) == 1:
            return queries[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])

    @staticmethod
    def _combine(text: tantivy.Query | None, filters: Iterable[tantivy.Query]) -> tantivy.Query:
        clauses = [(tantivy.Occur.Must, text)] if text is not None else []
        clauses += [(tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in filters]
        if not clauses:
            return tantivy.Query.all_query()
        if text is None:
            clauses.append((tantivy.Occur.Should, tantivy.Query.all_query()))
        return tantivy.Query.boolean_query(clauses)
