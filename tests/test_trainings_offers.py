"""Training search (criteria, radius, widening), comparison, exports, job offers and the labour-market panel,
on a copy of the loaded database (both engines) with a small hand-written set of sessions and offers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from passerelles.app import create_app
from passerelles.certifications.models import Certification
from passerelles.db import make_sessionmaker
from passerelles.exports import csv_text
from passerelles.offers import services as offers
from passerelles.offers.models import JobOffer
from passerelles.offers.schemas import OfferQuery
from passerelles.settings import Settings
from passerelles.trainings import services as trainings
from passerelles.trainings import sessions as training_sessions
from passerelles.trainings.models import Provider, Training, TrainingSession
from passerelles.trainings.schemas import TrainingQuery
from passerelles.widening.services import related_certifications
from tests.support.databases import DatabaseFactory

TODAY = dt.date.today()
NOW = dt.datetime.now(dt.UTC)
# commune: (INSEE code, city, latitude, longitude)
GRENOBLE = ("38185", "Grenoble", 45.182122, 5.721331)
CHAMBERY = ("73065", "Chambéry", 45.583183, 5.909034)
LYON = ("69123", "Lyon", 45.758811, 4.835333)
PARIS = ("75056", "Paris", 48.86029, 2.344437)


def _seed(engine: Engine) -> dict[str, Any]:
    """Sessions and offers with known places, dates and criteria; returns their ids by name."""
    with make_sessionmaker(engine)() as s:
        cert = {c.slug: c.id for c in s.scalars(select(Certification))}
        prov = Provider(external_id="p1", name="Institut Test", row_hash="x", phone="04 00 00 00 00")
        s.add(prov)
        s.flush()
        training = Training(external_id="t1", title="Formation test", provider_id=prov.id, row_hash="x")
        s.add(training)
        s.flush()
        ids: dict[str, Any] = {}

        def session(name: str, slug: str, place: tuple[str, str, float, float], days: int, **kw: Any) -> None:
            code, city, lat, lon = place
            row = TrainingSession(
                external_id=name,
                training_id=training.id,
                provider_id=prov.id,
                certification_id=cert[slug],
                title=f"{slug.upper()} {city} {name}",
                start_date=TODAY + dt.timedelta(days=days),
                end_date=TODAY + dt.timedelta(days=days + 300),
                commune_code=code,
                city=city,
                latitude=lat,
                longitude=lon,
                row_hash="x",
                **{"routes": ["continue"], "modality": "presentiel", "duration_hours": 1500, **kw},
            )
            s.add(row)
            s.flush()
            ids[name] = row.id

        session(
            "gre1",
            "deas",
            GRENOBLE,
            30,
            routes=["apprentissage"],
            cost_eur=8000,
            places=10,
            recruitment_state="ouvert",
            registration_start=TODAY,
            registration_end=TODAY + dt.timedelta(days=20),
        )
        session("gre2", "deas", GRENOBLE, 90, cost_eur=12000, recruitment_state="ferme", duration_hours=900)
        session("cha1", "deas", CHAMBERY, 60, cpf_eligible=True, modality="mixte", funding=["2", "16"])
        session("lyo1", "deas", LYON, 45)
        session("par1", "deas", PARIS, 20)
        session("old", "deas", GRENOBLE, -10)  # already started: not « à venir »
        session("dei-lyon", "dei", LYON, 50)
        ids["provider"] = prov.id

        def offer(name: str, rome: str, place: tuple[str, str, float, float], days: int, **kw: Any) -> None:
            code, city, lat, lon = place
            row = JobOffer(
                source="test",
                external_id=name,
                title=f"Offre {name}",
                code_rome=rome,
                commune_code=code,
                city=city,
                latitude=lat,
                longitude=lon,
                published_at=NOW - dt.timedelta(days=days),
                row_hash="x",
                **{"contract_type": "CDI", "working_time": "temps_plein", **kw},
            )
            s.add(row)
            s.flush()
            ids[name] = row.id

        offer(
            "o-gre-cdi",
            "J1501",
            GRENOBLE,
            1,
            salary_min=2000,
            salary_max=2400,
            salary_period="mois",
            employer_name="EHPAD Les Tilleuls",
            structure_type="ehpad",
        )
        offer(
            "o-gre-cdd",
            "J1501",
            GRENOBLE,
            10,
            contract_type="CDD",
            working_time="temps_partiel",
            hours_per_week=28,
            salary_min=1600,
            salary_max=1600,
            salary_period="mois",
            employer_name="EHPAD Les Tilleuls",
            structure_type="ehpad",
        )
        offer(
            "o-cha-hour",
            "J1501",
            CHAMBERY,
            3,
            salary_min=13.0,
            salary_period="heure",
            employer_name="SSIAD de Chambéry",
            structure_type="ssiad",
        )
        offer(
            "o-lyo-app",
            "J1501",
            LYON,
            2,
            contract_type="APP",
            salary_min=900,
            salary_period="mois",
            employer_name="Hôpital de Lyon",
            structure_type="hopital",
        )
        offer("o-par", "J1501", PARIS, 5, employer_name="Clinique X", structure_type="clinique")
        offer("o-closed", "J1501", GRENOBLE, 20, closed_at=NOW - dt.timedelta(days=1))
        offer("o-nurse", "J1506", GRENOBLE, 1)
        s.commit()
    return ids


@pytest.fixture(scope="module")
def seeded(loaded_engine: Engine, databases: DatabaseFactory) -> Iterator[tuple[Engine, dict[str, Any]]]:
    loaded_engine.dispose()  # a PostgreSQL template must have no open connection
    engine = databases.clone(loaded_engine.dialect.name, loaded_engine)
    ids = _seed(engine)
    yield engine, ids
    databases.release(engine)


@pytest.fixture
def db(seeded: tuple[Engine, dict[str, Any]]) -> Iterator[Session]:
    with make_sessionmaker(seeded[0])() as s:
        yield s


@pytest.fixture
def ids(seeded: tuple[Engine, dict[str, Any]]) -> dict[str, Any]:
    return seeded[1]


@pytest.fixture(scope="module")
def web(seeded: tuple[Engine, dict[str, Any]]) -> TestClient:
    engine = seeded[0]
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False), environment="test")
    return TestClient(create_app(settings, engine=engine), raise_server_exceptions=False)


def _search(db: Session, **kw: Any) -> Any:
    return trainings.search_sessions(db, TrainingQuery(**kw))


# ---------------------------------------------------------------- training search


def test_radius_keeps_nearby_upcoming_sessions_and_sorts_by_distance(db: Session, ids: dict[str, Any]) -> None:
    r = _search(db, certification="deas", commune="Grenoble", rayon=60, tri="distance")
    assert [i.id for i in r.items] == [ids["gre1"], ids["gre2"], ids["cha1"]]  # Chambéry ≈ 48 km, Lyon ≈ 95 km
    assert r.total == 3 and not r.widened
    assert r.place_label == "à moins de 60 km de Grenoble (38)"
    assert r.items[2].distance_km is not None and 40 < r.items[2].distance_km < 55
    # The région count covers the same criteria in Auvergne-Rhône-Alpes (Lyon included, Paris not).
    assert r.region_label == "en Auvergne-Rhône-Alpes" and r.region_total == 4


def test_sorts_by_date_and_duration(db: Session, ids: dict[str, Any]) -> None:
    by_date = _search(db, certification="deas", region="84")
    assert [i.id for i in by_date.items] == [ids["gre1"], ids["lyo1"], ids["cha1"], ids["gre2"]]
    by_duration = _search(db, certification="deas", region="84", tri="duree")
    assert by_duration.items[0].id == ids["gre2"]


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"voie": "apprentissage"}, ["gre1"]),
        ({"modalite": "mixte"}, ["cha1"]),
        ({"cpf": True}, ["cha1"]),
        ({"financement": "16"}, ["cha1"]),
        ({"places": True}, ["gre1"]),
        ({"cout_max": 9000}, ["gre1"]),
        ({"duree_max": 1000}, ["gre2"]),
        (
            {"debut_min": TODAY + dt.timedelta(days=40), "debut_max": TODAY + dt.timedelta(days=70)},
            ["lyo1", "dei-lyon", "cha1"],
        ),
        ({"niveau": 6}, ["dei-lyon"]),
    ],
)
def test_secondary_criteria(db: Session, ids: dict[str, Any], criteria: dict[str, Any], expected: list[str]) -> None:
    r = _search(db, region="84", **criteria)
    assert [i.id for i in r.items] == [ids[n] for n in expected]
    assert not r.widened


def test_occupation_and_free_text_select_certifications(db: Session, ids: dict[str, Any]) -> None:
    assert {i.id for i in _search(db, metier="infirmier", region="84").items} == {ids["dei-lyon"]}
    assert ids["lyo1"] in {i.id for i in _search(db, q="lyo1").items}


def test_widening_adds_nearby_departements_and_says_so(db: Session, ids: dict[str, Any]) -> None:
    # No DEI session in Isère: the search widens by itself to the nearby départements, Rhône included.
    r = _search(db, certification="dei", departement="38")
    assert r.auto_widened and r.total == 1 and r.items[0].id == ids["dei-lyon"]
    assert r.widened[0].text.startswith("départements voisins ajoutés") and "Rhône (69)" in r.widened[0].text
    # One more step, asked for: the whole région, and the page says so.
    more = _search(db, certification="dei", departement="38", elargir=len(r.widened) + 1)
    assert more.widened[-1].text == "toute la région Auvergne-Rhône-Alpes" and more.total >= r.total


def test_widening_by_radius_then_france(db: Session, ids: dict[str, Any]) -> None:
    first = _search(db, certification="deas", commune="Grenoble", rayon=10, elargir=1)
    assert first.widened[0].text == "rayon porté à 50 km" and {i.id for i in first.items} == {
        ids["gre1"],
        ids["gre2"],
        ids["cha1"],
    }
    whole = _search(db, certification="deas", commune="Grenoble", rayon=10, elargir=10)
    assert "toute la France" in [w.text for w in whole.widened] and ids["par1"] in {i.id for i in whole.items}


def test_widening_lifts_secondary_criteria_and_never_returns_empty_when_wider_has_results(
    db: Session, ids: dict[str, Any]
) -> None:
    r = _search(db, certification="deas", commune="Grenoble", rayon=10, cpf=True, voie="vae")
    assert r.total > 0 and r.auto_widened
    assert any(w.text == "critères retirés : voie d'accès, CPF" for w in r.widened)
    assert [d.params for w in r.widened for d in w.dropped] == [["voie"], ["cpf"]]


def test_nothing_anywhere_gives_an_empty_list_not_an_error(db: Session) -> None:
    r = _search(db, certification="cafdes", commune="Grenoble")
    assert r.total == 0 and r.items == [] and r.next_widening is None


def test_related_certifications_widen_the_what(db: Session) -> None:
    # DEAMP has no session at all; the occupations it leads to have others (DEAES at least).
    r = _search(db, certification="deamp", region="84", elargir=10)
    assert any(w.text.startswith("certifications proches ajoutées") for w in r.widened)


def test_related_certifications_are_only_those_a_holder_could_enter(db: Session) -> None:
    """DEAES leads to occupations whose diplomas include the CAERLDV, which needs the DEES or the DEI:
    not added. The DEME (no diploma required) and the ASG (open to DEAES holders) are, with the rule's words."""
    cert = {c.slug: c.id for c in db.scalars(select(Certification))}
    related = related_certifications(db, frozenset({cert["deaes"]}))
    labels = {a.label: a.reason for a in related.added}
    assert "CAERLDV" not in labels and "CAFERUIS" not in labels and "DEME" in labels and "ASG" in labels
    assert labels["ASG"].startswith("AS ou AES en poste")
    assert cert["caerldv"] not in related.ids
    # A DEES holder may enter the CAERLDV training: there it is added.
    assert "CAERLDV" in {a.label for a in related_certifications(db, frozenset({cert["dees"]})).added}
    r = _search(db, certification="deaes", region="84", elargir=10)
    step = next(w for w in r.widened if w.kind == "certifications proches")
    assert "CAERLDV" not in step.text and {a.label for a in step.added} == set(labels)


