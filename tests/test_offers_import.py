"""Job offers: France Travail « Offres d'emploi v2 » and schema.org JobPosting feeds, on SQLite and
PostgreSQL, and the France Travail API client against a local HTTP server (real HTTP, no mocks)."""

from __future__ import annotations

import datetime as dt
import gzip
import http.server
import json
import shutil
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Engine, delete, event, func, select, text
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.schema import Table

from passerelles.importing.report import ImportRefused, ImportReport
from passerelles.offers.client import FranceTravailClient, FranceTravailError
from passerelles.offers.importer import import_offers
from passerelles.offers.importer.feeds import FeedReader
from passerelles.offers.importer.normalise import (
    detect_night_work,
    detect_weekend_work,
    ft_contract_type,
    jobposting_contract,
    parse_hours,
    parse_salary,
    structure_type_from_name,
    working_time,
)
from passerelles.offers.models import Employer, JobOffer
from tests.support.databases import BACKENDS, DatabaseFactory, build_reference_database, commune, reference_clones

FIXTURES = Path(__file__).parent / "fixtures" / "offres"
FT_FEED = FIXTURES / "ft_resultats.json"
JP_FEED = FIXTURES / "jobposting.json"
NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
both = pytest.mark.parametrize("engine", BACKENDS, indirect=True)
sqlite_only = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

# INSEE COG 2024 and La Poste's base (centroids): the communes the fixtures point to.
COMMUNES = [
    ("51454", "Reims", "51", ["51100"], 177674, 49.251491, 4.04023),
    ("44109", "Nantes", "44", ["44000", "44100", "44200", "44300"], 327734, 47.231636, -1.54831),
    ("35251", "Saint-Aubin-d'Aubigné", "35", ["35250"], 4304, 48.262023, -1.600284),
    ("35003", "Andouillé-Neuville", "35", ["35250"], 1017, 48.297572, -1.595893),
    ("35079", "Chevaigné", "35", ["35250"], 2397, 48.225183, -1.636704),
    ("35238", "Rennes", "35", ["35000", "35200", "35700"], 230890, 48.111979, -1.681864),
    ("69383", "Lyon 3e Arrondissement", "69", ["69003"], 100679, 45.753355, 4.869185),
    ("75056", "Paris", "75", ["75001", "75012", "75020"], 2103778, 48.856, 2.3522),
    ("75112", "Paris 12e Arrondissement", "75", ["75012"], 138024, 48.835156, 2.419807),
    ("33063", "Bordeaux", "33", ["33000", "33100", "33200", "33300", "33800"], 267991, 44.857245, -0.573697),
    ("87085", "Limoges", "87", ["87000", "87100", "87280"], 129937, 45.854255, 1.248758),
]


COMMUNE_ROWS = [
    commune(code, name, dep, lat, lon, postcodes=postcodes, population=population)
    for code, name, dep, postcodes, population, lat, lon in COMMUNES
]


def prepare(engine: Engine) -> Engine:
    return build_reference_database(engine, COMMUNE_ROWS)


@pytest.fixture
def engine(request: pytest.FixtureRequest, databases: DatabaseFactory) -> Iterator[Engine]:
    """A fresh database with régions, départements and the fixtures' communes; parametrised by backend."""
    engine = reference_clones(databases, COMMUNE_ROWS)(request.param)
    yield engine
    databases.release(engine)


def offers(engine: Engine) -> dict[str, RowMapping]:
    with engine.connect() as conn:
        return {r["external_id"]: r for r in conn.execute(select(JobOffer.__table__)).mappings()}


def count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)) or 0)


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives back naive UTC, PostgreSQL aware datetimes."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def counts(report: ImportReport, entity: str = "job_offer") -> tuple[int, int, int, int, int]:
    c = report.counts[entity]
    return c.created, c.updated, c.unchanged, c.removed, c.rejected


def ft_offers() -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], json.loads(FT_FEED.read_text(encoding="utf-8"))["resultats"])


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


# ---------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("libelle", "expected"),
    [
        ("Mensuel de 1800.00 Euros à 2000.00 Euros sur 12 mois", (1800.0, 2000.0, "mois")),
        ("Mensuel de 1600,00 Euros à 1800,00 Euros", (1600.0, 1800.0, "mois")),
        ("Mensuel de 2600,00 Euros à 3000,00 Euros sur 13 mois", (2600.0, 3000.0, "mois")),
        ("Horaire de 11.88 Euros", (11.88, 11.88, "heure")),
        ("Annuel de 33000.0 Euros", (33000.0, 33000.0, "an")),
        ("Annuel de 30000.0 Euros à 36000.0 Euros", (30000.0, 36000.0, "an")),
        ("Mensuel de 1 850,50 Euros", (1850.5, 1850.5, "mois")),
        ("Mensuel de 1600,00 Euros \ufffd 1800,00 Euros", (1600.0, 1800.0, "mois")),  # mis-encoded « à »
        ("Selon profil", (None, None, None)),
        ("Cachet de 150.00 Euros", (None, None, None)),
        ("", (None, None, None)),
        (None, (None, None, None)),
    ],
)
def test_salary_libelle(libelle: str | None, expected: tuple[float | None, float | None, str | None]) -> None:
    assert parse_salary(libelle) == expected


