"""Structures are claimed, not joined (issue 14): an account that names a known SIRET gets a pending claim
and nothing of the structure until the structure's administrator accepts it, or, for a structure nobody
administers (created by an offers feed), until a link sent to its known contact address is opened or an
administrator approves it. Hires are counted once per application, whatever the toggling."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from passerelles.accounts.models import Account, EmployerMembership
from passerelles.caseloads import services as caseloads
from passerelles.caseloads.models import FileStep, OutcomeEvent
from passerelles.caseloads.schemas import FileIn
from passerelles.db import make_sessionmaker
from passerelles.employers import applications as employer_applications
from passerelles.employers import services as employers
from passerelles.employers.models import Application, EmployerProfile
from passerelles.employers.schemas import ApplicationIn, OfferIn
from passerelles.offers.models import Employer
from tests.support.accounts import PASSWORD, World, login, page_csrf
from tests.support.databases import BACKENDS, DatabaseFactory
from tests.support.mail import Mailbox

SIRET = "73282932000074"  # the world's EHPAD Les Tilleuls: public, like every SIRET
FEED_SIRET = "55200000000000"  # a structure created by an offers feed, nobody administers it


@dataclass
class Scene:
    offer_id: int
    file_id: int
    application_id: int


def scene(db: Session, world: World) -> Scene:
    """The world's employer has an offer with one application from a consenting person."""
    counsellor, employer = db.get(Account, world.ids["conseiller_a"]), db.get(Account, world.ids["employeur"])
    assert counsellor is not None and employer is not None
    offer = employers.post_offer(
        db,
        employer,
        OfferIn(
            title="Aide-soignant de nuit", occupation_slug="aide-soignant", contract_type="CDI", commune_code="69381"
        ),
    )
    file = caseloads.create_file(
        db,
        counsellor,
        FileIn(first_name="Awa", last_name="Diallo", consent_accompagnement=True, visible_employeurs=True),
    )
    application = employer_applications.apply(db, counsellor, ApplicationIn(offer_id=offer.id, file_id=file.id))
    assert application is not None
    db.commit()
    return Scene(offer.id, file.id, application.id)


def register_api(client: TestClient, mailbox: Mailbox, email: str, siret: str, name: str = "Intrus") -> str:
    """Self-registration as an employer through the API, e-mail confirmed, logged in: the CSRF token."""
    body = {
        "email": email,
        "password": PASSWORD,
        "display_name": name,
        "role": "employeur",
        "structure": {"name": "N'importe quel nom", "siret": siret, "structure_type": "ehpad"},
    }
    assert client.post("/api/v1/comptes/inscription", json=body).status_code == 202
    assert client.get(mailbox.link(email, "/compte/verifier")).status_code == 200
    return login(client, email)


def register_page(client: TestClient, mailbox: Mailbox, email: str, siret: str, name: str) -> str:
    """The same through the registration form."""
    form = {"csrf_token": page_csrf(client, "/inscription"), "role": "employeur", "display_name": name}
    form |= {"email": email, "password": PASSWORD, "siret": siret, "structure_name": "Autre nom"}
    form |= {"structure_type": "ehpad"}
    assert client.post("/inscription", data=form).status_code == 200
    assert client.get(mailbox.link(email, "/compte/verifier")).status_code == 200
    return login(client, email)


def membership(db: Session, email: str) -> EmployerMembership:
    db.expire_all()
    found = db.scalar(
        select(EmployerMembership)
        .join(Account, Account.id == EmployerMembership.account_id)
        .where(Account.email == email)
    )
    assert found is not None
    return found