def test_after_widening_around_a_commune_the_nearest_come_first(db: Session, ids: dict[str, Any]) -> None:
    # Nothing by VAE around Lyon: widened up to dropping the criterion; then Lyon, Chambéry, Grenoble.
    r = _search(db, certification="deas", commune="Lyon", rayon=5, voie="vae")
    assert r.auto_widened and r.sort == "distance"
    # (The DEI, open to DEAS holders with their level 4, is one of the certifications added on the way.)
    assert [i.id for i in r.items] == [ids["lyo1"], ids["dei-lyon"], ids["cha1"], ids["gre1"], ids["gre2"]]
    # Widened to all of France: Paris last, though it starts first (date order would put it first).
    whole = _search(db, certification="deas", commune="Lyon", rayon=5, elargir=10)
    assert whole.widened[-1].text == "toute la France"
    assert whole.items[0].id == ids["lyo1"] and whole.items[-1].id == ids["par1"]
    km = [i.distance_km for i in whole.items]
    assert None not in km and km == sorted(km)  # type: ignore[type-var]
    # Asked for explicitly, the date order stays.
    by_date = _search(db, certification="deas", commune="Lyon", rayon=5, elargir=10, tri="date")
    assert by_date.items[0].id == ids["par1"]


def test_dropped_criteria_show_as_dropped_with_a_link_to_put_them_back(web: TestClient) -> None:
    page = web.get("/formations", params={"certification": "deas", "commune": "Lyon", "rayon": 5, "voie": "vae"})
    assert page.status_code == 200
    html = page.text
    assert "Critère retiré : voie d&#39;accès (VAE)" in html or "Critère retiré : voie d'accès (VAE)" in html
    link = re.search(r'href="/formations\?([^"]*voie=vae[^"]*)#resultats">remettre ce critère', html)
    assert link and "elargir=" in link.group(1)
    # The form shows the criterion as not set: it searches what the list shows.
    assert 'value="vae" selected' not in html
    assert "Les résultats les plus proches sont en tête de liste." in html