@pytest.mark.parametrize(
    ("text", "weekly_only", "expected"),
    [
        ("35H/semaine", False, 35.0),
        ("35H/semaine\nTravail en journée", False, 35.0),
        ("24H30/semaine", False, 24.5),
        ("35 H  Horaires normaux", False, 35.0),
        ("Travail en journée", False, None),
        ("99H/semaine", False, None),
        ("35 heures par semaine", True, 35.0),
        ("35 h hebdomadaires", True, 35.0),
        ("28h30 / semaine", True, 28.5),
        ("8h-17h", True, None),
        (None, False, None),
    ],
)
def test_weekly_hours(text: str | None, weekly_only: bool, expected: float | None) -> None:
    assert parse_hours(text, weekly_only=weekly_only) == expected


def test_contract_and_working_time() -> None:
    assert working_time("Temps plein") == "temps_plein"
    assert working_time("Temps partiel") == "temps_partiel"
    assert working_time("Non renseigné") is None
    assert ft_contract_type("CDI", "Contrat travail", False) == "CDI"
    assert ft_contract_type("MIS", "Contrat travail", False) == "MIS"
    assert ft_contract_type("CDD", "Contrat apprentissage", True) == "APP"
    assert ft_contract_type("CDD", "Cont. professionnalisation", True) == "PRO"
    assert ft_contract_type("CDD", None, True) == "ALT"
    assert ft_contract_type("N'importe quoi", None, None) is None
    assert jobposting_contract(["FULL_TIME", "CDI"]) == ("CDI", "temps_plein")
    assert jobposting_contract("PART_TIME") == (None, "temps_partiel")
    assert jobposting_contract(["Intérim", "temps plein"]) == ("MIS", "temps_plein")
    assert jobposting_contract(["TEMPORARY", "INTERN"]) == (None, None)
    assert jobposting_contract(None) == (None, None)


@pytest.mark.parametrize(
    ("text", "night", "weekend"),
    [
        ("Aide-soignant de nuit, un week-end sur deux", True, True),
        ("Poste de jour, pas de nuit, du lundi au vendredi", False, False),
        ("Veilleuse de nuit en MAS", True, None),
        ("3 nuits par semaine", True, None),
        ("Travail les samedis et dimanches", None, True),
        ("Sans week-end ni jours fériés", None, False),
        ("Du lundi au vendredi et un week-end sur deux", None, None),  # says both: not clear
        ("Pas de travail de nuit, sauf postes de nuit ponctuels", None, None),
        ("Soins d'hygiène et de confort", None, None),
        (None, None, None),
    ],
)
def test_night_and_weekend_work_only_when_clear(text: str | None, night: bool | None, weekend: bool | None) -> None:
    assert detect_night_work(text) is night
    assert detect_weekend_work(text) is weekend


def test_structure_type_from_employer_name() -> None:
    assert structure_type_from_name("EHPAD LES TILLEULS") == "ehpad"
    assert structure_type_from_name("Centre hospitalier de Laval") == "hopital"
    assert structure_type_from_name("SSIAD PARIS EST") == "ssiad"
    assert structure_type_from_name("Association Les Amis") is None
    assert structure_type_from_name("EHPAD et SSIAD du Val") is None  # two kinds: not clear
    assert structure_type_from_name(None) is None


# ---------------------------------------------------------------- reading


def test_every_layout_reads_the_same_offers(tmp_path: Path) -> None:
    records = ft_offers()
    array = tmp_path / "offres.json"
    array.write_text(json.dumps(records, indent=1, ensure_ascii=False), encoding="utf-8")
    lines = write_jsonl(tmp_path / "offres.txt", records)  # JSON Lines recognised without the suffix
    gz = tmp_path / "offres.jsonl.gz"
    gz.write_bytes(gzip.compress(lines.read_bytes()))
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps({"resultats": records}).encode())
    layouts = {}
    for path in (FT_FEED, array, lines, gz, bom):
        reader = FeedReader(path, "france_travail")
        read = list(reader)
        layouts[path.name] = reader.layout
        assert [r.data for r in read] == records, path.name
        assert reader.complete
    assert layouts == {
        "ft_resultats.json": "object",
        "offres.json": "array",
        "offres.txt": "lines",
        "offres.jsonl.gz": "lines",
        "bom.json": "object",
    }
    # Elements of an array and lines of JSON Lines are numbered from 1.
    assert [(r.unit, r.index) for r in FeedReader(array, "france_travail")][:2] == [("élément", 1), ("élément", 2)]
    assert [(r.unit, r.index) for r in FeedReader(lines, "france_travail")][-1] == ("ligne", 6)


def test_big_array_is_streamed_in_pieces(tmp_path: Path) -> None:
    """More than one read buffer, elements split across buffers, one element bigger than a buffer."""
    records = [{"id": f"X{i}", "intitule": "Aide-soignant", "n": i % 97} for i in range(20_000)]
    records[11_000]["description"] = "é" * 2_500_000
    path = tmp_path / "big.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    assert [r.data for r in FeedReader(path, "france_travail")] == records


# ---------------------------------------------------------------- France Travail feed


