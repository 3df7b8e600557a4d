"""Issue 7 in a real Chromium: a counsellor opens a person's file, builds a route and records an
application; an employer posts an offer, sees the consenting candidate and hires; the counsellor's
dashboard counts the hire. axe-core checks the login page, the caseload list, the file page, the employer
space and the dashboard; the counsellor logs in with the keyboard alone."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import People
from tests.support.browser import AxeReport, shot

PASSWORD = "correct horse battery staple"
OFFER_TITLE = "Aide-soignant de nuit — navigateur"


def _no_serious(axe_report: AxeReport, page: Any, name: str) -> None:
    serious = axe_report.check(page, name)
    assert not serious, [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in serious]


def _login_with_mouse(page: Any, email: str) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def _focused_id(page: Any) -> str:
    return str(page.evaluate("() => document.activeElement && document.activeElement.id"))


def _login_with_keyboard(page: Any, email: str) -> None:
    """Tab from the top of the page to the e-mail field, type, Tab to the password, Enter."""
    page.goto("/connexion")
    for _ in range(40):
        page.keyboard.press("Tab")
        if _focused_id(page) == "email":
            break
    else:
        raise AssertionError("le champ adresse électronique n'est pas atteignable au clavier")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    assert _focused_id(page) == "password", "Tab après l'adresse ne mène pas au mot de passe"
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_counsellor_and_employer_journey(
    browser: Any, live_server: str, people: People, axe_report: AxeReport, request: pytest.FixtureRequest
) -> None:
    def context() -> Any:
        ctx = browser.new_context(base_url=live_server, locale="fr-FR", viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(15_000)
        request.addfinalizer(ctx.close)
        return ctx.new_page()

    employer, counsellor = context(), context()

    # The employer logs in and posts an offer.
    employer.goto("/connexion")
    _no_serious(axe_report, employer, "connexion")
    shot(employer, "accompagnement-connexion")
    _login_with_mouse(employer, people.employer)
    assert urlparse(employer.url).path == "/employeur"
    employer.get_by_role("link", name="Publier une offre").click()
    employer.wait_for_load_state()
    employer.locator("#f-title").fill(OFFER_TITLE)
    employer.locator("#f-occupation_slug").select_option("aide-soignant")
    employer.locator("#f-contract_type").select_option("CDI")
    employer.locator("#f-commune").fill("69381")
    employer.locator("#f-night_work").check()
    employer.get_by_role("button", name="Publier l'offre").click()
    employer.wait_for_load_state()
    assert employer.locator("#offre-publiee").count() == 1
    employer.goto("/employeur")
    offer_link = employer.get_by_role("link", name=OFFER_TITLE)
    assert offer_link.count() == 1
    _no_serious(axe_report, employer, "espace-employeur")
    shot(employer, "accompagnement-espace-employeur")
    offer_path = str(offer_link.get_attribute("href"))
    offer_id = offer_path.rsplit("/", 1)[1]

    # The counsellor logs in with the keyboard alone and opens a file.
    _login_with_keyboard(counsellor, people.counsellor)
    assert urlparse(counsellor.url).path == "/conseil/dossiers"
    _no_serious(axe_report, counsellor, "dossiers")
    shot(counsellor, "accompagnement-dossiers")
    counsellor.get_by_role("link", name="Ouvrir un dossier").click()
    counsellor.get_by_label("Prénom").fill("Awa")
    counsellor.get_by_label("Nom", exact=True).fill("Diallo")
    counsellor.get_by_label("Commune (facultatif)").fill("Villeurbanne")
    counsellor.get_by_label(re.compile("Métier visé")).fill("aide-soignant")
    counsellor.get_by_label(re.compile("Diplômes détenus")).fill("bac")
    counsellor.get_by_label(re.compile("accepte l'accompagnement")).check()
    counsellor.get_by_label(re.compile("proposée aux employeurs")).check()
    counsellor.get_by_role("button", name="Ouvrir le dossier").click()
    counsellor.wait_for_load_state()
    assert re.fullmatch(r"/conseil/dossiers/\d+", urlparse(counsellor.url).path), counsellor.url
    file_url = counsellor.url
    assert counsellor.get_by_role("heading", level=1).inner_text() == "Awa Diallo"

    # The file's route link opens the planner prefilled with the person's profile.
    route = counsellor.get_by_role("link", name="Construire un parcours avec ce profil")
    query = parse_qs(urlparse(str(route.get_attribute("href"))).query)
    assert query["cible"] == ["aide-soignant"] and query["diplome"] and query["commune"]
    route.click()
    counsellor.wait_for_load_state()
    assert urlparse(counsellor.url).path == "/parcours"
    assert counsellor.locator("#cible").input_value() == "aide-soignant"
    assert counsellor.locator("#diplome-0").input_value() == query["diplome"][0]
    assert "Aide-soignant" in counsellor.locator("#resultats").inner_text()
    shot(counsellor, "accompagnement-parcours")

    # Back on the file, the counsellor records the application to the employer's offer.
    counsellor.goto(file_url)
    counsellor.get_by_label(re.compile("Enregistrer une candidature")).fill(offer_id)
    counsellor.locator("#candidature-enregistrer").click()
    counsellor.wait_for_load_state()
    status = counsellor.locator("#candidatures-dossier td[data-statut]")
    assert status.count() == 1 and status.get_attribute("data-statut") == "envoyee"
    assert OFFER_TITLE in counsellor.locator("#candidatures-dossier").inner_text()
    _no_serious(axe_report, counsellor, "dossier")
    shot(counsellor, "accompagnement-dossier")

    # The employer sees the consenting candidate (no contact details) and hires.
    employer.goto(offer_path)
    applications = employer.locator("#candidatures-offre")
    # An application names its candidate (and the counsellor who sends it); no personal contact detail.
    assert "Awa Diallo" in applications.inner_text() and "accompagné·e par" in applications.inner_text()
    employer.locator("#candidatures-offre select").select_option("embauche")
    employer.locator("#candidatures-offre").get_by_role("button", name="Répondre").click()
    employer.wait_for_load_state()
    employer.goto(offer_path)
    assert employer.locator("#candidatures-offre td[data-statut]").get_attribute("data-statut") == "embauche"
    shot(employer, "accompagnement-offre-employeur")

    # The counsellor's file and dashboard count the hire.
    counsellor.goto(file_url)
    assert counsellor.locator("#candidatures-dossier td[data-statut]").get_attribute("data-statut") == "embauche"
    today = dt.date.today().isoformat()
    counsellor.goto(f"/conseil/tableau-de-bord?debut={today}&fin={today}")
    assert counsellor.locator('td[data-indicateur="embauche"]').inner_text().strip() == "1"
    _no_serious(axe_report, counsellor, "tableau-de-bord")
    shot(counsellor, "accompagnement-tableau-de-bord")