def test_offer_search_widens_like_the_training_search(db: Session, web: TestClient, ids: dict[str, Any]) -> None:
    # No CDD within 5 km of Lyon: the radius grows until the Grenoble CDD (≈ 95 km), nearest first.
    r = offers.search_offers(db, OfferQuery(metier="aide-soignant", commune="Lyon", rayon=5, contrat=["CDD"]))
    assert r.auto_widened and r.widened[0].text.startswith("rayon porté à")
    assert [i.id for i in r.items] == [ids["o-gre-cdd"]] and r.sort == "distance"
    # No seasonal contract anywhere: widened to other occupations and to other contracts, said as such.
    r = offers.search_offers(db, OfferQuery(metier="aide-soignant", commune="Lyon", rayon=5, contrat=["SAI"]))
    kinds = [w.kind for w in r.widened]
    assert "métiers proches" in kinds and [d.label for w in r.widened for d in w.dropped] == ["type de contrat"]
    assert r.items[0].id == ids["o-lyo-app"] and r.sort == "distance"  # nearest first
    km = [i.distance_km for i in r.items]
    assert None not in km and km == sorted(km)  # type: ignore[type-var]
    html = web.get("/emploi", params={"metier": "aide-soignant", "commune": "Lyon", "rayon": 5, "contrat": "SAI"}).text
    assert "Critère retiré : type de contrat (Saisonnier)" in html and "Métiers proches ajoutés" in html
    assert 'value="SAI" checked' not in html and "remettre ce critère" in html
    assert "Élargir la recherche" in web.get("/emploi", params={"metier": "aide-soignant", "commune": "Lyon"}).text


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ({"commune": "Nullepart-sur-Rien"}, "commune"),
        ({"metier": "astronaute"}, "metier"),
        ({"certification": "zz"}, "certification"),
    ],
)
def test_unknown_criteria_name_their_field(db: Session, criteria: dict[str, Any], field: str) -> None:
    with pytest.raises(trainings.BadCriterion) as err:
        _search(db, **criteria)
    assert err.value.field == field


