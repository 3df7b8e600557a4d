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
    # The DEAS opens the post directly, with an adaptation course (FAE) rather than the CQP: the FAE is
    # followed once hired, and counted in the route's total.
    assert kinds(result) == [("poste", "assistant-medical"), ("formation_obligatoire", "assistant-medical")]
    assert first.months_before_post == 0
    assert first.total_months > 0 and first.total_months == first.steps[1].months
    assert "adaptation à l'emploi" in first.steps[1].title and "FAE" in first.summary
    assert first.steps[0].title == "Être recruté comme assistant médical"
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
    assert "avoir au moins 17 ans (vous avez 16 ans)" in failing
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
        # Each section folds on a phone (<details>): its body ends with the section.
        assert re.search(r'<details class="fold" id="comment-devenir"><summary><h2>Comment devenir', text), slug
        become = text.split('id="comment-devenir"')[1].split("</details>")[0]
        assert "<li><strong>" in become, slug
        after = text.split('id="et-apres"')[1].split("</details>")[0]
        assert '<li><a href="/metiers/' in after or "Aucune passerelle" in after, slug
    # At least the care and educational occupations lead somewhere.
    text = client.get("/metiers/accompagnant-educatif-et-social").text
    after = text.split('id="et-apres"')[1].split("</details>")[0]
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


# ---------------------------------------------------------------- issue 13.6: a planner its user can read


def test_in_post_certification_counts_in_the_total_and_comes_after_the_hiring(session: Session) -> None:
    """The bac holder hired as assistant médical, then the CQP in post; the ASG's 140 h likewise."""
    result = run_plan(session, diplomas=[{"slug": "bac"}], target="assistant-medical")
    route = next(r for r in result.routes if any(s.kind == "certification_en_poste" for s in r.steps))
    steps = [s.kind for s in route.steps]
    assert steps.index("poste") < steps.index("certification_en_poste")
    assert route.steps[steps.index("poste")].title.startswith("Être recruté comme")
    assert route.total_months == route.months_before_post + sum(s.months for s in route.steps[steps.index("poste") :])
    assert route.total_months >= 12
    asg = run_plan(session, diplomas=[{"slug": "deas"}], target="assistant-de-soins-en-gerontologie").routes[0]
    assert asg.total_months > 0


@pytest.mark.parametrize(
    "profile",
    [
        {"diplomas": [{"slug": "deas"}], "target": "assistant-medical"},
        {
            "experience": [{"occupation": "accompagnant-educatif-et-social", "years": 5}],
            "target": "accompagnant-educatif-et-social",
        },
        {"age": 16, "target": "aide-soignant"},
        {"diplomas": [{"slug": "bac"}], "target": "assistant-medical"},
        {"diplomas": [{"slug": "deaes"}], "age": 30, "target": "educateur-specialise"},
    ],
)
def test_steps_are_in_chronological_order(session: Session, profile: dict[str, object]) -> None:
    for route in run_plan(session, **profile).routes:
        starts = [s.start_months for s in route.steps]
        assert starts == sorted(starts), route.summary
        for a, b in zip(route.steps, route.steps[1:], strict=False):
            assert b.start_months == pytest.approx(a.start_months + a.months)
        hired = [s.kind for s in route.steps].index("poste")
        # Only what is done once hired follows the hiring.
        assert {s.kind for s in route.steps[hired + 1 :]} <= {"certification_en_poste", "formation_obligatoire"}
        assert route.steps[-1].start_months + route.steps[-1].months == pytest.approx(route.total_months)


def test_vae_route_explains_each_stage_of_the_vae(session: Session) -> None:
    result = run_plan(
        session,
        experience=[{"occupation": "accompagnant-educatif-et-social", "years": 5}],
        age=40,
        target="accompagnant-educatif-et-social",
    )
    vae = next(s for r in result.routes for s in r.steps if s.kind == "vae")
    titles = " | ".join(st.title for st in vae.stages).lower()
    for word in ("recevable", "accompagner", "dossier de validation", "jury", "validation partielle"):
        assert word in titles
    text = " ".join(st.text for st in vae.stages)
    assert "livret 1" in text and "livret 2" in text and "France VAE" in text
    assert all(st.sources for st in vae.stages)
    assert [st.optional for st in vae.stages if "accompagner" in st.title.lower()] == [True]
    assert any("5 ans d'expérience comme accompagnant éducatif et social" in w.text for w in vae.why)


def test_explanations_read_as_plain_french(session: Session) -> None:
    result = run_plan(session, age=30, target="infirmier")
    failing = [f for b in result.blocked for f in b.failing]
    joined = " ".join(failing)
    assert "3 ans d'expérience professionnelle (vous n'en déclarez aucune)" in joined
    assert "comme un emploi" not in joined and "(vous : " not in joined
    assert not re.search(r"\b[a-z]+(-[a-z]+)+\b", joined.replace("aide-soignant", "")), joined


