"""Issue 15: the certifications of the sector, the ten corrections and the new bridges, pinned in the JSON of the
CLI, in the pages and in the planner (real loaded database, real reference files)."""

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
from passerelles.reference.reader import read_directory
from tests.support.databases import REFERENCE_DIR

NEW_CERTIFICATIONS = [
    "tp-advf",
    "deamb",
    "auxiliaire-ambulancier",
    "cap-aepe",
    "deaf",
    "decesf",
    "de-puericultrice",
    "de-psychomotricien",
    "de-ergotherapeute",
    "formation-aesh",
    "formation-assistant-maternel",
    "cnc-mjpm",
    "cadre-de-sante",
]


def cli_json(engine: Engine, *args: str) -> str:
    env = {"PASSERELLES_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    result = CliRunner().invoke(cli_app, [*args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    json.loads(result.output)
    return result.output


def page_text(client: TestClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text)))


def run_plan(session: Session, **profile: object) -> PlanResult:
    result = plan(session, Profile.model_validate(profile))
    assert result is not None
    return result


def why_texts(result: PlanResult) -> str:
    return " ".join(w.text for r in result.routes for s in r.steps for w in s.why)


# ---------------------------------------------------------------- the new certifications


def test_every_new_certification_is_described_and_sourced() -> None:
    ref = read_directory(REFERENCE_DIR)
    for slug in NEW_CERTIFICATIONS:
        cert = ref.certifications[slug]
        assert cert.summary is not None and cert.summary.sources, slug
        assert cert.admission or cert.duration or cert.routes, slug
        assert all(r.sources for r in cert.routes), slug
    assert ref.certifications["deamb"].duration.hours == 801  # type: ignore[union-attr]
    assert ref.certifications["deaf"].level.eu == 4  # type: ignore[union-attr]
    assert ref.certifications["decesf"].level.eu == 6  # type: ignore[union-attr]
    # RNCP numbers seen only on training sites are not marked as checked.
    assert all(not r.verified for slug in NEW_CERTIFICATIONS for r in ref.certifications[slug].rncp)


def test_new_certifications_in_json_and_page(loaded_engine: Engine, client: TestClient) -> None:
    out = cli_json(loaded_engine, "certification", "deaf")
    assert '"slug": "deaf"' in out and "420" in out
    text = page_text(client, "/certifications/cnc-mjpm")
    assert "licence professionnelle" in text and "31 décembre 2027" in text


# ---------------------------------------------------------------- the ten corrections


def test_adulte_relais_from_26_in_json_page_and_planner(
    loaded_engine: Engine, client: TestClient, session: Session
) -> None:
    out = cli_json(loaded_engine, "metier", "mediateur-social")
    assert "26 ans" in out and "au moins 30 ans" not in out
    text = page_text(client, "/metiers/mediateur-social")
    assert "au moins 26 ans" in text and "au moins 30 ans" not in text
    result = run_plan(session, age=27, target="mediateur-social")
    assert any([(s.kind, s.occupation) for s in r.steps] == [("poste", "mediateur-social")] for r in result.routes)
    assert not any(s.kind == "attente" for r in result.routes for s in r.steps)


def test_no_one_year_vae_minimum_for_deaes_and_deeje(session: Session) -> None:
    book = build_rulebook(session)
    for slug in ("deaes", "deeje"):
        assert [r.min_experience_years for r in book.vae[slug]] == [0], slug
        assert "21 décembre 2022" in book.vae[slug][0].text
    result = run_plan(
        session,
        experience=[{"occupation": "accompagnant-educatif-et-social", "years": 0.5}],
        age=30,
        target="accompagnant-educatif-et-social",
    )
    assert any(s.kind == "vae" and s.certification == "deaes" for r in result.routes for s in r.steps)


def test_mediator_starting_pay_not_below_the_2023_smic(loaded_engine: Engine, client: TestClient) -> None:
    ref = read_directory(REFERENCE_DIR)
    for pay in ref.occupations["mediateur-social"].pay:
        if pay.year == 2023 and pay.basis == "brut" and pay.min_eur is not None:
            assert pay.min_eur >= 1709, pay
    assert "1 747,20" in cli_json(loaded_engine, "metier", "mediateur-social")
    assert "1 747,20" in page_text(client, "/metiers/mediateur-social")


