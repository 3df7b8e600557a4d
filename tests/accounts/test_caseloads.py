"""Caseloads: files, access rules, timeline and dashboard, person's space, CSV, XSS, consents, RGPD."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from fastapi.testclient import TestClient
from sqlalchemy import String, Text, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from passerelles.caseloads.models import FileAccess, OutcomeEvent, PersonFile
from passerelles.db import Base
from passerelles.settings import Settings
from tests.support.accounts import World, login, page_csrf
from tests.support.mail import Mailbox

TODAY = dt.date.today()


def new_file(client: TestClient, csrf: str, **extra: object) -> int:
    body = {
        "first_name": "Nadia",
        "last_name": "Benali",
        "email": "nadia.personne@example.org",
        "phone": "06 12 34 56 78",
        "commune_code": "69381",
        "consent_accompagnement": True,
        "visible_employeurs": True,
        "profile": {"target": "aide-soignant", "diplomas": [{"slug": "deaes"}], "commune": "69381"},
    } | extra
    response = client.post("/api/v1/dossiers", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_counsellor_creates_a_file_through_the_page(client: TestClient, world: World) -> None:
    login(client, world.emails["conseiller_a"])
    token = page_csrf(client, "/conseil/dossiers/nouveau")
    form = {"csrf_token": token, "first_name": "Inès", "last_name": "Moreau", "commune_code": "69266"}
    form |= {"target": "aide-soignant", "diplomas": "deaes", "consent_accompagnement": "oui"}
    response = client.post("/conseil/dossiers/nouveau", data=form, follow_redirects=False)
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert page.status_code == 200 and "Inès Moreau" in page.text
    assert "/parcours?diplome=deaes" in page.text and "cible=aide-soignant" in page.text
    listing = client.get("/conseil/dossiers", params={"q": "moreau"})
    assert "Moreau Inès" in listing.text
    missing_consent = client.post("/conseil/dossiers/nouveau", data=form | {"consent_accompagnement": ""})
    assert missing_consent.status_code == 422 and "consentement" in missing_consent.text


def test_files_are_confined_to_their_counsellor_platform_and_shares(
    client: TestClient, world: World, db: Session
) -> None:
    csrf_a = login(client, world.emails["conseiller_a"])
    file_id = new_file(client, csrf_a)
    other = TestClient(client.app)
    csrf_b = login(other, world.emails["conseiller_b"])
    assert other.get(f"/api/v1/dossiers/{file_id}").status_code == 404
    assert other.get(f"/conseil/dossiers/{file_id}").status_code == 404
    refused = other.post(f"/api/v1/dossiers/{file_id}/notes", json={"text": "x"}, headers={"X-CSRF-Token": csrf_b})
    assert refused.status_code == 404
    assert other.get("/api/v1/dossiers").json() == []
    # Same platform, not shared: not visible either; shared: visible.
    colleague = TestClient(client.app)
    login(colleague, world.emails["conseiller_a2"])
    assert colleague.get(f"/api/v1/dossiers/{file_id}").status_code == 404
    bad = client.post(
        f"/api/v1/dossiers/{file_id}/partages",
        json={"counsellor_id": world.ids["conseiller_b"]},
        headers={"X-CSRF-Token": csrf_a},
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "counsellor_id"
    ok = client.post(
        f"/api/v1/dossiers/{file_id}/partages",
        json={"counsellor_id": world.ids["conseiller_a2"]},
        headers={"X-CSRF-Token": csrf_a},
    )
    assert ok.status_code == 201 and ok.json()["shared_with"] == ["Paul Conseil"]
    assert colleague.get(f"/api/v1/dossiers/{file_id}").status_code == 200
    # Employers and administrators do not read files.
    for role in ("employeur", "admin"):
        c = TestClient(client.app)
        login(c, world.emails[role])
        assert c.get(f"/api/v1/dossiers/{file_id}").status_code in (403, 404)
    # Every read is in the access log, with who read it.
    log = client.get(f"/api/v1/dossiers/{file_id}/journal").json()
    pairs = {(row["account"], row["action"]) for row in log}
    assert {("Paul Conseil", "lecture"), ("Claire Conseil", "creation"), ("Claire Conseil", "partage")} <= pairs
    assert db.scalar(select(FileAccess.id).where(FileAccess.account_id == world.ids["conseiller_b"])) is None


def test_timeline_feeds_the_dashboard(client: TestClient, world: World) -> None:
    csrf = login(client, world.emails["conseiller_a"])
    headers = {"X-CSRF-Token": csrf}
    first, second = new_file(client, csrf), new_file(client, csrf, first_name="Léo", email=None)
    steps = [
        (first, {"kind": "entree_formation", "on": "2026-02-02"}),
        (first, {"kind": "diplome", "on": "2026-06-30"}),
        (first, {"kind": "embauche", "on": "2026-07-15"}),
        (first, {"kind": "suivi_6_mois", "on": "2027-01-15", "in_post": True}),
        (second, {"kind": "embauche", "on": "2026-07-20"}),
        (second, {"kind": "suivi_6_mois", "on": "2027-01-20", "in_post": False}),
    ]
    for file_id, step in steps:
        assert client.post(f"/api/v1/dossiers/{file_id}/etapes", json=step, headers=headers).status_code == 201
    bad = client.post(
        f"/api/v1/dossiers/{first}/etapes", json={"kind": "promotion", "on": "2026-01-01"}, headers=headers
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "body.kind"
    board = client.get("/api/v1/tableau-de-bord", params={"debut": "2026-01-01", "fin": "2027-12-31"}).json()
    values = {r["indicator"]: r["value"] for r in board["rows"]}
    assert values == {"accompagnees": 2, "entree_formation": 1, "diplome": 1, "embauche": 2, "en_poste_6_mois": 1}
    july = next(m for m in board["by_month"] if m["month"] == "2026-07")
    assert july["embauche"] == 2
    # A period with nothing in it counts nothing.
    empty = client.get("/api/v1/tableau-de-bord", params={"debut": "2020-01-01", "fin": "2020-12-31"}).json()
    assert all(r["value"] == 0 for r in empty["rows"])
    # Another platform's dashboard is refused to this counsellor.
    other = client.get(
        "/api/v1/tableau-de-bord", params={"debut": "2026-01-01", "fin": "2026-12-31", "plateforme": world.platform_b}
    )
    assert other.status_code == 403
    html = client.get("/conseil/tableau-de-bord", params={"debut": "2026-01-01", "fin": "2027-12-31"}).text
    assert 'role="img"' in html and "<title" in html and 'data-indicateur="embauche">2<' in html


def test_a_step_recorded_by_mistake_is_deleted_with_its_figures(client: TestClient, world: World) -> None:
    csrf = login(client, world.emails["conseiller_a"])
    headers = {"X-CSRF-Token": csrf}
    file_id = new_file(client, csrf, email=None)
    for step in (
        {"kind": "embauche", "on": "2026-07-15"},
        {"kind": "suivi_6_mois", "on": "2027-01-15", "in_post": True},
    ):
        assert client.post(f"/api/v1/dossiers/{file_id}/etapes", json=step, headers=headers).status_code == 201
    steps = client.get(f"/api/v1/dossiers/{file_id}").json()["steps"]
    hire, follow_up = steps[0]["id"], steps[1]["id"]
    period = {"debut": "2026-01-01", "fin": "2027-12-31"}

    def figures() -> dict[str, int]:
        rows = client.get("/api/v1/tableau-de-bord", params=period).json()["rows"]
        return {r["indicator"]: r["value"] for r in rows}

    assert figures()["embauche"] == 1 and figures()["en_poste_6_mois"] == 1
    # The API: the six-month follow-up goes, with both figures it gave.
    gone = client.delete(f"/api/v1/dossiers/{file_id}/etapes/{follow_up}", headers=headers)
    assert gone.status_code == 204
    assert [s["kind"] for s in client.get(f"/api/v1/dossiers/{file_id}").json()["steps"]] == ["embauche"]
    assert figures()["en_poste_6_mois"] == 0 and figures()["embauche"] == 1 and figures()["accompagnees"] == 1
    assert client.delete(f"/api/v1/dossiers/{file_id}/etapes/{follow_up}", headers=headers).status_code == 404
    # A counsellor of another platform cannot delete it (absent for them), nor can another file's id serve.
    other = TestClient(client.app)
    csrf_b = login(other, world.emails["conseiller_b"])
    denied = other.delete(f"/api/v1/dossiers/{file_id}/etapes/{hire}", headers={"X-CSRF-Token": csrf_b})
    assert denied.status_code == 404
    second = new_file(client, csrf, first_name="Léo", email=None)
    assert client.delete(f"/api/v1/dossiers/{second}/etapes/{hire}", headers=headers).status_code == 404
    # The page: a button per step, then the timeline without it.
    page = client.get(f"/conseil/dossiers/{file_id}").text
    action = f"/conseil/dossiers/{file_id}/etapes/{hire}/suppression"
    assert f'action="{action}"' in page
    done = client.post(action, data={"csrf_token": page_csrf(client, f"/conseil/dossiers/{file_id}")})
    assert done.status_code == 200 and "Aucune étape enregistrée." in done.text
    assert figures()["embauche"] == 0
    # The person sees their timeline without delete buttons.
    assert "/suppression" not in client.get(f"/conseil/dossiers/{second}").text.split('id="parcours-etapes"')[1]


def test_csv_export_filters_and_neutralises_formulas(client: TestClient, world: World) -> None:
    csrf = login(client, world.emails["conseiller_a"])
    new_file(client, csrf, last_name='=HYPERLINK("http://evil")', email=None)
    kept = new_file(client, csrf, first_name="Zoé", last_name="Durand", email=None)
    client.post(
        f"/api/v1/dossiers/{kept}/etapes",
        json={"kind": "immersion", "on": "2026-03-01"},
        headers={"X-CSRF-Token": csrf},
    )
    response = client.get("/conseil/dossiers.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "id" and len(rows) == 3
    assert any(r[1].startswith("'=") for r in rows[1:])
    filtered = list(
        csv.reader(
            io.StringIO(client.get("/conseil/dossiers.csv", params={"etape": "immersion"}).text.lstrip("\ufeff")),
            delimiter=";",
        )
    )
    assert [r[1] for r in filtered[1:]] == ["Durand"]


def test_stored_xss_in_notes_is_escaped(client: TestClient, world: World, mailbox: Mailbox) -> None:
    csrf = login(client, world.emails["conseiller_a"])
    file_id = new_file(client, csrf, email="xss.victime@example.org")
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert (
        client.post(
            f"/api/v1/dossiers/{file_id}/notes", json={"text": payload}, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 201
    )
    html = client.get(f"/conseil/dossiers/{file_id}").text
    assert payload not in html and "&lt;script&gt;alert(" in html
    # The person reads it too, escaped, after accepting the invitation.
    token = page_csrf(client, f"/conseil/dossiers/{file_id}")
    assert client.post(f"/conseil/dossiers/{file_id}/invitation", data={"csrf_token": token}).status_code == 200
    link = mailbox.link("xss.victime@example.org", "/mot-de-passe/nouveau")
    person = TestClient(client.app)
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', person.get(link).text).group(1)  # type: ignore[union-attr]
    jeton = re.search(r"jeton=([^&\s]+)", link).group(1)  # type: ignore[union-attr]
    assert (
        person.post(
            "/mot-de-passe/nouveau", data={"csrf_token": form_token, "jeton": jeton, "password": "mot de passe perso"}
        ).status_code
        == 200
    )
    login(person, "xss.victime@example.org", "mot de passe perso")
    own = person.get("/espace/personne").text
    assert payload not in own and "&lt;script&gt;" in own


def test_health_information_needs_its_own_consent(client: TestClient, world: World) -> None:
    csrf = login(client, world.emails["conseiller_a"])
    headers = {"X-CSRF-Token": csrf}
    file_id = new_file(client, csrf)
    refused = client.put(f"/api/v1/dossiers/{file_id}/sante", json={"health_notes": "RQTH"}, headers=headers)
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "health_notes"
    assert (
        client.post(f"/api/v1/dossiers/{file_id}/consentements", json={"purpose": "sante"}, headers=headers).status_code
        == 201
    )
    assert (
        client.put(f"/api/v1/dossiers/{file_id}/sante", json={"health_notes": "RQTH"}, headers=headers).json()[
            "health_notes"
        ]
        == "RQTH"
    )
    withdrawn = client.post(
        f"/api/v1/dossiers/{file_id}/consentements/retrait", json={"purpose": "sante"}, headers=headers
    ).json()
    assert withdrawn["health_notes"] is None
    assert [c["withdrawn_at"] is not None for c in withdrawn["consents"] if c["purpose"] == "sante"] == [True]


def _texts(db: Session) -> list[str]:
    """Every text value of every table (String, Text and JSON columns)."""
    found: list[str] = []
    for table in Base.metadata.sorted_tables:
        cols = [c for c in table.columns if isinstance(c.type, (String, Text)) or c.type.__class__.__name__ == "JSON"]
        if not cols:
            continue
        for row in db.execute(select(*cols)):
            found.extend(str(v) for v in row if v is not None)
    return found


def test_erasure_leaves_no_personal_data_and_keeps_the_figures(
    client: TestClient, world: World, db: Session, mailbox: Mailbox
) -> None:
    csrf = login(client, world.emails["conseiller_a"])
    headers = {"X-CSRF-Token": csrf}
    identity = {
        "first_name": "Gwenaëlle",
        "last_name": "Kerhervé",
        "email": "gwen.kerherve@example.org",
        "phone": "07 98 76 54 32",
    }
    file_id = new_file(client, csrf, **identity)
    client.post(
        f"/api/v1/dossiers/{file_id}/etapes",
        json={"kind": "embauche", "on": "2026-05-05", "detail": "EHPAD"},
        headers=headers,
    )
    client.post(
        f"/api/v1/dossiers/{file_id}/notes", json={"text": "Gwenaëlle Kerhervé rappelle lundi"}, headers=headers
    )
    client.post(
        f"/api/v1/dossiers/{file_id}/actions",
        json={"text": "Appeler Gwenaëlle", "due_on": "2026-06-01"},
        headers=headers,
    )
    token = page_csrf(client, f"/conseil/dossiers/{file_id}")
    client.post(f"/conseil/dossiers/{file_id}/invitation", data={"csrf_token": token})
    person = TestClient(client.app)
    link = mailbox.link(identity["email"], "/mot-de-passe/nouveau")
    jeton = re.search(r"jeton=([^&\s]+)", link).group(1)  # type: ignore[union-attr]
    assert (
        person.post("/api/v1/comptes/mot-de-passe", json={"token": jeton, "password": "mot de passe gwen"}).status_code
        == 200
    )
    person_csrf = login(person, identity["email"], "mot de passe gwen")
    exported = person.get("/api/v1/moi/export").json()
    assert exported["dossier"]["last_name"] == "Kerhervé" and exported["compte"]["email"] == identity["email"]
    before = client.get("/api/v1/tableau-de-bord", params={"debut": "2026-01-01", "fin": "2026-12-31"}).json()
    texts = _texts(db)
    assert any("Kerhervé" in t for t in texts)

    assert person.delete("/api/v1/moi", headers={"X-CSRF-Token": person_csrf}).status_code == 204
    db.expire_all()
    texts = _texts(db)
    for needle in ("Gwenaëlle", "Kerhervé", "gwen.kerherve", "07 98 76 54 32", "0798765432"):
        assert not any(needle.lower() in t.lower() for t in texts), needle
    after = client.get("/api/v1/tableau-de-bord", params={"debut": "2026-01-01", "fin": "2026-12-31"}).json()
    assert after["rows"] == before["rows"] and before["rows"][3]["value"] == 1
    assert client.get(f"/api/v1/dossiers/{file_id}").status_code == 404


def test_purge_of_inactive_files_by_cli(client: TestClient, world: World, db: Session, settings: Settings) -> None:
    from passerelles.cli import app as cli

    csrf = login(client, world.emails["conseiller_a"])
    old, recent = new_file(client, csrf, email=None), new_file(client, csrf, first_name="Récent", email=None)
    client.post(
        f"/api/v1/dossiers/{old}/etapes", json={"kind": "embauche", "on": "2023-05-05"}, headers={"X-CSRF-Token": csrf}
    )
    db.execute(
        update(PersonFile).where(PersonFile.id == old).values(last_activity_at=dt.datetime(2023, 6, 1, tzinfo=dt.UTC))
    )
    db.commit()
    env = {"PASSERELLES_DATABASE_URL": settings.database_url, "PASSERELLES_INACTIVE_PURGE_DAYS": "730"}
    dry = CliRunner().invoke(cli, ["dossiers", "purge", "--dry-run"], env=env)
    assert dry.exit_code == 0 and "1 dossier(s)" in dry.output
    result = CliRunner().invoke(cli, ["dossiers", "purge"], env=env)
    assert result.exit_code == 0, result.output
    db.expire_all()
    assert db.get(PersonFile, old) is None and db.get(PersonFile, recent) is not None
    assert db.scalar(select(OutcomeEvent.id).where(OutcomeEvent.kind == "embauche")) is not None


def test_counsellor_invites_an_existing_account_which_accepts(
    client: TestClient, world: World, mailbox: Mailbox, db: Session
) -> None:
    """The person already has an account (registered alone): the counsellor's invitation attaches the file only
    when the person accepts in their space; a refusal leaves nothing; one account may hold several files."""
    person_email = world.emails["personne"]
    csrf = login(client, world.emails["conseiller_a"])
    first = new_file(client, csrf, email=person_email, first_name="Inès")
    token = page_csrf(client, f"/conseil/dossiers/{first}")
    sent = client.post(f"/conseil/dossiers/{first}/invitation", data={"csrf_token": token}, follow_redirects=True)
    assert sent.status_code == 200 and "Un compte existe déjà" not in sent.text
    assert "invitation envoyée le" in sent.text
    [mail] = mailbox.to(person_email)
    assert "dossier d'accompagnement vous attend" in mail["Subject"]

    person = TestClient(client.app)
    login(person, person_email)
    space = person.get("/espace/personne").text
    assert "Un dossier d'accompagnement vous attend" in space and "Nadia" not in space  # nothing shown before
    form_token = page_csrf(person, "/espace/personne")
    # Someone else's invitation, or a made-up one, is not found.
    assert (
        person.post(
            "/espace/personne/invitations/999999", data={"csrf_token": form_token, "reponse": "accepter"}
        ).status_code
        == 404
    )
    done = person.post(f"/espace/personne/invitations/{first}", data={"csrf_token": form_token, "reponse": "accepter"})
    assert done.status_code == 200 and "Votre conseiller" in done.text
    assert "Compte personnel</dt><dd>oui" in client.get(f"/conseil/dossiers/{first}").text
    assert (
        person.post(
            f"/espace/personne/invitations/{first}", data={"csrf_token": form_token, "reponse": "accepter"}
        ).status_code
        == 404
    )

    # A later file for the same person (the first closed): invited, refused this time, then a third accepted.
    db.execute(update(PersonFile).where(PersonFile.id == first).values(status="clos"))
    db.commit()
    second = new_file(client, csrf, email=person_email)
    client.post(
        f"/conseil/dossiers/{second}/invitation", data={"csrf_token": page_csrf(client, f"/conseil/dossiers/{second}")}
    )
    refused = person.post(
        f"/espace/personne/invitations/{second}", data={"csrf_token": form_token, "reponse": "refuser"}
    )
    assert refused.status_code == 200 and "vous attend" not in refused.text
    assert db.get(PersonFile, second).account_id is None  # type: ignore[union-attr]
    third = new_file(client, csrf, email=person_email)
    client.post(
        f"/conseil/dossiers/{third}/invitation", data={"csrf_token": page_csrf(client, f"/conseil/dossiers/{third}")}
    )
    person.post(f"/espace/personne/invitations/{third}", data={"csrf_token": form_token, "reponse": "accepter"})
    exported = person.get("/api/v1/moi/export").json()
    assert exported["dossier"]["id"] == third  # the file in progress first
    assert [f["dossier"]["id"] for f in exported["dossiers_precedents"]] == [first]


def test_a_professional_address_cannot_be_invited(client: TestClient, world: World, mailbox: Mailbox) -> None:
    csrf = login(client, world.emails["conseiller_a"])
    file_id = new_file(client, csrf, email=world.emails["employeur"])
    token = page_csrf(client, f"/conseil/dossiers/{file_id}")
    answer = client.post(f"/conseil/dossiers/{file_id}/invitation", data={"csrf_token": token}, follow_redirects=True)
    assert "compte professionnel" in answer.text and mailbox.to(world.emails["employeur"]) == []
