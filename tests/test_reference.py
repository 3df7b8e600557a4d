"""The project's own reference data: valid, sourced, cross-referenced, and errors that name their place."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from passerelles.reference.reader import InvalidReferenceData, read_directory
from tests.support.databases import GEO_DIR, REFERENCE_DIR, SHARED_DATA

SEED_OCCUPATIONS = [
    "accompagnant-educatif-et-social",
    "assistant-medical",
    "mediateur-social",
    "aide-soignant",
    "infirmier",
    "auxiliaire-de-puericulture",
    "educateur-specialise",
    "moniteur-educateur",
    "educateur-de-jeunes-enfants",
    "educateur-technique-specialise",
    "mediateur-familial",
    "secretaire-medical",
    "agent-de-service-hospitalier",
    "assistant-de-service-social",
    "technicien-intervention-sociale-familiale",
]
SEED_CERTIFICATIONS = [
    "deaes",
    "deamp",
    "deavs",
    "deas",
    "deap",
    "dei",
    "cqp-assistant-medical",
    "bac-pro-assp",
    "bac-pro-assp-option-a",
    "bac-pro-assp-option-b",
    "deme",
    "dees",
    "deets",
    "deeje",
    "demf",
    "bts-sp3s",
    "deust-mediation",
    "caferuis",
    "but-carrieres-sociales",
    "licence-pro-intervention-sociale",
    "deass",
    "detisf",
    "dut-carrieres-sociales",
    "caerldv",
    "tp-msads",
]


@pytest.fixture(scope="module")
def ref():  # type: ignore[no-untyped-def]
    return read_directory(REFERENCE_DIR)


def test_every_seed_occupation_and_certification_is_described(ref) -> None:  # type: ignore[no-untyped-def]
    assert set(SEED_OCCUPATIONS) <= set(ref.occupations)
    assert set(SEED_CERTIFICATIONS) <= set(ref.certifications)
    assert len(ref.certifications) >= 25


def test_aes_keeps_its_former_name_and_seed_facts(ref) -> None:  # type: ignore[no-untyped-def]
    aes = ref.occupations["accompagnant-educatif-et-social"]
    former = {n.acronym: n for n in aes.names if n.kind == "former"}
    assert former["AMP"].name.lower() == "aide médico-psychologique"
    assert former["AMP"].until == 2016
    assert any(r.code == "K1306" for r in aes.rome)
    assert aes.conditions is not None and aes.conditions.nights and aes.conditions.weekends
    assert any(p.min_eur == 1800 and p.basis == "brut" for p in aes.pay)
    assert {"deaes"} <= {c.certification for c in aes.certifications if c.role == "principale"}


def test_mediator_pay_progression_from_the_seed(ref) -> None:  # type: ignore[no-untyped-def]
    pay = ref.occupations["mediateur-social"].pay
    # The seed's undated 1 500 € floor is below the 2023 SMIC: the floor is the SMIC (issue 15).
    assert any(p.min_eur == 1747 and p.max_eur == 1800 for p in pay)
    assert any(p.min_eur == 2500 and p.max_eur == 3000 for p in pay)


def test_deaes_replaces_deamp_and_deavs_in_2016(ref) -> None:  # type: ignore[no-untyped-def]
    deaes = ref.certifications["deaes"]
    replaced = {r.certification: r.date.year for r in deaes.replaces}
    assert replaced == {"deamp": 2016, "deavs": 2016} or {"deamp", "deavs"} <= set(replaced)
    assert ref.certifications["deamp"].status == "abolished"
    assert deaes.level is not None and deaes.level.eu == 3


def test_every_fact_cites_a_known_source(ref) -> None:  # type: ignore[no-untyped-def]
    # read_directory already refuses unknown ids; here: every occupation and certification cites some.
    for occ in ref.occupations.values():
        assert occ.summary.sources
    assert all(s.url for s in ref.sources.values() if s.kind == "open_data")


def test_places_match_the_insee_cog(ref) -> None:  # type: ignore[no-untyped-def]
    if not GEO_DIR.is_dir():
        pytest.skip("COG absent")
    cog_regions = {r["code"]: r["nom"] for r in json.loads((GEO_DIR / "regions.json").read_text("utf-8"))}
    deps = json.loads((GEO_DIR / "departements.json").read_text("utf-8"))
    cog_deps = {d["code"]: (d["nom"], d["region"]) for d in deps}
    assert {c: r.name for c, r in ref.regions.items()} == {c: n for c, n in cog_regions.items() if c in ref.regions}
    assert len(ref.regions) == 18 and len(ref.departements) == 101
    for code, dep in ref.departements.items():
        assert cog_deps[code] == (dep.name, dep.region), code


def _copy_reference(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(REFERENCE_DIR, target)
    return target


def test_errors_name_file_record_and_field(tmp_path: Path) -> None:
    target = _copy_reference(tmp_path)
    path = target / "certifications.yaml"
    content = yaml.safe_load(path.read_text("utf-8"))
    deas = next(c for c in content["certifications"] if c["slug"] == "deas")
    deas["level"]["eu"] = 12
    deas["occupations"] = [*deas.get("occupations", []), "astronaute"]
    path.write_text(yaml.safe_dump(content, allow_unicode=True), "utf-8")
    with pytest.raises(InvalidReferenceData) as err:
        read_directory(target)
    messages = [str(e) for e in err.value.errors]
    assert any(m.startswith("certifications.yaml: certifications[deas]: level.eu:") for m in messages), messages


def test_unknown_references_are_refused(tmp_path: Path) -> None:
    target = _copy_reference(tmp_path)
    (target / "zz-test.yaml").write_text(
        "certifications:\n"
        "  - slug: test-cert\n    name: Test\n    kind: autre\n    occupations: [astronaute]\n"
        "    summary: {text: Essai, sources: [inconnue]}\n",
        "utf-8",
    )
    with pytest.raises(InvalidReferenceData) as err:
        read_directory(target)
    messages = {str(e) for e in err.value.errors}
    assert "zz-test.yaml: certifications[test-cert]: occupations.0: métier inconnu : 'astronaute'" in messages
    assert "zz-test.yaml: certifications[test-cert]: summary.sources: source inconnue : 'inconnue'" in messages


def test_reference_data_is_not_a_copy_of_shared_data() -> None:
    shared = {p.read_bytes() for p in SHARED_DATA.rglob("*") if p.is_file() and p.stat().st_size > 2048}
    for path in REFERENCE_DIR.glob("*.yaml"):
        assert path.read_bytes() not in shared