def test_registering_with_a_known_siret_gives_no_access_to_the_structure(
    client: TestClient, world: World, db: Session, mailbox: Mailbox
) -> None:
    """Finding « Employer takeover by SIRET »: before, the newcomer read applications and candidates,
    rewrote the profile and set applications to « embauche » (pages and API)."""
    s = scene(db, world)
    csrf = register_api(client, mailbox, "intrus@example.org", SIRET)
    h = {"X-CSRF-Token": csrf}
    me = client.get("/api/v1/comptes/moi").json()["account"]
    assert me["role"] == "employeur" and me["employer_id"] is None
    claim = client.get("/api/v1/employeur/rattachement").json()
    assert claim["status"] == "pending" and claim["decided_by"] == "structure"
    assert claim["message"] == "Votre demande de rattachement à EHPAD Les Tilleuls est en attente de validation."
    # API: nothing of the structure.
    for path in (
        "/api/v1/employeur/structure",
        "/api/v1/employeur/besoins",
        "/api/v1/employeur/offres",
        f"/api/v1/employeur/offres/{s.offer_id}/candidats",
        "/api/v1/candidatures",
        f"/api/v1/candidatures/{s.application_id}",
        "/api/v1/job-datings",
        "/api/v1/employeur/rattachements",
    ):
        response = client.get(path)
        assert response.status_code == 403, (path, response.text)
        assert "Awa" not in response.text
    assert client.put("/api/v1/employeur/structure", json={"description": "Piraté"}, headers=h).status_code == 403
    hired = client.put(f"/api/v1/candidatures/{s.application_id}/statut", json={"status": "embauche"}, headers=h)
    assert hired.status_code == 403
    refused = client.post(
        "/api/v1/employeur/offres",
        json={
            "title": "Fausse offre",
            "occupation_slug": "aide-soignant",
            "contract_type": "CDI",
            "commune_code": "69381",
        },
        headers=h,
    )
    assert refused.status_code == 403
    # Pages: the space says the claim is pending, in French, and shows nothing else.
    space = client.get("/employeur")
    assert space.status_code == 200
    assert "Votre demande de rattachement à EHPAD Les Tilleuls est en attente de validation" in space.text
    assert "Aide-soignant de nuit" not in space.text and 'id="form-structure"' not in space.text
    token = csrf  # the session's token (the pending page has no form)
    assert client.get("/candidatures").status_code == 403
    assert client.get(f"/employeur/offres/{s.offer_id}").status_code == 403
    form = {"csrf_token": token, "status": "embauche"}
    assert client.post(f"/candidatures/{s.application_id}/statut", data=form).status_code == 403
    assert client.post("/employeur/structure", data={"csrf_token": token, "description": "Piraté"}).status_code == 403
    # Nothing changed: no hire in the person's file, no profile.
    db.expire_all()
    application = db.get(Application, s.application_id)
    assert application is not None and application.status == "envoyee"
    assert db.scalar(select(FileStep).where(FileStep.file_id == s.file_id, FileStep.kind == "embauche")) is None
    assert db.get(EmployerProfile, world.employer_id) is None


