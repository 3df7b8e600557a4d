"""A map of training sessions and job offers around a place, drawn as server-side SVG (``maps/_around.html``)."""

from __future__ import annotations

from pydantic import BaseModel


class MapPoint(BaseModel):
    code_insee: str
    name: str
    departement: str
    sessions: int
    offers: int
    x: float  # SVG user units, 0..width
    y: float
    r: float
    labelled: bool = False  # its name is written on the map (the biggest points whose labels do not overlap)


class AroundMap(BaseModel):
    title: str
    place_label: str
    width: int
    height: int
    points: list[MapPoint]  # most sessions + offers first
    centre: tuple[float, float] | None = None  # SVG position of the chosen commune, when one is
    centre_name: str | None = None
    radius_r: float | None = None  # the search circle's radius in SVG units
    sessions: int = 0
    offers: int = 0
    hidden: int = 0  # communes left off the map (beyond ``MAX_POINTS``)
    has_demo: bool = False
    sessions_url: str | None = None
    offers_url: str | None = None