def test_deeje_reductions_follow_the_texts_not_prep_sites(session: Session, loaded_engine: Engine) -> None:
    book = build_rulebook(session)
    reductions = book.reductions["deeje"]
    assert reductions and all(r.months is None for r in reductions)
    assert all("occ-supexam-deeje" not in r.sources for r in reductions)
    assert all("cas par cas" in r.text for r in reductions if r.holder_of in {"deme", "detisf", "deap", "dei"})
    assert "deux tiers" not in cli_json(loaded_engine, "certification", "deeje")


def test_old_bac_pro_assp_options_are_not_the_2022_diploma(session: Session) -> None:
    book = build_rulebook(session)
    assert not [e for e in book.equivalences if e.holder_of.startswith("bac-pro-assp-option")]
    # The rules that do cover the old diploma name it explicitly.
    assert {"bac-pro-assp-option-a", "bac-pro-assp-option-b"} <= {r.holder_of for r in book.reductions["deas"]}
    result = run_plan(session, diplomas=[{"slug": "bac-pro-assp-option-a"}], target="assistant-de-vie-dependance")
    assert [(s.kind, s.occupation) for s in result.routes[0].steps] == [("poste", "assistant-de-vie-dependance")]


def test_unconfirmed_deust_is_not_offered(loaded_engine: Engine, client: TestClient, session: Session) -> None:
    out = json.loads(cli_json(loaded_engine, "metier", "mediateur-social"))
    linked = {c["certification"]["slug"] for g in out["certifications_by_level"] for c in g["certifications"]}
    assert "deust-mediation" not in linked and "tp-msads" in linked
    assert "DEUST" not in page_text(client, "/metiers/mediateur-social")
    result = run_plan(session, age=19, diplomas=[{"slug": "bac"}], target="mediateur-social")
    assert all(s.certification != "deust-mediation" for r in result.routes for s in r.steps)


def test_direction_qualification_comes_from_the_2007_decree(
    loaded_engine: Engine, client: TestClient, session: Session
) -> None:
    out = cli_json(loaded_engine, "certification", "cafdes")
    assert "2007-221" in out and "décret du 27 août 2022" not in out
    assert "cinquantaine" not in cli_json(loaded_engine, "metier", "directeur-etablissement-social")
    text = page_text(client, "/metiers/directeur-etablissement-social")
    assert "2007-221" in text and "cinquantaine" not in text
    result = run_plan(session, diplomas=[{"slug": "caferuis"}], target="directeur-etablissement-social")
    assert [(s.kind, s.occupation) for s in result.routes[0].steps] == [("poste", "directeur-etablissement-social")]
    assert "2007-221" in why_texts(result)


def test_caerldv_admission_follows_the_arrete(session: Session) -> None:
    book = build_rulebook(session)
    (option,) = book.admissions["caerldv"]
    assert option.condition.min_experience_years is None
    assert {"dees", "dei", "de-psychomotricien", "de-ergotherapeute"} <= set(option.condition.certifications_any)
    result = run_plan(session, diplomas=[{"slug": "de-psychomotricien"}], age=30, target="instructeur-de-locomotion")
    assert result.routes and ("formation", "caerldv") in [(s.kind, s.certification) for s in result.routes[0].steps]


def test_asg_main_rome_code_is_not_the_locomotion_fiche(loaded_engine: Engine) -> None:
    ref = read_directory(REFERENCE_DIR)
    main = [r.code for r in ref.occupations["assistant-de-soins-en-gerontologie"].rome if r.main]
    assert main == ["J1501"]
    out = json.loads(cli_json(loaded_engine, "metier", "assistant-de-soins-en-gerontologie"))
    assert out["rome_codes"][0] == "J1501"


def test_stale_and_miscited_figures_are_gone(loaded_engine: Engine, session: Session) -> None:
    aes = cli_json(loaded_engine, "metier", "accompagnant-educatif-et-social")
    assert "25 000 AMP" not in aes
    mediator = cli_json(loaded_engine, "metier", "mediateur-social")
    assert "en 2014" not in mediator and "4 500 adultes-relais" in mediator
    ejes = read_directory(REFERENCE_DIR).occupations["educateur-de-jeunes-enfants"].pay
    assert all("point d'indice" in (p.note or "") for p in ejes if p.year < 2022)
    book = build_rulebook(session)
    # Seed 002 says admission is by « concours »: it cannot back a « dossier et entretien » rule.
    for slug in ("deas", "deap"):
        for option in book.admissions[slug]:
            if "dossier et entretien" in option.label:
                assert "seed-ftv-assistant-medical" not in option.sources