def test_commune_by_postcode_insee_code_and_name_without_accents(db: Session) -> None:
    for text in ("38000", "38185", "grenoble", "GRENOBLE (38)"):
        assert _search(db, certification="deas", commune=text).place_label.endswith("de Grenoble (38)")
    assert "Chambéry" in _search(db, certification="deas", commune="chambery").place_label


# ---------------------------------------------------------------- session, comparison, exports


def test_session_detail_and_comparison(db: Session, ids: dict[str, Any]) -> None:
    d = training_sessions.get_session_detail(db, ids["cha1"])
    assert d is not None and d.provider == "Institut Test" and d.region == "Auvergne-Rhône-Alpes"
    assert training_sessions.get_session_detail(db, 10**9) is None
    order = [ids["lyo1"], ids["gre1"], ids["cha1"]]
    c = training_sessions.compare_sessions(db, order, origin="Grenoble")
    assert [s.id for s in c.sessions] == order
    assert c.sessions[1].distance_km == 0.0 and 80 < (c.sessions[0].distance_km or 0) < 110
    for bad in ([ids["lyo1"]], [*order, ids["gre2"], ids["par1"]], [ids["lyo1"], 10**9]):
        with pytest.raises(trainings.BadCriterion):
            training_sessions.compare_sessions(db, bad)
    assert training_sessions.parse_ids(["3,1", "3", "2"]) == [3, 1, 2]
    with pytest.raises(trainings.BadCriterion):
        training_sessions.parse_ids(["1,x"])


