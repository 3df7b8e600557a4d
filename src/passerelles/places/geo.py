"""Distances on the Earth: the one great-circle distance of the project, and a cheap bounding box.

Every importer, service and page measures kilometres with :func:`haversine_km` (mean Earth radius), so that a
session « à moins de 30 km » is the same set in the search index, the trainings and offers lists, the pathway
planner, the employers' candidates and the alerts.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Float, case, cast, func
from sqlalchemy.sql.elements import ColumnElement

EARTH_RADIUS_KM = 6371.0
KM_PER_DEGREE = 111.2  # along a meridian, for bounding boxes only (never for a distance shown)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two (latitude, longitude) points in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(lat_min, lat_max, lon_min, lon_max) around a point: a cheap SQL pre-filter before the exact distance."""
    dlat = radius_km / KM_PER_DEGREE
    dlon = radius_km / (KM_PER_DEGREE * max(0.05, math.cos(math.radians(lat))))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def haversine_sql(lat: Any, lon: Any, centre: tuple[float, float]) -> ColumnElement[float]:
    """:func:`haversine_km` from ``centre`` to the point (``lat``, ``lon``: columns) as a SQL expression, the
    same arithmetic in the same order (SQLite's math functions, PostgreSQL's): a circle filtered and ordered
    in the database holds the very sessions and offers :func:`haversine_km` puts in it, without reading
    every row of its bounding box into Python."""
    p1 = math.radians(centre[0])
    p2 = func.radians(lat)
    half_dp = func.sin((p2 - p1) / 2)
    half_dl = func.sin(func.radians(lon - centre[1]) / 2)
    a = half_dp * half_dp + math.cos(p1) * func.cos(p2) * half_dl * half_dl
    capped = case((a > 1.0, 1.0), else_=a)  # min(1, sqrt(a)) as in Python
    return cast(2 * EARTH_RADIUS_KM * func.asin(func.sqrt(capped)), Float)
