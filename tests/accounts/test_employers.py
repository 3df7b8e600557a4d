"""Employers' space: offers that join job offers, consenting candidates ranked with reasons, applications
seen by all three parties, hires counted on the dashboard, reminders by e-mail, job datings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from passerelles.accounts import services as accounts
from passerelles.accounts.models import Account
from passerelles.accounts.schemas import AccountCreate, StructureIn
from passerelles.certifications.models import Certification, OccupationCertification
from passerelles.employers import candidates as employer_services
from passerelles.employers.models import Application
from passerelles.occupations.models import Occupation
from passerelles.offers.models import JobOffer
from passerelles.settings import Settings
from tests.accounts.test_caseloads import new_file
from tests.support.accounts import PASSWORD, World, login, page_csrf
from tests.support.mail import Mailbox


def post_offer(client: TestClient, csrf: str, **extra: object) -> int:
    body = {
        "title": "Aide-soignant·e de nuit",
        "occupation_slug": "aide-soignant",
        "contract_type": "CDI",
        "commune_code": "69381",
    }
    response = client.post("/api/v1/employeur/offres", json=body | extra, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def third_employer(db: Session) -> Account:
    """An employer of another structure (MAS Trois), verified, password :data:`PASSWORD`."""
    return accounts.create_account(
        db,
        None,
        AccountCreate(
            email="rh@troisieme.org",
            display_name="Troisième",
            role="employeur",
            structure=StructureIn(name="MAS Trois", siret="44306184100047", structure_type="mas"),
        ),
        password=PASSWORD,
        verified=True,
    )


def test_employer_deletes_a_recruitment_need(client: TestClient, world: World) -> None:
    csrf = login(client, world.emails["employeur"])
    headers = {"X-CSRF-Token": csrf}
    need = {"occupation_slug": "aide-soignant", "positions": 2, "contract_type": "CDI"}
    first = client.post("/api/v1/employeur/besoins", json=need, headers=headers).json()["id"]
    second = client.post("/api/v1/employeur/besoins", json=need | {"positions": 3}, headers=headers).json()["id"]
    assert client.delete(f"/api/v1/employeur/besoins/{first}", headers=headers).status_code == 204
    assert [n["id"] for n in client.get("/api/v1/employeur/besoins").json()] == [second]
    assert client.delete(f"/api/v1/employeur/besoins/{first}", headers=headers).status_code == 404
    # Another structure's employer cannot delete it: it is absent for them.
    with Session(client.app.state.engine) as db:
        third_employer(db)
        db.commit()
    other = TestClient(client.app)
    csrf_x = login(other, "rh@troisieme.org")
    denied = other.delete(f"/api/v1/employeur/besoins/{second}", headers={"X-CSRF-Token": csrf_x})
    assert denied.status_code == 404
    # The page: a button per need, then the list without it.
    page = client.get("/employeur").text
    assert f'action="/employeur/besoins/{second}/suppression"' in page
    done = client.post(f"/employeur/besoins/{second}/suppression", data={"csrf_token": page_csrf(client, "/employeur")})
    assert done.status_code == 200 and f"/employeur/besoins/{second}/suppression" not in done.text
    assert client.get("/api/v1/employeur/besoins").json() == []


def test_offer_posted_from_the_page_is_a_job_offer(client: TestClient, world: World, db: Session) -> None:
    login(client, world.emails["employeur"])
    token = page_csrf(client, "/employeur")
    form = {"csrf_token": token, "title": "AES en MAS", "occupation_slug": "accompagnant-educatif-et-social"}
    form |= {"contract_type": "CDD", "commune_code": "69266", "positions": "2", "night_work": "oui"}
    assert client.post("/employeur/offres", data=form, follow_redirects=False).status_code == 303
    offer = db.scalar(select(JobOffer).where(JobOffer.title == "AES en MAS"))
    assert offer is not None and offer.source == "employeur" and offer.employer_id == world.employer_id
    assert offer.code_rome and offer.city == "Villeurbanne" and offer.latitude and offer.night_work is True
    assert "AES en MAS" in client.get("/employeur").text
    bad = client.post("/employeur/offres", data=form | {"commune_code": "99999"}, follow_redirects=True)
    # Refused beside the commune's field, in French, every other field kept (no redirect that empties them).
    assert bad.status_code == 422 and "Lieu introuvable : « 99999 »" in bad.text
    assert 'value="AES en MAS"' in bad.text


def test_only_consenting_people_are_suggested_ranked_with_reasons(client: TestClient, world: World) -> None:
    counsellor = TestClient(client.app)
    csrf_c = login(counsellor, world.emails["conseiller_a"])
    near = new_file(counsellor, csrf_c, first_name="Amina", last_name="Near", email=None, commune_code="69266")
    new_file(
        counsellor,
        csrf_c,
        first_name="Marc",
        last_name="Loin",
        email=None,
        commune_code="13201",
        profile={"target": "aide-soignant", "commune": "13201"},
    )
    new_file(counsellor, csrf_c, first_name="Secrète", last_name="Invisible", email=None, visible_employeurs=False)
    csrf = login(client, world.emails["employeur"])
    offer_id = post_offer(client, csrf)
    found = client.get(f"/api/v1/employeur/offres/{offer_id}/candidats").json()
    assert [c["display_name"] for c in found] == ["Amina N.", "Marc L."]
    assert {r["criterion"] for r in found[0]["why"]} == {"metier", "distance", "disponibilite"}
    assert found[0]["score"] > found[1]["score"]
    html = client.get(f"/employeur/offres/{offer_id}").text
    assert "Amina N." in html and "Invisible" not in html and "Secrète" not in html
    # Withdrawing the consent takes the person out at once.
    counsellor.post(
        f"/api/v1/dossiers/{near}/consentements/retrait",
        json={"purpose": "visible_employeurs"},
        headers={"X-CSRF-Token": csrf_c},
    )
    assert [c["display_name"] for c in client.get(f"/api/v1/employeur/offres/{offer_id}/candidats").json()] == [
        "Marc L."
    ]


def test_candidates_are_ranked_by_every_reason_and_cut_at_the_limit(
    client: TestClient, world: World, db: Session
) -> None:
    """The ranking reads profiles only for the best bounds: the order and the reasons must still be those of
    every criterion (experience, diploma, a commune given in the profile only), with ties by file id."""
    counsellor = TestClient(client.app)
    csrf_c = login(counsellor, world.emails["conseiller_a"])
    cert = db.scalar(
        select(Certification.slug)
        .join(OccupationCertification, OccupationCertification.certification_id == Certification.id)
        .join(Occupation, Occupation.id == OccupationCertification.occupation_id)
        .where(Occupation.slug == "aide-soignant", OccupationCertification.role == "principale")
    )
    assert cert is not None
    near = {"email": None, "commune_code": "69266"}
    tied = new_file(counsellor, csrf_c, first_name="Aline", last_name="Vise", **near)  # 40 + 20 + 10
    best = new_file(
        counsellor,
        csrf_c,
        first_name="Berthe",
        last_name="Experte",
        profile={"experience": [{"occupation": "aide-soignant", "years": 3}], "diplomas": [{"slug": cert}]},
        **near,
    )  # 30 + 30 + 20 + 10
    in_profile = new_file(
        counsellor,
        csrf_c,
        first_name="Chloé",
        last_name="Profil",
        email=None,
        commune_code=None,
        profile={"target": "aide-soignant", "commune": "69266"},
    )  # 40 + 20 (commune read from the profile) + 10
    far = new_file(counsellor, csrf_c, first_name="Dora", last_name="Loin", email=None, commune_code="13201")
    local = new_file(
        counsellor,
        csrf_c,
        first_name="Emma",
        last_name="Voisine",
        email=None,
        commune_code="69381",
        profile={"diplomas": [{"slug": "bac"}]},
    )  # 20 + 10
    csrf = login(client, world.emails["employeur"])
    offer_id = post_offer(client, csrf)
    found = client.get(f"/api/v1/employeur/offres/{offer_id}/candidats").json()
    assert [c["file_id"] for c in found] == [best, tied, in_profile, far, local]
    assert [c["score"] for c in found] == [90, 70, 70, 50, 30]
    assert [r["criterion"] for r in found[0]["why"]] == ["metier", "certification", "distance", "disponibilite"]
    assert found[0]["why"][0]["text"].startswith("A exercé le métier")
    assert [r["criterion"] for r in found[2]["why"]] == ["metier", "distance", "disponibilite"]
    employer = db.scalar(select(Account).where(Account.email == world.emails["employeur"]))
    assert employer is not None
    for limit, expected in ((1, [best]), (2, [best, tied]), (3, [best, tied, in_profile])):
        shown = employer_services.candidates(db, employer, offer_id, limit=limit)
        assert shown is not None and [c.file_id for c in shown] == expected


def test_application_statuses_hire_and_dashboard(client: TestClient, world: World, db: Session) -> None:
    employer = TestClient(client.app)
    csrf_e = login(employer, world.emails["employeur"])
    offer_id = post_offer(employer, csrf_e)
    csrf_c = login(client, world.emails["conseiller_a"])
    file_id = new_file(client, csrf_c, email=None)
    applied = client.post(
        "/api/v1/candidatures", json={"offer_id": offer_id, "file_id": file_id}, headers={"X-CSRF-Token": csrf_c}
    )
    assert applied.status_code == 201 and applied.json()["status"] == "envoyee"
    app_id = applied.json()["id"]
    twice = client.post(
        "/api/v1/candidatures", json={"offer_id": offer_id, "file_id": file_id}, headers={"X-CSRF-Token": csrf_c}
    )
    assert twice.status_code == 422
    assert employer.get(f"/api/v1/candidatures/{app_id}").json()["status"] == "vue"
    assert client.get("/api/v1/candidatures").json()[0]["status_label"] == "Vue par l'employeur"
    hired = employer.put(
        f"/api/v1/candidatures/{app_id}/statut", json={"status": "embauche"}, headers={"X-CSRF-Token": csrf_e}
    )
    assert hired.status_code == 200
    detail = client.get(f"/api/v1/dossiers/{file_id}").json()
    assert [s["kind"] for s in detail["steps"]] == ["candidature_offre", "embauche"]
    today = dt.date.today().isoformat()
    board = client.get("/api/v1/tableau-de-bord", params={"debut": today, "fin": today}).json()
    assert {r["indicator"]: r["value"] for r in board["rows"]}["embauche"] == 1
    # Nobody else reads or answers it by changing the id.
    with Session(bind=db.get_bind()) as s:
        accounts.create_account(
            s,
            None,
            AccountCreate(
                email="rh@autre.org",
                display_name="Autre",
                role="employeur",
                structure=StructureIn(name="SSIAD Autre", siret="73282932000074", structure_type="ssiad"),
            ),
            password=PASSWORD,
            verified=True,
        )
        other_structure = third_employer(s)
        s.commit()
        assert other_structure.employer_id != world.employer_id
    intruder = TestClient(client.app)
    csrf_i = login(intruder, "rh@troisieme.org")
    assert intruder.get(f"/api/v1/candidatures/{app_id}").status_code == 404
    assert (
        intruder.put(
            f"/api/v1/candidatures/{app_id}/statut", json={"status": "refusee"}, headers={"X-CSRF-Token": csrf_i}
        ).status_code
        == 404
    )
    assert intruder.get(f"/api/v1/employeur/offres/{offer_id}/candidats").status_code == 404
    assert intruder.get("/api/v1/candidatures").json() == []
    b = TestClient(client.app)
    login(b, world.emails["conseiller_b"])
    assert b.get(f"/api/v1/candidatures/{app_id}").status_code == 404


def test_reminders_for_unanswered_applications(
    client: TestClient, world: World, db: Session, mailbox: Mailbox, settings: Settings
) -> None:
    from passerelles.cli import app as cli

    employer = TestClient(client.app)
    offer_id = post_offer(employer, login(employer, world.emails["employeur"]))
    csrf_c = login(client, world.emails["conseiller_a"])
    file_id = new_file(client, csrf_c, email=None)
    client.post(
        "/api/v1/candidatures", json={"offer_id": offer_id, "file_id": file_id}, headers={"X-CSRF-Token": csrf_c}
    )
    env = {
        "PASSERELLES_DATABASE_URL": settings.database_url,
        "PASSERELLES_SMTP_PORT": str(settings.smtp_port),
        "PASSERELLES_MAIL_TRANSPORT": "smtp",
    }
    assert "0 courriel" in CliRunner().invoke(cli, ["employeurs", "relances"], env=env).output  # too recent
    db.execute(update(Application).values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=10)))
    db.commit()
    result = CliRunner().invoke(cli, ["employeurs", "relances"], env=env)
    assert result.exit_code == 0 and "1 courriel" in result.output, result.output
    [message] = mailbox.to(world.emails["employeur"])
    assert "Aide-soignant·e de nuit" in message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "0 courriel" in CliRunner().invoke(cli, ["employeurs", "relances"], env=env).output  # already reminded


def test_job_dating_registration(client: TestClient, world: World, mailbox: Mailbox) -> None:
    employer = TestClient(client.app)
    csrf_e = login(employer, world.emails["employeur"])
    when = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    event = employer.post(
        "/api/v1/job-datings",
        json={"title": "Job dating EHPAD", "on": when, "place": "Villeurbanne", "capacity": 1},
        headers={"X-CSRF-Token": csrf_e},
    )
    assert event.status_code == 201
    event_id = event.json()["id"]
    csrf_c = login(client, world.emails["conseiller_a"])
    first = new_file(client, csrf_c, email=None, first_name="Yasmine", last_name="Dupuis")
    second = new_file(client, csrf_c, email=None, first_name="Tom", last_name="Petit")
    assert (
        client.post(
            f"/api/v1/job-datings/{event_id}/inscriptions", json={"file_id": first}, headers={"X-CSRF-Token": csrf_c}
        ).status_code
        == 201
    )
    full = client.post(
        f"/api/v1/job-datings/{event_id}/inscriptions", json={"file_id": second}, headers={"X-CSRF-Token": csrf_c}
    )
    assert full.status_code == 422 and full.json()["error"]["message"] == "Complet."
    listed = employer.get("/api/v1/job-datings").json()
    assert listed[0]["registered"] == 1 and listed[0]["registered_names"] == ["Yasmine D."]
    past = employer.post(
        "/api/v1/job-datings",
        json={"title": "Passé", "on": "2020-01-01", "place": "Lyon", "capacity": 5},
        headers={"X-CSRF-Token": csrf_e},
    )
    assert past.status_code == 422 and past.json()["error"]["details"][0]["field"] == "on"


def test_journey_through_the_pages(client: TestClient, world: World, db: Session) -> None:
    """The issue's journey with forms only: a counsellor opens a file and records an application, the
    employer posts the offer, sees the consenting candidate and hires; the dashboard counts the hire."""
    employer = TestClient(client.app)
    login(employer, world.emails["employeur"])
    form = {
        "csrf_token": page_csrf(employer, "/employeur"),
        "title": "Aide-soignant de jour",
        "occupation_slug": "aide-soignant",
    }
    form |= {"contract_type": "CDI", "commune_code": "69381"}
    assert employer.post("/employeur/offres", data=form, follow_redirects=False).status_code == 303
    offer_id = db.scalar(select(JobOffer.id).where(JobOffer.title == "Aide-soignant de jour"))

    login(client, world.emails["conseiller_a"])
    form = {"csrf_token": page_csrf(client, "/conseil/dossiers/nouveau"), "first_name": "Awa", "last_name": "Diallo"}
    form |= {
        "commune_code": "69266",
        "target": "aide-soignant",
        "diplomas": "deas",
        "consent_accompagnement": "oui",
        "visible_employeurs": "oui",
    }
    created = client.post("/conseil/dossiers/nouveau", data=form, follow_redirects=False)
    file_url = created.headers["location"]
    token = page_csrf(client, file_url)
    data = {"csrf_token": token, "offer_id": str(offer_id), "file_id": file_url.rsplit("/", 1)[1], "retour": file_url}
    recorded = client.post("/candidatures", data=data, follow_redirects=False)
    assert recorded.status_code == 303 and recorded.headers["location"] == file_url
    assert 'data-statut="envoyee"' in client.get(file_url).text

    offer_page = employer.get(f"/employeur/offres/{offer_id}").text
    assert "Awa D." in offer_page and "Détient" in offer_page
    app_id = db.scalar(select(Application.id).where(Application.offer_id == offer_id))
    hire = {"csrf_token": page_csrf(employer, "/candidatures"), "status": "embauche"}
    assert employer.post(f"/candidatures/{app_id}/statut", data=hire, follow_redirects=False).status_code == 303
    assert 'data-statut="embauche"' in client.get(file_url).text
    today = dt.date.today().isoformat()
    board = client.get("/conseil/tableau-de-bord", params={"debut": today, "fin": today}).text
    assert 'data-indicateur="embauche">1<' in board


def test_application_list_queries_do_not_grow_with_the_applications(db: Session, world: World, engine: Any) -> None:
    """The employer's and the counsellor's application lists load offers and files in one query each."""
    from sqlalchemy import event

    from passerelles.accounts.models import Account
    from passerelles.caseloads import services as caseloads
    from passerelles.caseloads.schemas import FileIn
    from passerelles.employers import applications as employer_applications
    from passerelles.employers import services as employers
    from passerelles.employers.schemas import ApplicationIn, OfferIn

    counsellor, employer = db.get(Account, world.ids["conseiller_a"]), db.get(Account, world.ids["employeur"])
    assert counsellor is not None and employer is not None
    offer = employers.post_offer(
        db,
        employer,
        OfferIn(title="Offre test", occupation_slug="aide-soignant", contract_type="CDI", commune_code="69381"),
    )
    offer_id = offer.id
    for i in range(20):
        file = caseloads.create_file(
            db, counsellor, FileIn(first_name=f"Awa{i}", last_name="Benali", consent_accompagnement=True)
        )
        employer_applications.apply(db, counsellor, ApplicationIn(offer_id=offer_id, file_id=file.id))
    db.commit()
    queries: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cur, statement, *rest: queries.append(statement))
    for account_id in (world.ids["employeur"], world.ids["conseiller_a"]):
        db.expunge_all()
        actor = db.get(Account, account_id)
        assert actor is not None
        queries.clear()
        listed = employer_applications.list_applications(db, actor, offer_id)
        assert len(listed) == 20 and {a.candidate for a in listed} == {f"Awa{i} B." for i in range(20)}
        assert len(queries) <= 3, queries
