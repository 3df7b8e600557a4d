"""Services on a migrated real database (both engines): what pages, API and CLI all rely on."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from passerelles.certifications.services import get_certification, list_certifications
from passerelles.occupations.services import get_occupation, list_occupations
from passerelles.rome.services import get_fiche
from passerelles.search.services import build_index

AES = "accompagnant-educatif-et-social"


def test_aes_profile_joins_facts_rome_and_certifications(session: Session) -> None:
    aes = get_occupation(session, AES)
    assert aes is not None
    assert any("aide médico-psychologique" in n.lower() for n in aes.former_names)
    assert "K1306" in aes.rome_codes
    assert aes.rome_main is not None and aes.rome_main.code_rome == "K1306"
    assert "Aide médico-psychologique" in aes.rome_main.appellations
    certs = {lc.certification.slug: lc for g in aes.certifications_by_level for lc in g.certifications}
    assert certs["deaes"].role == "principale"
    levels = [g.level_eu for g in aes.certifications_by_level]
    assert levels == sorted(levels, key=lambda x: (x is None, x or 0))
    assert {s.slug for s in aes.sources} >= {"seed-onisep-amp", "rome-460"}


def test_unknown_occupation_is_none(session: Session) -> None:
    assert get_occupation(session, "astronaute") is None
    assert get_fiche(session, "Z9999") is None


def test_every_listed_occupation_has_a_page(session: Session) -> None:
    listed = list_occupations(session)
    assert len(listed) >= 15
    for item in listed:
        assert get_occupation(session, item.slug) is not None


def test_deamp_is_replaced_by_deaes(session: Session) -> None:
    deamp = get_certification(session, "deamp")
    assert deamp is not None and deamp.status == "abolished"
    assert [r.certification.slug for r in deamp.replaced_by] == ["deaes"]
    assert deamp.replaced_by[0].date.year == 2016
    deaes = get_certification(session, "deaes")
    assert deaes is not None
    assert {"deamp", "deavs"} <= {r.certification.slug for r in deaes.replaces}
    assert AES in {o.slug for o in deaes.occupations}


def test_certifications_filter_by_level(session: Session) -> None:
    level3 = list_certifications(session, level=3)
    assert "deaes" in {c.slug for c in level3}
    assert all(c.level_eu == 3 for c in level3)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("AMP", AES),
        ("amp", AES),
        ("aide medico psychologique", AES),
        ("Aide médico-psychologique", AES),
        ("AES", AES),
        ("accompagnante educative et sociale", AES),
        ("aide-soignante", "aide-soignant"),
        ("infirmieres", "infirmier"),
        ("assistante medicale", "assistant-medical"),
        ("médiateur social", "mediateur-social"),
        ("educatrice specialisee", "educateur-specialise"),
        ("auxiliaire de puériculture", "auxiliaire-de-puericulture"),
        ("TISF", "technicien-intervention-sociale-familiale"),
        ("K1306", AES),
    ],
)
def test_search_puts_the_expected_occupation_first(session: Session, query: str, expected: str) -> None:
    results = build_index(session).search(query, limit=5)
    assert results, query
    assert (results[0].type, results[0].id) == ("occupation", expected), [r.id for r in results]


def test_search_finds_certifications_by_acronym(session: Session) -> None:
    results = build_index(session).search("DEAES", limit=3)
    assert (results[0].type, results[0].id) == ("certification", "deaes")
    results = build_index(session).search("DEAS", types={"certification"}, limit=3)
    assert results[0].id == "deas"


def test_search_covers_rome_fiches_beyond_the_sector(session: Session) -> None:
    results = build_index(session).search("boulanger", limit=3)
    assert results and results[0].id.startswith("rome:D")
    assert build_index(session).search("   ") == []