@both
def test_france_travail_feed_is_loaded_then_reimport_changes_nothing(engine: Engine) -> None:
    report = import_offers(engine, FT_FEED, fmt="france_travail", now=NOW)

    assert counts(report) == (6, 0, 0, 0, 0), report.as_text()
    assert counts(report, "employer") == (3, 0, 0, 0, 0)
    rows = offers(engine)
    assert set(rows) == {"171AAAA", "171AAAB", "171AAAC", "171AAAD", "171AAAE", "171AAAF"}
    assert {r["source"] for r in rows.values()} == {"france_travail"}

    night = rows["171AAAA"]
    assert (night["code_rome"], night["appellation"]) == ("J1501", "Aide-soignant / Aide-soignante")
    assert (night["commune_code"], night["postcode"], night["city"]) == ("51454", "51100", "Reims")
    assert (night["latitude"], night["longitude"]) == (49.2514, 4.0402)
    assert (night["contract_type"], night["contract_text"]) == ("CDI", "Contrat à durée indéterminée")
    assert (night["working_time"], night["hours_per_week"]) == ("temps_plein", 35.0)
    assert (night["salary_min"], night["salary_max"], night["salary_period"]) == (1900.0, 2100.0, "mois")
    assert night["salary_text"] == "Mensuel de 1900.00 Euros à 2100.00 Euros sur 12 mois — Prime de nuit"
    assert (night["night_work"], night["weekend_work"]) == (True, True)
    assert (night["employer_name"], night["structure_type"], night["positions"]) == ("EHPAD LES TILLEULS", "ehpad", 2)
    assert night["url"] == "https://candidat.francetravail.fr/offres/recherche/detail/171AAAA"
    assert utc(night["published_at"]) == dt.datetime(2024, 5, 13, 9, 12, 44, tzinfo=dt.UTC)
    assert utc(night["updated_at"]) == dt.datetime(2024, 5, 20, 16, 3, 10, tzinfo=dt.UTC)
    assert (night["valid_through"], night["closed_at"], night["is_demo"]) == (None, None, False)

    aes = rows["171AAAB"]
    assert (aes["contract_type"], aes["working_time"], aes["hours_per_week"]) == ("CDD", "temps_partiel", 28.0)
    assert (aes["salary_min"], aes["salary_max"], aes["salary_period"]) == (11.88, 11.88, "heure")
    assert (aes["night_work"], aes["weekend_work"], aes["structure_type"]) == (False, False, "mas")

    # No INSEE code: the postcode 35250 has five communes, the label names one; coordinates from the commune.
    interim = rows["171AAAC"]
    assert (interim["commune_code"], interim["city"], interim["postcode"]) == (
        "35251",
        "Saint-Aubin-d'Aubigné",
        "35250",
    )
    assert (interim["latitude"], interim["longitude"]) == (48.262023, -1.600284)
    assert (interim["contract_type"], interim["hours_per_week"], interim["salary_period"]) == ("MIS", 35.5, "an")

    apprentice = rows["171AAAD"]
    assert (apprentice["contract_type"], apprentice["salary_min"]) == ("APP", None)
    assert apprentice["contract_text"] == "Contrat à durée déterminée - 12 Mois, Contrat apprentissage"
    assert apprentice["salary_text"] == "Selon la grille de l'apprentissage"
    assert apprentice["structure_type"] == "cabinet-medical"

    # A département only, employer undisclosed: kept, without commune nor employer.
    vague = rows["171AAAE"]
    assert (vague["commune_code"], vague["city"], vague["employer_id"], vague["employer_name"]) == (
        None,
        "35 - Ille-et-Vilaine",
        None,
        None,
    )
    assert rows["171AAAF"]["commune_code"] == "75112"
    assert (rows["171AAAF"]["salary_min"], rows["171AAAF"]["salary_max"]) == (2600.0, 3000.0)

    with engine.connect() as conn:
        employers = {r.siret: r for r in conn.execute(select(Employer.__table__))}
    assert set(employers) == {"20004512300017", "77561234500028", "42187654300035"}
    assert employers["77561234500028"].name == "MAS LE VAL FLEURI"
    assert (employers["20004512300017"].naf, employers["20004512300017"].commune_code) == ("87", "51454")
    assert night["employer_id"] == employers["20004512300017"].id

    again = import_offers(engine, FT_FEED, fmt="france_travail", now=NOW)
    assert counts(again) == (0, 0, 6, 0, 0)
    assert counts(again, "employer") == (0, 0, 3, 0, 0)
    assert offers(engine) == rows


@sqlite_only
def test_demo_offers_have_their_own_source(engine: Engine, tmp_path: Path) -> None:
    report = import_offers(engine, FT_FEED, fmt="france_travail", is_demo=True, now=NOW, batch_size=4)
    assert counts(report) == (6, 0, 0, 0, 0)
    rows = offers(engine)
    assert {(r["source"], r["is_demo"]) for r in rows.values()} == {("demo", True)}
    # The demo source and the real one never close each other's offers.
    import_offers(
        engine, write_jsonl(tmp_path / "one.jsonl", ft_offers()[:1]), fmt="france_travail", full=True, now=NOW
    )
    assert all(r["closed_at"] is None for r in offers(engine).values() if r["source"] == "demo")


# ---------------------------------------------------------------- JobPosting feed