def test_ical_has_the_session_and_registration_periods(db: Session, ids: dict[str, Any]) -> None:
    d = training_sessions.get_session_detail(db, ids["gre1"])
    assert d is not None
    cal = Calendar.from_ical(training_sessions.session_calendar(d, page_url="http://x/formations/sessions/1"))
    events = sorted(cal.walk("VEVENT"), key=lambda e: str(e["uid"]))
    assert [str(e["uid"]) for e in events] == [
        f"session-{d.id}-inscriptions@passerelles",
        f"session-{d.id}@passerelles",
    ]
    session_event = events[1]
    assert session_event.decoded("dtstart") == d.start_date
    assert session_event.decoded("dtend") == d.end_date + dt.timedelta(days=1)  # DTEND is exclusive
    assert "Grenoble" in str(session_event["location"]) or "Grenoble" in str(session_event["summary"])


def test_csv_is_semicolon_separated_with_bom_and_neutralises_formulas() -> None:
    text = csv_text(["a", "b"], [["=HYPERLINK(1)", -3.5], ["@x", None]])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows == [["a", "b"], ["'=HYPERLINK(1)", "-3,5"], ["'@x", ""]]


# ---------------------------------------------------------------- job offers and the panel


def test_offer_search_filters(db: Session, ids: dict[str, Any]) -> None:
    r = offers.search_offers(db, OfferQuery(metier="aide-soignant", region="84"))
    assert {o.id for o in r.items} == {ids[n] for n in ("o-gre-cdi", "o-gre-cdd", "o-cha-hour", "o-lyo-app")}
    assert r.place_label == "en Auvergne-Rhône-Alpes" and r.items[0].id == ids["o-gre-cdi"]  # newest first
    near = offers.search_offers(db, OfferQuery(metier="aide-soignant", commune="Grenoble", rayon=60, tri="distance"))
    assert [o.id for o in near.items][-1] == ids["o-cha-hour"] and near.region_total == 4
    only = offers.search_offers(db, OfferQuery(region="84", contrat=["CDD", "APP"], depuis=7))
    assert {o.id for o in only.items} == {ids["o-lyo-app"]}
    part = offers.search_offers(db, OfferQuery(region="84", temps="temps_partiel"))
    assert {o.id for o in part.items} == {ids["o-gre-cdd"]}
    with pytest.raises(offers.BadCriterion):
        offers.search_offers(db, OfferQuery(commune="Nullepart-sur-Rien"))


