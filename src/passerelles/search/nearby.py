"""Around a commune: the map cells a circle covers, exact distances, and the nearest records first."""

from __future__ import annotations

import math
from typing import Any

import tantivy

from passerelles.places.geo import EARTH_RADIUS_KM, haversine_km
from passerelles.search.fields import CELL_DEGREES, COARSE_CELLS
from passerelles.search.query import TextQueries, Words

DISTANCE_CANDIDATES = 20000  # radius and distance sort: candidates examined exactly
MAX_CELLS = 30  # beyond, a circle is read from the large map cells
MAX_POINTS = 20000  # places counted at most in one search sorted by distance


class Nearby(TextQueries):
    """Records within a circle, or sorted by distance (a base of ``SearchEngine``)."""

    def _within(
        self, hits: list[tuple[float, Any, float | None]], circle: tuple[float, float, float]
    ) -> list[tuple[float, Any, float | None]]:
        """The hits inside the circle (exact distance from the documents' coordinates), with it."""
        lat0, lon0, radius = circle
        addrs = [a for _k, a, _d in hits]
        if not addrs:
            return []
        lats = self.searcher.fast_field_values("lat", addrs)
        lons = self.searcher.fast_field_values("lon", addrs)
        kept: list[tuple[float, Any, float | None]] = []
        known: dict[tuple[float, float], float] = {}  # records share places (a commune's centre): measured once
        for (key, addr, _d), la, lo in zip(hits, lats, lons, strict=True):
            if la is not None and lo is not None:
                d = known.get((la, lo))
                if d is None:
                    d = known[(la, lo)] = haversine_km(lat0, lon0, la, lo)
                if d <= radius:
                    kept.append((key, addr, d))
        return kept

    def _cells(self, kind: str, lat: float, lon: float, radius: float) -> list[str]:
        """The map cells of ``kind`` (see passerelles.search.fields.CELL_DEGREES) that cover the circle's
        square: small cells, or the large ones when the small would be many."""
        dlat = radius / 111.2
        dlon = radius / (111.32 * max(0.01, math.cos(math.radians(lat))))
        for prefix, size in ((kind[0], CELL_DEGREES), (kind[0].upper(), CELL_DEGREES * COARSE_CELLS)):
            rows = range(math.floor((lat - dlat) / size), math.floor((lat + dlat) / size) + 1)
            columns = range(math.floor((lon - dlon) / size), math.floor((lon + dlon) / size) + 1)
            if len(rows) * len(columns) <= MAX_CELLS or prefix.isupper():
                return [f"{prefix}{i}:{j}" for i in rows for j in columns]
        raise AssertionError("unreachable")

    def _geo(self, words: Words, kinds: list[str], lat: float, lon: float, radius: float) -> tantivy.Query:
        """Records of ``kinds`` in the cells around the point that hold the words (or all of them)."""
        s = self.schema
        cells = [c for kind in kinds for c in self._cells(kind, lat, lon, radius)]
        if words.empty:
            queries = [tantivy.Query.term_query(s, "tg", f"@{c}") for c in cells]
        else:
            queries = [words.query(s, "tg", f"{t}@{c}", t, weight) for c in cells for t, weight in words.items()]
            queries += [
                words.all_of(s, "tg", [f"{t}@{c}" for t in phrase], weight)
                for c in cells
                for phrase, weight in words.phrases
            ]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])

    def _nearest(
        self,
        kinds: list[str],
        words: Words,
        filters: list[tantivy.Query],
        circle: tuple[float, float, float],
        need: int,
    ) -> tuple[list[tuple[int, float, Any, float | None]], int, bool]:
        """Sorted by distance: circles of growing size around the commune until one holds a page of records
        (those are then the nearest of all), each read from the postings of the cells it covers.

        Records are counted per place (a terms aggregation on ``point``, in tantivy): only the places are
        measured, then the records of the nearest places fetched. Records often share a place (a
        commune's centre), so a city's thousands of offers are a few hundred places."""
        lat0, lon0, radius = circle
        rho = max(2.0, radius / 8)
        while True:
            rho = min(rho, radius)
            query = self._combine(self._geo(words, kinds, lat0, lon0, rho), filters)
            agg = self.searcher.aggregate(query, {"p": {"terms": {"field": "point", "size": MAX_POINTS}}})["p"]
            if agg.get("sum_other_doc_count"):  # too many places to count them all: measure each record
                res = self.searcher.search(query, DISTANCE_CANDIDATES, count=False)
                hits = self._within([(0.0, a, None) for _s, a in res.hits], (lat0, lon0, rho))
                hits.sort(key=lambda x: x[2] or 0.0)
                if rho >= radius or len(hits) >= need:
                    return [(0, 0.0, a, d) for _k, a, d in hits[:need]], len(hits), False
                rho *= 3
                continue
            places = self._places_within(agg["buckets"], lat0, lon0, rho, need)
            inside = sum(n for _d, _k, n in places)
            if rho >= radius or inside >= need:
                return self._at_places(query, places, need), inside, rho >= radius
            rho *= 3

    @staticmethod
    def _places_within(buckets: list[dict[str, Any]], lat0: float, lon0: float, radius: float, need: int) -> list[Any]:
        """(distance, point, records) of the aggregated places within ``radius``, nearest first.

        Places are first put on a flat map (within 0.05 % of the great-circle distance up to 300 km: a few
        float operations); only those near the circle's edge, or among the nearest, are measured exactly."""
        ky = EARTH_RADIUS_KM * math.pi / 180
        half = math.pi / 360
        near_edge, margin = [], 0.005 * radius + 0.01
        sure: list[tuple[float, str, int]] = []
        for bucket in buckets:
            key = bucket["key"]
            la, _comma, lo = key.partition(",")
            lat = float(la)
            d = math.hypot((lat - lat0) * ky, (float(lo) - lon0) * ky * math.cos((lat + lat0) * half))
            if d <= radius - margin:
                sure.append((d, key, int(bucket["doc_count"])))
            elif d <= radius + margin:
                near_edge.append((key, int(bucket["doc_count"])))
        out = []
        for key, n in near_edge:
            la, _comma, lo = key.partition(",")
            d = haversine_km(lat0, lon0, float(la), float(lo))
            if d <= radius:
                out.append((d, key, n))
        sure.sort()
        # The places that fill the page are measured exactly (the flat distance may swap close places),
        # and those within the flat map's error of the last of them.
        cutoff, count = math.inf, 0
        for i, (d, key, n) in enumerate(sure):
            if d > cutoff:
                out += sure[i:]  # beyond the page: their order and distance are not shown
                break
            la, _comma, lo = key.partition(",")
            out.append((haversine_km(lat0, lon0, float(la), float(lo)), key, n))
            count += n
            if count >= need and cutoff == math.inf:
                cutoff = d + 2 * margin
        out.sort()
        return out

    def _at_places(
        self, query: tantivy.Query, places: list[tuple[float, str, int]], need: int
    ) -> list[tuple[int, float, Any, float | None]]:
        """The ``need`` records of ``query`` at the nearest of ``places`` (distance, point, count), nearest
        first: every record of the places before the last one needed, the best of that last one."""
        out: list[tuple[int, float, Any, float | None]] = []
        whole: list[str] = []
        taken = 0
        distance: dict[str, float] = {}
        for d, key, n in places:
            distance[key] = d
            if taken + n < need:
                whole.append(key)
                taken += n
                continue
            groups = [(whole, taken), ([key], need - taken)] if whole else [([key], need - taken)]
            break
        else:
            groups = [(whole, taken)] if whole else []
        for keys, limit in groups:
            if limit <= 0:
                continue
            res = self.searcher.search(self._combine(query, [self._terms("point", keys)]), limit, count=False)
            addrs = [a for _s, a in res.hits]
            if addrs:
                lats = self.searcher.fast_field_values("lat", addrs)
                lons = self.searcher.fast_field_values("lon", addrs)
                for a, la, lo in zip(addrs, lats, lons, strict=True):
                    out.append((0, 0.0, a, distance.get(f"{float(la or 0):.6f},{float(lo or 0):.6f}", 0.0)))
        out.sort(key=lambda x: x[3] or 0.0)
        return out

    def _box(self, lat: float, lon: float, radius: float) -> tantivy.Query:
        s = self.schema
        dlat = radius / 111.2
        dlon = radius / (111.32 * max(0.01, math.cos(math.radians(lat))))
        return tantivy.Query.boolean_query(
            [
                (
                    tantivy.Occur.Must,
                    tantivy.Query.range_query(s, "lat", tantivy.FieldType.Float, lat - dlat, lat + dlat),
                ),
                (
                    tantivy.Occur.Must,
                    tantivy.Query.range_query(s, "lon", tantivy.FieldType.Float, lon - dlon, lon + dlon),
                ),
            ]
        )