@both
def test_jobposting_feed(engine: Engine) -> None:
    report = import_offers(engine, JP_FEED, fmt="jobposting", now=NOW)

    assert counts(report) == (3, 0, 0, 0, 0), report.as_text()
    rows = offers(engine)
    aes_url = "https://emplois.example.org/offres/aes-limoges-1187"
    assert set(rows) == {"AS-2024-017", "INF-NUIT-04", aes_url}
    assert {r["source"] for r in rows.values()} == {"jobposting"}

    aide = rows["AS-2024-017"]
    assert (aide["title"], aide["code_rome"], aide["commune_code"], aide["city"]) == (
        "Aide-soignant(e) en EHPAD",
        "J1501",
        "33063",
        "Bordeaux",
    )
    assert (aide["contract_type"], aide["working_time"], aide["contract_text"]) == (
        "CDI",
        "temps_plein",
        "FULL_TIME, CDI",
    )
    assert (aide["salary_min"], aide["salary_max"], aide["salary_period"]) == (1850.0, 2050.0, "mois")
    assert aide["salary_text"] == "Mensuel de 1850 Euros à 2050 Euros"
    assert (aide["weekend_work"], aide["positions"], aide["structure_type"]) == (True, 2, "ehpad")
    assert (aide["latitude"], aide["longitude"]) == (44.8572, -0.5737)
    # A date without time nor offset is French local time.
    assert utc(aide["published_at"]) == dt.datetime(2024, 5, 1, 22, 0, tzinfo=dt.UTC)
    assert utc(aide["valid_through"]) == dt.datetime(2024, 12, 31, 22, 59, 59, tzinfo=dt.UTC)
    assert aide["closed_at"] is None
    with engine.connect() as conn:
        employer = conn.execute(select(Employer.__table__).where(Employer.id == aide["employer_id"])).one()
    assert (employer.siret, employer.name) == ("98765432100017", "EHPAD Résidence Les Mimosas")

    nurse = rows["INF-NUIT-04"]  # validThrough 2024-01-31, before NOW: stored closed
    assert (nurse["code_rome"], nurse["employer_name"], nurse["structure_type"]) == (
        "J1506",
        "Clinique du Parc",
        "clinique",
    )
    assert (nurse["night_work"], nurse["working_time"]) == (True, "temps_partiel")
    assert utc(nurse["closed_at"]) == dt.datetime(2024, 1, 31, tzinfo=dt.UTC)
    assert nurse["closed_reason"] == "date de fin dépassée"

    aes = rows[aes_url]  # no identifier: the offer's URL identifies it
    assert (aes["commune_code"], aes["code_rome"], aes["contract_type"], aes["hours_per_week"]) == (
        "87085",
        "K1306",
        "CDD",
        24.0,
    )
    assert (aes["salary_min"], aes["salary_max"], aes["salary_period"]) == (12.5, 12.5, "heure")
    assert (aes["weekend_work"], aes["structure_type"], aes["employer_id"]) == (False, "saad", None)

    single = import_offers(engine, FIXTURES / "jobposting_single.json", fmt="jobposting", now=NOW)
    assert counts(single) == (1, 0, 0, 0, 0)
    medical = offers(engine)["AM-35-002"]
    assert (medical["commune_code"], medical["hours_per_week"], medical["code_rome"]) == ("35238", 35.0, "J1303")
    assert (medical["latitude"], medical["longitude"]) == (48.111979, -1.681864)

    again = import_offers(engine, JP_FEED, fmt="jobposting", now=NOW)
    assert counts(again) == (0, 0, 3, 0, 0)


# ---------------------------------------------------------------- closing


@both
def test_full_feed_closes_exactly_the_missing_offers(engine: Engine, tmp_path: Path) -> None:
    import_offers(engine, FT_FEED, fmt="france_travail", now=NOW)
    kept = [o for o in ft_offers() if o["id"] not in {"171AAAB", "171AAAE"}]
    partial = write_jsonl(tmp_path / "partial.jsonl", kept)

    not_full = import_offers(engine, partial, fmt="france_travail", now=NOW)
    assert counts(not_full) == (0, 0, 4, 0, 0)
    assert all(r["closed_at"] is None for r in offers(engine).values())

    later = NOW + dt.timedelta(days=1)
    report = import_offers(engine, partial, fmt="france_travail", full=True, now=later)
    assert counts(report) == (0, 0, 4, 2, 0)
    rows = offers(engine)
    assert len(rows) == 6  # closed, never deleted
    closed = {k: (utc(r["closed_at"]), r["closed_reason"]) for k, r in rows.items() if r["closed_at"] is not None}
    assert closed == {"171AAAB": (later, "absente du flux"), "171AAAE": (later, "absente du flux")}

    assert counts(import_offers(engine, partial, fmt="france_travail", full=True, now=later)) == (0, 0, 4, 0, 0)

    # Back in the feed with the very same content: reopened.
    back = import_offers(engine, FT_FEED, fmt="france_travail", full=True, now=later)
    assert counts(back) == (0, 2, 4, 0, 0)
    assert all(r["closed_at"] is None and r["closed_reason"] is None for r in offers(engine).values())


