"""Search (issue 18): the query parameters in French as on the other pages, errors naming them, the OpenAPI
documenting them; commune names read with the one commune-name key; the sector dictionary's file passed in.

Cheap tests: no demonstration data (tests/test_search.py covers the search itself on both engines).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from passerelles.app import create_app
from passerelles.search.engine import SearchEngine
from passerelles.search.gazetteer import Gazetteer, Places, UnknownPlace
from passerelles.search.schemas import QUERY_PARAMS, SearchQuery
from passerelles.search.services import IndexReplica, open_backend
from passerelles.search.text import analyze
from passerelles.settings import Settings
from tests.support.databases import BACKENDS

DICTIONARY = "groups:\n  - terms: [zorglub]\n    means: [aide soignant]\n    source: https://example.org/glossaire\n"


def test_search_query_reads_the_french_parameters_and_errors_name_them() -> None:
    query = SearchQuery.model_validate(
        {
            "type": ["training"],
            "rayon": "30",
            "commune": "Lyon",
            "niveau": ["4"],
            "voie": ["vae"],
            "modalite": ["distance"],
            "contrat": ["cdi"],
            "temps": ["temps_plein"],
            "debut_min": "2026-01-05",
            "publie_depuis": "2026-01-01",
            "tri": "distance",
            "limit": "5",
            "facettes": "false",
        }
    )
    assert (query.types, query.radius_km, query.level, query.route, query.modality) == (
        ["training"],
        30.0,
        [4],
        ["vae"],
        ["distance"],
    )
    assert (query.contract, query.working_time, query.sort, query.per_page, query.facets) == (
        ["CDI"],
        ["temps_plein"],
        "distance",
        5,
        False,
    )
    assert SearchQuery(level=[3], sort="date_debut").level == [3]  # Python callers keep the field names
    with pytest.raises(ValidationError) as bad:
        SearchQuery.model_validate({"niveau": [12], "rayon": 0, "tri": "prix"})
    assert [e["loc"][0] for e in bad.value.errors()] == ["rayon", "niveau", "tri"]


def test_search_parameters_are_those_of_the_api_each_documented_in_french(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}", environment="test")
    spec = TestClient(create_app(settings)).get("/api/v1/openapi.json").json()
    parameters = spec["paths"]["/api/v1/search"]["get"]["parameters"]
    assert {p["name"] for p in parameters} == set(QUERY_PARAMS)
    undocumented = [p["name"] for p in parameters if not p.get("description")]
    assert undocumented == []
    suggest = spec["paths"]["/api/v1/search/suggest"]["get"]["parameters"]
    assert all(p.get("description") for p in suggest), suggest


@pytest.mark.parametrize("empty_engine", BACKENDS, indirect=True)
def test_a_bad_search_parameter_is_named_as_typed(empty_engine: Engine, tmp_path: Path) -> None:
    settings = Settings(
        database_url=empty_engine.url.render_as_string(hide_password=False),
        environment="test",
        search_index_dir=tmp_path / "index",
    )
    web = TestClient(create_app(settings, engine=empty_engine), raise_server_exceptions=False)
    answer = web.get("/api/v1/search", params={"q": "x", "niveau": "12"})
    error = json.dumps(answer.json()["error"], ensure_ascii=False)
    assert answer.status_code == 422 and "niveau" in error and "level" not in error, error
    page = web.get("/recherche", params={"q": "x", "niveau": "12"})
    assert page.status_code == 200 and "niveau" in page.text and "level." not in page.text


def _places() -> Places:
    return Places(
        communes={
            "42218": ("Saint-Étienne", "42", 45.43, 4.39, 170000),
            "69123": ("Lyon", "69", 45.76, 4.84, 520000),
            "38185": ("Grenoble", "38", 45.19, 5.72, 158000),
        },
        departements={"42": ("Loire", "84"), "69": ("Rhône", "84"), "38": ("Isère", "84")},
        regions={"84": "Auvergne-Rhône-Alpes"},
    )


def test_the_commune_of_a_search_is_read_with_the_one_commune_name_key() -> None:
    gazetteer = Gazetteer(_places())
    for written in ("Saint-Étienne", "saint etienne", "ST ETIENNE", "St-Étienne", "st-étienne cedex 2", "42218"):
        assert gazetteer.commune(written) == "42218", written
    with pytest.raises(UnknownPlace, match="Atlantide"):
        gazetteer.commune("Atlantide")
    # Free text keeps its own tokens: a place ends a query, a query that is only a place stays text.
    assert gazetteer.find(analyze("infirmier lyon")) == (1, 2, "commune", "69123")
    assert gazetteer.find(analyze("grenoble")) is None


def test_the_sector_dictionary_file_is_a_parameter(tmp_path: Path) -> None:
    path = tmp_path / "synonymes.yaml"
    path.write_text(DICTIONARY, encoding="utf-8")
    replica = IndexReplica(tmp_path / "index", synonyms_file=path)
    assert replica.synonyms.expand(analyze("zorglub"))[0].means == (analyze("aide soignant"),)


@pytest.mark.parametrize("empty_engine", BACKENDS, indirect=True)
def test_an_index_built_in_memory_reads_the_dictionary_it_is_given(empty_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "synonymes.yaml"
    path.write_text(DICTIONARY, encoding="utf-8")
    url = empty_engine.url.render_as_string(hide_password=False)
    with Session(empty_engine) as session:
        backend = open_backend(session, tmp_path / "index", url, synonyms_file=path)
    assert isinstance(backend, SearchEngine)  # no index published: built in memory
    assert backend.synonyms.expand(analyze("zorglub"))[0].means == (analyze("aide soignant"),)
