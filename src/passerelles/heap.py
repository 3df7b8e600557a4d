"""Long-lived caches out of the garbage collector's way.

The process keeps large read-only structures (the communes' place index, the rule book, the search backend):
hundreds of thousands of objects that Python's cyclic collector walks on every full collection, which then
takes some 80-100 ms and lands on whichever request is unlucky (bench/pages.py saw a home page at p95 82 ms
for a p50 of 13 ms). Once such a cache is built, :func:`settle` collects once and moves every object alive
to the permanent generation (``gc.freeze``), so later collections only walk what requests allocate."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from typing import Any


def settle() -> None:
    gc.collect()
    gc.freeze()


def _resettle() -> None:
    gc.unfreeze()
    settle()


def resettle_later(seconds: float, gone: Callable[[], bool] | None = None, tries: int = 6) -> None:
    """A large cache was replaced (a new search index version): once what still used the old one is done
    (``seconds``), thaw, collect and freeze again. A frozen object is never collected, and the old engine
    holds reference cycles: without this, each process would keep its first version (its memory and the
    mapped files of a removed version) for good. ``gone`` tells whether the old cache was freed: while a
    request still held it (a long search), the collection is tried again later, waiting twice as long."""

    def run() -> None:
        _resettle()
        if gone is not None and not gone() and tries > 1:
            resettle_later(seconds * 2, gone, tries - 1)

    timer = threading.Timer(seconds, run)
    timer.daemon = True
    timer.start()


# After these many requests of the process, what the first pages built (compiled templates, lazily built
# caches, pooled connections) is settled too: later full collections stay short.
SETTLE_AFTER = frozenset({1, 10, 100, 1000})


class SettleAfterWarmUp:
    """ASGI middleware: :func:`settle` once after the 1st, 10th, 100th and 1000th request, then never."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.served = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)
        if scope.get("type") == "http" and self.served <= max(SETTLE_AFTER):
            self.served += 1
            if self.served in SETTLE_AFTER:
                settle()
