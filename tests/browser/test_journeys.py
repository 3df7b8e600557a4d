"""Journeys a new user would try, in a real Chromium, with the mouse and with the keyboard alone;
accessibility of every main page checked with axe-core (no serious or critical violation)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.support.browser import SCREENSHOTS, AxeReport, shot

OCCUPATION = "aide-soignant"


def _first_href(page: Any, selector: str) -> str:
    href = page.locator(selector).first.get_attribute("href")
    assert href, f"aucun lien pour {selector}"
    return str(href)


def _session_ids(page: Any, n: int) -> list[str]:
    page.goto(f"/formations?metier={OCCUPATION}")
    return [page.locator("input[name=ids]").nth(i).get_attribute("value") for i in range(n)]


def _main_pages(page: Any) -> dict[str, str]:
    """The main pages, with real ids taken from the demo data through the pages themselves."""
    ids = _session_ids(page, 3)
    page.goto("/emploi")
    offer = _first_href(page, "ol.offers h3 a")
    return {
        "accueil": "/",
        "recherche": "/recherche?q=aide-soignant",
        "fiche-metier": f"/metiers/{OCCUPATION}",
        "formations": f"/formations?metier={OCCUPATION}&commune=Lyon&rayon=80",
        "session": f"/formations/sessions/{ids[0]}",
        "comparaison": f"/formations/comparer?ids={','.join(ids)}&commune=Lyon",
        "emploi": f"/emploi?metier={OCCUPATION}&region=84",
        "offre": offer,
        "parcours": "/parcours",
        "certifications": "/certifications",
        "financer": "/financer?age=45&situation=demandeur-emploi&indemnise=true&certification=deaes&region=84",
    }


def test_main_pages_have_no_serious_accessibility_violation(page: Any, live_server: str, axe_report: AxeReport) -> None:
    failures = {}
    for name, url in _main_pages(page).items():
        response = page.goto(url)
        assert response is not None and response.status == 200, f"{name} : {url} → {response and response.status}"
        shot(page, f"page-{name}")
        serious = axe_report.check(page, name)
        if serious:
            failures[name] = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in serious]
    assert not failures, failures


def test_axe_checker_sees_violations(page: Any, axe_report: AxeReport) -> None:
    """The accessibility check itself works: a page with an unlabelled image and input is caught."""
    page.goto("/")
    page.set_content('<html lang="fr"><title>t</title><main><img src="/x.png"><input type="text"></main></html>')
    serious = {v["id"] for v in axe_report.check(page, "_controle-axe")}
    assert {"image-alt", "label"} <= serious
    axe_report.pages.pop("_controle-axe")


def _compare_three(page: Any) -> list[str]:
    """On a result list, tick three sessions (widening while fewer are shown) and compare them."""
    while page.locator("input[name=ids]").count() < 3:
        widen = page.get_by_role("link", name="Élargir la recherche")
        assert widen.count(), "moins de trois sessions, et plus rien à élargir"
        widen.click()
    boxes = page.locator("input[name=ids]")
    chosen = [boxes.nth(i).get_attribute("value") for i in range(3)]
    for i in range(3):
        boxes.nth(i).check()
    page.get_by_role("button", name=re.compile("Comparer la sélection")).click()
    return chosen


def test_journey_search_fiche_trainings_compare_print(page: Any) -> None:
    page.goto("/")
    page.get_by_label("Quel métier, quel diplôme ?").fill("aide-soignant")
    page.get_by_role("button", name="Rechercher").last.click()
    page.get_by_role("link", name="Aide-soignant", exact=True).first.click()
    assert page.url.endswith(f"/metiers/{OCCUPATION}")
    page.get_by_role("link", name="Se former à ce métier sur ce territoire").click()
    page.get_by_label("Lieu", exact=True).fill("Lyon")
    page.get_by_label("Rayon (km)").fill("60")
    page.get_by_role("button", name="Rechercher").last.click()
    count = page.locator("#resultats-titre").inner_text()
    assert re.match(r"^\d+\s+formations? à venir ", count), count
    shot(page, "parcours-souris-1-formations")
    chosen = _compare_three(page)
    assert "/formations/comparer" in page.url
    table = page.locator("table.compare")
    assert table.locator("thead th").count() == 4  # the row headers' column + three sessions
    rows = [r.strip() for r in table.locator("tbody th[scope=row]").all_inner_texts()]
    for row in (
        "Certification et niveau",
        "Dates",
        "Durée et rythme",
        "Coût et financement",
        "Admission et prérequis",
        "Lieu et distance",
        "Organisme",
    ):
        assert row in rows
    assert "km de Lyon" in table.inner_text()
    # The shareable URL reproduces the comparison, columns in the same order.
    share = page.locator("a", has_text="/formations/comparer?").first.get_attribute("href")
    assert share and parse_qs(urlparse(share).query)["ids"] == [",".join(chosen)]
    before = table.inner_text()
    page.goto(share)
    assert page.locator("table.compare").inner_text() == before
    page.emulate_media(media="print")
    shot(page, "parcours-souris-2-comparaison-impression")
    assert page.locator(".criteria, footer.site, nav[aria-label='Navigation principale']").evaluate_all(
        "els => els.every(e => getComputedStyle(e).display === 'none')"
    )
    page.pdf(path=str(SCREENSHOTS / "comparaison.pdf"), format="A4", landscape=True)
    assert (SCREENSHOTS / "comparaison.pdf").stat().st_size > 1000


def _tab_to(page: Any, selector: str, limit: int = 400) -> None:
    """Press Tab until the focused element matches ``selector`` (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} jamais atteint au clavier")


