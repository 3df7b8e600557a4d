"""Filters and facets: one filter query per facet, so that each facet is counted without its own filter;
the labels shown for facet values."""

from __future__ import annotations

import datetime as dt
import math
from typing import Protocol

import tantivy

from passerelles.certifications.schemas import ROUTE_LABELS
from passerelles.offers.schemas import CONTRACTS, WORKING_TIMES
from passerelles.search.fields import FACET_FIELDS, SAMPLE_MARK, SAMPLE_RATE
from passerelles.search.gazetteer import Places, UnknownPlace
from passerelles.search.nearby import Nearby
from passerelles.search.schemas import FacetValue, SearchQuery
from passerelles.search.text import analyze

TYPE_LABELS = {
    "occupation": "Métiers",
    "certification": "Diplômes et certifications",
    "training": "Sessions de formation",
    "offer": "Offres d'emploi",
}
# Routes, contracts and working times are named as on the certification and job-offer pages.
MODALITY_LABELS = {"presentiel": "Présentiel", "distance": "À distance", "mixte": "Mixte"}
FACET_TITLES = {
    "type": "Type",
    "region": "Région",
    "departement": "Département",
    "level": "Niveau",
    "route": "Voie d'accès",
    "modality": "Modalité",
    "contract": "Contrat",
    "working_time": "Temps de travail",
}


FACET_EXACT_CAP = 20_000
REFERENCE_TYPES = ("occupation", "certification", "rome")  # never sampled (a few thousand documents)


def round_estimate(n: int) -> int:
    """A count estimated from the sample, to two significant digits (16 × 7 = 112 → 110)."""
    if n < 100:
        return max(10, round(n, -1)) if n else 0
    return round(n, 2 - len(str(n)))


class Lean(Protocol):
    """The facets' queries of a search's words (built only when facets are asked)."""

    def whole(self) -> tantivy.Query: ...  # every document holding one of the words
    def references(self) -> tantivy.Query: ...  # occupations and diplomas holding one of them
    def sample(self) -> tantivy.Query: ...  # the sampled sessions and offers holding one of them


def _day(value: dt.date | None, *, end: bool = False) -> dt.datetime | None:
    if value is None:
        return None
    moment = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return moment + dt.timedelta(days=1) - dt.timedelta(microseconds=1) if end else moment


