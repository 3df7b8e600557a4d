"""The route planner read on a phone (390 px) and a desktop (1280 px): the timeline of each route, its steps
in words, the VAE explained, and a common job name understood — no horizontal scroll, no serious axe-core
violation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.browser import AxeReport, shot

AMP_TO_AES = "/parcours?experience_metier=AMP&experience_annees=5&age=40&cible=accompagnant-educatif-et-social"
DEAS_TO_AM = "/parcours?diplome=deas&cible=assistant-medical"

# Wider than the viewport, inside the planner (the form and its results): what a person would have to scroll.
OVERFLOWING = """() => [...document.querySelectorAll('form.planner, form.planner *, section.route, section.route *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .map(e => e.tagName.toLowerCase() + (e.className && e.className.baseVal === undefined ? '.' + e.className : ''))"""


@pytest.mark.parametrize("width", [390, 1280])
def test_route_timeline_is_readable_on_phone_and_desktop(
    page: Any, live_server: str, axe_report: AxeReport, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 844 if width == 390 else 800})
    page.goto(AMP_TO_AES)
    assert page.get_by_role("status").filter(has_text="compris comme : Accompagnant éducatif et social").count()
    route = page.locator("section.route").first
    timeline = route.locator("svg.timeline")
    steps = route.locator("ol.steps > li")
    assert timeline.count() == 1 and steps.count() >= 2
    assert timeline.locator(".tl-mark").count() == steps.count()
    assert timeline.get_attribute("role") == "img"
    assert "étapes" in (timeline.locator("title").first.text_content() or "")
    assert "VAE DEAES" in (timeline.locator("desc").text_content() or "")
    box = timeline.bounding_box()
    assert box is not None and box["width"] <= width
    # The step labels drawn in the SVG stay legible: at least 12 px once scaled.
    label_height = page.evaluate(
        "() => document.querySelector('svg.timeline .tl-label').getBoundingClientRect().height"
    )
    assert label_height >= 12
    assert steps.first.locator("strong").first.inner_text().startswith("Obtenir le DEAES par la VAE")
    stages = route.locator(".step-stages li")
    assert stages.count() >= 5 and "jury" in route.locator(".step-stages").inner_text()
    assert page.evaluate(OVERFLOWING) == []
    shot(page, f"parcours-vae-{width}")
    assert not axe_report.check(page, f"parcours-{width}")

    page.goto(DEAS_TO_AM)
    first = page.locator("section.route").first
    assert "adaptation à l'emploi" in first.inner_text()
    assert "Durée totale : 0 mois" not in first.inner_text()
    titles = first.locator("ol.steps > li > .step-head > strong").all_inner_texts()
    assert titles[0].startswith("Être recruté comme") and titles[1].startswith("Suivre en poste")
    assert page.evaluate(OVERFLOWING) == []
    shot(page, f"parcours-fae-{width}")