def test_journey_search_fiche_trainings_compare_keyboard(page: Any) -> None:
    page.goto("/")
    _tab_to(page, "#q")
    page.keyboard.type("aide-soignant")
    page.keyboard.press("Enter")
    page.wait_for_url("**/recherche?q=*")
    _tab_to(page, f"ol.results a[href='/metiers/{OCCUPATION}']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/metiers/{OCCUPATION}")
    _tab_to(page, "a[href^='/formations?metier=']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/formations?*")
    _tab_to(page, "#f-commune")
    page.keyboard.type("Lyon")
    _tab_to(page, "#f-rayon")
    page.keyboard.type("60")
    page.keyboard.press("Enter")
    page.wait_for_url("**commune=Lyon*")
    while page.locator("input[name=ids]").count() < 3:
        _tab_to(page, "a.button")
        page.keyboard.press("Enter")
        page.wait_for_load_state()
    for _ in range(3):
        _tab_to(page, "input[name=ids]:not(:checked)")
        page.keyboard.press("Space")
    _tab_to(page, "form[action='/formations/comparer'] button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/formations/comparer?*")
    assert page.locator("table.compare thead th").count() == 4
    shot(page, "parcours-clavier-comparaison")


def test_emploi_filters(page: Any) -> None:
    page.goto("/emploi")
    page.get_by_label("Métier", exact=True).select_option(OCCUPATION)
    page.get_by_label("Lieu", exact=True).fill("Lyon")
    page.get_by_label("Rayon (km)").fill("100")
    page.get_by_label("CDI", exact=True).check()
    page.get_by_label("Temps de travail").select_option("temps_plein")
    page.get_by_label("Publiée depuis").select_option("31")
    page.get_by_role("button", name="Rechercher").last.click()
    title = page.locator("#resultats-titre").inner_text()
    assert re.match(r"^\d+\s+offres? aujourd'hui à moins de 100 km de Lyon", title), title
    assert "Auvergne-Rhône-Alpes" in page.locator(".count-region").inner_text()
    details = page.locator("ol.offers li p.muted").all_inner_texts()
    assert details, "aucune offre affichée"
    assert all(d.startswith("CDI · Temps plein") for d in details), details
    shot(page, "emploi-filtres")
    page.locator("ol.offers h3 a").first.click()
    assert "/emploi/offres/" in page.url
    assert page.get_by_text("Données de démonstration").count()
    shot(page, "emploi-offre")


def test_emploi_filters_keyboard(page: Any) -> None:
    page.goto("/emploi")
    _tab_to(page, "#e-metier")
    page.keyboard.type("Aide-soi")
    _tab_to(page, "#e-commune")
    page.keyboard.type("Bretagne")
    _tab_to(page, "#e-contrat-CDD")
    page.keyboard.press("Space")
    _tab_to(page, "form.criteria button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/emploi?*")
    query = parse_qs(urlparse(page.url).query)
    assert query["metier"] == [OCCUPATION] and query["commune"] == ["Bretagne"] and query["contrat"] == ["CDD"]
    assert "en Bretagne" in page.locator("#resultats-titre").inner_text()


@pytest.mark.parametrize("keyboard", [False, True], ids=["souris", "clavier"])
def test_labour_market_panel(page: Any, keyboard: bool) -> None:
    page.goto(f"/metiers/{OCCUPATION}")
    panel = page.locator("#marche")
    assert re.match(r"^\d+\s+offres? aujourd'hui en France$", panel.locator(".kpi").inner_text())
    # The territory is chosen once, at the top of the page, with the place picker; the panel follows it.
    if keyboard:
        _tab_to(page, "#lieu-commune")
        page.keyboard.type("Auvergne-Rhône-Alpes")
        page.keyboard.press("Enter")
    else:
        page.get_by_label("Votre commune, votre département ou votre région").fill("Auvergne-Rhône-Alpes")
        page.get_by_role("button", name="Voir", exact=True).click()
    page.wait_for_url("**commune=*")
    panel = page.locator("#marche")
    assert re.match(r"^\d+\s+offres? aujourd'hui en Auvergne-Rhône-Alpes$", panel.locator(".kpi").inner_text())
    charts = panel.locator("svg[role=img]")
    assert charts.count() >= 2
    for i in range(charts.count()):
        chart = charts.nth(i)
        labelled = (chart.get_attribute("aria-labelledby") or "").split()
        assert len(labelled) == 2 and chart.locator("title").text_content() and chart.locator("desc").text_content()
        # Each chart is followed by its data table.
        assert chart.locator("xpath=ancestor::figure/following-sibling::table[1]").count() == 1
    assert panel.get_by_text("Potentiel d'embauche").count()
    if not keyboard:
        panel.screenshot(path=str(SCREENSHOTS / "fiche-panneau-marche.png"))


def test_widen_step_by_step_with_the_keyboard(page: Any) -> None:
    """« Élargir » adds one step at a time, says what it widened, and never shows an empty list while a wider
    search has sessions (DEAS sessions exist somewhere in any demonstration set)."""
    page.goto("/formations?certification=deas&commune=Mende&rayon=5")
    assert page.locator("input[name=ids]").count() > 0, "liste vide alors qu'une recherche plus large trouve"
    before = page.locator(".widened li").count()
    upcoming = page.locator(".widen .muted").inner_text()
    _tab_to(page, "a.button")
    page.keyboard.press("Enter")
    page.wait_for_url("**elargir=*")
    steps = page.locator(".widened li").all_inner_texts()
    assert len(steps) >= before + 1
    assert steps[before].lower() in upcoming.lower()  # the step announced is the step taken
    assert page.locator("input[name=ids]").count() > 0
    shot(page, "formations-elargir")