def test_structure_administrator_accepts_or_refuses_claims(
    client: TestClient, world: World, db: Session, mailbox: Mailbox
) -> None:
    s = scene(db, world)
    newcomer = TestClient(client.app)
    register_page(newcomer, mailbox, "adjointe@ehpad-exemple.org", SIRET, "Adjointe de direction")
    other = TestClient(client.app)
    csrf_o = register_api(other, mailbox, "inconnu@example.org", SIRET, "Inconnu")
    assert newcomer.get("/api/v1/candidatures").status_code == 403

    # The structure's administrator sees both claims in the space and accepts one with the form (CSRF).
    csrf_a = login(client, world.emails["employeur"])
    space = client.get("/employeur").text
    assert "Adjointe de direction" in space and "Inconnu" in space
    requests = client.get("/api/v1/employeur/rattachements").json()
    ids = {r["account_email"]: r["id"] for r in requests}
    assert set(ids) == {"adjointe@ehpad-exemple.org", "inconnu@example.org"}
    no_token = client.post(
        f"/employeur/rattachements/{ids['adjointe@ehpad-exemple.org']}", data={"decision": "accepter"}
    )
    assert no_token.status_code == 403  # CSRF
    accepted = client.post(
        f"/employeur/rattachements/{ids['adjointe@ehpad-exemple.org']}",
        data={"csrf_token": page_csrf(client, "/employeur"), "decision": "accepter"},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    # And refuses the other through the API.
    refused = client.post(
        f"/api/v1/employeur/rattachements/{ids['inconnu@example.org']}",
        json={"decision": "refuser"},
        headers={"X-CSRF-Token": csrf_a},
    )
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    again = client.post(
        f"/api/v1/employeur/rattachements/{ids['inconnu@example.org']}",
        json={"decision": "accepter"},
        headers={"X-CSRF-Token": csrf_a},
    )
    assert again.status_code == 404  # decided once

    # The accepted member works for the structure; a member does not decide claims.
    assert [a["id"] for a in newcomer.get("/api/v1/candidatures").json()] == [s.application_id]
    assert newcomer.get("/api/v1/employeur/rattachement").json()["role"] == "member"
    assert newcomer.get("/api/v1/employeur/rattachements").status_code == 403
    assert membership(db, "adjointe@ehpad-exemple.org").decided_by_id == world.ids["employeur"]
    # The refused one: still nothing, and told so.
    assert other.get("/api/v1/candidatures").status_code == 403
    assert "a été refusée" in other.get("/employeur").text
    assert (
        other.put(
            "/api/v1/employeur/structure", json={"description": "x"}, headers={"X-CSRF-Token": csrf_o}
        ).status_code
        == 403
    )


def test_feed_structure_claimed_through_its_contact_address(
    client: TestClient, db: Session, mailbox: Mailbox, reference_template: object
) -> None:
    """A structure nobody administers (created by an offers feed) with a known contact address: the link sent
    there confirms the claim, once; the claimant becomes the structure's administrator."""
    db.add(
        Employer(
            siret=FEED_SIRET, name="Résidence des Pins", structure_type="ehpad", contact_email="contact@pins.example"
        )
    )
    db.commit()
    csrf = register_api(client, mailbox, "rh@pins.example", FEED_SIRET, "Directrice des Pins")
    claim = client.get("/api/v1/employeur/rattachement").json()
    assert claim["status"] == "pending" and claim["decided_by"] == "verification"
    assert claim["contact"] == "c…@pins.example"
    space = client.get("/employeur").text
    assert "Votre demande de rattachement à Résidence des Pins est en attente de validation" in space
    sent = client.post(
        "/employeur/rattachement/invitation",
        data={"csrf_token": page_csrf(client, "/employeur")},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    link = mailbox.link("contact@pins.example", "/employeur/rattachement/confirmer")
    assert mailbox.to("rh@pins.example")[-1]["Subject"] != mailbox.to("contact@pins.example")[-1]["Subject"]
    # Sending again at once is refused (no flood of the contact address).
    again = client.post("/api/v1/employeur/rattachement/invitation", headers={"X-CSRF-Token": csrf})
    assert again.status_code == 422
    assert client.get("/api/v1/employeur/structure").status_code == 403  # not before the link is used

    # Whoever reads the contact mailbox opens the link (no account needed): a page, then a POST.
    contact = TestClient(client.app)
    shown = contact.get(link)
    assert shown.status_code == 200 and "Directrice des Pins" in shown.text and "Résidence des Pins" in shown.text
    token = link.split("jeton=")[1]
    form = {"csrf_token": page_csrf(contact, link), "jeton": token}
    confirmed = contact.post("/employeur/rattachement/confirmer", data=form)
    assert confirmed.status_code == 200 and "Demande confirmée" in confirmed.text
    replay = contact.post("/employeur/rattachement/confirmer", data=form)
    assert replay.status_code == 400  # single use
    assert contact.post("/api/v1/employeur/rattachement/confirmation", json={"token": token}).status_code == 404

    assert client.get("/api/v1/employeur/structure").json()["name"] == "Résidence des Pins"
    assert client.get("/api/v1/employeur/rattachement").json()["role"] == "admin"
    m = membership(db, "rh@pins.example")
    assert (m.status, m.role, m.decided_how, m.claim_token_hash) == ("active", "admin", "invitation", None)

    # From now on the structure's administrator decides: a later claimant cannot go through the contact.
    later = TestClient(client.app)
    csrf_l = register_api(later, mailbox, "autre@pins.example", FEED_SIRET, "Autre")
    assert later.get("/api/v1/employeur/rattachement").json()["decided_by"] == "structure"
    refused = later.post("/api/v1/employeur/rattachement/invitation", headers={"X-CSRF-Token": csrf_l})
    assert refused.status_code == 403


def test_feed_structure_claimed_with_an_administrators_approval(
    client: TestClient, world: World, db: Session, mailbox: Mailbox
) -> None:
    """No contact address known: a Passerelles administrator approves (page) or refuses (API) the claim."""
    db.add(Employer(siret=FEED_SIRET, name="Résidence des Pins", structure_type="ehpad"))
    db.commit()
    claimant = TestClient(client.app)
    csrf_c = register_api(claimant, mailbox, "rh@pins.example", FEED_SIRET, "Directrice des Pins")
    assert "un administrateur de Passerelles vérifiera votre demande" in claimant.get("/employeur").text
    no_contact = claimant.post("/api/v1/employeur/rattachement/invitation", headers={"X-CSRF-Token": csrf_c})
    assert no_contact.status_code == 422 and "Aucune adresse de contact" in no_contact.json()["error"]["message"]
    impostor = TestClient(client.app)
    register_api(impostor, mailbox, "faux@example.org", FEED_SIRET, "Faux")
    # A claim on a structure that has an administrator is not the administrator's to decide.
    structure_claim = TestClient(client.app)
    register_api(structure_claim, mailbox, "x@example.org", SIRET, "X")

    csrf_a = login(client, world.emails["admin"])
    listed = client.get("/api/v1/admin/rattachements").json()
    ids = {r["account_email"]: r["id"] for r in listed}
    assert set(ids) == {"rh@pins.example", "faux@example.org"}
    page = client.get("/admin/rattachements").text
    assert "Directrice des Pins" in page and "Résidence des Pins" in page
    approved = client.post(
        f"/admin/rattachements/{ids['rh@pins.example']}",
        data={"csrf_token": page_csrf(client, "/admin/rattachements"), "decision": "accepter"},
        follow_redirects=False,
    )
    assert approved.status_code == 303
    assert claimant.get("/api/v1/employeur/rattachement").json()["role"] == "admin"
    assert claimant.get("/api/v1/employeur/structure").status_code == 200
    # Now the structure has an administrator: the other claim is theirs to decide, no longer listed here.
    assert client.get("/api/v1/admin/rattachements").json() == []
    late = client.post(
        f"/api/v1/admin/rattachements/{ids['faux@example.org']}",
        json={"decision": "accepter"},
        headers={"X-CSRF-Token": csrf_a},
    )
    assert late.status_code == 404
    assert [r["account_email"] for r in claimant.get("/api/v1/employeur/rattachements").json()] == ["faux@example.org"]
    assert membership(db, "faux@example.org").status == "pending"
    assert membership(db, "rh@pins.example").decided_by_id == world.ids["admin"]


def test_toggling_a_hire_counts_it_once(client: TestClient, world: World, db: Session) -> None:
    """Finding « Hiring figures can be inflated »: embauche → non retenue → embauche added a step and a
    dashboard event each time. Now one hire per application (person and offer), whatever the toggling."""
    s = scene(db, world)
    employer = TestClient(client.app)
    csrf_e = login(employer, world.emails["employeur"])

    def status(value: str) -> None:
        response = employer.put(
            f"/api/v1/candidatures/{s.application_id}/statut", json={"status": value}, headers={"X-CSRF-Token": csrf_e}
        )
        assert response.status_code == 200, response.text

    def hires() -> tuple[int, int, int]:
        db.expire_all()
        steps = db.scalars(select(FileStep).where(FileStep.file_id == s.file_id, FileStep.kind == "embauche")).all()
        events = db.scalars(select(OutcomeEvent).where(OutcomeEvent.kind == "embauche")).all()
        today = dt.date.today().isoformat()
        board = client.get("/api/v1/tableau-de-bord", params={"debut": today, "fin": today}).json()
        return len(steps), len(events), {r["indicator"]: r["value"] for r in board["rows"]}["embauche"]

    login(client, world.emails["conseiller_a"])
    for value in ("embauche", "refusee", "embauche", "embauche", "entretien", "embauche"):
        status(value)
    assert hires() == (1, 1, 1)
    # The page's form too.
    form = {"csrf_token": page_csrf(employer, "/candidatures"), "status": "embauche"}
    assert (
        employer.post(f"/candidatures/{s.application_id}/statut", data=form, follow_redirects=False).status_code == 303
    )
    assert hires() == (1, 1, 1)
    # A hire withdrawn is not a hire: no step in the file, nothing counted.
    status("refusee")
    assert hires() == (0, 0, 0)
    file = client.get(f"/api/v1/dossiers/{s.file_id}").json()
    assert [st["kind"] for st in file["steps"]] == ["candidature_offre"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_keeps_existing_employers_and_recorded_hires(backend: str, databases: DatabaseFactory) -> None:
    """Migration 0009: every employer account of before keeps its structure (the first one its administrator,
    the others members); an application already « embauche » counts as recorded (no second step)."""
    from alembic import command

    from passerelles.db import alembic_config, make_engine

    url = databases.url(backend)
    engine = make_engine(url)
    databases.created.append((backend, engine))
    cfg = alembic_config(url)

    def to(revision: str, down: bool = False) -> None:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(cfg, revision)

    to("0008")
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO employer (id, siret, name, is_demo) VALUES (1, :s, 'EHPAD', false)"), {"s": SIRET}
        )
        for i in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO account (id, email, role, display_name, employer_id, is_active, created_at) "
                    "VALUES (:i, :e, 'employeur', 'E', 1, true, CURRENT_TIMESTAMP)"
                ),
                {"i": i, "e": f"rh{i}@example.org"},
            )
        conn.execute(
            text(
                "INSERT INTO account (id, email, role, display_name, is_active, created_at) "
                "VALUES (3, 'p@example.org', 'personne', 'P', true, CURRENT_TIMESTAMP)"
            )
        )
    to("head")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT account_id, employer_id, status, role FROM employer_membership ORDER BY account_id")
        ).all()
    assert [tuple(r) for r in rows] == [(1, 1, "active", "admin"), (2, 1, "active", "member")]
    to("0008", down=True)
    to("head")


def test_simultaneous_hires_are_recorded_once(world: World, db: Session, engine: Engine) -> None:
    """Two « embauche » at the same moment (two tabs, a double click): one step, one dashboard event."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers: covered by the toggling test")
    s = scene(db, world)
    factory = make_sessionmaker(engine)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def hire() -> None:
        try:
            with factory() as session:
                actor = session.get(Account, world.ids["employeur"])
                assert actor is not None
                employer_applications.visible_application(
                    session, actor, s.application_id
                )  # both read before either writes
                barrier.wait(timeout=10)
                employer_applications.set_status(session, actor, s.application_id, "embauche")
                session.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=hire) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    db.expire_all()
    steps = db.scalars(select(FileStep).where(FileStep.file_id == s.file_id, FileStep.kind == "embauche")).all()
    assert len(steps) == 1
    assert len(db.scalars(select(OutcomeEvent).where(OutcomeEvent.kind == "embauche")).all()) == 1