class Filters(Nearby):
    """Filter queries and facet counts (a base of ``SearchEngine``)."""

    places: Places

    def _filter_bounds(self, r: SearchQuery) -> dict[str, float]:
        """For each term filter of ``r``, an upper bound of the documents it lets through."""
        bounds: dict[str, float] = {}
        for field, values in (
            ("type", r.types),
            ("region", [r.region] if r.region else []),
            ("departement", [r.departement] if r.departement else []),
            ("level", [str(v) for v in r.level]),
            ("route", r.route),
            ("modality", r.modality),
            ("contract", r.contract),
            ("working_time", r.working_time),
        ):
            if values:
                bounds[field] = float(sum(self.searcher.doc_freq(field, v) for v in values))
        return bounds

    def _place_bound(self, kind: str, code: str) -> float:
        """An upper bound of the documents the filter of a place named in the text lets through (its
        records, and every occupation and diploma)."""
        if kind == "commune":
            found = min(self.searcher.doc_freq("place", t) for t in analyze(self.places.communes[code][0]))
        else:
            found = self.searcher.doc_freq(kind, code)
        return float(found + sum(self.searcher.doc_freq("type", t) for t in REFERENCE_TYPES))

    def _filter_bound(self, r: SearchQuery) -> float:
        """An upper bound of the documents the term filters of ``r`` let through (inf when unknown)."""
        return min(self._filter_bounds(r).values(), default=math.inf)

    def _filters(
        self, r: SearchQuery, place: tuple[str, str] | None
    ) -> tuple[dict[str, tantivy.Query], tuple[float, float, float] | None]:
        """Filter queries by facet name (so that a facet can be counted without its own filter)."""
        s = self.schema
        out: dict[str, tantivy.Query] = {}

        terms = self._terms
        if r.types:
            out["type"] = terms("type", r.types)
        if r.region:
            out["region"] = terms("region", [r.region])
        if r.departement:
            out["departement"] = terms("departement", [r.departement])
        if r.level:
            out["level"] = terms("level", [str(v) for v in r.level])
        if r.route:
            out["route"] = terms("route", r.route)
        if r.modality:
            out["modality"] = terms("modality", r.modality)
        if r.contract:
            out["contract"] = terms("contract", r.contract)
        if r.working_time:
            out["working_time"] = terms("working_time", r.working_time)
        if r.start_from or r.start_to:
            out["start"] = tantivy.Query.range_query(
                s, "start", tantivy.FieldType.Date, _day(r.start_from), _day(r.start_to, end=True)
            )
        if r.published_since:
            out["published"] = tantivy.Query.range_query(
                s, "published", tantivy.FieldType.Date, _day(r.published_since), None
            )
        if r.sort == "date_debut":
            out["sort"] = tantivy.Query.exists_query("start")
        elif r.sort == "date_publication":
            out["sort"] = tantivy.Query.exists_query("published")
        circle = None
        if r.commune:
            code = self.gazetteer.commune(r.commune)
            if r.radius_km or r.sort == "distance":
                _n, _d, lat, lon, _p = self.places.communes[code]
                if lat is None or lon is None:
                    raise UnknownPlace(f"commune sans coordonnées : « {code} »")
                radius = r.radius_km or 1000.0  # sorted by distance without a radius: the whole country
                circle = (lat, lon, radius)
                out["commune"] = self._box(lat, lon, radius)
            else:
                out["commune"] = terms("commune", [code])
        elif r.sort == "distance":
            raise UnknownPlace("le tri par distance demande une commune")
        if place and not (r.commune or r.departement or r.region):
            out["text_place"] = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Should, self._place_query(*place)),
                    # Occupations and diplomas have no place: they stay, sessions and offers must be there.
                    (tantivy.Occur.Should, terms("type", ["occupation", "certification"])),
                ]
            )
        return out, circle

    def _place_query(self, kind: str, code: str) -> tantivy.Query:
        if kind == "commune":
            # By name, so that "Lyon" also covers Lyon 1er … 9e Arrondissement.
            tokens = analyze(self.places.communes[code][0])
            return tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "place", t)) for t in tokens]
            )
        return tantivy.Query.term_query(self.schema, kind, code)

    def _facets(
        self,
        lean: Lean | None,
        filters: dict[str, tantivy.Query],
        r: SearchQuery,
        bound: float,
        place: tuple[str, str] | None = None,
    ) -> tuple[dict[str, list[FacetValue]], bool]:
        """Disjunctive counts: each facet counted with every filter but its own; and whether they are
        approximate. ``bound`` bounds the documents holding the words (all of them without words). Where
        this bound and the group's filters let through more than FACET_EXACT_CAP documents, the records'
        counts come from their sample (SAMPLE_RATE, field ``rs``), scaled; occupations and diplomas are
        always counted whole. ``place``: the place named in the text, if any (its filter bounds too)."""
        groups: dict[tuple[str, ...], list[str]] = {}
        for f in FACET_FIELDS:
            others = tuple(k for k in filters if k != f)
            groups.setdefault(others, []).append(f)
        bounds = self._filter_bounds(r)
        if place and "text_place" in filters:
            bounds["text_place"] = self._place_bound(*place)
        counts: dict[str, dict[str, int]] = {}
        estimated: dict[str, set[str]] = {f: set() for f in FACET_FIELDS}  # values with a sampled part
        approximate = False
        for others, fields in groups.items():
            aggs = {f: {"terms": {"field": f, "size": 120 if f == "departement" else 30}} for f in fields}
            kept = [filters[k] for k in others]
            if min([bound, *(bounds[k] for k in others if k in bounds)]) <= FACET_EXACT_CAP:
                result = self.searcher.aggregate(self._combine(lean.whole() if lean else None, kept), aggs)
                for f in fields:
                    counts[f] = {b["key"]: int(b["doc_count"]) for b in result[f]["buckets"]}
                continue
            approximate = True
            references = lean.references() if lean else self._terms("type", REFERENCE_TYPES)
            sample = lean.sample() if lean else tantivy.Query.term_query(self.schema, "rs", SAMPLE_MARK)
            whole = self.searcher.aggregate(self._combine(references, kept), aggs)
            sampled = self.searcher.aggregate(self._combine(sample, kept), aggs)
            for f in fields:
                merged = {b["key"]: int(b["doc_count"]) for b in whole[f]["buckets"]}
                for b in sampled[f]["buckets"]:
                    merged[b["key"]] = merged.get(b["key"], 0) + round_estimate(int(b["doc_count"]) * SAMPLE_RATE)
                    estimated[f].add(b["key"])
                counts[f] = merged
        selected: dict[str, set[str]] = {
            "type": set(r.types),
            "region": {r.region} if r.region else set(),
            "departement": {r.departement} if r.departement else set(),
            "level": {str(v) for v in r.level},
            "route": set(r.route),
            "modality": set(r.modality),
            "contract": set(r.contract),
            "working_time": set(r.working_time),
        }
        out: dict[str, list[FacetValue]] = {}
        for f, values in counts.items():
            items = [
                FacetValue(
                    value=v, label=self._label(f, v), count=c, selected=v in selected[f], approximate=v in estimated[f]
                )
                for v, c in values.items()
            ]
            for v in selected[f] - set(values):
                # Not found: none, or (estimated) none in the sample; its count is then not shown.
                items.append(
                    FacetValue(value=v, label=self._label(f, v), count=0, selected=True, approximate=approximate)
                )
            out[f] = (
                sorted(items, key=lambda x: (-x.count, x.label))
                if f not in ("level",)
                else sorted(items, key=lambda x: x.value)
            )
        return out, approximate

    def _label(self, facet: str, value: str) -> str:
        if facet == "type":
            return TYPE_LABELS.get(value, value)
        if facet == "region":
            return self.places.regions.get(value, value)
        if facet == "departement":
            return f"{self.places.departements.get(value, (value,))[0]} ({value})"
        if facet == "level":
            return f"Niveau {value}"
        if facet == "route":
            return ROUTE_LABELS.get(value, value)
        if facet == "modality":
            return MODALITY_LABELS.get(value, value)
        if facet == "contract":
            return CONTRACTS.get(value, value)
        return WORKING_TIMES.get(value, value)
