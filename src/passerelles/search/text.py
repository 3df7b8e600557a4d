"""French text normalisation shared by indexing and querying (same function on both sides)."""

from __future__ import annotations

import re

from unidecode import unidecode

STOPWORDS = frozenset("a au aux avec d de des du en et l la le les pour qu un une sur dans par".split())  # noqa: SIM905
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower case, accents removed, punctuation (apostrophes, hyphens, slashes) turned into spaces."""
    return _NON_ALNUM.sub(" ", unidecode(text).lower()).strip()


def stem(token: str) -> str:
    """A light French stemmer: plural then feminine endings (infirmières → infirmier, aides → aide)."""
    if len(token) > 3 and token[-1] in "sx":
        token = token[:-1]
    for fem, masc in (
        ("euse", "eur"),
        ("trice", "teur"),
        ("ere", "er"),
        ("ienne", "ien"),
        ("ante", "ant"),
        ("ente", "ent"),
        ("ive", "if"),
        ("elle", "el"),
    ):
        if len(token) > len(fem) + 2 and token.endswith(fem):
            return token[: -len(fem)] + masc
    return token


def tokens(text: str) -> list[str]:
    return [stem(t) for t in fold(text).split() if t not in STOPWORDS]
