"""The LHÉO reader's speed tricks kept safe (``trainings/lheo/rows.py``, ``memo.py``): a record is read-only
once checked, so that the values converted for the driver ahead (in a reader process) and the values
shared by object identity between records can never go stale; the reader's caches are bounded and held by
one object."""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.dialects import sqlite

from passerelles.importing.sync import bind_ahead
from passerelles.places.resolver import CommuneIndex
from passerelles.trainings.lheo.reader import ParsedFormation
from passerelles.trainings.lheo.references import References
from passerelles.trainings.lheo.stream import read_catalogue

from .test_lheo import catalogue, formation_xml, session_xml, write

BASE = {"source": "lheo", "is_demo": False}
DIALECT = sqlite.dialect()  # pysqlite: the driver path that converts values ahead


def references() -> References:
    return References(places=CommuneIndex([("35238", "Rennes", ["35000"], 222_485, 48.1119, -1.6819)]))


def read(path: Path, refs: References | None = None) -> list[ParsedFormation]:
    """The formations of ``path`` as one reader process yields them (no XSD, no database)."""
    items = read_catalogue(path, refs or references(), path.name, None, 0, 1, BASE, DIALECT)
    found = []
    while True:
        try:
            item = next(items)
        except StopIteration:
            return found
        if isinstance(item, tuple) and item[1] is not None:
            found.append(item[1])


def sessions_of(formation: ParsedFormation) -> list[tuple[dict[str, Any], Any]]:
    """(session, its values converted ahead) of each session read (before the importer's deduplication)."""
    return [(o.session, o.bound) for o in formation.outcomes if o.session is not None]


def two_sessions(tmp_path: Path) -> ParsedFormation:
    sessions = session_xml("F1-S1") + session_xml("F1-S2", start="20260105", end="20260630")
    (formation,) = read(write(tmp_path / "offre.xml", catalogue(formation_xml("F1", sessions=sessions))))
    return formation


CHANGES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "set": lambda r: r.__setitem__("title", "Autre titre"),
    "add": lambda r: r.__setitem__("new", 1),
    "delete": lambda r: r.__delitem__("title"),
    "update": lambda r: r.update(title="Autre titre"),
    "merge": lambda r: r.__ior__({"title": "Autre titre"}),
    "setdefault": lambda r: r.setdefault("new", 1),
    "pop": lambda r: r.pop("title"),
    "popitem": lambda r: r.popitem(),
    "clear": lambda r: r.clear(),
}


def records(formation: ParsedFormation) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "provider", formation.provider
    yield "training", formation.training
    for i, (session, _) in enumerate(sessions_of(formation)):
        yield f"session {i}", session
        yield f"contact of session {i}", session["contact"]


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_record_cannot_be_changed_once_checked_and_bound(change: str, tmp_path: Path) -> None:
    formation = two_sessions(tmp_path)
    (first, first_bound), (second, second_bound) = sessions_of(formation)
    assert formation.training_bound is not None and first_bound is not None and second_bound is not None
    # The two sessions share their action's values and their contact (the same objects, converted once).
    assert first["contact"] is second["contact"] and first["routes"] is second["routes"]
    for name, record in records(formation):
        before = dict(record)
        with pytest.raises(TypeError, match="read-only"):
            CHANGES[change](record)
        assert record == before, name
    # The same once pickled, as the records cross from a reader process to the loading one.
    for name, record in records(pickle.loads(pickle.dumps(formation))):
        before = dict(record)
        with pytest.raises(TypeError, match="read-only"):
            CHANGES[change](record)
        assert record == before, name


def test_values_shared_between_sessions_are_converted_as_each_session_alone(tmp_path: Path) -> None:
    formation = two_sessions(tmp_path)
    from passerelles.trainings.lheo.rows import SESSION, TRAINING

    assert formation.training_bound == bind_ahead(TRAINING, DIALECT, {**BASE, **formation.training})
    found = sessions_of(formation)
    assert len(found) == 2
    for session, bound in found:
        assert bound == bind_ahead(SESSION, DIALECT, {**BASE, **session})
    # A copy is a new record: free to change, never bound.
    copy = {**formation.training}
    copy["title"] = "Autre titre"
    assert formation.training["title"] != "Autre titre"


def test_only_a_checked_record_is_converted_ahead(tmp_path: Path) -> None:
    from passerelles.trainings.lheo.rows import SESSION, FrozenRecord, RowBinder

    ((session, bound), _) = sessions_of(two_sessions(tmp_path))
    binder = RowBinder(BASE, DIALECT)
    with pytest.raises(TypeError, match="FrozenRecord"):
        binder.bind(SESSION, dict(session))  # type: ignore[arg-type]
    assert binder.bind(SESSION, FrozenRecord(session)) == bound
    assert RowBinder(BASE, None).bind(SESSION, FrozenRecord(session)) is None  # no dialect: the loader converts


def test_the_reader_caches_are_one_object_and_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from passerelles.trainings.lheo.memo import MEMO

    MEMO.clear()  # what the tests before filled
    monkeypatch.setattr(MEMO, "limit", 40)
    # Many distinct tags and dates, as a hostile or odd file may hold.
    extras = "".join(f"<x{i}>v</x{i}>" for i in range(200))
    sessions = "".join(session_xml(f"F1-S{i}", start=f"2025{1 + i // 28:02}{1 + i % 28:02}") for i in range(100))
    body = formation_xml("F1", sessions=sessions).replace("<certifiante>", extras + "<certifiante>")
    (formation,) = read(write(tmp_path / "offre.xml", catalogue(body)))
    assert len(sessions_of(formation)) == 100
    sizes = {name: len(cache) for name, cache in MEMO.caches().items()}
    assert all(0 < size <= 40 for name, size in sizes.items() if name != "schemas"), sizes
    assert {"local_names", "steps", "plain_paths", "dates", "schemas"} == set(sizes)
    MEMO.clear()
    assert not any(MEMO.caches().values())
    # Emptied, the caches fill again and the reading is the same.
    (again,) = read(write(tmp_path / "offre.xml", catalogue(body)))
    assert sessions_of(again) == sessions_of(formation) and again.training == formation.training
