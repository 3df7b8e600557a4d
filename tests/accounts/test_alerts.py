"""Saved searches: e-mail alerts with only the new matching results, one-click signed unsubscribe."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from passerelles.alerts.models import SavedSearch
from passerelles.certifications.models import Certification
from passerelles.settings import Settings
from passerelles.trainings.models import Training, TrainingSession
from tests.accounts.test_employers import post_offer
from tests.support.accounts import World, login, page_csrf
from tests.support.mail import Mailbox


def _send(settings: Settings) -> str:
    from passerelles.cli import app as cli

    env = {
        "PASSERELLES_DATABASE_URL": settings.database_url,
        "PASSERELLES_SMTP_PORT": str(settings.smtp_port),
        "PASSERELLES_MAIL_TRANSPORT": "smtp",
    }
    result = CliRunner().invoke(cli, ["alertes", "envoyer"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_offer_alert_sends_new_nearby_offers_once_and_unsubscribes_in_one_click(
    client: TestClient, world: World, mailbox: Mailbox, settings: Settings, db: Session
) -> None:
    login(client, world.emails["personne"])
    token = page_csrf(client, "/alertes")
    form = {"csrf_token": token, "kind": "offres", "q": "soignant", "commune": "69381", "radius_km": "20"}
    assert client.post("/alertes", data=form, follow_redirects=False).status_code == 303
    employer = TestClient(client.app)
    csrf = login(employer, world.emails["employeur"])
    post_offer(employer, csrf, title="Aide-soignant Villeurbanne", commune_code="69266")
    post_offer(employer, csrf, title="Aide-soignant Marseille", commune_code="13201")
    post_offer(employer, csrf, title="Infirmier Lyon", occupation_slug="infirmier")
    assert "1 alerte(s)" in _send(settings)
    [message] = mailbox.to(world.emails["personne"])
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Aide-soignant Villeurbanne" in body and "Marseille" not in body and "Infirmier" not in body
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "0 alerte(s)" in _send(settings)  # nothing new

    link = mailbox.link(world.emails["personne"], "/alertes/desabonnement")
    stranger = TestClient(client.app)  # no session: the signature is enough
    assert stranger.get(link.replace("sig=", "sig=0")).status_code == 400
    other_id = link.replace("id=", "id=9")
    assert stranger.get(other_id).status_code == 400
    assert stranger.get(link).status_code == 200
    db.expire_all()
    assert db.scalar(select(SavedSearch.active)) is False
    post_offer(employer, csrf, title="Aide-soignant Lyon 1er")
    assert "0 alerte(s)" in _send(settings)


def test_training_session_alert_by_certification(
    client: TestClient, world: World, mailbox: Mailbox, settings: Settings, db: Session
) -> None:
    csrf = login(client, world.emails["personne"])
    bad = client.post(
        "/api/v1/alertes",
        json={"kind": "formations", "criteria": {"certification": "inconnue"}},
        headers={"X-CSRF-Token": csrf},
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "criteria.certification"
    saved = client.post(
        "/api/v1/alertes",
        json={"kind": "formations", "criteria": {"certification": "deas"}},
        headers={"X-CSRF-Token": csrf},
    )
    assert saved.status_code == 201
    deas = db.scalar(select(Certification.id).where(Certification.slug == "deas"))
    training = Training(
        source="test", external_id="t1", title="Diplôme d'État d'aide-soignant", certification_id=deas, row_hash="x"
    )
    db.add(training)
    db.flush()
    for n, cert in ((1, deas), (2, None)):
        db.add(
            TrainingSession(
                source="test",
                external_id=f"s{n}",
                training_id=training.id,
                certification_id=cert,
                title=f"Session {n}",
                city="Lyon",
                row_hash="x",
            )
        )
    db.commit()
    assert [r["title"] for r in client.get(f"/api/v1/alertes/{saved.json()['id']}/resultats").json()] == ["Session 1"]
    assert "1 alerte(s)" in _send(settings)
    assert "Session 1" in mailbox.to(world.emails["personne"])[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
    other = TestClient(client.app)
    login(other, world.emails["conseiller_a"])
    assert other.get(f"/api/v1/alertes/{saved.json()['id']}/resultats").status_code == 404