@both
def test_offers_past_their_end_date_are_closed(engine: Engine, tmp_path: Path) -> None:
    import_offers(engine, JP_FEED, fmt="jobposting", now=NOW)
    assert offers(engine)["AS-2024-017"]["closed_at"] is None

    # Any later import of the source closes what has expired since, even offers it does not carry.
    january = dt.datetime(2025, 1, 15, tzinfo=dt.UTC)
    report = import_offers(engine, FIXTURES / "jobposting_single.json", fmt="jobposting", now=january)
    assert counts(report)[:4] == (1, 0, 0, 1)  # AM-35-002 created closed (30/09/2024); AS-2024-017 closed
    rows = offers(engine)
    aide = rows["AS-2024-017"]
    assert (utc(aide["closed_at"]), aide["closed_reason"]) == (utc(aide["valid_through"]), "date de fin dépassée")
    assert rows["AM-35-002"]["closed_reason"] == "date de fin dépassée"
    assert utc(rows["INF-NUIT-04"]["closed_at"]) == dt.datetime(2024, 1, 31, tzinfo=dt.UTC)  # untouched

    import_offers(engine, JP_FEED, fmt="jobposting", now=january)
    assert counts(import_offers(engine, JP_FEED, fmt="jobposting", now=january)) == (0, 0, 3, 0, 0)
    assert offers(engine)["AS-2024-017"]["closed_reason"] == "date de fin dépassée"


@both
def test_dry_run_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    report = import_offers(engine, FT_FEED, fmt="france_travail", dry_run=True, now=NOW)
    assert report.dry_run
    assert counts(report) == (6, 0, 0, 0, 0)
    assert counts(report, "employer") == (3, 0, 0, 0, 0)
    assert count(engine, JobOffer) == 0
    assert count(engine, Employer) == 0

    import_offers(engine, FT_FEED, fmt="france_travail", now=NOW)
    before = offers(engine)
    partial = write_jsonl(tmp_path / "partial.jsonl", ft_offers()[:2])
    simulated = import_offers(engine, partial, fmt="france_travail", full=True, dry_run=True, now=NOW)
    assert simulated.counts["job_offer"].removed == 4
    assert offers(engine) == before


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("workers", [0, 3])
@both
def test_bad_records_are_reported_and_every_valid_record_stored(engine: Engine, tmp_path: Path, workers: int) -> None:
    feed = tmp_path / "ft_rejets.jsonl"
    shutil.copy(FIXTURES / "ft_rejets.jsonl", feed)
    base = {
        "intitule": "Aide-soignant (H/F)",
        "lieuTravail": {"commune": "51454"},
        "dateCreation": "2024-05-10T08:00:00Z",
    }
    with feed.open("ab") as fh:
        fh.write(json.dumps({**base, "id": "BAD0011", "description": "x" * (10 * 1024 * 1024)}).encode() + b"\n")
        fh.write(json.dumps({**base, "id": "BAD0012"}).encode() + b"\n")
        fh.write(json.dumps({**base, "id": "BAD0013", "intitule": "Aide-soignant \ud800"}).encode() + b"\n")
        fh.write(b'{"id": "BAD0014", "intitule": "Aide-soignant \xff\xfe", "lieuTravail": {"commune": "51454"}}\n')

    report = import_offers(engine, feed, fmt="france_travail", now=NOW, workers=workers)

    assert counts(report) == (3, 0, 0, 0, 11)
    rows = offers(engine)
    assert set(rows) == {"BAD0001", "BAD0006", "BAD0012"}
    rejects = {r.position: (r.source, r.field, r.reason) for r in report.rejects}
    assert {p: (f, r.split(" :")[0].split(" (")[0]) for p, (_, f, r) in rejects.items()} == {
        "offre sans identifiant (ligne 2)": ("id", "champ obligatoire absent"),
        "offre BAD0003 (ligne 3)": ("dateCreation", "date invalide '2024-02-30T08:00:00.000Z'"),
        "offre BAD0004 (ligne 4)": ("lieuTravail.commune", "commune inconnue"),
        "offre sans identifiant (ligne 5)": ("(enregistrement)", "JSON illisible"),
        "offre sans identifiant (ligne 7)": ("(enregistrement)", "objet JSON attendu"),
        "offre BAD0008 (ligne 8)": ("intitule", "champ obligatoire absent"),
        "offre BAD0009 (ligne 9)": ("romeCode", "code ROME invalide"),
        "offre BAD0010 (ligne 10)": ("description", "caractère interdit"),
        "offre BAD0011 (ligne 11)": ("description", "texte trop long"),
        "offre BAD0013 (ligne 13)": ("intitule", "caractère interdit"),
        "offre sans identifiant (ligne 14)": ("(enregistrement)", "encodage invalide"),
    }
    assert {source for source, _, _ in rejects.values()} == {"ft_rejets.jsonl"}
    assert rejects["offre BAD0011 (ligne 11)"][2] == "texte trop long (10 485 760 caractères, maximum 100 000)"
    assert rejects["offre BAD0004 (ligne 4)"][2] == "commune inconnue : code INSEE '99999'"
    assert all(len(r.record or "") <= 200 for r in report.rejects)
    assert "offre BAD0003 (ligne 3)" in report.as_text()

    # Injection attempts are data: stored verbatim, nothing dropped.
    injected = rows["BAD0001"]
    assert injected["title"] == "Aide-soignant'); DROP TABLE job_offer;--"
    assert injected["description"] == "<script>alert('x')</script><b>Soins</b> & \"confort\" ' OR '1'='1"
    assert injected["employer_name"] == "Robert'); DROP TABLE employer;--"
    assert count(engine, Employer) == 0


