"""The route planner on a table of real cases, through the service, the API, the CLI and the page."""

from __future__ import annotations

import html
import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from passerelles.cli import app as cli_app
from passerelles.pathways.rules import build_rulebook
from passerelles.pathways.schemas import PlanResult, Profile
from passerelles.pathways.services import plan


def run_plan(session: Session, **profile: object) -> PlanResult:
    result = plan(session, Profile.model_validate(profile))
    assert result is not None
    return result


def kinds(result: PlanResult, rank: int = 0) -> list[tuple[str, str | None]]:
    return [(s.kind, s.certification or s.occupation) for s in result.routes[rank].steps]


def test_deas_holder_to_assistant_medical(session: Session) -> None:
    result = run_plan(session, diplomas=[{"slug": "deas"}], target="assistant-medical")
    first = result.routes[0]
    # The DEAS opens the post directly, with an adaptation course (FAE) rather than the CQP.
    assert kinds(result) == [("poste", "assistant-medical")]
    assert first.total_months == 0
    assert "DEAS" in first.steps[0].why[0].text
    assert all(step.why and all(w.text for w in step.why) for step in first.steps)
    assert any(w.sources for step in first.steps for w in step.why)


def test_deamp_holder_is_an_aes_by_equivalence(session: Session) -> None:
    result = run_plan(session, diplomas=[{"slug": "deamp", "year": 2010}], target="accompagnant-educatif-et-social")
    assert kinds(result) == [("equivalence", "deaes"), ("poste", "accompagnant-educatif-et-social")]
    assert result.routes[0].total_months == 0
    assert "2016" in " ".join(w.text for w in result.routes[0].steps[0].why)


def test_unqualified_aes_with_three_years_gets_the_deaes_by_vae(session: Session) -> None:
    result = run_plan(
        session,
        experience=[{"occupation": "accompagnant-educatif-et-social", "years": 3}],
        age=35,
        target="accompagnant-educatif-et-social",
    )
    assert kinds(result)[0] == ("vae", "deaes")
    assert kinds(result)[-1] == ("poste", "accompagnant-educatif-et-social")
    assert 0 < result.routes[0].total_months <= 24
    # Training remains an alternative route.
    assert any(("formation", "deaes") in kinds(result, i) for i in range(len(result.routes)))


def test_aes_to_educateur_specialise(session: Session) -> None:
    result = run_plan(
        session,
        diplomas=[{"slug": "deaes"}],
        experience=[{"occupation": "accompagnant-educatif-et-social", "years": 3}],
        age=30,
        target="educateur-specialise",
    )
    assert result.routes, result.blocked
    steps = kinds(result)
    assert ("formation", "dees") in steps
    assert steps[-1] == ("poste", "educateur-specialise")
    assert result.routes[0].total_months >= 24


def test_seventeen_year_old_without_diploma_to_aide_soignant(session: Session) -> None:
    result = run_plan(session, age=17, target="aide-soignant")
    assert kinds(result)[0] == ("formation", "deas")
    assert kinds(result)[-1] == ("poste", "aide-soignant")
    assert 10 <= result.routes[0].total_months <= 24


def test_sixteen_year_old_is_told_the_age_condition(session: Session) -> None:
    result = run_plan(session, age=16, target="aide-soignant")
    failing = " ".join(f for b in result.blocked for f in b.failing)
    assert "avoir au moins 17 ans (vous : 16 ans)" in failing
    first = result.routes[0]
    assert first.steps[0].kind == "attente" and first.steps[0].months == 12
    assert "17" in first.steps[0].why[0].text


def test_impossible_constraint_explains_instead_of_returning_nothing(session: Session) -> None:
    result = run_plan(session, age=30, target="infirmier", max_months=6)
    assert result.routes == []
    assert result.message and "6 mois" in result.message
    assert result.blocked


def test_no_target_gives_suggestions(session: Session) -> None:
    result = run_plan(session, diplomas=[{"slug": "deas"}], age=25)
    assert result.target is None
    assert 1 <= len(result.routes) <= 5
    assert result.routes[0].target in {"aide-soignant", "assistant-medical"}


def test_planner_is_deterministic(session: Session) -> None:
    profile = {"diplomas": [{"slug": "deaes"}], "age": 30, "target": "educateur-specialise"}
    assert run_plan(session, **profile).model_dump() == run_plan(session, **profile).model_dump()


