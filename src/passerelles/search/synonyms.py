"""The sector dictionary (data/search/synonyms.yaml): what people type → what the search also looks for.

Expanded at query time only, on analysed tokens, so "aides médico-psychologiques" meets the "AMP" group
as well as "aide medico psychologique" does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from passerelles.search.text import analyze


class SynonymGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    terms: list[str] = Field(min_length=1)
    means: list[str] = Field(min_length=1)
    source: str = Field(min_length=3)


class SynonymFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    groups: list[SynonymGroup]


@dataclass(frozen=True)
class Expansion:
    matched: tuple[str, ...]  # the analysed tokens of the query that triggered it
    means: tuple[tuple[str, ...], ...]  # analysed phrases to look for too


class Synonyms:
    def __init__(self, groups: list[SynonymGroup]) -> None:
        self.by_phrase: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for g in groups:
            means = [analyze(m) for m in g.means]
            for term in g.terms:
                key = analyze(term)
                if key:
                    bucket = self.by_phrase.setdefault(key, [])
                    bucket.extend(m for m in means if m and m != key and m not in bucket)
        self.longest = max((len(k) for k in self.by_phrase), default=0)

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
    return Synonyms(data.groups)
