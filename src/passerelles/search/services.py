"""The search service behind one small interface (``SearchBackend``), used by pages, API and CLI.

This first backend keeps an in-memory index of names, acronyms, former names, synonyms and every ROME
appellation, built from the database (the system of record). The tantivy backend will implement the
same interface.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from passerelles.certifications.models import Certification
from passerelles.occupations.models import Occupation
from passerelles.rome.models import RomeAppellation, RomeFiche
from passerelles.rome.services import latest_version, rome_url
from passerelles.search.schemas import ResultType, SearchResult
from passerelles.search.text import fold, tokens

MAX_QUERY_CHARS = 200
MAX_QUERY_TOKENS = 8
FUZZY_CACHE_SIZE = 4096
TYPE_PRIORITY = {"occupation": 3, "certification": 2, "training": 1, "offer": 0}


class SearchBackend(Protocol):
    def search(self, query: str, *, types: set[str] | None = None, limit: int = 20) -> list[SearchResult]: ...


@dataclass
class _Field:
    text: str
    folded: str
    tokens: tuple[str, ...]
    weight: float
    exact_only: bool = False


@dataclass
class _Doc:
    type: ResultType
    id: str
    title: str
    url: str
    subtitle: str | None
    rome_codes: list[str]
    fields: list[_Field] = field(default_factory=list)

    def add(self, text: str | None, weight: float, *, exact_only: bool = False) -> None:
        if text:
            self.fields.append(_Field(text, fold(text), tuple(tokens(text)), weight, exact_only))


class MemoryIndex:
    def __init__(self, docs: list[_Doc]) -> None:
        self.docs = docs
        self.postings: dict[str, set[int]] = defaultdict(set)
        for i, doc in enumerate(docs):
            for f in doc.fields:
                for t in f.tokens:
                    self.postings[t].add(i)
                if f.exact_only:
                    self.postings["=" + f.folded].add(i)
        self.vocabulary = sorted(k for k in self.postings if not k.startswith("="))
        self._fuzzy_cache: dict[str, set[str]] = {}

    def corrections(self, token: str) -> set[str]:
        """Known words one edit away (up to 7 letters) or two (longer): for words the index lacks."""
        if token in self.postings or len(token) < 4 or token.isdigit():
            return set()
        if token not in self._fuzzy_cache:
            limit = 1 if len(token) <= 7 else 2
            best: dict[str, int] = {}
            for word in self.vocabulary:
                if abs(len(word) - len(token)) <= limit and word[0] == token[0]:
                    d = edit_distance(token, word, limit)
                    if d <= limit:
                        best[word] = d
            low = min(best.values(), default=0)
            if len(self._fuzzy_cache) >= FUZZY_CACHE_SIZE:
                self._fuzzy_cache.pop(next(iter(self._fuzzy_cache)))  # oldest first: a bounded cache
            self._fuzzy_cache[token] = {w for w, d in best.items() if d == low}
        return self._fuzzy_cache[token]

    def _candidates(self, qterms: list[set[str]], qfolded: str) -> set[int]:
        found: set[int] = set(self.postings.get("=" + qfolded, set()))
        for alternatives in qterms:
            for t in alternatives:
                found |= self.postings.get(t, set())
                if len(t) >= 3:
                    for word in self.vocabulary:
                        if word.startswith(t):
                            found |= self.postings[word]
        return found

    @staticmethod
    def _score_field(f: _Field, qterms: list[tuple[str, set[str]]], qfolded: str) -> float:
        if f.exact_only:
            return f.weight * 10 if f.folded == qfolded else 0.0
        if f.folded == qfolded:
            return f.weight * 8
        if not qterms or not f.tokens:
            return 0.0
        matched = 0.0
        for token, corrected in qterms:
            if token in f.tokens:
                matched += 1
            elif any(c in f.tokens for c in corrected):
                matched += 0.9
            elif len(token) >= 3 and any(ft.startswith(token) for ft in f.tokens):
                matched += 0.7
        if matched == 0:
            return 0.0
        coverage = matched / len(qterms)
        precision = min(1.0, len(qterms) / len(f.tokens))
        return f.weight * (3 * coverage + precision) * (1.0 if coverage >= 0.9 else 0.5)

    def search(self, query: str, *, types: set[str] | None = None, limit: int = 20) -> list[SearchResult]:
        qfolded = fold(query)
        if not qfolded:
            return []
        # A query is a few words: extra or repeated tokens only cost time (and could be used to).
        qterms = [(t, self.corrections(t)) for t in dict.fromkeys(tokens(query[:MAX_QUERY_CHARS]))][:MAX_QUERY_TOKENS]
        scored = []
        for i in self._candidates([{t, *c} for t, c in qterms], qfolded):
            doc = self.docs[i]
            if types and doc.type not in types:
                continue
            best, best_field = 0.0, None
            for f in doc.fields:
                s = self._score_field(f, qterms, qfolded)
                if s > best:
                    best, best_field = s, f
            if best > 0:
                scored.append((best, TYPE_PRIORITY[doc.type], doc, best_field))
        scored.sort(key=lambda x: (-x[0], -x[1], x[2].title))
        return [
            SearchResult(
                type=doc.type,
                id=doc.id,
                title=doc.title,
                url=doc.url,
                score=round(score, 3),
                rome_codes=doc.rome_codes,
                subtitle=doc.subtitle,
                matched=f.text if f is not None and fold(f.text) != fold(doc.title) else None,
            )
            for score, _, doc, f in scored[:limit]
        ]


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (returning limit + 1) once every path exceeds ``limit``."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def build_index(session: Session) -> MemoryIndex:
    docs: list[_Doc] = []
    version = latest_version(session)
    appellations: dict[str, list[str]] = defaultdict(list)
    appellation_by_ogr: dict[int, str] = {}
    fiches: dict[str, str] = {}
    if version:
        for code, ogr, label in session.execute(
            select(RomeAppellation.code_rome, RomeAppellation.code_ogr, RomeAppellation.libelle_long).where(
                RomeAppellation.rome_version == version
            )
        ):
            appellations[code].append(label)
            appellation_by_ogr[ogr] = label
        fiches = dict(
            session.execute(
                select(RomeFiche.code_rome, RomeFiche.libelle).where(RomeFiche.rome_version == version)
            ).all()
        )
    for occ in session.scalars(
        select(Occupation).options(selectinload(Occupation.names), selectinload(Occupation.rome_links))
    ):
        codes = list(dict.fromkeys(r.code_rome for r in occ.rome_links))
        doc = _Doc("occupation", occ.slug, occ.name, f"/metiers/{occ.slug}", "Métier", codes)
        for n in occ.names:
            weight = {"current": 10.0, "former": 9.0, "synonym": 8.0}[n.kind]
            doc.add(n.name, weight)
            doc.add(n.feminine, weight)
            doc.add(n.acronym, 12.0, exact_only=True)
        for code in codes:
            doc.add(code, 12.0, exact_only=True)
        # Only the appellations the project tied to this occupation: a ROME fiche is often wider than
        # the occupation (J1303 also covers dental assistants), and keeps its own result below.
        for r in occ.rome_links:
            if r.appellation_ogr in appellation_by_ogr:
                doc.add(appellation_by_ogr[r.appellation_ogr], 6.0)
        doc.add(occ.summary, 1.0)
        docs.append(doc)
    for cert in session.scalars(select(Certification)):
        doc = _Doc(
            "certification",
            cert.slug,
            cert.name,
            f"/certifications/{cert.slug}",
            f"Certification{' (niveau ' + str(cert.level_eu) + ')' if cert.level_eu else ''}",
            [],
        )
        doc.add(cert.name, 9.0)
        doc.add(cert.acronym, 11.0, exact_only=True)
        summary = (cert.detail.get("summary") or {}).get("text")
        doc.add(summary, 1.0)
        docs.append(doc)
    for code, label in fiches.items():
        doc = _Doc("occupation", f"rome:{code}", label, rome_url(code), f"Fiche ROME {code}", [code])
        doc.add(label, 7.0)
        doc.add(code, 11.0, exact_only=True)
        for a in appellations.get(code, []):
            doc.add(a, 5.0)
        docs.append(doc)
    return MemoryIndex(docs)
