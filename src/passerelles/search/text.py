"""French analysis shared by indexing and querying: the same ``analyze`` on both sides.

Order matters: words are split (elisions l', d', qu'… and hyphenated compounds), lower-cased, *stemmed
while their accents are still there* (infirmière → infirmier, éducatrice → éducateur, sociaux → social),
then folded (accents removed). Stemming first keeps the endings it relies on readable (-ière, -ée), and
folding last lets "infirmieres" typed without accents meet "Infirmière" and "infirmier".

The index stores these tokens pre-analysed (tantivy's whitespace tokenizer only splits them), so the
query side cannot drift from the index side: both call this module.
"""

from __future__ import annotations

import re
from functools import lru_cache

from unidecode import unidecode

STOPWORDS = frozenset(
    (  # noqa: SIM905 (a readable sentence of words)
        "a au aux avec ce ces d de des du en et h f l la le les leur leurs ou par pour qu que qui sa se ses son "
        "sur dans un une y n s"
        # Words of a sentence that say nothing about the occupation ("je veux travailler en crèche").
        " je tu il elle nous vous ils elles on veux voudrais cherche travailler faire devenir etre être metier"
        " métier"
    ).split()
)
# Words are runs of letters and digits; an apostrophe (straight or typographic) ends an elided article
# ("l'aide" → "aide") and a hyphen or slash splits a compound ("aide-soignante" → "aide soignante").
_WORD = re.compile(r"[0-9a-zß-öø-ÿœæ]+")  # on lower-cased text (IGNORECASE makes `re` several times slower)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_ELIDED = frozenset("l d qu n s j m t c jusqu lorsqu puisqu".split())  # noqa: SIM905

# Feminine and plural endings, on accented lower-case words; the first that applies wins. Each pair is
# (ending, replacement); a word must keep at least three letters before the ending.
_SUFFIXES: tuple[tuple[str, str], ...] = tuple(
    (ending, replacement)
    for accented, replacement in (
        ("ières", "ier"),
        ("ière", "ier"),
        ("ères", "er"),
        ("ère", "er"),
        ("euses", "eur"),
        ("euse", "eur"),
        ("trices", "teur"),
        ("trice", "teur"),
        ("iennes", "ien"),
        ("ienne", "ien"),
        ("ennes", "en"),
        ("enne", "en"),
        ("antes", "ant"),
        ("ante", "ant"),
        ("entes", "ent"),
        ("ente", "ent"),
        ("ives", "if"),
        ("ive", "if"),
        ("elles", "el"),
        ("elle", "el"),
        ("ales", "al"),
        ("ale", "al"),
        ("aux", "al"),
        ("ées", "é"),
        ("ée", "é"),
    )
    # Typed without accents, the same endings must reduce the same way (infirmieres → infirmier).
    for ending in dict.fromkeys((accented, accented.replace("è", "e").replace("é", "e")))
)


def fold(text: str) -> str:
    """Lower case, accents removed, punctuation (apostrophes, hyphens, slashes) turned into spaces."""
    return _NON_ALNUM.sub(" ", unidecode(text).lower()).strip()


def _stem_accented(word: str) -> str:
    for ending, replacement in _SUFFIXES:
        if len(word) >= len(ending) + (2 if ending.startswith(("ée", "ee")) else 3) and word.endswith(ending):
            return word[: -len(ending)] + (replacement if ending[0] != "e" or replacement[0] != "é" else "e")
    if len(word) > 3 and word[-1] in "sx" and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """One word, lower case (accents kept or not): feminine and plural endings reduced, then folded."""
    return fold(_stem_accented(word.lower())).replace(" ", "")


@lru_cache(maxsize=262144)
def analyze(text: str) -> tuple[str, ...]:
    """The tokens of ``text``: elisions dropped, compounds split, stemmed then folded, stop words out."""
    out: list[str] = []
    for match in _WORD.finditer(text.lower()):
        word = match.group()
        if word in _ELIDED or word in STOPWORDS:
            continue
        token = stem(word)
        if token and token not in STOPWORDS:
            out.append(token)
    return tuple(out)