def test_every_seed_occupation_page_has_how_to_become_and_what_next(client: TestClient) -> None:
    from .test_reference import SEED_OCCUPATIONS

    for slug in SEED_OCCUPATIONS:
        text = client.get(f"/metiers/{slug}").text
        assert re.search(r'<section id="comment-devenir"><h2>Comment devenir', text), slug
        become = text.split('id="comment-devenir"')[1].split("</section>")[0]
        assert "<li><strong>" in become, slug
        after = text.split('<section id="et-apres"><h2>Et après ?</h2>')[1].split("</section>")[0]
        assert '<li><a href="/metiers/' in after or "Aucune passerelle" in after, slug
    # At least the care and educational occupations lead somewhere.
    text = client.get("/metiers/accompagnant-educatif-et-social").text
    after = text.split('<section id="et-apres">')[1].split("</section>")[0]
    assert after.count('<li><a href="/metiers/') >= 3


@pytest.mark.parametrize(
    ("profile", "cli_args", "query"),
    [
        (
            {"diplomas": [{"slug": "deas"}], "target": "assistant-medical"},
            ["--diplome", "DEAS", "--cible", "assistant médical"],
            {"diplome": "deas", "cible": "assistant-medical"},
        ),
        (
            {
                "experience": [{"occupation": "accompagnant-educatif-et-social", "years": 3}],
                "age": 35,
                "target": "accompagnant-educatif-et-social",
            },
            ["--experience", "accompagnant-educatif-et-social:3", "--age", "35", "--cible", "AES"],
            {
                "experience_metier": "accompagnant-educatif-et-social",
                "experience_annees": "3",
                "age": "35",
                "cible": "accompagnant-educatif-et-social",
            },
        ),
        (
            {"diplomas": [{"slug": "deaes"}], "age": 30, "target": "educateur-specialise"},
            ["--diplome", "deaes", "--age", "30", "--cible", "educateur specialise"],
            {"diplome": "deaes", "age": "30", "cible": "educateur-specialise"},
        ),
    ],
)
def test_cli_api_and_page_give_the_same_routes(
    client: TestClient, loaded_engine: Engine, profile: dict[str, object], cli_args: list[str], query: dict[str, str]
) -> None:
    api = client.post("/api/v1/parcours", json=profile)
    assert api.status_code == 200
    api_routes = [(r["summary"], r["total_months"]) for r in api.json()["routes"]]
    env = {"PASSERELLES_DATABASE_URL": loaded_engine.url.render_as_string(hide_password=False)}
    out = CliRunner().invoke(cli_app, ["parcours", *cli_args, "--json"], env=env)
    assert out.exit_code == 0, out.output
    cli_routes = [(r["summary"], r["total_months"]) for r in json.loads(out.output)["routes"]]
    page = client.get("/parcours", params=query).text
    page_summaries = [
        html.unescape(re.sub(r"\s+", " ", m)).strip() for m in re.findall(r"Parcours \d+ — [^:]+ : ([^<]+)</h3>", page)
    ]
    assert api_routes
    assert api_routes == cli_routes
    assert [summary for summary, _ in api_routes] == page_summaries


def test_api_errors(client: TestClient) -> None:
    unknown = client.post("/api/v1/parcours", json={"target": "astronaute"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    invalid = client.post("/api/v1/parcours", json={"age": 3})
    assert invalid.status_code == 422 and invalid.json()["error"]["details"][0]["field"] == "body.age"
    unknown_diploma = client.post("/api/v1/parcours", json={"diplomas": [{"slug": "licence-de-peche"}]})
    assert unknown_diploma.status_code == 422
    assert unknown_diploma.json()["error"]["details"] == [
        {"field": "diplomas.0.slug", "reason": "diplôme inconnu : licence-de-peche"}
    ]
    by_acronym = client.post("/api/v1/parcours", json={"diplomas": [{"slug": "DEAS"}], "target": "assistant-medical"})
    by_slug = client.post("/api/v1/parcours", json={"diplomas": [{"slug": "deas"}], "target": "assistant-medical"})
    assert by_acronym.json() == by_slug.json()
    page = client.get("/parcours", params={"age": "douze", "cible": "infirmier"})
    assert "Âge : un nombre est attendu" in page.text and "Traceback" not in page.text


def test_rulebook_reads_every_rule(session: Session) -> None:
    book = build_rulebook(session)
    assert book.equivalences and book.vae and book.admissions and book.access
    assert {"deamp", "deavs"} <= {e.holder_of for e in book.equivalences if e.gives == "deaes"}


def test_page_form_without_javascript(client: TestClient) -> None:
    page = client.get("/parcours")
    assert page.status_code == 200
    assert '<form method="get" action="/parcours"' in page.text
