"""Applying from a phone (390 px, real Chromium), issue 16:

(a) a person without an account applies to an employer's offer with a PDF CV (a wrong file is refused beside
    its field); the employer answers « entretien proposé »; the person's confirmation and status e-mails are
    in the test server's outbox, and the follow link of the e-mail opens their application;
(b) a signed-in person applies through their counsellor: the counsellor transmits it, the employer sees it
    with the counsellor as contact;
(c) the employer closes the offer: its applicants are told by e-mail.

Each page a person meets is checked with axe-core and photographed under test-artifacts/screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

from sqlalchemy import Engine

from passerelles.accounts import services as accounts
from passerelles.accounts.models import Account
from passerelles.accounts.schemas import AccountCreate
from passerelles.caseloads import services as caseloads
from passerelles.caseloads.schemas import FileIn
from passerelles.db import make_sessionmaker
from passerelles.employers import services as employers
from passerelles.employers.schemas import OfferIn
from tests.browser.conftest import PASSWORD, People, ServerFolders
from tests.support.browser import AxeReport, shot
from tests.support.mail import Outbox
from tests.support.pdf import minimal_pdf

PHONE = {"width": 390, "height": 844}


def _too_wide(page: Any) -> list[str]:
    """Elements of the page's main content that go past the phone's width."""
    return list(
        page.evaluate(
            "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 391)"
            ".slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)"
        )
    )


def _check(page: Any, axe_report: AxeReport, name: str) -> None:
    """A page met on the way: it fits the phone, axe-core finds nothing serious, its screenshot is kept."""
    assert _too_wide(page) == [], name
    serious = axe_report.check(page, name)
    assert not serious, [(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in serious]
    shot(page, name)


@contextmanager
def _phone(browser: Any, live_server: str) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server, locale="fr-FR", viewport=PHONE)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _login(page: Any, email: str) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def _post_offer(browser_db: Engine, employer_email: str, title: str) -> int:
    with make_sessionmaker(browser_db)() as session:
        employer = session.query(Account).filter_by(email=employer_email).one()
        offer = employers.post_offer(
            session,
            employer,
            OfferIn(
                title=title,
                occupation_slug="aide-soignant",
                contract_type="CDI",
                commune_code="69381",
                salary_min=1900,
                salary_max=2100,
                salary_period="mois",
            ),
        )
        session.commit()
        return offer.id


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def _apply_without_account(page: Any, offer_id: int, name: str, email: str) -> None:
    page.goto(f"/emploi/offres/{offer_id}")
    page.get_by_role("link", name="Postuler", exact=True).click()
    page.get_by_label("Prénom et nom").fill(name)
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_role("button", name="Envoyer ma candidature").click()
    assert "Candidature envoyée" in page.locator("h1").inner_text()


def test_apply_without_account_from_a_phone(
    browser: Any,
    live_server: str,
    browser_db: Engine,
    people: People,
    outbox: Outbox,
    server_folders: ServerFolders,
    axe_report: AxeReport,
    tmp_path: Any,
) -> None:
    title = "Auxiliaire de vie — téléphone"
    offer_id = _post_offer(browser_db, people.employer, title)
    person = "camille.navigateur@example.org"
    kept = set(server_folders.uploads.glob("*.pdf"))
    with _phone(browser, live_server) as page:
        page.goto(f"/emploi/offres/{offer_id}")
        # The site's header belongs to the restyling of base.html; what this feature adds must fit.
        assert _too_wide(page) == []
        shot(page, "postuler-offre-390")
        page.get_by_role("link", name="Postuler", exact=True).click()
        _check(page, axe_report, "postuler-formulaire-390")
        page.get_by_label("Prénom et nom").fill("Camille Martin")
        page.get_by_label("Adresse électronique").fill(person)
        page.get_by_label("Votre message à l'employeur").fill("Disponible de suite, trois ans en EHPAD.")
        bad = tmp_path / "cv.pdf"
        bad.write_bytes(b"PK\x03\x04 ceci est une archive")
        page.get_by_label("CV (facultatif)").set_input_files(str(bad))
        page.get_by_role("button", name="Envoyer ma candidature").click()
        page.wait_for_load_state()
        assert "pas un PDF" in page.locator("#err-cv").inner_text()
        assert page.get_by_label("Prénom et nom").input_value() == "Camille Martin"
        _check(page, axe_report, "postuler-erreur-390")
        good = tmp_path / "Mon CV.pdf"
        good.write_bytes(minimal_pdf())
        page.get_by_label("CV (facultatif)").set_input_files(str(good))
        page.get_by_role("button", name="Envoyer ma candidature").click()
        assert "Candidature envoyée" in page.locator("h1").inner_text()
        follow = page.get_by_role("link", name="Suivre ma candidature").get_attribute("href")
        assert follow and "/candidatures/suivi/" in follow
        _check(page, axe_report, "candidature-envoyee-390")
    # The CV went to the server's upload folder, under a name of its own.
    assert [p.read_bytes() for p in set(server_folders.uploads.glob("*.pdf")) - kept] == [minimal_pdf()]
    confirmation = outbox.to(person)
    assert len(confirmation) == 1
    assert _subject(confirmation[0]) == f"Passerelles : candidature envoyée — {title}"
    assert f"Votre candidature à l'offre « {title} » chez EHPAD Les Glycines est enregistrée" in _body(confirmation[0])

    with _phone(browser, live_server) as ep:
        _login(ep, people.employer)
        ep.goto(f"/employeur/offres/{offer_id}")
        _check(ep, axe_report, "candidatures-employeur-390")
        ep.get_by_role("link", name="Camille Martin").click()
        assert "Vue par l'employeur" in ep.locator("#statut").inner_text()
        assert person in ep.locator("#contact").inner_text()
        assert "trois ans en EHPAD" in ep.locator("#message").inner_text()
        answer = ep.get_by_label("Votre réponse")
        # The employer's answers only: neither « Envoyée » nor the closing of the offer.
        assert answer.locator("option").all_inner_texts() == [
            "Vue par l'employeur",
            "Entretien proposé",
            "Retenue (embauche)",
            "Non retenue",
        ]
        answer.select_option(label="Entretien proposé")
        _check(ep, axe_report, "candidature-employeur-390")
        ep.get_by_role("button", name="Enregistrer la réponse").click()
        assert "Entretien proposé" in ep.locator("#statut").inner_text()

    # Confirmation, then each change of status (opening it marked it « vue »), the last one the interview.
    mails = outbox.to(person)
    assert [_subject(m) for m in mails] == [
        f"Passerelles : candidature envoyée — {title}",
        f"Passerelles : candidature « {title} » — Vue par l'employeur",
        f"Passerelles : candidature « {title} » — Entretien proposé",
    ]
    assert (
        f"Votre candidature à l'offre « {title} » chez EHPAD Les Glycines a changé de statut : Entretien proposé"
        in (_body(mails[-1]))
    )
    link = outbox.link(person, "/candidatures/suivi/")
    assert follow == f"{live_server}{link}"  # the link of the page and the e-mail's, both to this server
    with _phone(browser, live_server) as page:
        page.goto(link)
        assert title in page.locator("h1").inner_text()
        assert "Entretien proposé" in page.locator("#statut").inner_text()
        assert "L'employeur vous propose un entretien" in page.locator("#et-maintenant").inner_text()
        assert page.get_by_role("link", name="Télécharger le CV (PDF)").is_visible()
        _check(page, axe_report, "suivi-candidature-390")


def test_signed_in_person_applies_through_their_counsellor(
    browser: Any,
    live_server: str,
    browser_db: Engine,
    people: People,
    outbox: Outbox,
    axe_report: AxeReport,
) -> None:
    title = "Aide-soignant de jour — par le conseiller"
    offer_id = _post_offer(browser_db, people.employer, title)
    person = "nadia.navigateur@example.org"
    with make_sessionmaker(browser_db)() as session:
        account = accounts.create_account(
            session,
            None,
            AccountCreate(email=person, display_name="Nadia Benali", role="personne"),
            password=PASSWORD,
            verified=True,
        )
        counsellor = session.query(Account).filter_by(email=people.counsellor).one()
        file = caseloads.create_file(
            session, counsellor, FileIn(first_name="Nadia", last_name="Benali", consent_accompagnement=True)
        )
        file.account_id = account.id
        session.commit()

    with _phone(browser, live_server) as page:
        _login(page, person)
        page.goto(f"/emploi/offres/{offer_id}")
        page.get_by_role("link", name="Postuler", exact=True).click()
        assert page.get_by_label("Prénom et nom").input_value() == "Nadia Benali"
        assert page.get_by_label("Adresse électronique").input_value() == person
        page.get_by_label("Téléphone").fill("06 12 34 56 78")
        page.get_by_label("Passer par mon conseiller").check()
        _check(page, axe_report, "postuler-conseiller-390")
        page.get_by_role("button", name="Envoyer ma candidature").click()
        assert "votre conseiller la relit" in page.locator("#confirmation").inner_text()
    assert any("attend votre validation" in _subject(m) for m in outbox.to(people.counsellor))

    with _phone(browser, live_server) as cp:
        _login(cp, people.counsellor)
        cp.goto("/candidatures")
        card = cp.locator("#a-valider li", has_text=title)
        assert f"Nadia Benali candidate à l'offre {title}" in card.inner_text()
        _check(cp, axe_report, "candidatures-a-valider-390")
        card.get_by_role("button", name="Transmettre à l'employeur").click()
        cp.wait_for_load_state()
        assert cp.locator("#a-valider li", has_text=title).count() == 0

    mails = outbox.to(person)
    assert [_subject(m) for m in mails] == [
        f"Passerelles : candidature envoyée — {title}",
        f"Passerelles : candidature transmise à l'employeur — {title}",
    ]
    assert f"Votre candidature à l'offre « {title} » a été transmise à l'employeur." in _body(mails[-1])

    with _phone(browser, live_server) as ep:
        _login(ep, people.employer)
        ep.goto(f"/employeur/offres/{offer_id}")
        row = ep.locator("#candidatures-offre tr", has_text="Claire Navigateur")
        assert "par son conseiller" in row.inner_text()
        row.get_by_role("link", name="Claire Navigateur").click()
        contact = ep.locator("#contact").inner_text()
        assert "Claire Navigateur" in contact and people.counsellor in contact
        assert "06 12 34 56 78" not in ep.locator("main").inner_text() and person not in contact
        _check(ep, axe_report, "candidature-par-conseiller-390")

    with _phone(browser, live_server) as page:
        _login(page, person)
        page.goto("/candidatures")
        row = page.locator("#candidatures tr", has_text=title)
        assert "Transmise par le conseiller" in row.inner_text()
        _check(page, axe_report, "mes-candidatures-390")


def test_applicants_of_a_closed_offer_are_told(
    browser: Any,
    live_server: str,
    browser_db: Engine,
    people: People,
    outbox: Outbox,
    axe_report: AxeReport,
) -> None:
    title = "Agent de service hospitalier — offre fermée"
    offer_id = _post_offer(browser_db, people.employer, title)
    applicants = {"Lou Bernard": "lou.navigateur@example.org", "Sam Petit": "sam.navigateur@example.org"}
    with _phone(browser, live_server) as page:
        for name, email in applicants.items():
            _apply_without_account(page, offer_id, name, email)

    with _phone(browser, live_server) as ep:
        _login(ep, people.employer)
        ep.goto(f"/employeur/offres/{offer_id}")
        ep.get_by_role("button", name="Fermer l'offre").click()
        ep.wait_for_load_state()
        assert ep.get_by_role("button", name="Fermer l'offre").count() == 0
        assert "prévenues par courriel" in ep.locator("#offre-fermee").inner_text()
        assert ep.locator("#candidatures-offre select").count() == 0  # nothing left to answer
        statuses = ep.locator("#candidatures-offre [data-statut]").all_inner_texts()
        assert statuses == ["Offre pourvue ou expirée"] * 2
        _check(ep, axe_report, "offre-fermee-employeur-390")

    for email in applicants.values():
        last = outbox.to(email)[-1]
        assert _subject(last) == f"Passerelles : candidature « {title} » — Offre pourvue ou expirée"
        assert f"Votre candidature à l'offre « {title} » chez EHPAD Les Glycines" in _body(last)
        assert "Offre pourvue ou expirée" in _body(last)
    with _phone(browser, live_server) as page:
        page.goto(outbox.link(applicants["Lou Bernard"], "/candidatures/suivi/"))
        assert "Offre pourvue ou expirée" in page.locator("#statut").inner_text()
        assert "pas d'autre réponse" in page.locator("#et-maintenant").inner_text()
        _check(page, axe_report, "suivi-offre-fermee-390")
        page.goto(f"/emploi/offres/{offer_id}/postuler")
        assert "ne reçoit plus de candidatures" in page.locator("main").inner_text()