@sqlite_only
def test_broken_array_is_refused_and_closes_nothing(engine: Engine, tmp_path: Path) -> None:
    import_offers(engine, FT_FEED, fmt="france_travail", now=NOW)
    before = offers(engine)
    text = json.dumps(ft_offers()[:4], ensure_ascii=False)
    broken = tmp_path / "coupe.json"
    broken.write_text(text[: text.index('"id": "171AAAD"') + 20], encoding="utf-8")  # cut inside the 4th offer

    # Issue 14: a file cut before its end is refused as a whole, before anything is written.
    with pytest.raises(ImportRefused, match=r"coupe\.json : JSON illisible, fichier tronqué .*base inchangée"):
        import_offers(engine, broken, fmt="france_travail", full=True, now=NOW)
    assert offers(engine) == before

    # The API's response shape, with garbage after the offers (its end looks whole): found while reading,
    # the run is refused, nothing is closed.
    trailing = tmp_path / "reponse.json"
    trailing.write_text(json.dumps({"resultats": ft_offers()[:2]})[:-1] + ', "x": }', encoding="utf-8")
    with pytest.raises(ImportRefused, match="fichier tronqué ou illisible"):
        import_offers(engine, trailing, fmt="france_travail", full=True, now=NOW)
    assert offers(engine) == before


UNUSABLE = [
    (b"", "fichier vide"),
    (b"   \n", "fichier vide"),
    (b"id;intitule\n171AAAA;Aide-soignant\n", "pas un fichier JSON"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "pas un fichier JSON"),
    (b"[]", "aucune offre"),
    (b'{"resultats": []}', "aucune offre"),
    (b'{"filtresPossibles": [1, 2]}', "aucune offre"),
    (b'[{"id": "1", "intitule": ', "JSON illisible"),
    (b'{"id": 1\n{"id": 2\n', "JSON illisible"),
]


@pytest.mark.parametrize("empty_engine", ["sqlite"], indirect=True)
def test_unusable_input_is_refused(empty_engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ImportRefused, match="introuvable"):
        import_offers(empty_engine, tmp_path / "absent.json", fmt="france_travail")
    with pytest.raises(ImportRefused, match="aucune commune"):
        import_offers(empty_engine, FT_FEED, fmt="france_travail")
    engine = prepare(empty_engine)
    for i, (content, message) in enumerate(UNUSABLE):
        path = tmp_path / f"offres-{i}.json"
        path.write_bytes(content)
        with pytest.raises(ImportRefused, match=message):
            import_offers(engine, path, fmt="france_travail", full=True, now=NOW)
    lines = tmp_path / "x.jsonl"
    lines.write_text("pas du json\nnon plus\n", encoding="utf-8")
    with pytest.raises(ImportRefused, match="aucun enregistrement JSON lisible"):
        import_offers(engine, lines, fmt="france_travail")
    assert count(engine, JobOffer) == 0


# ---------------------------------------------------------------- France Travail client


