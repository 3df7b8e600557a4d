"""Links between pages: the canonical query string of a set of criteria. No HTTP here, so that services
(which put links to the search pages in what they return) and the pages' form helpers
(:mod:`passerelles.webforms`) share it without the services depending on the web layer."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode


def query_string(params: dict[str, Any]) -> str:
    """A canonical query string from criteria (empty and default values left out)."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None or value is False or value == "" or value == []:
            continue
        if isinstance(value, list):
            pairs += [(key, str(v)) for v in value]
        elif value is True:
            pairs.append((key, "1"))
        else:
            pairs.append((key, str(value)))
    return urlencode(pairs)
