"""LHÉO importer (``trainings/lheo/``): the real samples, re-import, dry run, full feeds, an interrupted
import, and a corpus of hostile or broken inputs built here, on SQLite and PostgreSQL.

Each database test gets a clone of a template (migrated, reference data loaded, a few communes): loading
the reference takes seconds, cloning a fraction of one.
"""

from __future__ import annotations

import gzip
import http.server
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine, func, select, text

from passerelles.certifications.models import Certification
from passerelles.importing.sync import row_hash
from passerelles.trainings.lheo import MAX_TEXT_BYTES, TRUNCATED, ImportRefused, XmlGuard, import_lheo
from passerelles.trainings.models import Provider, Training, TrainingSession, route_mask
from passerelles.trainings.schemas import PROVIDER_RULES, SESSION_RULES, TRAINING_RULES, Rule, check_record
from tests.support.databases import (
    BACKENDS,
    SHARED_DATA,
    Clones,
    DatabaseFactory,
    commune,
    reference_clones,
)

LHEO_DIR = SHARED_DATA / "lheo"
NS_23 = "http://lheo.gouv.fr/2.3"
NS_22 = "http://www.lheo.org/2.2"
TABLES = {"provider": Provider.__table__, "training": Training.__table__, "training_session": TrainingSession.__table__}

COMMUNES = [
    ("29233", "Quimperlé", "29", ["29300"], 47.8725, -3.5486),
    ("69286", "Rillieux-la-Pape", "69", ["69140"], 45.8214, 4.8983),
    ("69123", "Lyon", "69", [f"6900{i}" for i in range(1, 10)], 45.758, 4.835),
    ("35238", "Rennes", "35", ["35000", "35200", "35700"], 48.1119, -1.6819),
    ("35288", "Saint-Malo", "35", ["35400"], 48.6493, -2.0257),
]


# ---------------------------------------------------------------- databases


@pytest.fixture(scope="module")
def clones(databases: DatabaseFactory) -> Clones:
    return lheo_clones(databases)


@pytest.fixture
def engine(request: pytest.FixtureRequest, clones: Clones, databases: DatabaseFactory) -> Iterator[Engine]:
    """A database with the reference data and the communes of these tests; parametrised by backend."""
    engine = clones(request.param)
    yield engine
    databases.release(engine)


def lheo_clones(databases: DatabaseFactory) -> Clones:
    """Copies of a database with the reference data and the communes of these tests."""
    return reference_clones(
        databases,
        [commune(code, name, dep, lat, lon, postcodes=postcodes) for code, name, dep, postcodes, lat, lon in COMMUNES],
    )


def store(engine: Engine) -> dict[str, set[str]]:
    with engine.connect() as conn:
        return {name: set(conn.scalars(select(table.c.external_id))) for name, table in TABLES.items()}


def indexes(engine: Engine) -> set[str]:
    """The secondary indexes of the three tables, as the database has them (the models' names)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({})"
        else:
            query = "SELECT indexname FROM pg_indexes WHERE tablename IN ({})"
        names = ", ".join(f"'{name}'" for name in TABLES)
        return {name for (name,) in conn.exec_driver_sql(query.format(names)) if name.startswith("ix_")}


MODEL_INDEXES = {str(index.name) for table in TABLES.values() for index in table.indexes}


def rows(engine: Engine, name: str, source: str | None = None) -> dict[str, dict[str, Any]]:
    table = TABLES[name]
    query = select(table) if source is None else select(table).where(table.c.source == source)
    with engine.connect() as conn:
        return {r["external_id"]: dict(r) for r in conn.execute(query).mappings()}


# ---------------------------------------------------------------- LHÉO fixtures written by the tests


def session_xml(numero: str, start: str = "20250901", end: str = "20260630", postcode: str = "35000") -> str:
    return f"""<session numero="{numero}">
<periode><debut>{start}</debut><fin>{end}</fin></periode>
<adresse-inscription><adresse><ligne>1 rue de la Paix</ligne><codepostal>{postcode}</codepostal>
<ville>Rennes</ville></adresse></adresse-inscription>
<periode-inscription><periode><debut>20250301</debut><fin>20250615</fin></periode></periode-inscription>
<etat-recrutement>1</etat-recrutement>
</session>"""


def formation_xml(
    numero: str,
    *,
    title: str = "Diplôme d'État d'accompagnant éducatif et social",
    objective: str = "Accompagner les personnes dans les actes de la vie quotidienne.",
    content: str = "Quatre blocs de compétences et des stages.",
    sessions: str | None = None,
    city: str = "Rennes",
    postcode: str = "35000",
    insee: str = "",
    siret: str = "12345678900011",
    price: str = "4500,50",
) -> str:
    sessions = sessions if sessions is not None else session_xml(f"{numero}-S1")
    insee_xml = f"<code-INSEE-commune>{insee}</code-INSEE-commune>" if insee else ""
    return f"""<formation numero="{numero}">
