"""The glossary of acronyms (``data/glossary.yaml``): each acronym is expanded the first time it is used on a
page, then marked as an abbreviation (``<abbr title>``) only.

``expand`` is HTTP-agnostic; the Jinja filter ``sigles`` (``web.make_templates``) calls it with the set of
acronyms the page has already expanded (``page_terms`` in the page's context, fresh for every render).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup, escape

from passerelles.reference.reader import read_file


@dataclass(frozen=True)
class Glossary:
    terms: dict[str, tuple[str, str | None]]  # acronym → (expansion, note)
    pattern: re.Pattern[str] | None

    def expansion(self, term: str) -> str | None:
        found = self.terms.get(term)
        return found[0] if found else None


EMPTY = Glossary({}, None)


@functools.cache
def load_glossary(path: Path) -> Glossary:
    """The glossary of ``path`` (validated as reference data), read once per process."""
    if not path.is_file():
        return EMPTY
    content, errors = read_file(path)
    if content is None or errors:
        raise ValueError(f"glossaire illisible : {path} ({'; '.join(str(e) for e in errors)})")
    terms = {t.term: (t.expansion, t.note) for t in content.glossary}
    if not terms:
        return EMPTY
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return Glossary(terms, re.compile(rf"(\(?)(?<![\w-])({alternatives})(?![\w-])(\)?)"))


def expand(text: str | None, glossary: Glossary, seen: set[str] | None) -> Markup:
    """``text`` escaped, each known acronym marked; the first use on the page (``seen`` not holding it) is
    followed by its expansion in brackets, unless the text already writes the acronym in brackets (it then
    follows its own expansion). ``seen=None``: mark only."""
    if not text:
        return Markup("")
    safe = str(escape(text))
    if glossary.pattern is None:
        return Markup(safe)  # noqa: S704 (escaped above)

    def one(m: re.Match[str]) -> str:
        before, term, after = m.group(1), m.group(2), m.group(3)
        expansion, note = glossary.terms[term]
        title = escape(expansion + (f". {note}" if note else ""))
        abbr = f'<abbr title="{title}">{term}</abbr>'
        if seen is None or term in seen:
            return f"{before}{abbr}{after}"
        seen.add(term)
        if before and after:  # « … social (DEAES) »: the text gives the expansion itself
            return f"{before}{abbr}{after}"
        return f"{before}{abbr} ({escape(expansion)}){after}"

    return Markup(glossary.pattern.sub(one, safe))  # noqa: S704 (escaped text, fixed tags)
