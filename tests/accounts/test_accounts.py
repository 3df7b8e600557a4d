"""Accounts: registration with e-mail confirmation, sessions, CSRF, login limits, password reset, admin."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from passerelles.accounts.models import Account, LoginAttempt, UserSession
from passerelles.accounts.security import CSRF_COOKIE, SESSION_COOKIE
from passerelles.app import create_app
from passerelles.settings import Settings
from tests.support.accounts import PASSWORD, World, login, page_csrf
from tests.support.mail import Mailbox


def test_register_confirm_then_login_through_pages(client: TestClient, mailbox: Mailbox, db: Session) -> None:
    token = page_csrf(client, "/inscription")
    form = {"csrf_token": token, "role": "personne", "display_name": "Inès Martin", "email": "Ines@Example.org"}
    response = client.post("/inscription", data=form | {"password": "un mot de passe sûr"})
    assert response.status_code == 200, response.text
    account = db.scalar(select(Account).where(Account.email == "ines@example.org"))
    assert account is not None and account.password_hash is not None
    assert account.password_hash.startswith("$argon2id$") and "sûr" not in account.password_hash

    # Not confirmed yet: refused with a clear message.
    token = page_csrf(client, "/connexion")
    creds = {"csrf_token": token, "email": "ines@example.org", "password": "un mot de passe sûr"}
    refused = client.post("/connexion", data=creds, follow_redirects=False)
    assert refused.status_code == 400 and "non confirmée" in refused.text

    link = mailbox.link("ines@example.org", "/compte/verifier")
    assert client.get(link).status_code == 200
    assert client.get(link).status_code == 400  # single use

    response = client.post(
        "/connexion", data=creds | {"csrf_token": page_csrf(client, "/connexion")}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/espace"
    cookie = response.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http in tests; see the https test below
    assert client.get("/api/v1/comptes/moi").json()["account"]["email"] == "ines@example.org"


def test_register_refuses_bad_input_naming_the_field(client: TestClient, mailbox: Mailbox) -> None:
    token = page_csrf(client, "/inscription")
    form = {
        "csrf_token": token,
        "role": "employeur",
        "display_name": "X",
        "email": "pas-une-adresse",
        "password": "court",
    }
    response = client.post(
        "/inscription", data=form | {"siret": "12345678901234", "structure_name": "S", "structure_type": "ehpad"}
    )
    assert response.status_code == 400
    assert "Adresse électronique : format invalide" in response.text
    assert "Mot de passe : au moins 10 caractères" in response.text
    assert "SIRET : SIRET invalide" in response.text
    assert mailbox.messages == []


def test_login_rotates_the_session_id_no_fixation(client: TestClient, world: World, db: Session) -> None:
    planted = "attacker-chosen-session-id"
    client.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
    login(client, world.emails["personne"])
    first = client.cookies.get(SESSION_COOKIE)
    assert first and first != planted
    login(client, world.emails["personne"])
    second = client.cookies.get(SESSION_COOKIE)
    assert second != first
    # The previous session is gone server-side: replaying it gives nothing.
    replay = TestClient(client.app)
    replay.cookies.set(SESSION_COOKIE, first)
    assert replay.get("/api/v1/comptes/moi").status_code == 401
    assert db.scalar(select(func.count()).select_from(UserSession)) == 1


def test_logout_needs_csrf_and_deletes_the_session(client: TestClient, world: World, db: Session) -> None:
    csrf = login(client, world.emails["personne"])
    assert client.post("/api/v1/comptes/deconnexion").status_code == 403
    assert client.post("/api/v1/comptes/deconnexion", headers={"X-CSRF-Token": "faux"}).status_code == 403
    assert client.post("/deconnexion", data={"csrf_token": "faux"}).status_code == 403
    assert client.get("/api/v1/comptes/moi").status_code == 200
    assert client.post("/api/v1/comptes/deconnexion", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/comptes/moi").status_code == 401
    assert db.scalar(select(func.count()).select_from(UserSession)) == 0


def test_anonymous_form_without_double_submit_cookie_is_refused(client: TestClient, world: World) -> None:
    token = page_csrf(client, "/connexion")
    assert client.cookies.get(CSRF_COOKIE) == token
    other = TestClient(client.app)  # a forged cross-site post: no cookie, a guessed token
    data = {"csrf_token": token, "email": world.emails["personne"], "password": PASSWORD}
    assert other.post("/connexion", data=data).status_code == 403
    # A JSON login is accepted without cookie (no cross-site JSON without preflight), a form post is not.
    assert other.post("/api/v1/comptes/connexion", data={"email": "x", "password": "y"}).status_code == 403


def test_brute_force_is_limited_per_account_across_workers(
    settings: Settings, engine: object, world: World, db: Session
) -> None:
    worker_1 = TestClient(create_app(settings, engine=engine))
    worker_2 = TestClient(create_app(settings, engine=engine))
    email = world.emails["personne"]
    for i in range(settings.login_max_failures_account):
        worker = worker_1 if i % 2 else worker_2
        assert (
            worker.post("/api/v1/comptes/connexion", json={"email": email, "password": f"faux{i}"}).status_code == 403
        )
    # The right password no longer helps, on either worker, for this account.
    for worker in (worker_1, worker_2):
        blocked = worker.post("/api/v1/comptes/connexion", json={"email": email, "password": PASSWORD})
        assert blocked.status_code == 429 and blocked.json()["error"]["code"] == "too_many_requests"
        assert int(blocked.headers["retry-after"]) > 0
    # Another account from the same address still works (the IP limit is higher).
    assert (
        worker_1.post(
            "/api/v1/comptes/connexion", json={"email": world.emails["admin"], "password": PASSWORD}
        ).status_code
        == 200
    )
    keys = db.scalars(select(LoginAttempt.key)).all()
    assert keys and not any(email in k for k in keys)  # no address stored in clear


def test_brute_force_is_limited_per_ip(settings: Settings, engine: object, world: World) -> None:
    strict = settings.model_copy(update={"login_max_failures_ip": 3})
    client = TestClient(create_app(strict, engine=engine))
    for i in range(3):
        assert (
            client.post(
                "/api/v1/comptes/connexion", json={"email": f"inconnu{i}@example.org", "password": "x"}
            ).status_code
            == 403
        )
    assert (
        client.post(
            "/api/v1/comptes/connexion", json={"email": world.emails["admin"], "password": PASSWORD}
        ).status_code
        == 429
    )


def test_password_reset_by_mail_closes_sessions(client: TestClient, world: World, mailbox: Mailbox) -> None:
    email = world.emails["conseiller_a"]
    login(client, email)
    other = TestClient(client.app)
    assert (
        other.post("/api/v1/comptes/mot-de-passe/oubli", json={"email": "personne@nulle-part.org"}).status_code == 202
    )
    assert mailbox.messages == []  # same answer, no mail, for an unknown address
    assert other.post("/api/v1/comptes/mot-de-passe/oubli", json={"email": email}).status_code == 202
    link = mailbox.link(email, "/mot-de-passe/nouveau")
    token = re.search(r"jeton=([^&\s]+)", link).group(1)  # type: ignore[union-attr]
    html = other.get(link).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    done = other.post(
        "/mot-de-passe/nouveau", data={"csrf_token": csrf, "jeton": token, "password": "nouveau mot de passe"}
    )
    assert done.status_code == 200 and "enregistré" in done.text
    assert client.get("/api/v1/comptes/moi").status_code == 401  # the old session was closed
    assert other.post("/api/v1/comptes/connexion", json={"email": email, "password": PASSWORD}).status_code == 403
    login(other, email, "nouveau mot de passe")
    again = TestClient(client.app).post(
        "/api/v1/comptes/mot-de-passe", json={"token": token, "password": "encore un autre"}
    )
    assert again.status_code == 422 and again.json()["error"]["details"][0]["field"] == "token"


def test_admin_creates_platform_and_counsellor_with_invitation(
    client: TestClient, world: World, mailbox: Mailbox
) -> None:
    csrf = login(client, world.emails["conseiller_a"])
    refused = client.post("/api/v1/admin/plateformes", json={"name": "X"}, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    csrf = login(client, world.emails["admin"])
    headers = {"X-CSRF-Token": csrf}
    platform = client.post("/api/v1/admin/plateformes", json={"name": "Plateforme Isère"}, headers=headers)
    assert platform.status_code == 201
    body = {
        "email": "lea@example.org",
        "display_name": "Léa",
        "role": "conseiller",
        "platform_id": platform.json()["id"],
    }
    created = client.post("/api/v1/admin/comptes", json=body, headers=headers)
    assert created.status_code == 201 and created.json()["platform_id"] == platform.json()["id"]
    assert mailbox.link("lea@example.org", "/mot-de-passe/nouveau")
    missing = client.post(
        "/api/v1/admin/comptes", json=body | {"email": "x@example.org", "platform_id": None}, headers=headers
    )
    assert missing.status_code == 422 and missing.json()["error"]["details"][0]["field"] == "platform_id"


def test_admin_deactivates_an_account_which_loses_its_sessions_and_login(
    client: TestClient, world: World, db: Session
) -> None:
    counsellor = TestClient(client.app)
    csrf_c = login(counsellor, world.emails["conseiller_b"])
    assert counsellor.get("/api/v1/comptes/moi").status_code == 200
    denied = counsellor.post(
        f"/api/v1/admin/comptes/{world.ids['conseiller_a']}/desactivation", headers={"X-CSRF-Token": csrf_c}
    )
    assert denied.status_code == 403
    csrf = login(client, world.emails["admin"])
    headers = {"X-CSRF-Token": csrf}
    done = client.post(f"/api/v1/admin/comptes/{world.ids['conseiller_b']}/desactivation", headers=headers)
    assert done.status_code == 200 and done.json()["active"] is False
    # Its open session ends at once, and it can no longer log in.
    assert counsellor.get("/api/v1/comptes/moi").status_code == 401
    again = counsellor.post(
        "/api/v1/comptes/connexion", json={"email": world.emails["conseiller_b"], "password": PASSWORD}
    )
    assert again.status_code == 403 and "incorrect" in again.json()["error"]["message"]
    assert (
        db.scalar(
            select(func.count()).select_from(UserSession).where(UserSession.account_id == world.ids["conseiller_b"])
        )
        == 0
    )
    # The administrator cannot deactivate themself; an unknown account is a 404.
    own = client.post(f"/api/v1/admin/comptes/{world.ids['admin']}/desactivation", headers=headers)
    assert own.status_code == 422 and own.json()["error"]["details"][0]["field"] == "account_id"
    assert client.post("/api/v1/admin/comptes/999999/desactivation", headers=headers).status_code == 404
    # From the page: the button, then the account shown as deactivated.
    page = client.get("/admin").text
    assert f'action="/admin/comptes/{world.ids["employeur"]}/desactivation"' in page
    assert f'action="/admin/comptes/{world.ids["admin"]}/desactivation"' not in page
    form = {"csrf_token": page_csrf(client, "/admin")}
    posted = client.post(f"/admin/comptes/{world.ids['employeur']}/desactivation", data=form, follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"] == "/admin"
    employer = db.get(Account, world.ids["employeur"])
    db.refresh(employer)
    assert employer is not None and employer.is_active is False
    assert client.get("/admin").text.count("non (désactivé)") == 2
    refused = client.post(f"/admin/comptes/{world.ids['admin']}/desactivation", data=form, follow_redirects=True)
    assert "Vous ne pouvez pas désactiver votre propre compte." in refused.text


def test_secure_cookie_over_https(app: object, world: World) -> None:
    client = TestClient(app, base_url="https://testserver")  # type: ignore[arg-type]
    response = client.post("/api/v1/comptes/connexion", json={"email": world.emails["personne"], "password": PASSWORD})
    assert "Secure" in response.headers["set-cookie"]


def test_pages_redirect_anonymous_to_login_and_nav_changes(client: TestClient, world: World) -> None:
    response = client.get("/espace", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/connexion?suivant=/espace"
    assert "Se connecter" in client.get("/connexion").text
    login(client, world.emails["personne"])
    assert "Mon espace" in client.get("/connexion").text


def test_cli_creates_the_first_admin(settings: Settings, db: Session) -> None:
    from passerelles.cli import app as cli

    env = {"PASSERELLES_DATABASE_URL": settings.database_url}
    result = CliRunner().invoke(
        cli,
        ["user", "create", "--email", "Root@Example.org", "--name", "Root", "--password-stdin"],
        input="mot de passe racine\n",
        env=env,
    )
    assert result.exit_code == 0, result.output
    account = db.scalar(select(Account).where(Account.email == "root@example.org"))
    assert account is not None and account.role == "admin" and account.email_verified_at is not None
    short = CliRunner().invoke(
        cli, ["user", "create", "--email", "b@example.org", "--name", "B", "--password-stdin"], input="court\n", env=env
    )
    assert short.exit_code == 2


def test_production_password_hashing_keeps_argon2id_rfc9106_parameters() -> None:
    """The suite hashes with cheap parameters (tests/conftest.py); production keeps argon2id t=3, 64 MiB, p=4."""
    from argon2 import Type

    from passerelles.accounts import services

    hasher = services.PRODUCTION_HASHER
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.type) == (3, 65536, 4, Type.ID)
    stored = hasher.hash(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert services.verify_password(stored, PASSWORD) and not services.verify_password(stored, PASSWORD + "x")