def test_panel_counts_contracts_pay_and_employers(db: Session, ids: dict[str, Any]) -> None:
    p = offers.market_panel(db, "aide-soignant", departement="38", now=NOW)
    assert p is not None
    assert p.open_offers == 2 and p.region_open_offers == 4
    assert {c.label: c.value for c in p.contracts} == {"CDI": 1, "CDD": 1}
    # Trend: the closed offer still counts as published 20 days ago; the weeks add up to every offer published.
    assert sum(w.value for w in p.trend) == 3 and len(p.trend) == offers.TREND_WEEKS
    assert [(s.label, s.value) for s in p.structures] == [("EHPAD", 1)]
    # Pay, full-time equivalent: 1 600 € for 28 h is 2 000 € for 35 h.
    assert p.pay is not None and p.pay.offers == 2 and p.pay.low == 2000 and p.pay.median == 2100
    assert not p.bmo_available
    france = offers.market_panel(db, "aide-soignant", now=NOW)
    assert france is not None and france.open_offers == 5 and france.region_open_offers is None
    # An hourly wage becomes a monthly one (151.67 h); alternance pay stays out of the range.
    region = offers.market_panel(db, "aide-soignant", region="84", now=NOW)
    assert region is not None and region.pay is not None and region.pay.offers == 3
    assert offers.monthly_full_time(13.0, "heure", None) == pytest.approx(1971.71)
    assert offers.market_panel(db, "astronaute", now=NOW) is None


# ---------------------------------------------------------------- pages and API


def test_pages_render_and_link_together(web: TestClient, ids: dict[str, Any]) -> None:
    page = web.get("/formations", params={"certification": "deas", "commune": "Grenoble", "rayon": "60"})
    assert page.status_code == 200
    assert "3\u00a0formations à venir à moins de 60 km de Grenoble (38)" in page.text
    assert "4\u00a0formations à venir en Auvergne-Rhône-Alpes" in page.text
    assert f'href="/formations/sessions/{ids["gre1"]}"' in page.text
    widened = web.get("/formations", params={"certification": "dei", "departement": "38"})
    assert "la recherche a été élargie" in widened.text and "Départements voisins ajoutés" in widened.text
    session = web.get(f"/formations/sessions/{ids['gre1']}")
    assert session.status_code == 200 and "Institut Test" in session.text and "agenda.ics" in session.text
    ics = web.get(f"/formations/sessions/{ids['gre1']}/agenda.ics")
    assert ics.headers["content-type"].startswith("text/calendar") and "BEGIN:VEVENT" in ics.text
    compare = web.get("/formations/comparer", params={"ids": f"{ids['gre1']},{ids['cha1']},{ids['lyo1']}"})
    assert (
        compare.status_code == 200 and compare.text.count('<th scope="row">') == 12
    )  # 10 criteria (with « Inscription ») + the funding rows (reste à charge, revenu)
    emploi = web.get("/emploi", params={"metier": "aide-soignant", "region": "84"})
    assert "4\u00a0offres aujourd'hui en Auvergne-Rhône-Alpes" in emploi.text
    offer = web.get(f"/emploi/offres/{ids['o-gre-cdi']}")
    assert offer.status_code == 200 and "EHPAD Les Tilleuls" in offer.text
    fiche = web.get("/metiers/aide-soignant", params={"departement": "38"})
    assert fiche.status_code == 200 and 'id="marche"' in fiche.text and 'role="img"' in fiche.text
    assert "2\u00a0offres aujourd'hui dans le département Isère (38)" in fiche.text


