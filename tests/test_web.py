"""HTTP tests of every page and endpoint, and of the single error shape."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from passerelles.app import create_app
from passerelles.settings import Settings

AES_URL = "/metiers/accompagnant-educatif-et-social"


def test_home_has_a_search_form_that_works_without_javascript(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<form role="search" action="/recherche" method="get"' in page.text
    assert "<script" not in page.text


def test_aes_page_shows_former_name_sections_and_deaes(client: TestClient) -> None:
    page = client.get(AES_URL)
    assert page.status_code == 200
    html = page.text
    assert re.search(r"Anciennement\s*:\s*<strong>Aide médico-psychologique</strong>", html)
    for section in (
        "Description",
        "Activités",
        "Où et comment",
        "Compétences et qualités",
        "Diplômes et certifications",
        "Salaire",
        "Évolutions",
        "Métiers proches",
        "Sources",
    ):
        assert f">{section}</h2>" in html, section
    assert 'href="/certifications/deaes"' in html
    assert "Travail de nuit" in html


@pytest.mark.parametrize(
    "name",
    [
        "aide-medico-psychologique",  # former name (data/occupations.yaml)
        "amp",  # its acronym
        "accompagnante-educative-et-sociale",  # feminine form of the current name
        "auxiliaire-de-vie-sociale",  # another former name
    ],
)
def test_former_and_other_names_of_an_occupation_redirect_to_its_page(client: TestClient, name: str) -> None:
    r = client.get(f"/metiers/{name}?region=84", follow_redirects=False)
    assert r.status_code == 301
    assert r.headers["location"] == AES_URL + "?region=84"
    assert client.get(f"/metiers/{name}").url.path == AES_URL


def test_a_rome_appellation_tied_to_an_occupation_redirects_and_an_unknown_name_is_404(client: TestClient) -> None:
    r = client.get("/metiers/educatrice-specialisee", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (301, "/metiers/educateur-specialise")
    assert client.get("/metiers/aide-medico-psycho", follow_redirects=False).status_code == 404


def test_search_page_shows_aes_first_for_amp(client: TestClient) -> None:
    page = client.get("/recherche", params={"q": "AMP"})
    assert page.status_code == 200
    first = re.search(r'<ol class="results">\s*<li><a href="([^"]+)"', page.text)
    assert first is not None and first.group(1) == AES_URL


def test_list_and_detail_pages(client: TestClient) -> None:
    for url, needle in [
        ("/metiers", AES_URL),
        ("/certifications", "/certifications/deaes"),
        ("/certifications/deaes", "Voies d'accès"),
        ("/certifications/deamp", "remplacée par"),
        ("/metiers/rome/K1306", "Aide médico-psychologique"),
        ("/sources", "France Travail"),
        ("/recherche", "Recherche"),
    ]:
        page = client.get(url)
        assert page.status_code == 200, url
        assert needle in page.text, url


def test_api_endpoints(client: TestClient) -> None:
    occupations = client.get("/api/v1/occupations").json()
    assert any(o["slug"] == "accompagnant-educatif-et-social" for o in occupations)
    aes = client.get("/api/v1/occupations/accompagnant-educatif-et-social").json()
    assert "K1306" in aes["rome_codes"]
    cert = client.get("/api/v1/certifications/deaes").json()
    assert cert["acronym"] == "DEAES" and cert["level_eu"] == 3
    assert all(c["level_eu"] == 4 for c in client.get("/api/v1/certifications?level=4").json())
    fiche = client.get("/api/v1/rome/K1306").json()
    assert fiche["rome_version"] == "4.60"
    found = client.get("/api/v1/search", params={"q": "AMP"}).json()
    assert found["results"][0]["id"] == "accompagnant-educatif-et-social"
    assert client.get("/api/v1/health").json() == {"status": "ok"}


def test_openapi_document(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["info"]["title"] == "Passerelles"
    paths = set(doc["paths"])
    assert {"/api/v1/occupations/{slug}", "/api/v1/certifications/{slug}", "/api/v1/search"} <= paths
    assert not any(p.startswith("/metiers") for p in paths)


def test_one_error_shape(client: TestClient) -> None:
    missing = client.get("/api/v1/occupations/astronaute")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"status": 404, "code": "not_found", "message": "Métier inconnu : astronaute"}}
    invalid = client.get("/api/v1/certifications", params={"level": 42})
    assert invalid.status_code == 422
    body = invalid.json()["error"]
    assert body["code"] == "invalid_request" and body["details"][0]["field"] == "query.level"
    unknown = client.get("/api/v1/nowhere")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    page = client.get("/metiers/astronaute")
    assert page.status_code == 404 and "Page introuvable" in page.text


def test_a_500_never_shows_the_exception_text(loaded_engine) -> None:  # type: ignore[no-untyped-def]
    app: FastAPI = create_app(Settings(database_url="sqlite://", environment="test"), engine=loaded_engine)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret-detail-42")

    @app.get("/boom")
    def boom_page() -> None:
        raise RuntimeError("secret-detail-43")

    client = TestClient(app, raise_server_exceptions=False)
    api = client.get("/api/v1/boom")
    assert api.status_code == 500
    assert api.json() == {"error": {"status": 500, "code": "internal_error", "message": "Erreur interne du serveur."}}
    page = client.get("/boom")
    assert page.status_code == 500 and "secret-detail-43" not in page.text


def test_hostile_query_is_escaped(client: TestClient) -> None:
    page = client.get("/recherche", params={"q": "<script>alert(1)</script>' OR 1=1 --"})
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_every_api_query_error_names_its_parameter(client: TestClient) -> None:
    # Issue 18: one path from a query error to the error shape, the search API's included (it gave no details).
    level = client.get("/api/v1/search", params={"q": "x", "niveau": "12"}).json()["error"]
    assert level["code"] == "invalid_request" and level["details"][0]["field"] == "niveau"
    assert "niveau 12 inconnu" in level["details"][0]["reason"] and "niveau 12 inconnu" in level["message"]
    place = client.get("/api/v1/search", params={"commune": "Atlantide", "rayon": "5"}).json()["error"]
    assert place["details"] == [{"field": "commune", "reason": place["message"]}] and "Atlantide" in place["message"]
    training = client.get("/api/v1/formations", params={"niveau": "12"}).json()["error"]
    assert training["code"] == "invalid_request" and training["details"][0]["field"] == "niveau"


def test_api_validation_reasons_are_in_french(client: TestClient) -> None:
    # The interface speaks French: pydantic's own messages ("Input should be…") never reach a person.
    too_big = client.get("/api/v1/emploi/offres/3000000000").json()["error"]
    assert too_big["details"] == [{"field": "path.offer_id", "reason": "doit être inférieur ou égal à 2147483647"}]
    body = client.post("/api/v1/parcours", json={"age": "nan", "rayon_km": []}).json()["error"]
    reasons = {d["field"]: d["reason"] for d in body["details"]}
    assert reasons["body.age"] == "nombre entier attendu"
    for detail in body["details"]:
        assert not detail["reason"].startswith(("Input should", "Field required", "Value error")), detail
    bad_page = client.get("/api/v1/formations", params={"page": "x"}).json()["error"]
    assert all("should" not in d["reason"] for d in bad_page["details"]), bad_page


def test_search_page_names_a_bad_filter_in_french(client: TestClient) -> None:
    page = client.get("/recherche", params={"q": "aide", "niveau": "12", "page": "x"})
    assert page.status_code == 200
    assert "Filtre invalide : niveau : niveau 12 inconnu" in page.text
    assert "Value error" not in page.text and "Input should" not in page.text
