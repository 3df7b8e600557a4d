"""The place picker in a real Chromium at phone width: « Saint-Denis » on /formations offers the others."""

from __future__ import annotations

from typing import Any

from tests.support.browser import shot


def test_saint_denis_on_trainings_offers_the_other_ones_at_phone_width(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/formations")
    page.fill("#f-commune", "Saint-Denis")
    page.locator("#f-commune").press("Enter")
    page.wait_for_load_state()
    choices = page.locator("#f-commune-choix")
    assert "Vouliez-vous dire" in choices.inner_text()
    assert page.locator("#f-commune").input_value() == "Saint-Denis (93)"
    shot(page, "formations-saint-denis-390")
    page.get_by_role("link", name="Saint-Denis (La Réunion, 974)").click()
    page.wait_for_load_state()
    assert page.locator("#f-commune").input_value() == "Saint-Denis (974)"
    no_scroll = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_scroll