def test_csv_exports(web: TestClient, ids: dict[str, Any]) -> None:
    res = web.get("/formations/export.csv", params={"certification": "deas", "region": "84"})
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(res.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "numéro" and len(rows) == 5
    emploi = web.get("/emploi/export.csv", params={"metier": "aide-soignant", "region": "84"})
    assert len(list(csv.reader(io.StringIO(emploi.text.lstrip("\ufeff")), delimiter=";"))) == 5


@pytest.mark.parametrize(
    "url",
    [
        "/formations?commune=Nullepart-sur-Rien",
        "/formations?rayon=abc",
        "/formations?voie=teleportation",
        "/formations/comparer?ids=1",
        "/emploi?contrat=XYZ",
        "/emploi?commune=Nullepart-sur-Rien",
    ],
)
def test_bad_input_gets_a_422_page_naming_the_field(web: TestClient, url: str) -> None:
    res = web.get(url)
    assert res.status_code == 422
    assert 'role="alert"' in res.text


def test_api_uses_the_single_error_shape(web: TestClient, ids: dict[str, Any]) -> None:
    ok = web.get("/api/v1/formations", params={"certification": "deas", "region": "84"})
    assert ok.status_code == 200 and ok.json()["total"] == 4
    bad = web.get("/api/v1/formations", params={"commune": "Nullepart-sur-Rien"})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "commune"
    assert web.get("/api/v1/formations/sessions/999999999").json()["error"]["code"] == "not_found"
    assert web.get("/api/v1/emploi/offres/999999999").status_code == 404
    market = web.get("/api/v1/metiers/aide-soignant/marche-du-travail", params={"departement": "38"})
    assert market.status_code == 200 and market.json()["open_offers"] == 2


def test_a_page_past_the_end_shows_the_last_one(db: Session) -> None:
    r = trainings.search_sessions(db, TrainingQuery(certification="deas", region="84", page=5), page_size=3)
    assert r.page == 2 and r.pages == 2 and len(r.items) == 1
    o = offers.search_offers(db, OfferQuery(region="84", page=9), page_size=2)
    assert o.page == o.pages == 3 and len(o.items) == 1


def test_a_form_with_an_error_keeps_the_right_fields_and_names_the_wrong_one(web: TestClient) -> None:
    res = web.get("/formations", params={"commune": "Grenoble", "certification": "deas", "rayon": "loin"})
    assert res.status_code == 422
    assert "Rayon (km) : nombre entier attendu" in res.text
    assert 'name="commune" value="Grenoble (38)"' in res.text and '<option value="deas" selected>' in res.text
    emploi = web.get("/emploi", params=[("contrat", "CDI"), ("contrat", "XYZ"), ("region", "84")])
    assert emploi.status_code == 422 and "Contrat : valeur non reconnue" in emploi.text
    assert 'name="commune" value="Auvergne-Rhône-Alpes"' in emploi.text


def test_words_narrow_a_chosen_certification(db: Session, ids: dict[str, Any]) -> None:
    r = _search(db, certification="deas", q="Chambéry")
    assert [i.id for i in r.items] == [ids["cha1"]] and not r.widened


def test_title_words_match_whatever_the_case_of_accented_letters(db: Session, ids: dict[str, Any]) -> None:
    # « Chambéry » typed in capitals or lower case: on SQLite too, where lower() used to fold ASCII only.
    for typed in ("CHAMBÉRY", "chambéry", "Chambéry"):
        r = _search(db, certification="deas", q=typed)
        assert [i.id for i in r.items] == [ids["cha1"]], typed


def test_a_server_warms_every_main_page_before_it_serves(seeded: tuple[Engine, dict[str, Any]], tmp_path: Any) -> None:
    """As ``passerelles serve`` starts (warm-up on): each main page is requested once through the app before
    the first visitor's request, and each answers."""
    from passerelles import web

    engine = seeded[0]
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        environment="test",
        warm_up=True,
        search_index_dir=tmp_path / "index",
    )
    asked: list[list[tuple[str, int]]] = []
    real = web.warm_pages

    async def recording(app: Any) -> list[tuple[str, int]]:
        done = await real(app)
        asked.append(done)
        return done

    import passerelles.app as app_module

    original = app_module.warm_pages
    app_module.warm_pages = recording
    try:
        with TestClient(create_app(settings, engine=engine)) as client:
            assert asked, "warmed before serving"
            assert client.get("/formations").status_code == 200
    finally:
        app_module.warm_pages = original
    (done,) = asked
    assert len(done) == len(web.WARM_PAGES)  # the seeded store has sessions, offers and occupations
    assert {status for _path, status in done} == {200}, done
    assert any(path.startswith("/formations/sessions/") for path, _s in done)
