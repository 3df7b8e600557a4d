"""Content of the occupation fiches: complete, dated, sourced, above the SMIC, with real ROME 4.60 codes."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from passerelles.reference.reader import ReferenceSet, read_directory

DATA = Path(__file__).resolve().parents[1] / "data"
ROME = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "rome_v460"
SECTIONS = (
    "names",
    "summary",
    "rome",
    "activities",
    "publics",
    "workplaces",
    "skills",
    "qualities",
    "conditions",
    "pay",
    "certifications",
    "evolutions",
    "further",
)
# Known gaps, each one a reason (kept short on purpose; remove an entry when the fact is sourced):
KNOWN_GAPS: set[tuple[str, str]] = set()
# Pay of these entries is being corrected (none at the moment; a slug here skips the SMIC check)
PAY_UNDER_REVIEW: set[str] = set()
NET_TO_GROSS = 0.78  # a net monthly figure is compared with 78 % of the gross SMIC (salaried contributions ~22 %)


@pytest.fixture(scope="module")
def ref() -> ReferenceSet:
    return read_directory(DATA)


def _lowest_smic(ref: ReferenceSet, year: int) -> float:
    """The lowest gross monthly SMIC in force during ``year`` (the value at 1 January)."""
    in_force = [s for s in ref.smic if s.since <= dt.date(year, 1, 1)]
    assert in_force, f"pas de SMIC connu pour {year}"
    return max(in_force, key=lambda s: s.since).monthly_eur


def test_smic_table_covers_2014_to_2026_and_is_ordered(ref: ReferenceSet) -> None:
    years = {s.since.year for s in ref.smic}
    assert set(range(2014, 2027)) - {2025} <= years  # no revaluation on 1 January 2025
    for s in ref.smic:
        assert abs(s.hourly_eur * 35 * 52 / 12 - s.monthly_eur) < 1, s  # monthly = hourly x 151,67 h
    amounts = [s.monthly_eur for s in sorted(ref.smic, key=lambda s: s.since)]
    assert amounts == sorted(amounts)


def test_every_occupation_is_complete(ref: ReferenceSet) -> None:
    missing = []
    for occ in ref.occupations.values():
        for section in SECTIONS:
            if not getattr(occ, section) and (occ.slug, section) not in KNOWN_GAPS:
                missing.append(f"{occ.slug}: {section}")
        # Every occupation says whether it involves nights and weekends (« Oui, selon les structures » / « Non »).
        if occ.conditions is None or occ.conditions.nights is None or occ.conditions.weekends is None:
            missing.append(f"{occ.slug}: conditions.nights/weekends")
    assert not missing, "\n".join(missing)


NEW_OCCUPATIONS = {
    "assistant-de-vie-aux-familles",
    "ambulancier",
    "auxiliaire-ambulancier",
    "accompagnant-eleves-situation-handicap",
    "assistant-familial",
    "assistant-maternel",
    "conseiller-economie-sociale-familiale",
    "infirmier-puericulteur",
    "agent-petite-enfance",
    "responsable-structure-petite-enfance",
    "responsable-de-secteur-aide-a-domicile",
    "infirmier-coordinateur",
    "cadre-de-sante",
    "psychomotricien",
    "ergotherapeute",
    "brancardier",
    "mediateur-en-sante",
    "mandataire-judiciaire-protection-majeurs",
}


def test_new_occupations_are_all_there(ref: ReferenceSet) -> None:
    assert set(ref.occupations) >= NEW_OCCUPATIONS


def test_full_time_pay_is_never_below_the_smic_of_its_year(ref: ReferenceSet) -> None:
    low = []
    for occ in ref.occupations.values():
        if occ.slug in PAY_UNDER_REVIEW:
            continue
        for p in occ.pay:
            assert p.sources and p.year, (occ.slug, p.label)
            if occ.slug in NEW_OCCUPATIONS or p.working_time is not None:
                assert p.working_time is not None, f"{occ.slug}: {p.label}: temps de travail non précisé"
            if p.bonus or p.working_time in ("partiel", "variable") or p.period == "heure" or p.year < 2014:
                continue
            amount = max(x for x in (p.min_eur, p.max_eur) if x is not None)
            amount = amount / 12 if p.period == "an" else amount
            floor = _lowest_smic(ref, p.year) * (NET_TO_GROSS if p.basis == "net" else 1)
            if (p.min_eur or amount) < floor - 1:
                low.append(f"{occ.slug}: {p.label}: {p.min_eur} < {floor:.0f} ({p.year})")
    assert not low, "\n".join(low)


def _cited(obj: Any) -> set[str]:
    if isinstance(obj, dict):
        out = set()
        for k, v in obj.items():
            out |= set(v) if k == "sources" and isinstance(v, list) else _cited(v)
        return out
    if isinstance(obj, list):
        return set().union(*(_cited(i) for i in obj)) if obj else set()
    return set()


def test_every_source_of_occupations_smic_and_services_is_cited(ref: ReferenceSet) -> None:
    import yaml

    cited: set[str] = set()
    for path in DATA.glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        cited |= _cited({k: v for k, v in data.items() if k != "sources"})
    orphans = []
    for name in ("occupations.yaml", "smic.yaml", "public_services.yaml"):
        data = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
        orphans += [f"{name}: {s['id']}" for s in data.get("sources", []) if s["id"] not in cited]
    assert not orphans, "\n".join(orphans)


def test_new_sources_are_dated_or_linked(ref: ReferenceSet) -> None:
    for occ in (ref.occupations[s] for s in NEW_OCCUPATIONS):
        for sid in _cited(occ.model_dump(mode="json")):
            src = ref.sources[sid]
            assert src.url or src.kind == "seed", sid
    for s in ref.smic:
        assert all(ref.sources[sid].date and ref.sources[sid].url for sid in s.sources), s.since


@pytest.mark.skipif(not ROME.exists(), reason="ROME 4.60 export not available")
def test_rome_codes_and_appellations_exist_in_rome_460(ref: ReferenceSet) -> None:
    with (ROME / "unix_referentiel_code_rome_v460_utf8.csv").open(encoding="utf-8") as f:
        codes = {r["code_rome"] for r in csv.DictReader(f)}
    with (ROME / "unix_referentiel_appellation_v460_utf8.csv").open(encoding="utf-8") as f:
        appellations = {int(r["code_ogr"]): r["code_rome"] for r in csv.DictReader(f)}
    wrong = []
    for occ in ref.occupations.values():
        for r in occ.rome:
            if r.code not in codes:
                wrong.append(f"{occ.slug}: {r.code}")
            if r.appellation_ogr is not None and appellations.get(r.appellation_ogr) != r.code:
                wrong.append(f"{occ.slug}: {r.appellation_ogr} n'est pas une appellation de {r.code}")
    assert not wrong, "\n".join(wrong)


def test_every_occupation_points_to_public_services(ref: ReferenceSet) -> None:
    assert {"onisep", "france-travail", "mon-compte-formation", "cap-emploi", "handicap-gouv"} <= set(
        ref.public_services
    )
    for slug in NEW_OCCUPATIONS:
        assert ref.occupations[slug].further, slug
