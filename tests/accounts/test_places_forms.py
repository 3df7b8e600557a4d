"""Signed-in forms that name a commune: a town's name is enough, homonyms are picked, what was typed is kept."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.accounts import World, login, page_csrf


def test_counsellor_file_with_a_town_name_is_created_and_homonyms_are_picked(client: TestClient, world: World) -> None:
    login(client, world.emails["conseiller_a"])
    token = page_csrf(client, "/conseil/dossiers/nouveau")
    form = {"csrf_token": token, "first_name": "Inès", "last_name": "Moreau", "commune_code": "Villeurbanne"}
    form |= {"target": "aide-soignant", "diplomas": "deaes", "consent_accompagnement": "oui"}
    created = client.post("/conseil/dossiers/nouveau", data=form, follow_redirects=False)
    assert created.status_code == 303
    assert "Villeurbanne (69)" in client.get(created.headers["location"]).text
    # (This world holds three communes: a typo stands for any name to choose.) Every field is kept, the
    # commune's problem is beside its field, the close name offered as a choice.
    refused = client.post("/conseil/dossiers/nouveau", data=form | {"commune_code": "Villeurbane", "first_name": "Léa"})
    assert refused.status_code == 422 and "Paramètres invalides" not in refused.text
    assert 'value="Léa"' in refused.text and 'value="deaes"' in refused.text and 'value="Villeurbane"' in refused.text
    assert 'aria-invalid="true"' in refused.text and 'class="field-error">Lieu introuvable' in refused.text
    assert 'name="commune_code_choix" value="Villeurbanne (69)"' in refused.text
    picked = client.post(
        "/conseil/dossiers/nouveau",
        data=form | {"commune_code": "Villeurbane", "commune_code_choix": "Villeurbanne (69)", "first_name": "Léa"},
        follow_redirects=False,
    )
    assert picked.status_code == 303
    assert "Villeurbanne (69)" in client.get(picked.headers["location"]).text
    # A département is not a commune: said in French beside the field.
    dept = client.post("/conseil/dossiers/nouveau", data=form | {"commune_code": "Rhône"})
    assert dept.status_code == 422 and "pas un département" in dept.text
