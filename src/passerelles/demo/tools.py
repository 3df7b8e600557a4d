"""Small tools shared by the demonstration generators: weighted sampling from one random stream, Luhn-valid
numbers, XML escaping, cut texts, slugs and invented host names, dates, and the streaming writer."""

from __future__ import annotations

import bisect
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Generic, TypeVar

from passerelles.demo import DEMO_LABEL

DEMO_SUFFIX = f" ({DEMO_LABEL})"
_FLUSH_CHARS = 1 << 20

T = TypeVar("T")


class Sampler(Generic[T]):
    """Weighted choice from a uniform number in [0, 1) (only ``Random.random`` is used: stable across Pythons)."""

    __slots__ = ("_cum", "_last", "_total", "items")

    def __init__(self, items: Iterable[T], weights: Iterable[float]) -> None:
        self.items: list[T] = []
        self._cum: list[float] = []
        total = 0.0
        for item, weight in zip(items, weights, strict=True):
            if weight > 0:
                total += weight
                self.items.append(item)
                self._cum.append(total)
        if not self.items:
            raise ValueError("nothing to sample from")
        self._total = total
        self._last = len(self.items) - 1

    def weights(self) -> list[float]:
        return [c - p for c, p in zip(self._cum, [0.0, *self._cum[:-1]], strict=True)]

    def pick(self, r: float) -> T:
        i = bisect.bisect_right(self._cum, r * self._total)
        return self.items[i if i < self._last else self._last]


def _luhn_sum(digits: str, doubled: int) -> int:
    """The Luhn sum of ``digits``, doubling those at an even (``doubled=0``) or odd (1) place from the right."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == doubled:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total


def luhn_complete(digits: str) -> str:
    """Append the check digit that makes ``digits`` + key pass the Luhn test (SIREN, SIRET)."""
    return digits + str((10 - _luhn_sum(digits, 0) % 10) % 10)


def luhn_valid(number: str) -> bool:
    """True when ``number`` (digits only) passes the Luhn test, as SIREN and SIRET numbers do."""
    return number.isdigit() and _luhn_sum(number, 1) % 10 == 0


def xml_text(text: str) -> str:
    """Escape text content for XML."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut_text(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip(" ,;:") + "…"


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _slug(text: str, limit: int = 40) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub("-", ascii_text.lower()).strip("-")[:limit].strip("-") or "demo"


_SLUGS: dict[str, str] = {}


def _cached_slug(text: str, limit: int) -> str:
    s = _SLUGS.get(text)
    if s is None:
        s = _SLUGS[text] = _slug(text, limit)
    return s


def invented_host(template: str, nom: str, city: str) -> str:
    """An invented host name under the reserved ``.invalid`` top-level domain, from a name template."""
    head = _SLUGS.get(template)
    if head is None:
        words = [w for w in _slug(re.sub(r"\{[a-z]+\}", " ", template), 200).split("-") if len(w) > 2]
        head = _SLUGS[template] = "-".join(words) if len(words) <= 2 else "".join(w[0] for w in words)
    parts = [head, _cached_slug(nom, 30) if "{nom}" in template else "", _cached_slug(city, 40)]
    return "-".join(x for x in parts if x)[:63].strip("-") + ".demo.invalid"


def random_digits(r: Callable[[], float], n: int) -> str:
    return "".join(chr(48 + int(r() * 10)) for _ in range(n))


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, min(d.day, 28))


def compact_date(d: date) -> str:
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


def thousands(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def masculine_form(label: str) -> str:
    """One form of a ROME appellation: « Agent / Agente de service hospitalier (ASH) » → « Agent de service
    hospitalier (ASH) »; the words after the feminine form are shared by both."""
    if " / " not in label:
        return label
    left, right = label.split(" / ", 1)
    shared = right.split()[len(left.split()) :]
    return " ".join([left, *shared])


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


class OutputFile:
    """Buffered text output to ``path`` through a temporary file, renamed into place on success."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = self.tmp.open("w", encoding="utf-8", newline="\n")
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= _FLUSH_CHARS:
            self.flush()

    def flush(self) -> None:
        self.fh.write("".join(self.parts))
        self.parts.clear()
        self.size = 0

    def close(self, ok: bool) -> None:
        try:
            if ok:
                self.flush()
        finally:
            self.fh.close()
        if ok:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)
