"""Mail that works out of the box: in development every mail is written to the outbox folder (one ``.eml``
each) and read at ``/dev/courriels``; production refuses the outbox. Registration, confirmation, reset and an
administrator's invitation run end to end with no mail server, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine

from passerelles.app import create_app
from passerelles.settings import Settings
from tests.support.accounts import World, login, page_csrf
from tests.support.mail import Outbox


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "outbox")


@pytest.fixture
def dev_client(engine: Engine, outbox: Outbox, tmp_path: Path) -> TestClient:
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        environment="development",
        secret_key_file=tmp_path / "secret_key",
        outbox_dir=outbox.folder,
        smtp_port=9,  # nothing listens there: a mail that tried SMTP would fail
        base_url="http://testserver",
    )
    assert settings.mail_outbox == outbox.folder
    return TestClient(create_app(settings, engine=engine), raise_server_exceptions=False)


def _set_password(client: TestClient, link: str, password: str) -> None:
    jeton = re.search(r"jeton=([^&\s]+)", link).group(1)  # type: ignore[union-attr]
    csrf = page_csrf(client, link)
    done = client.post("/mot-de-passe/nouveau", data={"csrf_token": csrf, "jeton": jeton, "password": password})
    assert done.status_code == 200 and "enregistré" in done.text


def test_registration_confirmation_and_reset_through_the_outbox(dev_client: TestClient, outbox: Outbox) -> None:
    client = dev_client
    form = {"csrf_token": page_csrf(client, "/inscription"), "role": "personne", "display_name": "Inès Martin"}
    created = client.post("/inscription", data=form | {"email": "ines@example.org", "password": "un mot de passe sûr"})
    assert created.status_code == 200 and "503" not in created.text

    files = sorted(outbox.folder.glob("*.eml"))
    assert len(files) == 1 and files[0].stat().st_mode & 0o077 == 0  # readable by its owner only
    listing = client.get("/dev/courriels")
    assert (
        listing.status_code == 200 and "confirmez votre adresse" in listing.text and "ines@example.org" in listing.text
    )
    shown = client.get(f"/dev/courriels/{files[0].name}")
    link = outbox.link("ines@example.org", "/compte/verifier")
    assert shown.status_code == 200 and f'href="http://testserver{link.replace("&", "&amp;")}"' in shown.text
    assert client.get(link).status_code == 200
    login(client, "ines@example.org", "un mot de passe sûr")

    other = TestClient(client.app)
    asked = other.post(
        "/mot-de-passe-oublie",
        data={"csrf_token": page_csrf(other, "/mot-de-passe-oublie"), "email": "ines@example.org"},
    )
    assert asked.status_code == 200
    _set_password(other, outbox.link("ines@example.org", "/mot-de-passe/nouveau"), "un autre mot de passe")
    login(other, "ines@example.org", "un autre mot de passe")
    assert [m["Subject"] for m in outbox.to("ines@example.org")] == [
        "Passerelles : confirmez votre adresse",
        "Passerelles : nouveau mot de passe",
    ]


def test_invitations_reach_the_outbox(dev_client: TestClient, outbox: Outbox, world: World) -> None:
    client = dev_client
    csrf = login(client, world.emails["admin"])
    body = {"email": "lea@example.org", "display_name": "Léa", "role": "conseiller", "platform_id": world.platform_a}
    assert client.post("/api/v1/admin/comptes", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    lea = TestClient(client.app)
    _set_password(lea, outbox.link("lea@example.org", "/mot-de-passe/nouveau"), "mot de passe de léa")
    lea_csrf = login(lea, "lea@example.org", "mot de passe de léa")

    # The counsellor invites the person of a file to create their account.
    made = lea.post(
        "/api/v1/dossiers",
        json={
            "first_name": "Gwen",
            "last_name": "Kerhervé",
            "email": "gwen@example.org",
            "consent_accompagnement": True,
        },
        headers={"X-CSRF-Token": lea_csrf},
    )
    assert made.status_code == 201, made.text
    file_id = made.json()["id"]
    token = page_csrf(lea, f"/conseil/dossiers/{file_id}")
    assert lea.post(f"/conseil/dossiers/{file_id}/invitation", data={"csrf_token": token}).status_code == 200
    gwen = TestClient(client.app)
    _set_password(gwen, outbox.link("gwen@example.org", "/mot-de-passe/nouveau"), "mot de passe de gwen")
    login(gwen, "gwen@example.org", "mot de passe de gwen")
    assert "Votre conseiller : Léa" in gwen.get("/espace/personne").text


@pytest.mark.parametrize(
    "name", ["..%2F..%2Fetc%2Fpasswd", "secret_key", "x.eml", "20260101T000000000000-zzzzzzzz.eml"]
)
def test_outbox_page_reads_only_its_own_files(dev_client: TestClient, name: str) -> None:
    assert dev_client.get(f"/dev/courriels/{name}").status_code == 404


def test_outbox_is_development_only(client: TestClient) -> None:
    # The suite's ordinary app (environment "test", SMTP): no outbox page at all.
    assert client.get("/dev/courriels").status_code == 404


@pytest.mark.parametrize("environment", ["production", "recette"])
def test_production_refuses_the_outbox(environment: str) -> None:
    with pytest.raises(ValidationError, match="MAIL_TRANSPORT=outbox"):
        Settings(environment=environment, secret_key="k" * 40, mail_transport="outbox")
    assert Settings(environment=environment, secret_key="k" * 40).mail_outbox is None


def test_development_writes_to_var_outbox_by_default(tmp_path: Path) -> None:
    settings: Any = Settings(environment="development", var_dir=tmp_path)
    assert settings.mail_outbox == tmp_path / "outbox"
    assert Settings(environment="development", mail_transport="smtp").mail_outbox is None
