"""The situations of issue 13, as a person on a phone (390 × 844) lives them: someone who knows the job as
« aide médico-psychologique » (typed with a typo) near Lyon goes from the search to the occupation page, to the
trainings of their région, widens the search, then to the offers; a form with a mistake keeps what was typed
and says what is wrong beside the field. No page scrolls sideways."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.support.browser import AxeReport, shot

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Any, live_server: str) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server, locale="fr-FR", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _fits(page: Any) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} : {width[0]} px de large pour {width[1]} px d'écran"


def _count(text: str) -> int:
    found = re.match(r"^(\d[\d\s\u202f\u00a0]*)", text.strip())
    assert found, text
    return int(re.sub(r"\D", "", found.group(1)))


def test_amp_near_lyon_from_search_to_trainings_widened_and_offers(phone: Any, axe_report: AxeReport) -> None:
    page = phone
    page.goto("/")
    page.get_by_label("Quel métier, quel diplôme ?").fill("aide medico psycologique")
    page.get_by_label("Quel métier, quel diplôme ?").press("Enter")
    page.wait_for_load_state()
    _fits(page)
    # The occupation comes first, before sessions and offers, despite the typo.
    first = page.locator("main a[href^='/metiers/']").first
    assert "accompagnant" in (first.get_attribute("href") or ""), first.get_attribute("href")
    first.click()
    page.wait_for_load_state()
    assert urlparse(page.url).path == "/metiers/accompagnant-educatif-et-social"
    # The former name reaches the same page.
    assert page.request.get("/metiers/aide-medico-psychologique", max_redirects=0).status == 301

    page.fill("#lieu-commune", "Lyon")
    page.click(".place-form button[type=submit]")
    page.wait_for_load_state()
    _fits(page)
    trainings = page.locator(".live-figures li").first
    announced = _count(trainings.inner_text())
    assert "en Auvergne-Rhône-Alpes" in trainings.inner_text()
    shot(page, "telephone-1-fiche-amp-lyon")
    assert not axe_report.check(page, "telephone-fiche-amp-lyon")
    trainings.locator("a").click()
    page.wait_for_load_state()
    _fits(page)
    assert parse_qs(urlparse(page.url).query).get("region") == ["84"]
    listed = _count(page.locator("#resultats-titre").inner_text())
    assert listed == announced  # the figure on the occupation page is the list's count
    shot(page, "telephone-2-formations-region")

    widen = page.get_by_role("link", name="Élargir la recherche")
    if widen.count():
        widen.first.click()
        page.wait_for_load_state()
        _fits(page)
        assert _count(page.locator("#resultats-titre").inner_text()) >= listed
        assert page.locator(".widen, .widening").count()
        shot(page, "telephone-3-formations-elargies")

    page.goto("/metiers/accompagnant-educatif-et-social")  # the place is remembered
    offers = page.locator(".live-figures li").nth(1)
    assert "en Auvergne-Rhône-Alpes" in offers.inner_text()
    offers.locator("a").click()
    page.wait_for_load_state()
    _fits(page)
    assert urlparse(page.url).path == "/emploi"
    shot(page, "telephone-4-offres-region")


def test_a_form_with_a_mistake_keeps_what_was_typed(phone: Any, axe_report: AxeReport) -> None:
    page = phone
    page.goto("/emploi")
    page.get_by_label("Mots de l'intitulé").fill("nuit")
    page.get_by_label("Lieu", exact=True).fill("Zzyzxville")
    page.get_by_role("button", name="Rechercher").last.click()
    page.wait_for_load_state()
    _fits(page)
    assert page.get_by_label("Mots de l'intitulé").input_value() == "nuit"
    assert page.get_by_label("Lieu", exact=True).input_value() == "Zzyzxville"
    field = page.locator("#e-commune")
    assert field.get_attribute("aria-invalid") == "true"
    described = (field.get_attribute("aria-describedby") or "").split()
    messages = " ".join(page.locator(f"#{i}").inner_text() for i in described if page.locator(f"#{i}").count())
    assert "Zzyzxville" in messages or "introuvable" in messages.lower() or "inconnu" in messages.lower(), messages
    assert "422" not in page.locator("h1").inner_text()
    shot(page, "telephone-erreur-emploi")
    assert not axe_report.check(page, "telephone-erreur-emploi")

    # The route planner: an experience it does not know is said back with suggestions, the rest is kept.
    page.goto("/parcours?cible=aide-soignant&age=45&experience_metier=plombier+zingueur&experience_annees=10")
    _fits(page)
    assert "plombier zingueur" in page.content()
    assert page.locator("#cible").input_value() == "aide-soignant"
    shot(page, "telephone-erreur-parcours")