_SPAN_TOKENS: dict[str, str] = {}  # lower-cased word → its token ("" for none): one lookup per word


def analyze_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, token) for each word of ``text`` that yields a token: used to highlight hits."""
    spans = []
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer: offsets would drift
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    cache = _SPAN_TOKENS
    if len(cache) > 200_000:
        cache.clear()
    for match in _WORD.finditer(lowered):
        word = match.group()
        token = cache.get(word)
        if token is None:
            token = "" if word in _ELIDED or word in STOPWORDS else stem(word)
            cache[word] = token
        if token:
            spans.append((match.start(), match.end(), token))
    return spans


# A plain letter of a term and the accented letters a word may have in its place.
_ACCENTED = {"a": "aàâäáãå", "c": "cç", "e": "eéèêë", "i": "iíìîï", "n": "nñ", "o": "oóòôöõ", "u": "uúùûü", "y": "yýÿ"}
_LETTER = "0-9a-zß-öø-ÿœæ"


@lru_cache(maxsize=4096)
def _prefix_pattern(terms: frozenset[str]) -> re.Pattern[str]:
    # Stemming keeps a word's beginning and rewrites at most its last four letters ("-teur", "-ier"…):
    # any word giving one of ``terms`` starts with that term less its last four letters, accents aside.
    prefixes = sorted({t[: max(1, len(t) - 4)] for t in terms}, key=len, reverse=True)
    alternatives = [
        "".join(f"[{_ACCENTED[c]}]" if c in _ACCENTED else re.escape(c) for c in prefix) for prefix in prefixes
    ]
    return re.compile(f"(?<![{_LETTER}])(?:{'|'.join(alternatives)})[{_LETTER}]*")


def spans_of(text: str, terms: frozenset[str]) -> list[tuple[int, int, str]]:
    """The (start, end, token) of ``analyze_spans(text)`` whose token is in ``terms``, found faster: only the
    words that start like one of the terms are analysed."""
    lowered = text.lower()
    if not terms or len(lowered) != len(text) or "œ" in lowered or "æ" in lowered:
        return [span for span in analyze_spans(text) if span[2] in terms]
    out = []
    for match in _prefix_pattern(terms).finditer(lowered):
        word = match.group()
        if word in _ELIDED or word in STOPWORDS:
            continue
        token = stem(word)
        if token in terms:
            out.append((match.start(), match.end(), token))
    return out


def tokens(text: str) -> list[str]:
    """Kept for callers of the first backend: the analysed tokens as a list."""
    return list(analyze(text))


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (returning limit + 1) once every path exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def ending_corrections(token: str) -> list[str]:
    """Stems of ``token`` read with one typo in its inflected ending ("puericultrise" → puericulteur)."""
    out: list[str] = []
    for ending, _replacement in _SUFFIXES:
        n = len(ending)
        if len(token) > n + 3 and token[-n:] != ending and edit_distance(token[-n:], ending, 1) <= 1:
            candidate = stem(token[:-n] + ending)
            if candidate != token and candidate not in out:
                out.append(candidate)
    return out


@lru_cache(maxsize=65536)
def near(unknown: str, token: str) -> bool:
    """``token`` is within the typo budget of the unknown word ``unknown`` (same first letter)."""
    budget = typo_budget(unknown)
    return (
        budget > 0
        and token[:1] == unknown[:1]
        and abs(len(token) - len(unknown)) <= budget
        and edit_distance(unknown, token, budget) <= budget
    )


def typo_budget(token: str) -> int:
    """Edits tolerated on a word the index does not know: 1 up to 7 letters, 2 beyond, none when short."""
    if len(token) < 4 or token.isdigit():
        return 0
    return 1 if len(token) <= 7 else 2