# ---------------------------------------------------------------- the new bridges


def test_bridges_exist_with_their_texts(session: Session) -> None:
    book = build_rulebook(session)
    deaes_by_right = [o for o in book.admissions["deaes"] if "annexe V" in o.label]
    assert deaes_by_right and {"tp-advf", "deap", "deaf"} <= set(deaes_by_right[0].condition.certifications_any)
    reductions = {(c, r.holder_of) for c, rules in book.reductions.items() for r in rules}
    assert {
        ("deaes", "tp-advf"),
        ("deas", "deamb"),
        ("deaf", "dees"),
        ("dees", "decesf"),
        ("decesf", "deass"),
    } <= reductions
    assert any("deas" in o.condition.certifications_any for o in book.admissions["deamb"])
    assert any(o.condition.certifications_any == ["tp-sams"] for o in book.admissions["cqp-assistant-medical"])
    for slug in ("tp-sams", "bts-sp3s", "but-carrieres-sociales", "licence-pro-intervention-sociale", "tp-advf"):
        assert book.vae[slug] and book.vae[slug][0].min_experience_years == 0, slug
    # Every rule of the book cites at least one source.
    rules = [*book.equivalences, *(r for rs in book.reductions.values() for r in rs)]
    rules += [r for rs in book.vae.values() for r in rs]
    rules += [o for os in book.admissions.values() for o in os] + [o for os in book.access.values() for o in os]
    assert all(r.sources for r in rules)


@pytest.mark.parametrize(
    ("profile", "expected_step", "expected_text"),
    [
        (
            {"diplomas": [{"slug": "tp-advf"}], "age": 30, "target": "accompagnant-educatif-et-social"},
            ("formation", "deaes"),
            "annexe V",
        ),
        (
            {"diplomas": [{"slug": "decesf"}], "age": 28, "target": "educateur-specialise"},
            ("formation", "dees"),
            "DECESF",
        ),
        (
            {"diplomas": [{"slug": "tp-sams"}], "age": 30, "target": "assistant-medical"},
            ("certification_en_poste", "cqp-assistant-medical"),
            "",
        ),
    ],
)
def test_planner_proposes_the_new_bridges(
    session: Session, profile: dict[str, object], expected_step: tuple[str, str | None], expected_text: str
) -> None:
    result = run_plan(session, **profile)
    assert result.routes, result.blocked
    steps = [(s.kind, s.certification) for r in result.routes for s in r.steps]
    assert expected_step in steps
    assert expected_text in why_texts(result)


def test_health_mediator_pay_is_grounded_in_the_adulte_relais_floor(loaded_engine: Engine, client: TestClient) -> None:
    pay = read_directory(REFERENCE_DIR).occupations["mediateur-en-sante"].pay
    adulte_relais = next(p for p in pay if "adulte-relais" in p.label)
    assert adulte_relais.year == 2024 and adulte_relais.min_eur is not None and adulte_relais.min_eur >= 1766
    assert "1 766,92" in cli_json(loaded_engine, "metier", "mediateur-en-sante")
    assert "1 766,92" in page_text(client, "/metiers/mediateur-en-sante")


def test_locomotion_instructor_pay_follows_the_1966_agreement(loaded_engine: Engine, client: TestClient) -> None:
    # Annexe 9 of the 1966 agreement: the salary of the initial profession (coefficients 434 to 762) plus an
    # allowance of 10 points, at the point value of 1 February 2021 (3,82 €, avenant n° 361).
    pay = read_directory(REFERENCE_DIR).occupations["instructeur-de-locomotion"].pay
    salary = next(p for p in pay if not p.bonus)
    allowance = next(p for p in pay if p.bonus)
    assert (salary.min_eur, salary.max_eur, salary.year) == (round(434 * 3.82), round(762 * 3.82), 2021)
    assert (allowance.min_eur, allowance.year) == (round(10 * 3.82), 2021)
    assert "occ-ccn66-annexe9-locomotion" in salary.sources and "occ-ccn66-annexe9-locomotion" in allowance.sources
    assert '"min_eur": 1658' in cli_json(loaded_engine, "metier", "instructeur-de-locomotion")
    text = page_text(client, "/metiers/instructeur-de-locomotion")
    # page_text folds every space, the narrow no-break space of French numbers included, into " "
    assert "1 658 €" in text and "2 911 €" in text and "déficients visuels" in text
