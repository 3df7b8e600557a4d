"""The occupation page on a phone (390 px): the région's live training count near the top for a visitor near
Lyon, sections folded so the page is at most half as tall as before, no sideways scroll of the page's own
content, no serious accessibility violation; on a desktop the sections read unfolded."""

from __future__ import annotations

import re
from typing import Any

from tests.support.browser import AxeReport, shot

AES = "/metiers/accompagnant-educatif-et-social"
# Height of this page at 390 px before the fold (measured on the `make run` data, issue 13): 21 233 px.
OLD_PHONE_HEIGHT = 21233


def test_phone_page_leads_with_the_region_figures_and_is_half_as_tall(
    browser: Any, live_server: str, axe_report: AxeReport
) -> None:
    context = browser.new_context(base_url=live_server, locale="fr-FR", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(AES)
        page.fill("#lieu-commune", "Lyon")
        page.click(".place-form button[type=submit]")
        assert "commune=Lyon" in page.url
        figure = page.locator(".live-figures li").first
        assert re.search(r"\d+ formations? à venir en Auvergne-Rhône-Alpes", figure.inner_text())
        assert figure.bounding_box()["y"] < 2 * 844  # within the first two screens
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height <= OLD_PHONE_HEIGHT / 2, height
        assert page.locator("#marche").bounding_box()["y"] < OLD_PHONE_HEIGHT / 4
        assert page.locator("svg.map circle[data-commune]").count() >= 1
        # A section opens on a tap, and the visitor's place is remembered on the next visit.
        page.locator("#salaire > summary").click()
        assert page.locator("#salaire figure.pay-chart").is_visible()
        page.goto(AES)
        assert page.input_value("#lieu-commune").startswith("Lyon")
        shot(page, "metier-telephone")
        serious = axe_report.check(page, "fiche-metier-telephone")
        assert not serious, [(v["id"], v["help"]) for v in serious]
    finally:
        context.close()


def test_desktop_shows_every_section_unfolded(page: Any) -> None:
    page.goto(AES + "?commune=Lyon")
    assert page.locator("#activites .fold-body").is_visible()
    assert page.locator("#sources ol.sources li").first.is_visible()