@pytest.mark.parametrize(
    ("typed", "slug"),
    [
        ("auxiliaire de vie", "assistant-de-vie-dependance"),
        ("AMP", "accompagnant-educatif-et-social"),
        ("Aide médico-psychologique (AMP)", "accompagnant-educatif-et-social"),
        ("ASH", "agent-de-service-hospitalier"),
        ("agent de service hospitalier", "agent-de-service-hospitalier"),
        ("aide à domicile", "assistant-de-vie-aux-familles"),
        ("faisant fonction d'aide-soignant", "aide-soignant"),
        ("Aides-soignantes", "aide-soignant"),
    ],
)
def test_common_names_are_understood_as_experience(session: Session, typed: str, slug: str) -> None:
    from passerelles.pathways.services import resolve_occupation

    assert resolve_occupation(build_rulebook(session), typed).slug == slug


def test_experience_names_on_the_page_the_api_and_the_cli(client: TestClient, loaded_engine: Engine) -> None:
    page = client.get(
        "/parcours",
        params={
            "experience_metier": "AMP",
            "experience_annees": "5",
            "age": "40",
            "cible": "accompagnant-educatif-et-social",
        },
    ).text
    assert "« AMP » compris comme : Accompagnant éducatif et social" in html.unescape(page)
    assert "Obtenir le DEAES par la VAE" in page
    api = client.post(
        "/api/v1/parcours",
        json={"experience": [{"occupation": "auxiliaire de vie", "years": 3}], "target": "assistant-de-vie-dependance"},
    )
    assert api.status_code == 200 and api.json()["routes"]
    env = {"PASSERELLES_DATABASE_URL": loaded_engine.url.render_as_string(hide_password=False)}
    out = CliRunner().invoke(
        cli_app, ["parcours", "--experience", "AMP:5", "--cible", "accompagnant-educatif-et-social", "--json"], env=env
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["routes"][0]["steps"][0]["kind"] == "vae"


def test_unknown_experience_name_gets_a_french_message_with_suggestions(
    client: TestClient, loaded_engine: Engine
) -> None:
    page = html.unescape(
        client.get("/parcours", params={"experience_metier": "aide soignnat", "experience_annees": "2"}).text
    )
    assert "métier non reconnu : « aide soignnat ». Vouliez-vous dire : Aide-soignant" in page
    api = client.post("/api/v1/parcours", json={"experience": [{"occupation": "astronaute", "years": 1}]})
    assert api.status_code == 422
    reason = api.json()["error"]["details"][0]["reason"]
    assert reason.startswith("métier non reconnu : « astronaute »")
    env = {"PASSERELLES_DATABASE_URL": loaded_engine.url.render_as_string(hide_password=False)}
    out = CliRunner().invoke(cli_app, ["parcours", "--experience", "aide soignnat:2"], env=env)
    assert out.exit_code != 0 and "Vouliez-vous dire : Aide-soignant" in out.output


@pytest.mark.parametrize("years", ["nan", "-2", "inf", "61"])
def test_impossible_years_of_experience_are_refused(client: TestClient, loaded_engine: Engine, years: str) -> None:
    page = html.unescape(client.get("/parcours", params={"experience_metier": "ASH", "experience_annees": years}).text)
    assert f"durée invalide « {years} »" in page and 'class="route"' not in page
    env = {"PASSERELLES_DATABASE_URL": loaded_engine.url.render_as_string(hide_password=False)}
    out = CliRunner().invoke(cli_app, ["parcours", "--experience", f"ASH:{years}"], env=env)
    assert out.exit_code != 0 and "durée invalide" in out.output


def _visible_text(page: str) -> str:
    body = page.split("<main", 1)[-1]
    body = re.sub(r"<(script|style|datalist)\b.*?</\1>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_route_page_has_an_accessible_timeline_and_no_raw_ids(client: TestClient, session: Session) -> None:
    book = build_rulebook(session)
    for query in (
        {"diplome": "deas", "cible": "assistant-medical"},
        {"experience_metier": "AMP", "experience_annees": "5", "age": "40", "cible": "accompagnant-educatif-et-social"},
    ):
        page = client.get("/parcours", params=query).text
        routes = page.split('<section class="route"')[1:]
        assert routes
        for route in routes:
            svg = re.search(r"<svg class=\"timeline\".*?</svg>", route, flags=re.S)
            assert svg, "no timeline"
            marks = len(re.findall(r'class="tl-mark"', svg.group()))
            steps = route.split('<ol class="steps">')[1]
            assert marks == len(re.findall(r'<li class="step step-', steps)) > 0
            assert re.search(r'role="img" aria-labelledby="(tl-[^ "]+-t) (tl-[^ "]+-d)"', svg.group())
            assert "<title id=" in svg.group() and "<desc id=" in svg.group()
        text = _visible_text(page)
        words = {n.lower() for n in book.occupations.values()}  # "aide-soignant" is a word as well as an id
        ids = (set(book.source_names) | set(book.occupations) | set(book.certs)) - words
        raw = sorted(i for i in ids if "-" in i and re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", text))
        assert raw == [], raw
    assert "Comment se déroule la VAE" in page
