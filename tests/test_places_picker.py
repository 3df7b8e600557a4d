"""One place field everywhere: a commune, postcode, INSEE code, département or région read on the real COG,
homonyms offered and never chosen silently; the picker on the pages; forms that keep what was typed."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from passerelles import formatting
from passerelles.places.services import commune_of_field, place_index


def test_homonyms_are_read_as_the_most_likely_and_the_others_are_offered(session: Session) -> None:
    index = place_index(session)
    found = index.resolve_text("Saint-Denis")
    # Saint-Denis (974) is more populated, but metropolitan France comes first: La Réunion's is offered.
    assert found.choice is not None and found.choice.code == "93066"
    assert {c.code for c in found.others} >= {"97411", "11339", "30247"}
    assert found.ambiguous
    # The value of an alternative reads back to that commune, alone.
    reunion = next(c for c in found.others if c.code == "97411")
    again = index.resolve_text(reunion.value)
    assert again.choice is not None and again.choice.code == "97411" and not again.others
    # A région the person already chose decides among homonyms.
    in_reunion = index.resolve_text("Saint-Denis", prefer_region="04")
    assert in_reunion.choice is not None and in_reunion.choice.code == "97411"


def test_a_place_field_reads_communes_postcodes_codes_departements_and_regions(session: Session) -> None:
    index = place_index(session)

    def read(text: str) -> tuple[str, str]:
        res = index.resolve_text(text)
        assert res.choice is not None, text
        return res.choice.kind, res.choice.code

    assert read("Lyon") == ("commune", "69123")
    assert read("lyon") == ("commune", "69123")
    assert read("69") == ("departement", "69")
    assert read("Rhône") == ("departement", "69")
    assert read("rhone (69)") == ("departement", "69")
    assert read("Auvergne-Rhône-Alpes") == ("region", "84")
    assert read("69266") == ("commune", "69266")
    # 69100 is Villeurbanne's postcode and Irigny's INSEE code: the likelier first, the other offered.
    postcode = index.resolve_text("69100")
    assert postcode.choice is not None and postcode.choice.code == "69266"
    assert [c.code for c in postcode.others] == ["69100"]
    # A département that is also a commune's name: the département, the commune offered (with its own value).
    vienne = index.resolve_text("Vienne")
    assert vienne.choice is not None and (vienne.choice.kind, vienne.choice.code) == ("departement", "86")
    assert [c.code for c in vienne.others] == ["38544"]


def test_a_typo_is_refused_in_french_with_the_close_names_offered(session: Session) -> None:
    res = place_index(session).resolve_text("Villeurbane")
    assert res.choice is None and res.error is not None and "Lieu introuvable" in res.error
    assert [c.code for c in res.others] == ["69266"]


def test_a_field_that_records_a_commune_makes_the_person_pick(session: Session) -> None:
    index = place_index(session)
    res, code = commune_of_field(index, "Saint-Denis", must_pick=True)
    assert code is None and res.error and len(res.others) >= 4
    res, code = commune_of_field(index, "Villeurbanne", must_pick=True)
    assert code == "69266" and res.error is None
    res, code = commune_of_field(index, "Rhône")
    assert code is None and res.error and "commune" in res.error


def test_suggestions_as_one_types(client: TestClient) -> None:
    found = client.get("/api/v1/lieux/suggestions", params={"q": "villeurb"}).json()["suggestions"]
    assert found[0]["code"] == "69266" and found[0]["value"] == "Villeurbanne (69)"
    areas = client.get("/api/v1/lieux/suggestions", params={"q": "rhô"}).json()["suggestions"]
    assert areas[0] == {
        "type": "departement",
        "code": "69",
        "value": "Rhône (69)",
        "label": "le département Rhône (69)",
    }
    only = client.get("/api/v1/lieux/suggestions", params={"q": "rhô", "type": "commune"}).json()["suggestions"]
    assert only and all(s["type"] == "commune" for s in only)
    reading = client.get("/api/v1/lieux/lecture", params={"q": "Saint-Denis"}).json()
    assert reading["lieu"]["code"] == "93066" and "97411" in {a["code"] for a in reading["autres"]}


def test_trainings_page_offers_the_other_saint_denis_with_links_that_keep_the_criteria(client: TestClient) -> None:
    page = client.get("/formations", params={"commune": "Saint-Denis", "metier": "aide-soignant", "rayon": "40"})
    assert page.status_code == 200
    text = page.text
    assert "Vouliez-vous dire" in text and "Seine-Saint-Denis" in text
    assert "Toute la région La Réunion" not in text and "à La Réunion" not in text.split("Vouliez-vous dire")[0]
    link = re.search(r'<a href="(/formations\?[^"]*974[^"]*)">Saint-Denis \(La Réunion, 974\)</a>', text)
    assert link is not None
    assert "metier=aide-soignant" in link.group(1) and "rayon=40" in link.group(1)
    reunion = client.get(link.group(1).replace("&amp;", "&"))
    assert "km de Saint-Denis (974)" in reunion.text


def test_planner_reads_a_commune_name(client: TestClient) -> None:
    page = client.get("/parcours", params={"commune": "Lyon", "cible": "aide-soignant", "age": "30"})
    assert page.status_code == 200
    assert "Commune inconnue" not in page.text and 'value="Lyon (69)"' in page.text


def test_an_anonymous_form_error_keeps_the_input_and_names_the_field_in_french(client: TestClient) -> None:
    page = client.get("/emploi", params={"commune": "Villeurbane", "q": "nuit", "metier": "aide-soignant"})
    assert page.status_code == 422
    field = re.search(r'<input id="e-commune"[^>]*>', page.text, re.S)
    assert field is not None and 'value="Villeurbane"' in field.group(0)
    assert 'aria-invalid="true"' in field.group(0) and "e-commune-erreur" in field.group(0)
    assert '<p id="e-commune-erreur" class="field-error">Lieu introuvable' in page.text
    assert 'value="nuit"' in page.text  # the other fields kept
    assert "Villeurbanne (Rhône, 69)" in page.text  # the close name offered


def test_french_formatting_filters() -> None:
    assert formatting.eur(1070) == "1\u202f070\u00a0€"
    assert formatting.eur(9188.0) == "9\u202f188\u00a0€"
    assert formatting.eur(12.5) == "12,50\u00a0€"
    assert formatting.number(12345) == "12\u202f345"
    assert formatting.km(12.4) == "12\u00a0km" and formatting.km(1.54) == "1,5\u00a0km"
    assert formatting.month("2026-12") == "décembre 2026" == formatting.month(dt.date(2026, 12, 5))
    assert formatting.date_long(dt.date(2026, 12, 5)) == "5 décembre 2026"
    assert formatting.date_fr(dt.date(2026, 12, 5)) == "05/12/2026"
    assert [formatting.plural(n, "offre") for n in (0, 1, 2)] == ["0\u00a0offre", "1\u00a0offre", "2\u00a0offres"]
    assert formatting.salary("Mensuel de 1800.00 Euros à 2000.00 Euros sur 12 mois") == (
        "Mensuel de 1\u202f800\u00a0€ à 2\u202f000\u00a0€ sur 12 mois"
    )
