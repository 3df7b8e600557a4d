"""Each occupation of the reference data is found by search under its usual names (issue 15): every name of
kind current, synonym or former, its feminine form and its acronym, searched through the project's search
service on the loaded database, returns that occupation among the first three occupation results.

One index per database engine, shared by the module; one test per occupation (not per name)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from passerelles.reference.reader import read_directory
from passerelles.search.engine import SearchEngine
from passerelles.search.services import build_index
from tests.support.databases import REFERENCE_DIR

REFERENCE = read_directory(REFERENCE_DIR)
TOP = 3

# Names that rightly belong to more than one occupation: the search may put any of them first.
SHARED_NAMES: dict[str, set[str]] = {
    # « Auxiliaire de vie sociale » (now AES) and « auxiliaire de vie scolaire » (now AESH) share the acronym.
    "AVS": {"accompagnant-educatif-et-social", "accompagnant-eleves-situation-handicap"},
}


def usual_names(slug: str) -> list[str]:
    names: list[str] = []
    for n in REFERENCE.occupations[slug].names:
        names += [x for x in (n.name, n.feminine, n.acronym) if x and x not in names]
    return names


@pytest.fixture(scope="module")
def index(loaded_engine: Engine) -> SearchEngine:
    with Session(loaded_engine) as session:
        return build_index(session)


def test_every_occupation_has_usual_names() -> None:
    assert REFERENCE.occupations
    assert all(usual_names(slug) for slug in REFERENCE.occupations)


@pytest.mark.parametrize("slug", sorted(REFERENCE.occupations))
def test_occupation_is_found_under_its_usual_names(index: SearchEngine, slug: str) -> None:
    missed = []
    for name in usual_names(slug):
        found = [r.id for r in index.search(name, types={"occupation"}, limit=TOP)]
        accepted = SHARED_NAMES.get(name, set()) | {slug}
        if not accepted & set(found):
            missed.append(f"« {name} » → {found}")
    assert not missed, "\n".join(missed)