class FakeFranceTravail(http.server.ThreadingHTTPServer):
    """The token endpoint and a paged search endpoint, as the API documents them."""

    def __init__(self, offers: list[dict[str, Any]]) -> None:
        super().__init__(("127.0.0.1", 0), FakeHandler)
        self.offers = offers
        self.lock = threading.Lock()
        self.tokens: list[str] = []
        self.valid: set[str] = set()
        self.token_forms: list[dict[str, list[str]]] = []
        self.ranges: list[str] = []
        self.statuses: list[int] = []
        self.expires_in = 1499
        self.throttle_once = True
        self.always_unavailable = False
        self.revoke_after_first_page = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class FakeHandler(http.server.BaseHTTPRequestHandler):
    server: FakeFranceTravail

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length", 0))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        state = self.server
        if parsed.path != "/connexion/oauth2/access_token" or urllib.parse.parse_qs(parsed.query) != {
            "realm": ["/partenaire"]
        }:
            return self.reply(404, {"error": "not found"})
        if form.get("grant_type") != ["client_credentials"] or form.get("client_secret") != ["s3cret"]:
            return self.reply(401, {"error": "invalid_client"})
        with state.lock:
            state.token_forms.append(form)
            token = f"jeton-{len(state.tokens) + 1}"
            state.tokens.append(token)
            state.valid.add(token)
        self.reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": state.expires_in})

    def do_GET(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        state = self.server
        if parsed.path == "/flux/offres.json":  # a feed published as a plain file
            data = FT_FEED.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return None
        if parsed.path != "/partenaire/offresdemploi/v2/offres/search":
            return self.reply(404, {"error": "not found"})
        auth = self.headers.get("Authorization", "")
        with state.lock:
            if not auth.startswith("Bearer ") or auth[7:] not in state.valid:
                state.statuses.append(401)
                return self.reply(401, {"message": "jeton invalide"})
            params = urllib.parse.parse_qs(parsed.query)
            state.ranges.append(params["range"][0])
            if state.always_unavailable:
                state.statuses.append(503)
                return self.reply(503, {"message": "maintenance"})
            if state.throttle_once:
                state.throttle_once = False
                state.statuses.append(429)
                return self.reply(429, {"message": "trop de requêtes"}, {"Retry-After": "2"})
            first, last = (int(x) for x in params["range"][0].split("-"))
            if first > 1000 or last > 1149 or last - first + 1 > 150 or first > last:
                state.statuses.append(400)
                return self.reply(400, {"message": "range invalide"})
            total = len(state.offers)
            page = state.offers[first : last + 1]
            if not page:
                state.statuses.append(204)
                return self.reply(204)
            status = 206 if first + len(page) < total else 200
            state.statuses.append(status)
            if state.revoke_after_first_page:
                state.revoke_after_first_page = False
                state.valid.clear()
        self.reply(
            status,
            {"resultats": page, "filtresPossibles": []},
            {"Content-Range": f"offres {first}-{first + len(page) - 1}/{total}", "Accept-Range": "offres 150"},
        )


def synthetic_offers(n: int) -> list[dict[str, Any]]:
    places = [c for c in COMMUNES if c[0] != "75056"]
    return [
        {
            "id": f"{900000 + i}X",
            "intitule": "Aide-soignant (H/F)" if i % 2 else "Infirmier (H/F)",
            "dateCreation": "2024-05-10T08:00:00.000Z",
            "lieuTravail": {"libelle": f"{places[i % len(places)][2]} - X", "commune": places[i % len(places)][0]},
            "romeCode": "J1501" if i % 2 else "J1506",
            "typeContrat": "CDI",
        }
        for i in range(n)
    ]


@pytest.fixture
def fake_api() -> Iterator[FakeFranceTravail]:
    server = FakeFranceTravail(synthetic_offers(320))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_client(server: FakeFranceTravail, sleeps: list[float], **kwargs: Any) -> FranceTravailClient:
    return FranceTravailClient(
        "passerelles-test",
        "s3cret",
        token_url=f"{server.url}/connexion/oauth2/access_token?realm=%2Fpartenaire",
        api_url=f"{server.url}/partenaire/offresdemploi/v2",
        scope="api_offresdemploiv2 o2dsoffre",
        sleep=sleeps.append,
        **kwargs,
    )


def test_client_pages_with_one_token_and_waits_on_429(fake_api: FakeFranceTravail) -> None:
    sleeps: list[float] = []
    with make_client(fake_api, sleeps) as client:
        got = list(client.search({"codeROME": "J1501", "range": "ignored"}))
    assert [o["id"] for o in got] == [o["id"] for o in fake_api.offers]
    assert sleeps == [2.0]  # Retry-After honoured
    assert fake_api.ranges == ["0-149", "0-149", "150-299", "300-449"]
    assert fake_api.statuses == [429, 206, 206, 200]
    assert fake_api.tokens == ["jeton-1"]
    (form,) = fake_api.token_forms
    assert form["client_id"] == ["passerelles-test"]
    assert form["scope"] == ["api_offresdemploiv2 o2dsoffre"]
    assert client.last_total == 320
    assert not client.truncated


def test_client_renews_its_token_on_401_and_at_expiry(fake_api: FakeFranceTravail) -> None:
    sleeps: list[float] = []
    clock = FakeClock()
    fake_api.throttle_once = False
    fake_api.revoke_after_first_page = True
    with make_client(fake_api, sleeps, clock=clock) as client:
        assert len(list(client.search())) == 320
        assert fake_api.tokens == ["jeton-1", "jeton-2"]
        assert fake_api.statuses == [206, 401, 206, 200]
        assert client.access_token() == "jeton-2"
        clock.now += 1499 - 60  # renewed a minute before it expires
        assert client.access_token() == "jeton-3"
    assert sleeps == []


def test_client_gives_up_after_max_retries(fake_api: FakeFranceTravail) -> None:
    sleeps: list[float] = []
    fake_api.always_unavailable = True
    with make_client(fake_api, sleeps, max_retries=3) as client, pytest.raises(FranceTravailError, match="503"):
        list(client.search())
    assert sleeps == [1.0, 2.0, 4.0]
    assert "s3cret" not in repr(client)


def test_client_stops_at_the_api_ceiling_and_on_no_content(fake_api: FakeFranceTravail, tmp_path: Path) -> None:
    sleeps: list[float] = []
    fake_api.throttle_once = False
    fake_api.offers = synthetic_offers(1300)
    with make_client(fake_api, sleeps) as client:
        result = client.download(tmp_path / "offres.jsonl")
        assert (result.count, result.total, result.complete) == (1150, 1300, False)
        assert fake_api.ranges[-3:] == ["750-899", "900-1049", "1000-1149"]
        ids = [json.loads(line)["id"] for line in result.path.read_text(encoding="utf-8").splitlines()]
        assert ids == [o["id"] for o in fake_api.offers[:1150]]

        fake_api.offers = []
        empty = client.download(tmp_path / "vide.jsonl")
        assert (empty.count, empty.complete) == (0, True)
    assert not (tmp_path / "offres.jsonl.partial").exists()


@sqlite_only
def test_download_then_import(engine: Engine, fake_api: FakeFranceTravail, tmp_path: Path) -> None:
    sleeps: list[float] = []
    with make_client(fake_api, sleeps) as client:
        result = client.download(tmp_path / "offres.jsonl", {"departement": "35"})
    assert result.complete and result.count == 320
    report = import_offers(engine, result.path, fmt="france_travail", full=result.complete, now=NOW)
    assert counts(report) == (320, 0, 0, 0, 0)
    assert {r["commune_code"] for r in offers(engine).values()} == {c[0] for c in COMMUNES} - {"75056"}

    # A feed at an URL is downloaded first.
    by_url = import_offers(engine, f"{fake_api.url}/flux/offres.json", fmt="france_travail", now=NOW)
    assert counts(by_url) == (6, 0, 0, 0, 0)
    assert by_url.source == f"{fake_api.url}/flux/offres.json"
    with pytest.raises(ImportRefused, match="HTTP 404"):
        import_offers(engine, f"{fake_api.url}/flux/absent.json", fmt="france_travail")


def test_structure_type_from_spelled_out_names() -> None:
    assert structure_type_from_name("Maison d’accueil spécialisée Les Tilleuls") == "mas"
    assert structure_type_from_name("Institut médico-éducatif de Laval") == "ime"
    assert structure_type_from_name("Hôpital de Laval") == "hopital"
    assert structure_type_from_name("Centre hospitalier spécialisé de Laval") == "hopital-psychiatrique"
    assert structure_type_from_name("Unité de soins de longue durée du Centre hospitalier de Laval") == "usld"
    assert structure_type_from_name("Conseil départemental (Mayenne) – Protection maternelle et infantile") == "pmi"
    assert structure_type_from_name("Résidence Les Tilleuls") is None  # a residence may be many things


@both
def test_values_converted_by_the_readers_are_stored_as_the_loader_would_store_them(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import passerelles.offers.importer.records as importer

    calls = []
    real = importer.bind_ahead

    def spy(*args: Any) -> Any:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(importer, "bind_ahead", spy)
    import_offers(engine, FT_FEED, fmt="france_travail", now=NOW)
    assert len(calls) == 6
    ahead = {k: {c: v for c, v in r.items() if c != "id"} for k, r in offers(engine).items()}
    with engine.begin() as conn:
        conn.execute(delete(JobOffer.__table__))

    monkeypatch.setattr(importer, "bind_ahead", lambda *args: None)  # the loader converts every value
    report = import_offers(engine, FT_FEED, fmt="france_travail", now=NOW)

    assert counts(report) == (6, 0, 0, 0, 0)
    here = {k: {c: v for c, v in r.items() if c != "id"} for k, r in offers(engine).items()}
    assert here == ahead
    assert any(r["published_at"] is not None and r["latitude"] is not None for r in here.values())


def job_offer_indexes(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'job_offer'")
        return {name for (name,) in found if name.startswith("ix_")}


@sqlite_only
def test_indexes_deferred_while_filling_an_empty_table_are_back_after_the_import(
    engine: Engine, tmp_path: Path
) -> None:
    model = {
        str(index.name)
        for index in cast(Table, JobOffer.__table__).indexes
        # an index the models create on the other database only (``Index(...).ddl_if(dialect=...)``) is left out
        if getattr(getattr(index, "_ddl_if", None), "dialect", None) in (None, engine.dialect.name)
    }
    assert job_offer_indexes(engine) == model
    stages: list[set[str]] = []

    def run() -> Any:
        return import_offers(
            engine,
            FT_FEED,
            fmt="france_travail",
            now=NOW,
            batch_size=2,
            progress=lambda _: stages.append(job_offer_indexes(engine)),
        )

    report = run()
    assert counts(report) == (6, 0, 0, 0, 0)
    assert stages == [set(), set(), set()]  # dropped with the first batch: the table was empty
    assert job_offer_indexes(engine) == model

    # An import killed between two batches leaves them dropped: the next import puts them back first.
    with engine.begin() as conn:
        for name in model:
            conn.exec_driver_sql(f"DROP INDEX {name}")
    stages.clear()
    report = run()
    assert counts(report) == (0, 0, 6, 0, 0)
    assert stages == [model, model, model]  # the table was not empty: kept up to date row by row
    assert job_offer_indexes(engine) == model


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_the_offers_table_is_analysed_when_its_statistics_are_stale_and_only_then(
    engine: Engine, tmp_path: Path
) -> None:
    """PostgreSQL: job_offer gets fresh statistics as it fills (without them, finding a batch's keys reads
    every offer of the source), from sync_rows, once the table changed more than its size since the last
    ones (importing.sync.refresh_statistics): the importer runs no ANALYZE of its own on top of it."""
    template = ft_offers()[0]
    records = [{**template, "id": f"STAT{i:05d}"} for i in range(2500)]
    path = write_jsonl(tmp_path / "offres.jsonl", records)
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    modified = text("SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'job_offer'")

    def after_batch(_: str) -> None:  # a batch's writes reach the statistics shortly after its commit
        for _ in range(150):
            with engine.connect() as conn:
                if (conn.scalar(modified) or 0) >= 1000:
                    return
            time.sleep(0.1)

    event.listen(engine, "before_cursor_execute", record)
    try:
        report = import_offers(
            engine, path, fmt="france_travail", now=NOW, batch_size=1000, workers=0, progress=after_batch
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert counts(report) == (2500, 0, 0, 0, 0)
    # job_offer's own ANALYZE (the market aggregates, rewritten whole at the end, get theirs: not counted here)
    analyses = [i for i, s in enumerate(statements) if s.lstrip().upper().startswith("ANALYZE JOB_OFFER")]
    assert analyses  # the table doubled between batches: analysed
    assert all("n_mod_since_analyze" in statements[i - 1] for i in analyses)  # each time because stale
