"""Browser tests' helpers: where Chromium, axe-core and the artifacts are, the axe-core report, screenshots."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from passerelles.settings import PROJECT_ROOT

CHROMIUM = Path(os.environ.get("PASSERELLES_CHROMIUM", "/usr/bin/chromium"))
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE_REPORT = ARTIFACTS / "axe-results.json"
DEMO_SESSIONS = 600
DEMO_OFFERS = 1500


def missing(message: str) -> None:
    """A browser tool is missing: skip, or fail under CI=true."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} : sous CI=true, les tests navigateur doivent tourner")
    pytest.skip(message)


class AxeReport:
    """axe-core results per page, written to test-artifacts/axe-results.json for the closing note."""

    def __init__(self) -> None:
        self.pages: dict[str, dict[str, Any]] = {}

    def check(self, page: Any, name: str) -> list[dict[str, Any]]:
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "async () => await axe.run(document, {resultTypes: ['violations'],"
            " runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
        )
        violations = result["violations"]
        counts: dict[str, int] = {}
        for v in violations:
            counts[v["impact"] or "unknown"] = counts.get(v["impact"] or "unknown", 0) + 1
        self.pages[name] = {
            "url": page.url,
            "violations_by_impact": counts,
            "violations": [
                {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": len(v["nodes"])} for v in violations
            ],
        }
        return [v for v in violations if v["impact"] in ("serious", "critical")]


def shot(page: Any, name: str, *, full_page: bool = True) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