<domaine-formation><code-FORMACODE>44028</code-FORMACODE><code-NSF>332</code-NSF><code-ROME>K1301</code-ROME></domaine-formation>
<intitule-formation>{title}</intitule-formation>
<objectif-formation>{objective}</objectif-formation>
<resultats-attendus>Diplôme d'État de niveau 3</resultats-attendus>
<contenu-formation>{content}</contenu-formation>
<certifiante>1</certifiante>
<contact-formation><coordonnees><nom>Accueil formation</nom><telfixe><numtel>02 99 00 00 00</numtel></telfixe>
<courriel>formation@example.org</courriel></coordonnees></contact-formation>
<parcours-de-formation>1</parcours-de-formation>
<code-niveau-entree>1</code-niveau-entree>
<certification><code-RNCP>RNCP36004</code-RNCP></certification>
<code-niveau-sortie>13</code-niveau-sortie>
<action numero="{numero}-A">
<rythme-formation>Temps plein</rythme-formation>
<code-public-vise>80006</code-public-vise>
<niveau-entree-obligatoire>0</niveau-entree-obligatoire>
<modalites-alternance>Possible en contrat d'apprentissage</modalites-alternance>
<modalites-enseignement>0</modalites-enseignement>
<conditions-specifiques>Aucune</conditions-specifiques>
<prise-en-charge-frais-possible>1</prise-en-charge-frais-possible>
<lieu-de-formation><coordonnees><adresse><ligne>2 avenue des Soins</ligne><codepostal>{postcode}</codepostal>
<ville>{city}</ville>{insee_xml}</adresse></coordonnees></lieu-de-formation>
<modalites-entrees-sorties>0</modalites-entrees-sorties>
{sessions}
<prix-total-TTC>{price}</prix-total-TTC>
<duree-indicative>10 mois</duree-indicative>
<nombre-heures-total>1407</nombre-heures-total>
<organisme-financeur><code-financeur>2</code-financeur><nb-places-financees>12</nb-places-financees></organisme-financeur>
</action>
<organisme-formation-responsable>
<numero-activite>53350000035</numero-activite>
<SIRET-organisme-formation><SIRET>{siret}</SIRET></SIRET-organisme-formation>
<nom-organisme>Institut régional du travail social</nom-organisme>
<raison-sociale>IRTS</raison-sociale>
<coordonnees-organisme><coordonnees><adresse><ligne>2 avenue des Soins</ligne><codepostal>35000</codepostal>
<ville>Rennes</ville></adresse><telfixe><numtel>02 99 00 00 01</numtel></telfixe></coordonnees></coordonnees-organisme>
<contact-organisme><coordonnees><courriel>irts@example.org</courriel></coordonnees></contact-organisme>
</organisme-formation-responsable>
</formation>"""


def catalogue(*formations: str, ns: str = NS_23, prolog: str = "") -> str:
    body = "\n".join(formations)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}<lheo xmlns="{ns}">\n<offres>\n{body}\n</offres>\n</lheo>\n'
    )


def write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def line_of(content: str | bytes, needle: str) -> int:
    data = content.encode() if isinstance(content, str) else content
    return data[: data.index(needle.encode())].count(b"\n") + 1


def at(content: str | bytes, numero: str) -> int:
    """The line of the element numbered ``numero``."""
    return line_of(content, f'numero="{numero}"')


def only_reject(report: Any) -> Any:
    assert len(report.rejects) == 1, [str(r) for r in report.rejects]
    return report.rejects[0]


# ---------------------------------------------------------------- the real samples


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_real_samples_import_then_reimport_changes_nothing(engine: Engine) -> None:
    samples = ["exemple-bts-onisep.xml", "exemple-conseiller-insertion.xml", "exemple-photographe.xml"]
    reports = [import_lheo(engine, LHEO_DIR / name) for name in samples]
    assert [r.version for r in reports] == ["2.2", "1.3", "1.3"]
    for report in reports:
        assert report.status == "ok" and report.rejects == []
        assert {n: (c.created, c.rejected) for n, c in report.counts.items()} == {
            "provider": (1, 0),
            "training": (1, 0),
            "training_session": (1, 0),
        }
    assert "sans XSD" in reports[1].warnings[0]
    # RNCP 474 (BTS NRC) and 403 (titre CIP) are outside the project's reference: reported, not linked.
    assert any("RNCP474" in w for w in reports[0].warnings)
    # exemple-leger is an LHÉO "léger" index (root lheo-leger, no namespace) summarising
    # exemple-conseiller-insertion: its summary is imported as a session linked to the full one.
    light = import_lheo(engine, LHEO_DIR / "exemple-leger.xml")
    assert light.status == "ok" and light.rejects == [] and light.version == "léger"
    assert light.counts["training_session"].created == 1
    assert any("reliée(s)" in w for w in light.warnings)
    with engine.connect() as conn:
        summary = conn.execute(
            select(TrainingSession.full_session_id, TrainingSession.start_date).where(
                TrainingSession.source == "lheo-leger"
            )
        ).one()
        full_id = conn.scalar(
            select(TrainingSession.id)
            .join(Training, Training.id == TrainingSession.training_id)
            .where(Training.title.like("Titre professionnel conseiller%"), TrainingSession.source == "lheo")
        )
    assert summary.full_session_id == full_id and str(summary.start_date) == "2008-04-14"
    again = import_lheo(engine, LHEO_DIR / "exemple-leger.xml")
    assert again.counts["training_session"].unchanged == 1 and again.counts["training_session"].created == 0
    trainings = rows(engine, "training")
    assert sum(1 for t in trainings.values() if t["source"] == "lheo-leger") == 1
    for key in [k for k, t in trainings.items() if t["source"] == "lheo-leger"]:
        del trainings[key]

    onisep = trainings["9436_18706"]
    assert onisep["title"] == "BTS négociation et relation client"
    assert onisep["rncp"] == ["RNCP474"] and onisep["certifinfo"] == ["19004"]
    assert onisep["formacodes"] == ["34582", "34076"] and onisep["nsf"] == ["312"]
    assert onisep["rome_codes"] == ["D1402", "D1403", "D1408"] and onisep["level_eu"] == 5
    assert onisep["objective"].startswith("<p>A la fois vendeur")  # escaped HTML kept as plain text

    sessions = {s["external_id"]: s for s in rows(engine, "training_session").values() if s["source"] == "lheo"}
    bts = sessions["9436_18706/9436_18706/9436_18706"]
    assert (bts["commune_code"], bts["postcode"], bts["city"]) == ("29233", "29391", "QUIMPERLÉ")
    assert (str(bts["start_date"]), str(bts["end_date"])) == ("2015-09-01", "2017-08-31")
    assert bts["modality"] == "presentiel" and bts["routes"] == ["initiale"] and bts["duration_text"] == "2 ans"
    by_title = {s["title"]: s for s in sessions.values()}
    cip = by_title["Titre professionnel conseiller(ère) en insertion professionnelle"]
    assert (cip["commune_code"], cip["modality"], cip["duration_hours"]) == ("69286", "mixte", 1260)
    assert cip["funding"] == ["11"] and cip["routes"] == ["continue"]
    assert cip["contact"]["email"] == "idulac@afpa.fr"
    photo = by_title["CAP photographe"]
    # INSEE 69380 does not exist and 69110 is not Lyon's postcode: found by name within the département.
    assert photo["commune_code"] == "69123"
    assert photo["routes"] == ["continue", "apprentissage"] and photo["cost_text"] == "100 € TTC de l'heure"
    assert photo["route_mask"] == route_mask(photo["routes"]) == 6  # the routes' bits, for the listed indexes
    assert str(photo["registration_start"]) == "2004-06-21"
    providers = rows(engine, "provider", "lheo")
    assert providers["30059912300183"]["commune_code"] == "69286"
    assert providers["19290076900014"]["phone"] == "02 98 96 48 00"

    for name in samples:
        again = import_lheo(engine, LHEO_DIR / name)
        totals = again.totals
        assert (totals.created, totals.updated, totals.removed, totals.rejected) == (0, 0, 0, 0)
        assert totals.unchanged == 3


# ---------------------------------------------------------------- mapping, dry run, full feeds


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_generated_catalogue_is_mapped_and_linked(engine: Engine, tmp_path: Path) -> None:
    content = catalogue(
        formation_xml("F1", price="4 500,50 €"),
        formation_xml("F2", city="ST MALO", postcode="35400", price="sur devis"),
    )
    report = import_lheo(engine, write(tmp_path / "offre.xml", content))
    assert report.version == "2.3" and report.rejects == [] and report.warnings == []
    assert report.counts["provider"].created == 1  # the same organisme twice
    with engine.connect() as conn:
        deaes = conn.scalar(select(Certification.id).where(Certification.slug == "deaes"))
    f1 = rows(engine, "training")["F1"]
    assert f1["certification_id"] == deaes and f1["level_eu"] == 3 and f1["rncp"] == ["RNCP36004"]
    sessions = rows(engine, "training_session")
    s1 = sessions["F1/F1-A/F1-S1"]
    assert s1["certification_id"] == deaes and s1["commune_code"] == "35238"
    assert (s1["latitude"], s1["longitude"]) == (48.1119, -1.6819)  # the commune's, none in the record
    assert s1["cost_eur"] == Decimal("4500.50") and s1["cost_text"] == "4 500,50 €"
    assert s1["routes"] == ["continue", "apprentissage"] and s1["funding"] == ["2"] and s1["places"] == 12
    assert (str(s1["registration_start"]), str(s1["registration_end"])) == ("2025-03-01", "2025-06-15")
    assert s1["recruitment_state"] == "ouvert" and s1["duration_hours"] == 1407
    assert s1["contact"]["registration_address"] == "1 rue de la Paix, 35000 Rennes"
    s2 = sessions["F2/F2-A/F2-S1"]
    assert s2["commune_code"] == "35288"  # "ST MALO" is Saint-Malo
    assert s2["cost_eur"] is None and s2["cost_text"] == "sur devis"


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_dry_run_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "offre.xml", catalogue(formation_xml("F1"), formation_xml("F2")))
    report = import_lheo(engine, path, dry_run=True, full=True)
    assert report.dry_run and report.counts["training"].created == 2
    assert report.counts["training_session"].created == 2
    assert store(engine) == {"provider": set(), "training": set(), "training_session": set()}


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_full_feed_closes_exactly_the_missing_sessions(engine: Engine, tmp_path: Path) -> None:
    two = session_xml("F1-S1") + session_xml("F1-S2", "20260901", "20270630")
    big = write(
        tmp_path / "big.xml", catalogue(formation_xml("F1", sessions=two), formation_xml("F2"), formation_xml("F3"))
    )
    small = write(tmp_path / "small.xml", catalogue(formation_xml("F1"), formation_xml("F3")))
    assert import_lheo(engine, big, full=True).counts["training_session"].created == 4

    dry = import_lheo(engine, small, full=True, dry_run=True)
    assert dry.counts["training_session"].removed == 2
    assert all(s["closed_at"] is None for s in rows(engine, "training_session").values())

    report = import_lheo(engine, small, full=True)
    assert report.counts["training_session"].removed == 2 and report.counts["training_session"].unchanged == 2
    sessions = rows(engine, "training_session")
    assert len(sessions) == 4  # closed, never deleted
    assert {k for k, s in sessions.items() if s["closed_at"] is not None} == {"F1/F1-A/F1-S2", "F2/F2-A/F2-S1"}
    assert import_lheo(engine, small, full=True).counts["training_session"].removed == 0

    # Back in the feed: reopened, and counted as an update.
    back = import_lheo(engine, big, full=True)
    assert back.counts["training_session"].updated == 2 and back.counts["training_session"].removed == 0
    assert all(s["closed_at"] is None for s in rows(engine, "training_session").values())


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_lheo_22_is_validated_against_the_23_schema(engine: Engine, tmp_path: Path) -> None:
    broken = formation_xml("F2").replace("<certifiante>1</certifiante>\n", "")
    path = write(tmp_path / "v22.xml", catalogue(formation_xml("F1"), broken, ns=NS_22))
    report = import_lheo(engine, path)
    assert report.version == "2.2"
    reject = only_reject(report)
    assert reject.position == f"formation F2 (ligne {at(path.read_bytes(), 'F2')})"
    assert reject.field == "contact-formation"
    assert "non conforme au schéma LHÉO 2.3" in reject.reason and "Expected is ( certifiante )" in reject.reason
    assert store(engine)["training"] == {"F1"}


# ---------------------------------------------------------------- hostile and broken inputs


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_billion_laughs_is_refused_as_a_whole(engine: Engine, tmp_path: Path) -> None:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    content = catalogue(formation_xml("F1", title="&lol9;"), prolog=f"<!DOCTYPE lheo [{entities}]>\n")
    with pytest.raises(ImportRefused, match="ENTITY"):
        import_lheo(engine, write(tmp_path / "lol.xml", content))
    assert store(engine) == {"provider": set(), "training": set(), "training_session": set()}


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_external_entities_never_read_the_file(engine: Engine, tmp_path: Path) -> None:
    secret = write(tmp_path / "secret.txt", "SECRET-PASSERELLES")
    internal = f'<!DOCTYPE lheo [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
    with pytest.raises(ImportRefused, match="ENTITY"):
        import_lheo(engine, write(tmp_path / "xxe.xml", catalogue(formation_xml("F1", title="&xxe;"), prolog=internal)))
    # A DTD of its own, outside the document: never loaded, the reference stays unresolved, the record goes.
    dtd = write(tmp_path / "evil.dtd", f'<!ENTITY xxe SYSTEM "file://{secret}">')
    content = catalogue(
        formation_xml("F1"), formation_xml("F2", title="Titre &xxe;"), prolog=f'<!DOCTYPE lheo SYSTEM "file://{dtd}">\n'
    )
    report = import_lheo(engine, write(tmp_path / "dtd.xml", content))
    reject = only_reject(report)
    assert reject.position.startswith("formation F2 (ligne") and reject.field == "intitule-formation"
    assert "entité non résolue" in reject.reason
    assert store(engine)["training"] == {"F1"}
    with engine.connect() as conn:
        dumped = " ".join(str(r) for r in conn.execute(select(Training)).all())
    assert "SECRET" not in dumped


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_wrong_namespace_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "ns.xml", catalogue(formation_xml("F1"), ns="http://www.lheo.org/9.9"))
    with pytest.raises(ImportRefused, match=re.escape("espace de noms inconnu : « http://www.lheo.org/9.9 »")):
        import_lheo(engine, path)
    assert store(engine)["training"] == set()


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_truncated_file_is_refused_and_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    """Issue 14: a file cut before its end is refused as a whole (it used to load its complete records)."""
    import_lheo(engine, write(tmp_path / "before.xml", catalogue(formation_xml("F1"), formation_xml("F9"))))
    before = snapshot(engine)
    content = catalogue(formation_xml("F1"), formation_xml("F2"), formation_xml("F3"))
    cut = content[: content.index("<nom-organisme>", content.index('numero="F3"'))]
    with pytest.raises(ImportRefused, match=r"cut\.xml : fichier tronqué \(il ne se termine pas par .*</lheo>"):
        import_lheo(engine, write(tmp_path / "cut.xml", cut), full=True)
    assert snapshot(engine) == before  # F9 not closed, F2 not loaded
    with pytest.raises(ImportRefused, match="fichier tronqué"):
        import_lheo(engine, write(tmp_path / "head.xml", content[: content.index("<action")]))
    # Compressed, the cut shows only at the end of the stream: still refused before the batch is written.
    with pytest.raises(ImportRefused, match=r"fichier tronqué ou illisible à la ligne \d+ .*base inchangée"):
        import_lheo(engine, write(tmp_path / "cut.xml.gz", gzip.compress(cut.encode())), full=True)
    assert snapshot(engine) == before
    # With batches written before the break, those stay; the run is refused and closes nothing.
    report = import_lheo(engine, write(tmp_path / "cut2.xml.gz", gzip.compress(cut.encode())), full=True, batch_size=1)
    assert report.status == "refused"
    last_line = cut.count("\n") + 1
    assert f"ligne {last_line}" in (report.message or "")
    assert "flux incomplet" in report.warnings[-1]
    reject = only_reject(report)
    assert (reject.position, reject.field) == (f"ligne {last_line}", "(fichier)")
    assert store(engine)["training"] == {"F1", "F2", "F9"}
    assert all(r["closed_at"] is None for r in rows(engine, "training_session").values())


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_latin1_bytes_in_utf8_file_are_refused_naming_the_line(engine: Engine, tmp_path: Path) -> None:
    content = catalogue(formation_xml("F1"), formation_xml("F2", title="Aide-soignant"), formation_xml("F3"))
    data = content.encode().replace(b"Aide-soignant", "Aide-soignant diplômé".encode("latin-1"))
    line = line_of(data, "Aide-soignant")
    with pytest.raises(ImportRefused, match=f"latin1.xml : encodage invalide à la ligne {line} .*UTF-8 attendu"):
        import_lheo(engine, write(tmp_path / "latin1.xml", data), batch_size=1)
    assert store(engine)["training"] == set()
    # A file that says it is in Latin-1 is read as such.
    declared = data.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"', 1)
    assert declared != data
    report = import_lheo(engine, write(tmp_path / "declared.xml", declared))
    assert report.status == "ok" and store(engine)["training"] == {"F1", "F2", "F3"}


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_ten_megabyte_field_rejects_its_record_only(engine: Engine, tmp_path: Path) -> None:
    huge = ("Un texte sans fin pour remplir la mémoire.\n" * 250_000)[: 10 * 1024 * 1024]
    late = session_xml("F3-S1", start="20240230")
    content = catalogue(formation_xml("F1"), formation_xml("F2", content=huge), formation_xml("F3", sessions=late))
    path = write(tmp_path / "huge.xml", content)
    started = time.perf_counter()
    report = import_lheo(engine, path)
    assert time.perf_counter() - started < 20
    first, second = report.rejects
    assert first.position == f"formation F2 (ligne {at(content, 'F2')})"
    assert first.field == "contenu-formation" and "plus de 1024 Kio" in first.reason
    # Line numbers after the cut text are the file's own.
    assert second.position == f"formation F3, action F3-A, session F3-S1 (ligne {at(content, 'F3-S1')})"
    assert store(engine)["training"] == {"F1", "F3"}


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_impossible_date_rejects_the_session_naming_it(engine: Engine, tmp_path: Path) -> None:
    sessions = session_xml("F1-S1", start="20240230") + session_xml("F1-S2")
    content = catalogue(formation_xml("F1", sessions=sessions), formation_xml("F2"))
    report = import_lheo(engine, write(tmp_path / "date.xml", content))
    reject = only_reject(report)
    assert reject.position == f"formation F1, action F1-A, session F1-S1 (ligne {at(content, 'F1-S1')})"
    assert reject.field == "action/session/periode/debut"
    assert reject.reason == "date inexistante : « 20240230 » (30/02/2024)"
    assert report.counts["training_session"].rejected == 1
    assert store(engine)["training"] == {"F1", "F2"}
    assert store(engine)["training_session"] == {"F1/F1-A/F1-S2", "F2/F2-A/F2-S1"}


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_unknown_commune_rejects_the_sessions_of_that_place(engine: Engine, tmp_path: Path) -> None:
    sessions = session_xml("F1-S1") + session_xml("F1-S2", "20260901", "20270630")
    content = catalogue(
        formation_xml("F1", city="Villeinconnue", postcode="35999", sessions=sessions), formation_xml("F2")
    )
    report = import_lheo(engine, write(tmp_path / "commune.xml", content))
    reject = only_reject(report)
    assert reject.position == f"formation F1, action F1-A (ligne {at(content, 'F1-A')})"
    assert reject.field == "action/lieu-de-formation/coordonnees/adresse/ville"
    assert reject.reason == "commune inconnue : « Villeinconnue » (code postal 35999) ; 2 session(s) non chargée(s)"
    assert report.counts["training_session"].rejected == 2
    assert store(engine)["training"] == {"F1", "F2"}  # the formation itself is valid
    assert store(engine)["training_session"] == {"F2/F2-A/F2-S1"}


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_injection_strings_round_trip_as_plain_text(engine: Engine, tmp_path: Path) -> None:
    title = "Robert'); DROP TABLE training;--"
    objective = '<script>alert("x")</script> & <b onmouseover="evil()">gras</b> \' OR 1=1 --'
    content = "'; DELETE FROM provider WHERE ''='"
    escaped = objective.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    xml = catalogue(formation_xml("F1", title=title, objective=escaped, content=content), formation_xml("F2"))
    report = import_lheo(engine, write(tmp_path / "inject.xml", xml))
    assert report.rejects == []
    stored = rows(engine, "training")["F1"]
    assert (stored["title"], stored["objective"], stored["content"]) == (title, objective, content)
    assert rows(engine, "training_session")["F1/F1-A/F1-S1"]["title"] == title
    assert store(engine)["training"] == {"F1", "F2"} and len(store(engine)["provider"]) == 1


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_xsd_errors_and_bad_values_are_rejects(engine: Engine, tmp_path: Path, workers: int) -> None:
    # With two reader processes the two F5 fall to different readers: duplicates are still decided in
    # file order.
    content = catalogue(
        formation_xml("F1", title="T" * 300),
        formation_xml("F2", siret="1234"),
        formation_xml("F3", price="-12"),
        formation_xml("F4", sessions=session_xml("F4-S1", "20260101", "20250101")),
        formation_xml("F5"),
        formation_xml("F5"),
    )
    report = import_lheo(engine, write(tmp_path / "bad.xml", content), workers=workers)
    found = {(r.position.split(" (")[0], r.field): r.reason for r in report.rejects}
    assert "[facet 'maxLength']" in found[("formation F1", "intitule-formation")]
    assert (
        "[facet 'minLength']"
        in found[("formation F2", "organisme-formation-responsable/SIRET-organisme-formation/SIRET")]
    )
    assert found[("formation F3, action F3-A", "action/prix-total-TTC")].startswith("montant hors limites : « -12 »")
    assert found[("formation F4, action F4-A, session F4-S1", "action/session/periode/fin")] == (
        "fin (01/01/2025) avant le début (01/01/2026)"
    )
    assert found[("formation F5", "@numero")].startswith("formation en double : déjà lue ligne")
    assert store(engine)["training"] == {"F3", "F4", "F5"}
    assert store(engine)["training_session"] == {"F5/F5-A/F5-S1"}


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_gzip_zip_and_url_sources_and_demo_data(engine: Engine, tmp_path: Path) -> None:
    served = tmp_path / "www"
    served.mkdir()
    with gzip.open(served / "offre.xml.gz", "wb") as fh:
        fh.write(catalogue(formation_xml("G1")).encode())
    with zipfile.ZipFile(tmp_path / "offre.zip", "w") as zf:
        zf.writestr("export/offre.xml", catalogue(formation_xml("Z1")))
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/offre.xml.gz"
        assert import_lheo(engine, url).counts["training"].created == 1
        with pytest.raises(ImportRefused, match="HTTP 404"):
            import_lheo(engine, url.replace("offre", "absente"))
    finally:
        server.shutdown()
        server.server_close()
    assert import_lheo(engine, tmp_path / "offre.zip").counts["training"].created == 1
    with pytest.raises(ImportRefused, match="fichier introuvable"):
        import_lheo(engine, tmp_path / "absent.xml")
    demo = import_lheo(engine, tmp_path / "offre.zip", is_demo=True)
    assert demo.counts["training"].created == 1  # another source: its own rows
    with engine.connect() as conn:
        assert set(conn.execute(select(Training.source, Training.is_demo, Training.external_id)).all()) == {
            ("lheo", False, "G1"),
            ("lheo", False, "Z1"),
            ("demo", True, "Z1"),
        }


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_record_the_database_refuses_does_not_stop_the_batch(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TRIGGER refuse_test BEFORE INSERT ON training WHEN NEW.title = 'Refusée' "
                "BEGIN SELECT RAISE(ABORT, 'refusée par le déclencheur de test'); END"
            )
        )
    content = catalogue(formation_xml("F1"), formation_xml("F2", title="Refusée"), formation_xml("F3"))
    report = import_lheo(engine, write(tmp_path / "db.xml", content))
    reject = only_reject(report)
    assert reject.position == f"formation F2 (ligne {at(content, 'F2')})"
    assert reject.reason == "refusée par la base de données : refusée par le déclencheur de test"
    assert report.counts["training"].created == 2 and report.counts["provider"].created == 1
    assert store(engine)["training"] == {"F1", "F3"}
    assert store(engine)["training_session"] == {"F1/F1-A/F1-S1", "F3/F3-A/F3-S1"}


# ---------------------------------------------------------------- an interrupted import


def snapshot(engine: Engine) -> tuple[dict[str, Any], dict[str, Any]]:
    """(content by natural key with foreign keys as natural keys, raw rows with ids and hashes)."""
    content: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    keys: dict[str, dict[int, str]] = {}
    for name in TABLES:
        table_rows = rows(engine, name)
        keys[name] = {r["id"]: ext for ext, r in table_rows.items()}
        raw[name] = table_rows
        for ext, r in table_rows.items():
            values = {k: v for k, v in r.items() if k not in ("id", "row_hash")}
            assert r["row_hash"] == row_hash(values), f"{name} {ext}: stored hash does not match the row"
    for name, table_rows in raw.items():
        content[name] = {
            ext: {
                k: keys["provider"].get(v)
                if k == "provider_id"
                else keys["training"].get(v)
                if k == "training_id"
                else v
                for k, v in r.items()
                if k not in ("id", "row_hash")
            }
            for ext, r in table_rows.items()
        }
    return content, raw


@pytest.mark.parametrize("backend", BACKENDS)
def test_interrupted_import_converges_on_the_uninterrupted_store(backend: str, clones: Clones, tmp_path: Path) -> None:
    total = 2000
    path = write(
        tmp_path / "big.xml", catalogue(*(formation_xml(f"F{i:05d}", siret=f"{10**13 + i % 40}") for i in range(total)))
    )
    killed, clean = clones(backend), clones(backend)
    code = (
        "import sys\n"
        "from passerelles.db import make_engine\n"
        "from passerelles.trainings.lheo import import_lheo\n"
        "import_lheo(make_engine(sys.argv[1]), sys.argv[2], batch_size=50, workers=2)\n"
    )
    url = killed.url.render_as_string(hide_password=False)
    proc = subprocess.Popen([sys.executable, "-c", code, url, str(path)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            with killed.connect() as conn:
                if (conn.scalar(select(func.count()).select_from(Training)) or 0) >= 150:
                    break
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with killed.connect() as conn:
        partial = conn.scalar(select(func.count()).select_from(Training)) or 0
        partial_sessions = conn.scalar(select(func.count()).select_from(TrainingSession)) or 0
    assert 150 <= partial < total
    assert partial % 50 == 0 and partial_sessions == partial  # whole batches only
    if backend == "sqlite":
        # Filling empty tables, the import had dropped their secondary indexes until its end.
        assert indexes(killed) == set()

    resumed = import_lheo(killed, path, batch_size=50)
    assert indexes(killed) == MODEL_INDEXES  # put back first by the next import
    assert resumed.counts["training"].unchanged == partial
    assert resumed.counts["training"].created == total - partial
    assert import_lheo(clean, path, batch_size=50).counts["training"].created == total
    assert indexes(clean) == MODEL_INDEXES
    content_killed, raw_killed = snapshot(killed)
    content_clean, raw_clean = snapshot(clean)
    assert content_killed == content_clean
    assert len(content_clean["training_session"]) == total and len(content_clean["provider"]) == 40
    if backend == "sqlite":
        # SQLite hands out the same row ids again, so rows and hashes are identical to the byte. (A killed
        # PostgreSQL transaction consumes sequence values, so ids — and the hashes that include foreign
        # keys — may differ there; the content by natural key is what must agree.)
        assert raw_killed == raw_clean


# ---------------------------------------------------------------- the guard on its own


def through_guard(data: bytes, chunk_size: int = 64 * 1024, limit: int = MAX_TEXT_BYTES) -> tuple[bytes, XmlGuard]:
    guard = XmlGuard(io.BytesIO(data), limit=limit)
    guard.chunk_size = chunk_size
    out = b""
    while chunk := guard.read(32768):
        out += chunk
    return out, guard


@pytest.mark.parametrize("chunk_size", [7, 64 * 1024])
def test_guard_passes_ordinary_documents_unchanged(chunk_size: int) -> None:
    for path in sorted(LHEO_DIR.glob("exemple-*.xml")):
        data = path.read_bytes()
        out, guard = through_guard(data, chunk_size)
        assert out == data and guard.refusal is None and guard.truncations == 0
    doc = b'<?xml version="1.0"?>\n<!DOCTYPE lheo SYSTEM "lheo.dtd">\n'
    doc += b'<a b="1 > 0"><!-- c < d --><![CDATA[<x>]]><?pi x?></a>'
    assert through_guard(doc, chunk_size)[0] == doc


@pytest.mark.parametrize("chunk_size", [5, 4096])
def test_guard_cuts_every_kind_of_long_run(chunk_size: int) -> None:
    limit = 1000
    long = "é" * 900 + "\n" * 50 + "&amp;" * 100
    doc = (
        f'<a>\n<t>{long}</t>\n<v x="{long}"/>\n<c><![CDATA[{long}]]></c>\n<!-- {long.replace("&amp;", "-x")} -->\n'
        f"<?pi {long}?>\n<z>fin</z>\n</a>"
    ).encode()
    out, guard = through_guard(doc, chunk_size, limit)
    assert guard.truncations == 5 and guard.refusal is None
    root = etree.fromstring(out, etree.XMLParser(huge_tree=False, resolve_entities=False))
    assert root.findtext("t").endswith(TRUNCATED) and len(root.findtext("t").encode()) <= limit + 3
    assert root.find("v").get("x").endswith(TRUNCATED)
    assert TRUNCATED in root.findtext("c")
    z = root.find("z")
    assert z.text == "fin" and guard.true_line(z.sourceline) == doc[: doc.index(b"<z>")].count(b"\n") + 1


def test_guard_refuses_entity_declarations_and_utf16() -> None:
    _, guard = through_guard(b'<?xml version="1.0"?><!DOCTYPE a [<!ELEMENT a ANY><!ENTITY e "x">]><a>&e;</a>', 8)
    assert guard.refusal is not None and "ENTITY" in guard.refusal
    _, guard = through_guard('<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16"))
    assert guard.refusal is not None and "UTF-16" in guard.refusal


# ---------------------------------------------------------------- the record rules, and values converted ahead


@pytest.mark.parametrize(
    ("rules", "values", "expected"),
    [
        (PROVIDER_RULES, {"external_id": "12345678901234", "name": "IRTS", "phone": "0" * 40}, None),
        (
            PROVIDER_RULES,
            {"external_id": "12345678901234", "name": "IRTS", "phone": "0" * 41},
            ("phone", "valeur trop longue (41 caractères, au plus 40)"),
        ),
        (PROVIDER_RULES, {"external_id": "NDA1", "siret": "123", "name": "x"}, ("siret", "valeur invalide : « 123 »")),
        (
            TRAINING_RULES,
            {"external_id": "", "title": ""},  # the first field in the record's order is named
            ("external_id", "valeur refusée : String should have at least 1 character"),
        ),
        (TRAINING_RULES, {"external_id": "F1", "title": "T", "level_eu": 9}, ("level_eu", "valeur hors limites : 9")),
        (
            SESSION_RULES,
            {"external_id": "s", "title": "T", "latitude": 90.5},
            ("latitude", "valeur hors limites : 90.5"),
        ),
        (
            SESSION_RULES,
            {"external_id": "s", "title": "T", "cost_eur": Decimal("100000000.00")},
            ("cost_eur", "valeur hors limites : 100000000.00"),
        ),
        (
            SESSION_RULES,
            {"external_id": "s", "title": "T", "modality": "hybride"},
            ("modality", "valeur refusée : Input should be 'presentiel', 'distance' or 'mixte'"),
        ),
        (SESSION_RULES, {"external_id": "s" * 160, "title": "T", "places": 0, "cost_eur": Decimal("0.00")}, None),
    ],
)
def test_record_rules_name_the_field_and_the_reason(
    rules: dict[str, Rule], values: dict[str, Any], expected: tuple[str, str] | None
) -> None:
    assert check_record(values, rules) == expected


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_values_converted_by_the_readers_are_stored_as_the_loader_would_store_them(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import passerelles.trainings.lheo.rows as lheo

    path = write(
        tmp_path / "offre.xml",
        catalogue(formation_xml("F1", price="4 500,50 €"), formation_xml("F2", price="sur devis")),
    )
    calls = []
    real = lheo.bind_ahead

    def spy(*args: Any) -> Any:
        calls.append(args[0].name)
        return real(*args)

    monkeypatch.setattr(lheo, "bind_ahead", spy)
    import_lheo(engine, path)
    assert sorted(calls) == ["training", "training", "training_session", "training_session"]
    ahead = snapshot(engine)[0]
    with engine.begin() as conn:
        for name in ("training_session", "training", "provider"):
            conn.execute(TABLES[name].delete())

    monkeypatch.setattr(lheo, "bind_ahead", lambda *args: None)  # the loader converts every value
    report = import_lheo(engine, path)
    assert report.counts["training_session"].created == 2
    assert snapshot(engine)[0] == ahead


# ---------------------------------------------------------------- reading in chunks, in parallel


def _bad_catalogues() -> dict[str, bytes]:
    """Catalogues whose reading is full of rejects, cuts and odd spots: each read by two reader processes,
    a record a chunk, must give what one process reading it all gives."""
    huge = ("Un texte sans fin pour remplir la mémoire.\n" * 30_000)[: MAX_TEXT_BYTES + 10]
    mixed = catalogue(
        formation_xml("F1", title="T" * 300),
        formation_xml("F2", siret="1234"),
        formation_xml("F3", price="-12", sessions=session_xml("F3-S1", start="20240230")),
        formation_xml("F4", city="Villeinconnue", postcode="35999"),
        formation_xml("F5", content="<![CDATA[ </formation>\n<formation numero='X'> ]]>"),
        formation_xml("F5"),
        formation_xml("F6", content=huge),
        formation_xml("F7", objective="<!-- </formation>\n<formation> -->Objectif ? Oui !"),
        formation_xml("F8"),
    )
    whole = catalogue(*(formation_xml(f"G{i}") for i in range(6)))
    return {
        "mixed": mixed.encode(),
        "truncated": whole[: whole.index("<nom-organisme>", whole.index('numero="G4"'))].encode(),
        "cut-after-a-record": whole[: whole.index("</formation>", whole.index('numero="G3"')) + 12].encode(),
        "broken-in-the-middle": whole.replace(
            g3 := formation_xml("G3"), g3.replace("</intitule-formation>", "</x>")
        ).encode(),
        "latin-1": whole.encode().replace(b'numero="G3">', 'numero="G3">é'.encode("latin-1")),
        "first-record-broken": whole[: whole.index("<action")].encode(),
    }


@pytest.mark.parametrize("name", list(_bad_catalogues()))
def test_two_readers_a_record_a_chunk_give_what_one_reader_gives(
    name: str, clones: Clones, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from passerelles.importing import xmlchunks

    path = write(tmp_path / f"{name}.xml", _bad_catalogues()[name])
    from passerelles.importing.pipeline import CHUNKED
    from passerelles.trainings.lheo.references import References
    from passerelles.trainings.lheo.stream import read_catalogue as _read_catalogue

    assert next(_read_catalogue(path, References(), path.name, None, 0, 2)) is CHUNKED  # read in chunks indeed
    results = []
    for workers, chunk_bytes in ((0, xmlchunks.CHUNK_BYTES), (2, 1)):
        monkeypatch.setattr(xmlchunks, "CHUNK_BYTES", chunk_bytes)  # the forked readers inherit it
        engine = clones("sqlite")
        try:
            report = import_lheo(engine, path, full=True, workers=workers, batch_size=2).model_dump()
        except ImportRefused as exc:
            report = {"refused": str(exc)}
        results.append((report, snapshot(engine)[0]))
    one, two = results
    assert two[0] == one[0]
    assert two[1] == one[1]
    if name == "mixed":
        reasons = " ".join(r["reason"] for r in one[0]["rejects"])
        assert "plus de 1024 Kio" in reasons and "formation en double" in reasons and "commune inconnue" in reasons
        assert set(one[1]["training"]) == {"F3", "F4", "F5", "F7", "F8"}
    elif name in ("truncated", "cut-after-a-record", "first-record-broken"):  # issue 14: refused, base unchanged
        assert "fichier tronqué" in one[0]["refused"] and one[1] == snapshot(clones("sqlite"))[0]
    elif name == "latin-1":
        assert "encodage invalide" in one[0]["refused"] and one[1] == snapshot(clones("sqlite"))[0]
    else:
        assert one[0]["status"] == "refused" and one[0]["message"].startswith("fichier tronqué ou illisible")
