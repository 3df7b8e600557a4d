"""The signed-in spaces' forms (caseload file, employer's space, alerts): a refused form comes back (422, not
a bare error page) with what was typed and the problem in French beside its field (aria-invalid,
aria-describedby → p.field-error); a text too long is one more such problem."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.support.accounts import World, login, page_csrf


def tag(html: str, element_id: str) -> str:
    """The opening tag of the element with this id (and, for a textarea, its text)."""
    found = re.search(rf'<(input|select|textarea)\b[^>]*\bid="{element_id}"[^>]*>([^<]*</textarea>)?', html)
    assert found, f"pas d'élément {element_id}"
    return found.group(0)


def assert_field_error(html: str, element_id: str, error_id: str, message: str) -> None:
    """The field is marked invalid and described by its error, which says ``message`` right after it."""
    field = tag(html, element_id)
    assert 'aria-invalid="true"' in field and f'aria-describedby="{error_id}"' in field
    after = html[html.index(field) + len(field) :]
    if field.startswith("<select"):
        after = after[after.index("</select>") + len("</select>") :]
    assert after.startswith(f'<p class="field-error" id="{error_id}">{message}'), after[:200]
    assert "Paramètres invalides" not in html


def new_file(client: TestClient, world: World) -> str:
    login(client, world.emails["conseiller_a"])
    token = page_csrf(client, "/conseil/dossiers/nouveau")
    form = {"csrf_token": token, "first_name": "Inès", "last_name": "Moreau", "commune_code": "Villeurbanne"}
    created = client.post("/conseil/dossiers/nouveau", data=form | {"consent_accompagnement": "oui"})
    assert created.status_code == 200
    return str(created.url.path)


def test_file_forms_keep_what_was_typed_and_say_what_is_wrong(client: TestClient, world: World) -> None:
    path = new_file(client, world)
    token = page_csrf(client, path)
    # A step with an impossible date: the page again, the precision typed kept, the date's problem beside it.
    step = {"csrf_token": token, "kind": "entretien", "on": "2026-13-45", "detail": "Rendez-vous « Mission locale »"}
    refused = client.post(f"{path}/etapes", data=step)
    assert refused.status_code == 422
    assert 'value="Rendez-vous « Mission locale »"' in tag(refused.text, "s-detail")
    assert 'value="2026-13-45"' in tag(refused.text, "s-on")
    assert_field_error(refused.text, "s-on", "err-etape-on", "date attendue (AAAA-MM-JJ)")
    assert "aria-invalid" not in tag(refused.text, "a-due")  # the other forms are left alone
    # A precision too long: the same page, not FastAPI's bare 422, and nothing recorded.
    long = client.post(f"{path}/etapes", data=step | {"on": "2026-05-04", "detail": "é" * 1500})
    assert long.status_code == 422
    assert_field_error(long.text, "s-detail", "err-etape-detail", "au plus 1000 caractères")
    assert "Rendez-vous" not in client.get(path).text.split('id="ajouter-etape"')[0]
    # An action with an impossible date keeps its text.
    action = {"csrf_token": token, "text": "Appeler l'IFSI de Lyon", "due_on": "demain"}
    refused = client.post(f"{path}/actions", data=action)
    assert refused.status_code == 422 and 'value="Appeler l&#39;IFSI de Lyon"' in tag(refused.text, "a-text")
    assert_field_error(refused.text, "a-due", "err-action-due_on", "date attendue (AAAA-MM-JJ)")
    # A note too long: kept (cut just past the limit) with its problem.
    note = client.post(f"{path}/notes", data={"csrf_token": token, "text": "Très motivée. " + "x" * 6000})
    assert note.status_code == 422 and "Très motivée. xxx" in tag(note.text, "n-text")
    assert_field_error(note.text, "n-text", "err-note-text", "au plus 5000 caractères")
    # Health information without the person's consent: refused by the service, beside its field.
    health = client.post(f"{path}/sante", data={"csrf_token": token, "health_notes": "Allergie au latex"})
    assert health.status_code == 422 and "Allergie au latex</textarea>" in tag(health.text, "h-notes")
    assert_field_error(health.text, "h-notes", "err-sante-health_notes", "Informations de santé : le consentement")
    # Sharing with a counsellor of another platform: refused beside the choice (a crafted form: the list
    # offers only colleagues).
    other = world.ids["conseiller_b"]
    shared = client.post(f"{path}/partages", data={"csrf_token": token, "counsellor_id": str(other)})
    assert shared.status_code == 422
    assert_field_error(shared.text, "sh-c", "err-partage-counsellor_id", "Partage possible seulement")
    # And a valid note still goes through (post/redirect/get).
    ok = client.post(f"{path}/notes", data={"csrf_token": token, "text": "Très motivée."}, follow_redirects=False)
    assert ok.status_code == 303


def test_employer_need_and_presentation_keep_what_was_typed(client: TestClient, world: World) -> None:
    login(client, world.emails["employeur"])
    token = page_csrf(client, "/employeur")
    need = {"csrf_token": token, "occupation_slug": "infirmier", "positions": "0", "contract_type": "CDD"}
    need |= {"start_on": "2026-09-01", "nights": "oui"}
    refused = client.post("/employeur/besoins", data=need)
    assert refused.status_code == 422
    assert_field_error(refused.text, "b-n", "err-besoin-positions", "doit être supérieur ou égal à 1")
    assert 'value="2026-09-01"' in tag(refused.text, "b-d") and "checked" in tag(refused.text, "b-nuits")
    assert re.search(r'<option value="CDD" selected>', refused.text)
    assert re.search(r'<option value="infirmier" selected>', refused.text)
    too_long = client.post("/employeur/besoins", data=need | {"positions": "123456789"})
    assert too_long.status_code == 422
    assert_field_error(too_long.text, "b-n", "err-besoin-positions", "doit être inférieur ou égal à 500")
    assert client.post("/employeur/besoins", data=need | {"positions": "2"}, follow_redirects=False).status_code == 303
    presentation = {"csrf_token": token, "description": "Un EHPAD de 80 lits.", "website": "www.exemple.fr"}
    refused = client.post("/employeur/structure", data=presentation)
    assert refused.status_code == 422 and "Un EHPAD de 80 lits.</textarea>" in tag(refused.text, "st-desc")
    assert_field_error(refused.text, "st-web", "err-structure-website", "format invalide")
    too_long = client.post("/employeur/structure", data=presentation | {"website": "", "address": "rue " * 100})
    assert too_long.status_code == 422
    assert_field_error(too_long.text, "st-addr", "err-structure-address", "au plus 300 caractères")


def test_alert_form_reads_a_town_name_and_keeps_what_was_typed(client: TestClient, world: World) -> None:
    login(client, world.emails["personne"])
    page = client.get("/alertes").text
    assert "INSEE" not in page.split('id="al-commune-aide"')[0]  # the field asks for a town, not a code
    token = page_csrf(client, "/alertes")
    form = {
        "csrf_token": token,
        "kind": "formations",
        "q": "aide-soignant",
        "commune": "Villeurbane",
        "radius_km": "15",
    }
    refused = client.post("/alertes", data=form)
    assert refused.status_code == 422
    assert 'value="aide-soignant"' in tag(refused.text, "al-q") and 'value="15"' in tag(refused.text, "al-radius")
    assert '<option value="formations" selected>' in refused.text
    field = tag(refused.text, "al-commune")
    assert 'value="Villeurbane"' in field and 'aria-invalid="true"' in field and "al-commune-erreur" in field
    assert 'id="al-commune-erreur" class="field-error">Lieu introuvable' in refused.text
    too_long = client.post("/alertes", data=form | {"commune": "", "q": "soin " * 100})
    assert too_long.status_code == 422
    assert_field_error(too_long.text, "al-q", "err-alerte-q", "au plus 100 caractères")
    created = client.post("/alertes", data=form | {"commune": "Villeurbanne"}, follow_redirects=False)
    assert created.status_code == 303
    assert "à 15 km de Villeurbanne" in client.get("/alertes").text


def test_job_dating_form_keeps_what_was_typed(client: TestClient, world: World) -> None:
    login(client, world.emails["employeur"])
    token = page_csrf(client, "/job-datings")
    form = {"csrf_token": token, "title": "Job dating EHPAD", "on": "2026-10-02", "place": "Lyon", "capacity": "0"}
    refused = client.post("/job-datings", data=form)
    assert refused.status_code == 422 and 'value="Job dating EHPAD"' in tag(refused.text, "jd-title")
    assert_field_error(refused.text, "jd-cap", "err-job-dating-capacity", "doit être supérieur ou égal à 1")
    too_long = client.post("/job-datings", data=form | {"capacity": "20", "place": "Salle " * 60})
    assert too_long.status_code == 422
    assert_field_error(too_long.text, "jd-place", "err-job-dating-place", "au plus 200 caractères")


def test_admin_forms_keep_what_was_typed(client: TestClient, world: World) -> None:
    login(client, world.emails["admin"])
    token = page_csrf(client, "/admin")
    account = {"csrf_token": token, "display_name": "Jeanne Martin", "email": "pas-une-adresse", "role": "employeur"}
    account |= {"structure_name": "EHPAD Les Tilleuls", "siret": "123"}
    refused = client.post("/admin/comptes", data=account)
    assert refused.status_code == 422 and 'value="Jeanne Martin"' in tag(refused.text, "acc-name")
    assert 'value="EHPAD Les Tilleuls"' in tag(refused.text, "acc-structure")
    assert '<option value="employeur" selected>' in refused.text
    assert_field_error(refused.text, "acc-email", "err-compte-email", "format invalide")
    assert_field_error(refused.text, "acc-siret", "err-compte-siret", "format invalide")
    platform = client.post("/admin/plateformes", data={"csrf_token": token, "name": "P" * 300, "kind": "agence"})
    assert platform.status_code == 422 and '<option value="agence" selected>' in platform.text
    assert_field_error(platform.text, "platform-name", "err-plateforme-name", "au plus 200 caractères")
