"""Demonstration data generator (``passerelles.demo.generator``): an LHÉO 2.3 catalogue valid against the
XSD and France Travail-shaped offers, both reproducible from their seed, spread over the régions and
labelled as demonstration data."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from passerelles.demo.generator import (
    DEMO_LABEL,
    LHEO_NAMESPACE,
    main,
    write_lheo_catalogue,
    write_offers,
)
from passerelles.demo.tools import luhn_valid
from passerelles.demo.world import sector_rome_codes
from passerelles.offers.importer.normalise import structure_type_from_name
from tests.support.databases import REFERENCE_DIR, SHARED_DATA

etree = pytest.importorskip("lxml.etree")

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA / "geo_fr").is_dir() or not (SHARED_DATA / "lheo" / "lheo-2.3.xsd").is_file(),
    reason="données ouvertes partagées absentes (geo_fr, rome_v460, lheo)",
)

TODAY = date(2026, 11, 23)
SESSIONS = 200
OFFERS = 300
NS = {"l": LHEO_NAMESPACE}
DIRS: dict[str, Any] = {"data_dir": SHARED_DATA, "reference_dir": REFERENCE_DIR}
OFFER_KEYS = {
    "id",
    "intitule",
    "description",
    "dateCreation",
    "dateActualisation",
    "lieuTravail",
    "romeCode",
    "romeLibelle",
    "appellationlibelle",
    "entreprise",
    "typeContrat",
    "typeContratLibelle",
    "natureContrat",
    "experienceExige",
    "experienceLibelle",
    "salaire",
    "dureeTravailLibelle",
    "dureeTravailLibelleConverti",
    "alternance",
    "contact",
    "nombrePostes",
    "accessibleTH",
    "qualificationCode",
    "qualificationLibelle",
    "codeNAF",
    "secteurActivite",
    "secteurActiviteLibelle",
    "origineOffre",
    "offresManqueCandidats",
}
SALARY = re.compile(r"^(Mensuel|Horaire|Annuel) de [0-9]+\.[0-9]{2} Euros( à [0-9]+\.[0-9]{2} Euros)? sur 1[23] mois$")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int], Any]:
    path = tmp_path_factory.mktemp("lheo") / "catalogue.xml"
    counts = write_lheo_catalogue(path, sessions=SESSIONS, seed=1, today=TODAY, **DIRS)
    return path, counts, etree.parse(str(path))


@pytest.fixture(scope="module")
def offers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int], list[dict[str, Any]]]:
    path = tmp_path_factory.mktemp("offers") / "offres.jsonl"
    counts = write_offers(path, offers=OFFERS, seed=1, today=TODAY, **DIRS)
    with path.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    return path, counts, rows


@pytest.fixture(scope="module")
def communes() -> dict[str, dict[str, Any]]:
    records = json.loads((SHARED_DATA / "geo_fr" / "communes.json").read_text(encoding="utf-8"))
    kept = ("commune-actuelle", "arrondissement-municipal")  # delegated communes reuse their commune's code
    return {r["code"]: r for r in records if r.get("type") in kept}


def _region(communes: dict[str, dict[str, Any]], code: str) -> str:
    return str(communes[code]["region"])


# ---------------------------------------------------------------- LHÉO catalogue


def test_catalogue_validates_against_the_lheo_23_schema(catalogue: tuple[Path, dict[str, int], Any]) -> None:
    schema = etree.XMLSchema(etree.parse(str(SHARED_DATA / "lheo" / "lheo-2.3.xsd")))
    doc = catalogue[2]
    assert doc.getroot().tag == f"{{{LHEO_NAMESPACE}}}lheo"
    assert schema.validate(doc), [f"{e.line}: {e.message}" for e in list(schema.error_log)[:5]]


def test_catalogue_counts_match_the_request(catalogue: tuple[Path, dict[str, int], Any]) -> None:
    _, counts, doc = catalogue
    assert counts["sessions"] == SESSIONS == len(doc.xpath("//l:session", namespaces=NS))
    assert counts["actions"] == len(doc.xpath("//l:action", namespaces=NS))
    assert counts["formations"] == len(doc.xpath("//l:formation", namespaces=NS))
    numeros = doc.xpath("//l:organisme-formation-responsable/@numero", namespaces=NS)
    assert counts["organismes"] == len(set(numeros))
    assert counts["formations"] <= counts["actions"] <= counts["sessions"]
    for kind in ("formation", "action", "session"):
        ids = doc.xpath(f"//l:{kind}/@numero", namespaces=NS)
        assert len(ids) == len(set(ids)), f"numéros de {kind} en double"


def test_same_seed_same_bytes_other_seed_other_catalogue(
    catalogue: tuple[Path, dict[str, int], Any], tmp_path: Path
) -> None:
    again, other = tmp_path / "again.xml", tmp_path / "other.xml"
    write_lheo_catalogue(again, sessions=SESSIONS, seed=1, today=TODAY, **DIRS)
    write_lheo_catalogue(other, sessions=SESSIONS, seed=2, today=TODAY, **DIRS)
    assert again.read_bytes() == catalogue[0].read_bytes()
    assert other.read_bytes() != catalogue[0].read_bytes()
    assert not list(tmp_path.glob(".*.tmp")), "fichier temporaire laissé en place"


def test_sessions_are_in_real_communes_of_several_regions(
    catalogue: tuple[Path, dict[str, int], Any], communes: dict[str, dict[str, Any]]
) -> None:
    doc = catalogue[2]
    places = doc.xpath("//l:lieu-de-formation/l:coordonnees/l:adresse", namespaces=NS)
    assert places
    regions = set()
    for adresse in places:
        code = adresse.findtext("l:code-INSEE-commune", namespaces=NS)
        postcode = adresse.findtext("l:codepostal", namespaces=NS)
        assert code in communes, code
        assert postcode in communes[code]["codesPostaux"], (code, postcode)
        assert adresse.findtext("l:region", namespaces=NS) == _region(communes, code)
        lat = float(adresse.findtext("l:geolocalisation/l:latitude", namespaces=NS))
        assert -90 < lat < 90
        regions.add(_region(communes, code))
    assert len(regions) >= 4, regions


def test_sessions_start_within_the_next_eighteen_months(catalogue: tuple[Path, dict[str, int], Any]) -> None:
    doc = catalogue[2]
    horizon = (TODAY + timedelta(days=550)).strftime("%Y%m%d")
    states = Counter()
    for session in doc.xpath("//l:session", namespaces=NS):
        start = session.findtext("l:periode/l:debut", namespaces=NS)
        end = session.findtext("l:periode/l:fin", namespaces=NS)
        closes = session.findtext("l:periode-inscription/l:periode/l:fin", namespaces=NS)
        assert TODAY.strftime("%Y%m%d") < start <= horizon
        assert start < end
        assert closes < start
        states[session.findtext("l:etat-recrutement", namespaces=NS)] += 1
    assert states["1"] > 0 and set(states) <= {"1", "2", "3"}


def test_formations_carry_the_certifications_facts(catalogue: tuple[Path, dict[str, int], Any]) -> None:
    raw = yaml.safe_load((REFERENCE_DIR / "certifications.yaml").read_text(encoding="utf-8"))
    facts = {c["slug"]: c for c in raw["certifications"]}
    doc = catalogue[2]
    seen = set()
    for formation in doc.xpath("//l:formation", namespaces=NS):
        slug = formation.findtext("l:extras/l:extra[@info='certification']", namespaces=NS)
        fact = facts[slug]
        seen.add(slug)
        assert fact.get("status") != "abolished"
        assert fact["name"] in formation.findtext("l:intitule-formation", namespaces=NS)
        rncp = formation.findtext("l:certification/l:code-RNCP", namespaces=NS)
        codes = {re.sub(r"\D", "", r["code"]) for r in fact.get("rncp") or []}
        assert (rncp in codes) if codes else rncp is None, (slug, rncp)
        hours = (fact.get("duration") or {}).get("hours")
        if hours and slug != "cqp-assistant-medical":
            totals = {int(t) for t in formation.xpath("l:action/l:nombre-heures-total/text()", namespaces=NS)}
            assert totals <= {hours}, (slug, totals)
        assert formation.xpath("l:domaine-formation/l:code-ROME", namespaces=NS)
    assert {"deas", "deaes"} <= seen


def test_actions_have_routes_modalities_costs_and_funders(catalogue: tuple[Path, dict[str, int], Any]) -> None:
    doc = catalogue[2]
    routes = Counter(doc.xpath("//l:action/l:extras/l:extra[@info='voie']/text()", namespaces=NS))
    assert set(routes) <= {"initiale", "continue", "apprentissage"} and len(routes) >= 2
    modalities = set(doc.xpath("//l:action/l:modalites-enseignement/text()", namespaces=NS))
    assert modalities <= {"0", "1", "2"} and "0" in modalities
    assert doc.xpath("//l:action/l:organisme-financeur/l:code-financeur", namespaces=NS)
    prices = [float(p) for p in doc.xpath("//l:action/l:prix-total-TTC/text()", namespaces=NS)]
    assert prices and all(0 < p < 100_000 for p in prices)
    for action in doc.xpath("//l:action[l:extras/l:extra[@info='voie']='apprentissage']", namespaces=NS):
        assert "82027" in action.xpath("l:code-public-vise/text()", namespaces=NS)


def test_everything_is_labelled_demonstration_and_sirets_are_valid(
    catalogue: tuple[Path, dict[str, int], Any],
) -> None:
    doc = catalogue[2]
    for path in ("//l:intitule-formation", "//l:objectif-formation", "//l:nom-organisme", "//l:raison-sociale"):
        texts = doc.xpath(f"{path}/text()", namespaces=NS)
        assert texts and all(DEMO_LABEL in t for t in texts), path
    for siret in doc.xpath("//l:SIRET/text()", namespaces=NS):
        assert len(siret) == 14 and luhn_valid(siret) and luhn_valid(siret[:9]), siret
    for mail in doc.xpath("//l:courriel/text()", namespaces=NS):
        assert mail.endswith(".demo.invalid"), mail


def test_catalogue_refuses_an_empty_request(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_lheo_catalogue(tmp_path / "vide.xml", sessions=0, today=TODAY, **DIRS)
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------- France Travail offers


def test_offers_file_has_one_france_travail_offer_per_line(
    offers: tuple[Path, dict[str, int], list[dict[str, Any]]],
) -> None:
    path, counts, rows = offers
    assert counts["offers"] == OFFERS == len(rows) == len(path.read_text(encoding="utf-8").splitlines())
    assert [r["id"] for r in rows] == [f"DEMO{i:06d}" for i in range(1, OFFERS + 1)]
    sector = sector_rome_codes(**DIRS)
    occupations = yaml.safe_load((REFERENCE_DIR / "occupations.yaml").read_text(encoding="utf-8"))["occupations"]
    assert sector <= {r["code"] for o in occupations for r in o.get("rome") or []}
    for row in rows:
        assert set(row) >= OFFER_KEYS, OFFER_KEYS - set(row)
        assert row["romeCode"] in sector
        assert set(row["lieuTravail"]) == {"libelle", "latitude", "longitude", "codePostal", "commune"}
        assert row["typeContrat"] in {"CDI", "CDD", "MIS", "LIB"}
        assert row["dureeTravailLibelleConverti"] in {"Temps plein", "Temps partiel"}
        assert re.match(r"^[0-9]{2}H([0-9]{2})? ", row["dureeTravailLibelle"])
        assert row["alternance"] == (row["natureContrat"] in {"Contrat apprentissage", "Cont. professionnalisation"})
        libelle = row["salaire"].get("libelle")
        assert libelle is None or SALARY.match(libelle), libelle
        assert row["secteurActivite"] == row["codeNAF"][:2] and row["secteurActivite"] in {"84", "86", "87", "88"}


def test_offers_are_labelled_dated_and_placed(
    offers: tuple[Path, dict[str, int], list[dict[str, Any]]], communes: dict[str, dict[str, Any]]
) -> None:
    rows = offers[2]
    oldest = (TODAY - timedelta(days=60)).isoformat()
    regions = set()
    for row in rows:
        assert DEMO_LABEL in row["entreprise"]["nom"] and DEMO_LABEL in row["description"]
        assert oldest <= row["dateCreation"][:10] <= TODAY.isoformat()
        assert row["dateCreation"] <= row["dateActualisation"] <= f"{TODAY.isoformat()}T23:59:59.999Z"
        lieu = row["lieuTravail"]
        assert lieu["codePostal"] in communes[lieu["commune"]]["codesPostaux"]
        assert lieu["libelle"].startswith(communes[lieu["commune"]]["departement"] + " - ")
        regions.add(_region(communes, lieu["commune"]))
    assert len(regions) >= 8, regions


def test_offers_have_realistic_variety(offers: tuple[Path, dict[str, int], list[dict[str, Any]]]) -> None:
    rows = offers[2]
    contracts = Counter(r["typeContrat"] for r in rows)
    assert contracts["CDI"] > contracts["MIS"] > 0 and contracts["CDD"] > 0
    assert any(r["alternance"] for r in rows)
    assert any(r["dureeTravailLibelleConverti"] == "Temps partiel" for r in rows)
    assert any("nuit" in r["description"] for r in rows) and any("week-end" in r["description"] for r in rows)
    assert len({r["romeCode"] for r in rows}) >= 8
    # Titles keep the whole masculine form of « Agent / Agente de service hospitalier (ASH) ».
    assert not any(re.match(r"^(Agent|Assistant|Infirmier|Educateur) \(H/F\)$", r["intitule"]) for r in rows)
    assert len({r["entreprise"]["nom"] for r in rows}) >= 20


def test_offers_are_reproducible_and_the_array_format_holds_the_same_offers(
    offers: tuple[Path, dict[str, int], list[dict[str, Any]]], tmp_path: Path
) -> None:
    again, other, array = tmp_path / "again.jsonl", tmp_path / "other.jsonl", tmp_path / "offres.json"
    write_offers(again, offers=OFFERS, seed=1, today=TODAY, **DIRS)
    write_offers(other, offers=OFFERS, seed=2, today=TODAY, **DIRS)
    write_offers(array, offers=OFFERS, seed=1, today=TODAY, fmt="array", **DIRS)
    assert again.read_bytes() == offers[0].read_bytes()
    assert other.read_bytes() != offers[0].read_bytes()
    assert json.loads(array.read_text(encoding="utf-8")) == offers[2]


def test_command_line_writes_the_requested_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--seed", "3", "--today", TODAY.isoformat(), "--data-dir", str(SHARED_DATA)]
    common += ["--reference-dir", str(REFERENCE_DIR)]
    assert main(["offers", str(tmp_path / "o.jsonl"), "--offers", "5", *common]) == 0
    assert json.loads(capsys.readouterr().out)["offers"] == 5
    assert len((tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()) == 5
    assert main(["lheo", str(tmp_path / "c.xml"), "--sessions", "7", *common]) == 0
    assert json.loads(capsys.readouterr().out)["sessions"] == 7
    assert main(["lheo", str(tmp_path / "d.xml"), "--sessions", "0", *common]) == 1
    assert "erreur" in capsys.readouterr().err


def test_most_continuing_education_actions_toward_an_rncp_certification_are_cpf_eligible(
    tmp_path: Path,
) -> None:
    # A catalogue large enough for a share (8 in 10 are drawn eligible): some hundred actions, not a dozen.
    path = tmp_path / "catalogue.xml"
    write_lheo_catalogue(path, sessions=1500, seed=1, today=TODAY, **DIRS)
    doc = etree.parse(str(path))
    eligible = "l:extras[@info='eligibilite-cpf']"
    continuing = doc.xpath(
        "//l:formation[l:certification/l:code-RNCP]/l:action[l:extras/l:extra[@info='voie']='continue']",
        namespaces=NS,
    )
    flagged = [a for a in continuing if a.xpath(eligible, namespaces=NS)]
    assert continuing and 0.6 <= len(flagged) / len(continuing) <= 0.95
    others = doc.xpath(f"//l:action[l:extras/l:extra[@info='voie']!='continue'][{eligible}]", namespaces=NS)
    assert others == []  # apprenticeship and initial training are not paid through the CPF


def test_most_demo_employers_name_a_known_structure_type(
    offers: tuple[Path, dict[str, int], list[dict[str, Any]]],
) -> None:
    types = Counter(structure_type_from_name(r["entreprise"]["nom"]) for r in offers[2])
    known = sum(n for t, n in types.items() if t is not None)
    assert known / sum(types.values()) >= 0.8, types
    assert {"ehpad", "hopital", "saad"} <= set(types)
