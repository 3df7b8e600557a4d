"""The funding simulator on a table of public worked examples, through the service, the API, the CLI and the
pages; the rules file against its sources; bad input answered in French, naming the field."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from passerelles.app import create_app
from passerelles.certifications.models import Certification
from passerelles.cli import app as cli_app
from passerelles.db import make_sessionmaker
from passerelles.funding.rules import InvalidFundingRules, load_book, parse_book
from passerelles.funding.schemas import FundingQuery, FundingResult
from passerelles.funding.services import FundingError, apprentice_pay, contract_years, simulate
from passerelles.reference.reader import InvalidReferenceData, read_directory
from passerelles.settings import PROJECT_ROOT, Settings
from passerelles.trainings.models import Provider, Training, TrainingSession
from tests.support.databases import DatabaseFactory

DATA = PROJECT_ROOT / "data"
BOOK = load_book(DATA)


def run(db: Session, **query: Any) -> FundingResult:
    return simulate(db, BOOK, FundingQuery.model_validate(query))


def combo(result: FundingResult, combo_id: str) -> Any:
    found = [c for c in result.combinations if c.id == combo_id]
    assert found, [c.id for c in result.combinations]
    return found[0]


def cited(result: FundingResult, numbers: list[int]) -> list[str]:
    """The addresses of the source notes ``numbers``."""
    by_number = {s.number: s for s in result.sources}
    return [by_number[n].url or "" for n in numbers]


# ---------------------------------------------------------------- the rules file


def test_every_rule_cites_sources_that_exist() -> None:
    ref = read_directory(DATA)  # the whole reference set: funding checked with the others
    raw = yaml.safe_load((DATA / "funding.yaml").read_text(encoding="utf-8"))
    own = {s["id"] for s in raw["sources"]}
    assert own <= set(ref.sources)
    for scheme in BOOK.rules.schemes:
        assert scheme.sources, scheme.id
        assert set(scheme.sources) <= own, scheme.id
        for rule in scheme.regions:
            assert rule.sources and set(rule.sources) <= own
    for src in (BOOK.sources[s] for s in own):
        assert src.url and src.url.startswith(("http://", "https://")), src.id
        assert src.publisher and src.title
    # The sanitary and social list names real certifications.
    assert set(BOOK.rules.sanitary_social.certifications) <= set(ref.certifications)


def test_a_rule_citing_an_unknown_source_is_refused(tmp_path: Path) -> None:
    raw = yaml.safe_load((DATA / "funding.yaml").read_text(encoding="utf-8"))
    raw["funding"]["schemes"][0]["sources"] = ["fund-nowhere"]
    with pytest.raises(InvalidFundingRules, match="fund-nowhere"):
        parse_book(raw)
    for f in DATA.glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "funding.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidReferenceData, match="fund-nowhere"):
        read_directory(tmp_path)


# ---------------------------------------------------------------- public worked examples

# The apprentice's minimum pay by age and year of the contract, with the Smic of 1 November 2024
# (1 801,80 € a month): the grid published by ARIFTS (fund-apprenti-grille-arifts).
APPRENTICE_GRID = [
    (17, 1, 27, 486.49),
    (17, 2, 39, 702.70),
    (17, 3, 55, 990.99),
    (19, 1, 43, 774.77),
    (19, 2, 51, 918.92),
    (19, 3, 67, 1207.21),
    (22, 1, 53, 954.95),
    (22, 2, 61, 1099.10),
    (22, 3, 78, 1405.40),
    (26, 1, 100, 1801.80),
    (45, 3, 100, 1801.80),
]


@pytest.mark.parametrize(("age", "year", "percent", "monthly"), APPRENTICE_GRID)
def test_apprentice_pay_grid(age: int, year: int, percent: int, monthly: float) -> None:
    scheme = BOOK.schemes["apprenti-salaire"]
    assert scheme.amount is not None
    assert apprentice_pay(scheme.amount, age, year, 1801.80) == (percent, monthly)


def test_apprentice_of_22_preparing_the_deaes(session: Session) -> None:
    result = run(session, age=22, situation="apprenti", certification="DEAES")
    assert result.training.route == "apprentissage"
    apprenticeship = combo(result, "apprentissage")
    assert apprenticeship.remaining_eur == 0.0  # the OPCO pays, nothing may be asked of the apprentice
    pay = apprenticeship.income[0]
    smic = BOOK.rules.smic.monthly_gross_eur
    assert pay.monthly_eur == round(smic * 0.53, 2)
    years = contract_years(result.training.months)
    assert "1re année : 53 % du Smic" in (pay.amount_text or "")
    if years >= 2:
        assert "2e année : 61 % du Smic" in (pay.amount_text or "")
    assert any("opcoep.fr" in u for u in cited(result, apprenticeship.tuition[0].notes))
    assert any("arifts.fr" in u for u in cited(result, pay.notes))


def test_apprenticeship_at_45_only_for_a_disabled_worker(session: Session) -> None:
    refused = run(session, age=45, situation="apprenti", certification="deaes")
    assert refused.combinations == []
    assert any("29 ans révolus" in w for w in refused.warnings)
    allowed = run(session, age=45, situation="apprenti", certification="deaes", travailleur_handicape=True)
    pay = combo(allowed, "apprentissage").income[0]
    assert pay.monthly_eur == BOOK.rules.smic.monthly_gross_eur  # 26 and over: at least the Smic


def test_indemnified_job_seeker_keeps_the_allowance(session: Session) -> None:
    """The 45-year-old home carer: job seeker paid by unemployment insurance, towards the DEAES."""
    result = run(session, age=45, situation="demandeur-emploi", indemnise=True, certification="deaes")
    region = combo(result, "region")
    assert region.tuition[0].scheme == "region-sanitaire-social"
    assert region.remaining_eur == 0.0
    income = {line.scheme: line for line in region.income}
    assert set(income) == {"aref", "rff"}
    assert "calculé par France Travail" in (income["aref"].amount_text or "")
    assert income["aref"].monthly_eur is None  # no figure invented: France Travail computes it
    assert "756,63" in (income["rff"].amount_text or "")
    assert any("unedic.org" in u for u in cited(result, income["aref"].notes))
    assert any("francetravail.fr" in u for u in cited(result, income["rff"].notes))
    # CPF completed by France Travail's AIF: nothing left, and no flat participation for a job seeker.
    cpf_aif = combo(result, "cpf-aif")
    assert cpf_aif.remaining_eur == 0.0
    assert "exonérés" in (cpf_aif.tuition[0].amount_text or "")
    assert "cpf" not in [c.id for c in result.combinations]  # « CPF seul » is inside « CPF + AIF »


def test_job_seeker_without_allowance_is_paid_as_a_trainee(session: Session) -> None:
    result = run(session, age=45, situation="demandeur-emploi", certification="deas")
    income = {line.scheme: line for line in combo(result, "region").income}
    assert income["stagiaire"].monthly_eur == 723.36
    assert "aref" not in income
    young = run(session, age=20, situation="demandeur-emploi", certification="deas")
    line = next(i for i in combo(young, "region").income if i.scheme == "stagiaire")
    assert line.monthly_eur is None and "500 €" in (line.amount_text or "")


def test_region_rule_where_sourced_bourgogne_franche_comte(session: Session) -> None:
    result = run(session, age=45, situation="demandeur-emploi", certification="deas", region="27")
    region = combo(result, "region")
    assert region.remaining_eur == 184.0
    assert "184" in region.remaining_text
    assert any("bourgognefranchecomte.fr" in u for u in cited(result, region.tuition[0].notes))
    elsewhere = run(session, age=45, situation="demandeur-emploi", certification="deas", region="84")
    assert combo(elsewhere, "region").remaining_eur == 0.0


def test_salaried_cpf_pays_the_flat_participation(session: Session) -> None:
    result = run(session, age=40, situation="salarie", certification="deas")
    cpf = combo(result, "cpf")
    amount, year, _ = BOOK.cpf_participation()
    assert (amount, year) == (102.23, 2025)
    assert cpf.remaining_eur is None  # the balance of the account is not known
    assert "solde de votre CPF" in cpf.remaining_text and "102,23" in cpf.remaining_text


@pytest.mark.parametrize(
    ("certification", "salary", "first", "later"),
    [
        ("deas", 2500.0, 2500.0, None),  # under 2 Smic: kept whole
        ("deas", 4000.0, 3600.0, None),  # over 2 Smic: 90 % (a training of a year at most)
        ("dei", 4000.0, 3600.0, 2400.0),  # over 2 Smic, three years: 90 % then 60 %
    ],
)
def test_salaried_on_a_transition_project(
    session: Session, certification: str, salary: float, first: float, later: float | None
) -> None:
    result = run(session, age=40, situation="salarie", certification=certification, salaire=salary)
    ptp = combo(result, "ptp")
    assert ptp.tuition[0].scheme == "ptp" and ptp.remaining_eur == 0.0
    pay = ptp.income[0]
    assert pay.scheme == "ptp-salaire" and pay.monthly_eur == first
    if later is not None:
        assert "2\u202f400\u00a0€" in (pay.amount_text or "")
    assert any("travail-emploi.gouv.fr" in u for u in cited(result, pay.notes))
    # The other payers of a salaried person are offered too.
    assert {"employeur", "pro-a", "cpf"} <= {c.id for c in result.combinations}


def test_vae_with_france_vae(session: Session) -> None:
    result = run(session, age=45, situation="salarie", certification="deaes", vae=True)
    assert result.training.route == "vae"
    vae = combo(result, "vae-cpf")
    assert [t.scheme for t in vae.tuition] == ["france-vae", "cpf"]
    assert vae.remaining_eur is None  # depends on the diploma and on the account
    assert [i.scheme for i in vae.income] == ["conge-vae"]
    assert "48 heures" in vae.income[0].text
    assert any("vae.gouv.fr" in u for u in cited(result, vae.tuition[0].notes))
    student = run(session, age=30, situation="etudiant", certification="deaes", vae=True)
    assert [c.id for c in student.combinations] == ["vae"]


def test_notes_are_numbered_in_order_with_no_internal_id(session: Session) -> None:
    result = run(session, age=45, situation="demandeur-emploi", indemnise=True, certification="deaes")
    assert [s.number for s in result.sources] == list(range(1, len(result.sources) + 1))
    cited_numbers = {n for c in result.combinations for line in c.tuition + c.income for n in line.notes}
    assert cited_numbers == {s.number for s in result.sources}
    visible = json.dumps([c.model_dump() for c in result.combinations], ensure_ascii=False)
    assert "fund-" not in visible


def test_unknown_certification_and_region_name_their_field(session: Session) -> None:
    with pytest.raises(FundingError) as exc:
        run(session, age=40, situation="salarie", certification="licence-de-peche")
    assert exc.value.field == "certification"
    with pytest.raises(FundingError) as exc:
        run(session, age=40, situation="salarie", certification="deas", region="99")
    assert exc.value.field == "region"


# ---------------------------------------------------------------- API, CLI and page agree


PROFILES = [
    (
        {"age": 45, "situation": "demandeur-emploi", "indemnise": True, "certification": "deaes", "region": "27"},
        ["--age", "45", "--situation", "demandeur-emploi", "--indemnise", "--certification", "deaes", "--region", "27"],
    ),
    (
        {"age": 22, "situation": "apprenti", "certification": "deas"},
        ["--age", "22", "--situation", "apprenti", "--certification", "deas"],
    ),
    (
        {"age": 40, "situation": "salarie", "certification": "deaes", "vae": True},
        ["--age", "40", "--situation", "salarie", "--certification", "deaes", "--vae"],
    ),
    (
        {"age": 35, "situation": "demandeur-emploi", "certification": "deaes", "solde_cpf": 1200.0},
        ["--age", "35", "--situation", "demandeur-emploi", "--certification", "deaes", "--solde-cpf", "1200"],
    ),
]


@pytest.mark.parametrize(("profile", "cli_args"), PROFILES)
def test_cli_api_page_and_service_agree(
    client: TestClient, loaded_engine: Engine, session: Session, profile: dict[str, Any], cli_args: list[str]
) -> None:
    service = run(session, **profile).model_dump(mode="json")
    api = client.post("/api/v1/financement", json=profile)
    assert api.status_code == 200, api.text
    assert api.json() == service
    env = {"PASSERELLES_DATABASE_URL": loaded_engine.url.render_as_string(hide_password=False)}
    out = CliRunner().invoke(cli_app, ["financement", *cli_args, "--json"], env=env)
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == service
    page = client.get("/financer", params={k: str(v).lower() if v is True else v for k, v in profile.items()})
    assert page.status_code == 200
    text = html.unescape(page.text)
    for c in service["combinations"]:
        assert c["title"] in text and c["remaining_text"] in text and c["income_text"] in text
        for line in c["tuition"] + c["income"]:
            assert line["name"] in text
    for note in service["sources"]:
        assert note["title"] in text
    assert not re.search(r"\bfund-[a-z]", text)


def test_openapi_documents_the_simulator(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    op = spec["paths"]["/api/v1/financement"]["post"]
    assert "FundingQuery" in json.dumps(op["requestBody"]) and "FundingResult" in json.dumps(op["responses"])


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"age": 200, "situation": "salarie", "certification": "deas"}, "body.age", "inférieur ou égal à 80"),
        ({"age": 40, "situation": "pirate", "certification": "deas"}, "body.situation", "valeur attendue parmi"),
        ({"age": 40, "situation": "salarie", "certification": "licence-de-peche"}, "certification", "inconnue"),
    ],
)
def test_api_bad_input_in_one_error_shape(client: TestClient, body: dict[str, Any], field: str, words: str) -> None:
    r = client.post("/api/v1/financement", json=body)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"][0]["field"] == field
    assert words in error["details"][0]["reason"]


@pytest.mark.parametrize(
    ("params", "label", "words"),
    [
        ({"age": "200", "situation": "salarie", "certification": "deas"}, "Âge", "au plus 80"),
        ({"age": "40", "situation": "pirate", "certification": "deas"}, "Situation", "valeur non reconnue"),
        ({"age": "40", "situation": "salarie", "certification": "licence-de-peche"}, "Diplôme", "inconnue"),
    ],
)
def test_page_bad_input_names_the_field(client: TestClient, params: dict[str, str], label: str, words: str) -> None:
    page = client.get("/financer", params=params)
    assert page.status_code == 422
    alert = html.unescape(page.text.split('id="erreurs"', 1)[1].split("</div>", 1)[0])
    assert label in alert and words in alert


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--age", "200", "--situation", "salarie", "--certification", "deas"], "age : "),
        (["--age", "40", "--situation", "pirate", "--certification", "deas"], "situation : "),
        (["--age", "40", "--situation", "salarie", "--certification", "licence-de-peche"], "certification : "),
    ],
)
def test_cli_bad_input(loaded_engine: Engine, args: list[str], words: str) -> None:
    env = {"PASSERELLES_DATABASE_URL": loaded_engine.url.render_as_string(hide_password=False)}
    out = CliRunner().invoke(cli_app, ["financement", *args], env=env)
    assert out.exit_code == 2
    assert words in out.output


def test_form_works_without_javascript(client: TestClient) -> None:
    page = client.get("/financer")
    assert page.status_code == 200
    assert '<form method="get" action="/financer"' in page.text
    assert "<script" not in page.text.split("<main", 1)[-1]
    for name in ("age", "situation", "certification", "region", "indemnise", "travailleur_handicape", "vae"):
        assert f'name="{name}"' in page.text


# ---------------------------------------------------------------- sessions, comparison, route planner


@pytest.fixture(scope="module")
def seeded(loaded_engine: Engine, databases: DatabaseFactory) -> Iterator[tuple[Engine, dict[str, int]]]:
    loaded_engine.dispose()  # a PostgreSQL template must have no open connection
    engine = databases.clone(loaded_engine.dialect.name, loaded_engine)
    with make_sessionmaker(engine)() as s:
        cert = {c.slug: c.id for c in s.scalars(select(Certification))}
        prov = Provider(external_id="pf", name="Institut Financement", row_hash="x")
        s.add(prov)
        s.flush()
        training = Training(external_id="tf", title="Formation", provider_id=prov.id, row_hash="x")
        s.add(training)
        s.flush()
        ids = {}
        for name, slug, cost, commune in (
            ("dijon", "deas", 6000, "21231"),  # Dijon, Bourgogne-Franche-Comté
            ("lyon", "deas", None, "69123"),
            ("lyon-aes", "deaes", 4500, "69123"),
        ):
            row = TrainingSession(
                external_id=name,
                training_id=training.id,
                provider_id=prov.id,
                certification_id=cert[slug],
                title=f"Session {name}",
                start_date=dt.date.today() + dt.timedelta(days=40),
                commune_code=commune,
                cost_eur=cost,
                row_hash="x",
                is_demo=True,
            )
            s.add(row)
            s.flush()
            ids[name] = row.id
        s.commit()
    yield engine, ids
    databases.release(engine)


@pytest.fixture(scope="module")
def web(seeded: tuple[Engine, dict[str, int]]) -> TestClient:
    engine = seeded[0]
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False), environment="test")
    return TestClient(create_app(settings, engine=engine), raise_server_exceptions=False)


def test_session_cost_and_place_drive_the_remaining_cost(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = seeded
    with make_sessionmaker(engine)() as s:
        dijon = run(s, age=45, situation="salarie", certification="deas", session=ids["dijon"])
        assert dijon.training.cost_eur == 6000.0 and dijon.region == "27"
        assert "6\u202f000\u00a0€" in combo(dijon, "cpf").remaining_text
        unknown = run(s, age=45, situation="salarie", certification="deas", session=ids["lyon"])
        assert unknown.training.cost_eur is None and "non précisé" in unknown.training.cost_text
        with pytest.raises(FundingError) as exc:
            run(s, age=45, situation="salarie", certification="deaes", session=ids["dijon"])
        assert exc.value.field == "session"
        # Without a session the cost is unknown, never invented.
        plain = run(s, age=45, situation="independant", certification="deas")
        assert combo(plain, "cpf").remaining_eur is None
        assert plain.training.cost_eur is None and "Coût non connu" in plain.training.cost_text


def test_session_page_links_to_the_simulator(web: TestClient, seeded: tuple[Engine, dict[str, int]]) -> None:
    sid = seeded[1]["dijon"]
    page = html.unescape(web.get(f"/formations/sessions/{sid}").text)
    assert "Financer cette formation" in page
    assert f"/financer?certification=deas&session={sid}" in page
    prefilled = web.get(
        "/financer", params={"certification": "deas", "session": sid, "age": 45, "situation": "salarie"}
    )
    assert prefilled.status_code == 200
    assert "6\u202f000\u00a0€ (coût annoncé pour cette session)" in html.unescape(prefilled.text)
    assert "démonstration" in prefilled.text  # a demonstration session says so


def test_comparison_rows_for_default_and_given_profile(web: TestClient, seeded: tuple[Engine, dict[str, int]]) -> None:
    ids = seeded[1]
    both = f"{ids['dijon']},{ids['lyon-aes']}"
    page = html.unescape(web.get("/formations/comparer", params={"ids": both}).text)
    assert "Reste à charge" in page and "Revenu pendant la formation" in page
    assert "pour un demandeur d'emploi de 30 ans non indemnisé" in page
    assert "184\u00a0€ (participation demandée par la Région)" in page  # Dijon: the BFC rule
    assert "723,36\u00a0€ par mois" in page  # a trainee's pay at 30
    given = html.unescape(
        web.get("/formations/comparer", params={"ids": both, "age": "22", "situation": "apprenti"}).text
    )
    assert "pour un demandeur d'emploi" not in given
    assert "Un contrat d'apprentissage" in given


def test_job_seeker_cpf_topped_up_by_an_abondement(seeded: tuple[Engine, dict[str, int]], web: TestClient) -> None:
    """CPF + abondement (Mon Compte Formation, Caisse des Dépôts 2021 and 2023): a job seeker whose balance
    (1 500 €) does not cover the session (4 500 €) asks the Région or France Travail for the 3 000 € beyond
    it; the funder sets the amount, so what remains is at most those 3 000 €, 0 € if granted in full."""
    engine, ids = seeded
    profile = {
        "age": 35,
        "situation": "demandeur-emploi",
        "certification": "deaes",
        "session": ids["lyon-aes"],
        "solde_cpf": 1500.0,
    }
    with make_sessionmaker(engine)() as s:
        result = run(s, **profile)
    topped = combo(result, "cpf-abondement")
    assert topped.title == "Votre CPF, complété par un abondement"
    cpf, abondement = topped.tuition
    assert (cpf.scheme, cpf.amount_eur) == ("cpf", 1500.0)
    assert "exonérés" in (cpf.amount_text or "")  # no flat participation for a job seeker
    assert (abondement.scheme, abondement.amount_eur) == ("abondement-cpf", 3000.0)
    assert "3\u202f000\u00a0€" in (abondement.amount_text or "")
    assert topped.remaining_eur is None  # the funder sets the amount: never invented
    assert topped.remaining_text.startswith("Au plus 3\u202f000\u00a0€") and "0 € s'il couvre" in topped.remaining_text
    urls = cited(result, abondement.notes)
    assert any("moncompteformation.gouv.fr" in u for u in urls)
    assert any("caissedesdepots.fr/mon-compte-formation-les-premiers-abondements-des-regions" in u for u in urls)
    assert [i.scheme for i in topped.income] == []  # not indemnified: ARE-F and RFF do not apply
    # CPF + AIF beside it: France Travail pays what the balance leaves; « CPF seul » is inside both.
    aif = combo(result, "cpf-aif")
    assert aif.remaining_eur == 0.0 and "3\u202f000\u00a0€" in aif.remaining_text
    assert "cpf" not in [c.id for c in result.combinations]
    # A balance that covers the price: nothing to ask, nothing left.
    with make_sessionmaker(engine)() as s:
        rich = run(s, **{**profile, "solde_cpf": 5000.0})
    enough = combo(rich, "cpf-abondement")
    assert enough.remaining_eur == 0.0 and enough.tuition[0].amount_eur == 4500.0
    assert enough.tuition[1].amount_eur == 0.0
    # Salaried people keep « CPF seul »: the abondement rule is for job seekers.
    with make_sessionmaker(engine)() as s:
        salaried = run(s, **{**profile, "situation": "salarie"})
    assert "cpf-abondement" not in [c.id for c in salaried.combinations]
    assert combo(salaried, "cpf").remaining_eur == round(3000.0 + BOOK.cpf_participation()[0], 2)
    # The API, the CLI's JSON and the page say the same.
    service = result.model_dump(mode="json")
    api = web.post("/api/v1/financement", json=profile)
    assert api.status_code == 200, api.text
    assert api.json() == service
    env = {"PASSERELLES_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    args = ["--age", "35", "--situation", "demandeur-emploi", "--certification", "deaes"]
    args += ["--session", str(ids["lyon-aes"]), "--solde-cpf", "1500", "--json"]
    out = CliRunner().invoke(cli_app, ["financement", *args], env=env)
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == service
    page = web.get("/financer", params=profile)
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert topped.title in text and topped.remaining_text in text
    assert abondement.name in text and cpf.name in text
    for note in (n for n in result.sources if n.number in abondement.notes):
        assert note.title in text
    assert 'name="solde_cpf" inputmode="decimal" size="7" value="1500.0"' in page.text


# CPF + Région top-up, the public case of the Hauts-de-France (C2RP 2020, Centre Inffo 2021, La Gazette des
# communes 2022): the Région tops up a job seeker's CPF up to 5 000 € when the account holds at least 250 €.
# (seeded session and its price, CPF balance, sum to ask, what the Région's rule says of it)
HDF_TOPUP = [
    ("lyon-aes", 1500.0, 3000.0, "La Région peut payer toute cette somme (elle abonde jusqu'à 5\u202f000\u00a0€)."),
    ("lyon-aes", 250.0, 4250.0, "La Région peut payer toute cette somme"),
    (
        "lyon-aes",
        100.0,
        4400.0,
        "La Région n'abonde qu'un compte d'au moins 250\u00a0€ : reste la demande à France Travail.",
    ),
    ("dijon", 250.0, 5750.0, "jusqu'à 5\u202f000\u00a0€ : au moins 750\u00a0€ seraient à trouver ailleurs"),
]


@pytest.mark.parametrize(("session_name", "balance", "asked", "says"), HDF_TOPUP)
def test_cpf_topped_up_by_the_hauts_de_france(
    seeded: tuple[Engine, dict[str, int]], session_name: str, balance: float, asked: float, says: str
) -> None:
    engine, ids = seeded
    certification = "deaes" if session_name == "lyon-aes" else "deas"
    profile = {
        "age": 35,
        "situation": "demandeur-emploi",
        "certification": certification,
        "session": ids[session_name],
        "solde_cpf": balance,
        "region": "32",
    }
    with make_sessionmaker(engine)() as s:
        result = run(s, **profile)
    topped = combo(result, "cpf-abondement")
    cpf, abondement = topped.tuition
    assert cpf.amount_eur == balance and abondement.amount_eur == asked
    assert says in (abondement.amount_text or "")
    assert "Hauts-de-France" in abondement.text and "5 000 €" in abondement.text and "France Travail" in abondement.text
    urls = cited(result, abondement.notes)
    assert any("c2rp.fr" in u for u in urls) and any("lagazettedescommunes.com" in u for u in urls)
    assert topped.remaining_eur is None  # the funders set the amounts: what remains is never invented
    # Elsewhere the Région's rule is not said.
    with make_sessionmaker(engine)() as s:
        elsewhere = run(s, **{**profile, "region": "84"})
    assert "Hauts-de-France" not in combo(elsewhere, "cpf-abondement").tuition[1].text


def test_route_planner_steps_link_to_the_simulator(client: TestClient) -> None:
    page = html.unescape(client.get("/parcours", params={"age": "17", "cible": "aide-soignant"}).text)
    assert "Financer cette étape" in page
    assert "/financer?certification=deas" in page
