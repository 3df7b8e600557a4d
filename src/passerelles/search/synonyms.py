"""The sector dictionary (data/search/synonyms.yaml): what people type → what the search also looks for.

Expanded at query time only, on analysed tokens, so "aides médico-psychologiques" meets the "AMP" group
as well as "aide medico psychologique" does. Two more parts:

- ``abbreviations``: short forms of single words ("spé" → spécialisé, "éduc" → éducateur), read as the
  whole word before anything else; a short form that is also a small word of French ("aux") only when it
  starts the query ("aux de puériculture").
- groups derived from the data (:meth:`Synonyms.extended`): every name, feminine form and acronym of a
  written occupation means its current name, so an occupation added to data/occupations.yaml is found by
  all its names without an entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from passerelles.search.text import STOPWORDS, analyze, fold


class SynonymGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    terms: list[str] = Field(min_length=1)
    means: list[str] = Field(min_length=1)
    source: str = Field(min_length=3)


class Abbreviation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    short: list[str] = Field(min_length=1)
    long: str = Field(min_length=2)
    source: str = Field(min_length=3)


class SynonymFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    groups: list[SynonymGroup]
    abbreviations: list[Abbreviation] = []


@dataclass(frozen=True)
class Expansion:
    matched: tuple[str, ...]  # the analysed tokens of the query that triggered it
    means: tuple[tuple[str, ...], ...]  # analysed phrases to look for too


class Synonyms:
    def __init__(self, groups: list[SynonymGroup], abbreviations: list[Abbreviation] | None = None) -> None:
        self.groups = list(groups)
        self.abbreviations = list(abbreviations or [])
        self.by_phrase: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for g in groups:
            means = [analyze(m) for m in g.means]
            for term in g.terms:
                key = analyze(term)
                if key:
                    bucket = self.by_phrase.setdefault(key, [])
                    bucket.extend(m for m in means if m and m != key and m not in bucket)
        self.longest = max((len(k) for k in self.by_phrase), default=0)
        # analysed short form → analysed long form; short forms that are stop words, by their folded form.
        self.short: dict[str, tuple[str, ...]] = {}
        self.leading: dict[str, tuple[str, ...]] = {}
        for a in self.abbreviations:
            whole = analyze(a.long)
            for short in a.short:
                folded = fold(short)
                if folded in STOPWORDS:
                    self.leading[folded] = whole
                else:
                    for word in analyze(short):
                        self.short[word] = whole

    def extended(self, names: list[tuple[list[str], str]]) -> Synonyms:
        """This dictionary plus one group per record of the data: its other names (``names``) mean its
        current name (the groups written here come first: theirs are the meanings looked for first)."""
        derived = [
            SynonymGroup(terms=others, means=[current], source="data")
            for others, current in names
            if others and current
        ]
        return Synonyms(self.groups + derived, self.abbreviations)

    def unabbreviate(self, text: str, tokens: tuple[str, ...]) -> tuple[str, ...]:
        """``tokens`` (the analysis of ``text``) with short forms read as their whole words."""
        out: list[str] = []
        if self.leading:
            first = fold(text).split()[:1]
            if first and first[0] in self.leading:
                out.extend(self.leading[first[0]])
        for t in tokens:
            out.extend(self.short.get(t, (t,)))
        return tuple(dict.fromkeys(out))

    def expand(self, tokens: tuple[str, ...]) -> list[Expansion]:
        """Every dictionary phrase found in ``tokens`` (longest first, no overlap) with its meanings."""
        found: list[Expansion] = []
        i = 0
        while i < len(tokens):
            for n in range(min(self.longest, len(tokens) - i), 0, -1):
                key = tokens[i : i + n]
                if key in self.by_phrase:
                    found.append(Expansion(key, tuple(self.by_phrase[key])))
                    i += n
                    break
            else:
                i += 1
        return found


def load_synonyms(path: Path) -> Synonyms:
    """Read and validate the dictionary; a bad entry names the file, the group and the field."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        data = SynonymFile.model_validate(raw)
    except Exception as exc:
        raise ValueError(f"{path} : dictionnaire de synonymes invalide : {exc}") from exc
    return Synonyms(data.groups, data.abbreviations)
