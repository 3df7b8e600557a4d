"""Communes from the INSEE COG with La Poste coordinates, on both engines."""

from __future__ import annotations

from sqlalchemy.orm import Session

from passerelles.places.models import Commune, Departement, Region


def test_regions_and_departements_are_loaded(session: Session) -> None:
    assert session.get(Region, "84").name == "Auvergne-Rhône-Alpes"  # type: ignore[union-attr]
    assert session.get(Departement, "2A").name == "Corse-du-Sud"  # type: ignore[union-attr]
    assert session.query(Departement).count() == 101


def test_communes_have_coordinates(session: Session) -> None:
    lyon = session.get(Commune, "69123")
    assert lyon is not None and lyon.name == "Lyon"
    assert lyon.latitude is not None and 45.6 < lyon.latitude < 45.9
    assert lyon.longitude is not None and 4.7 < lyon.longitude < 5.0
    total = session.query(Commune).count()
    without = session.query(Commune).filter(Commune.latitude.is_(None)).count()
    assert total > 34_000
    assert without < 50
