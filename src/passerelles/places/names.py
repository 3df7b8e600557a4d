"""Commune names as keys: the one normalisation used to match what a feed, a catalogue or a person writes
against the names of the COG.

« Saint-Étienne », « ST ETIENNE », « st-étienne cedex 2 » and « Saint Etienne » give the same key: accents
and case dropped, punctuation turned into spaces, a « CEDEX » and what follows it removed (postal mentions,
not part of the name), and the abbreviations « ST »/« STE » written out as the COG writes them.
"""

from __future__ import annotations

import functools
import re

from unidecode import unidecode

_NON_ALNUM = re.compile(r"[^A-Z0-9]+")
_CEDEX = re.compile(r"\bCEDEX\b.*$")
_ABBREVIATIONS = {"ST": "SAINT", "STE": "SAINTE"}


@functools.lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """The matching key of a commune name (see the module's docstring)."""
    text = _CEDEX.sub("", _NON_ALNUM.sub(" ", unidecode(name).upper()))
    return " ".join(_ABBREVIATIONS.get(word, word) for word in text.split())
