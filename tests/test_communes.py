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


def test_one_name_key_for_every_way_of_writing_a_commune() -> None:
    from passerelles.places.names import name_key

    written = ["Saint-Étienne", "ST ETIENNE", "st-étienne cedex 2", "Saint Etienne", "SAINT-ETIENNE CEDEX"]
    assert {name_key(w) for w in written} == {"SAINT ETIENNE"}
    assert name_key("Sainte-Foy-lès-Lyon") == name_key("STE FOY LES LYON")
    assert name_key("Saint-Denis") != name_key("Saint-Étienne")


def test_places_typed_with_an_abbreviation_are_found(session: Session) -> None:
    from passerelles.places.services import place_index

    index = place_index(session)
    found = index.find_commune("St-Étienne")
    assert found is not None and found.code_insee == "42218"
    assert index.find_commune("saint etienne (42)") == found


def test_the_one_distance_is_the_great_circle_distance() -> None:
    from passerelles.places.geo import haversine_km

    # Paris (Notre-Dame) to Lyon (Bellecour): 392 km as the crow flies.
    assert 390 < haversine_km(48.853, 2.3499, 45.7578, 4.832) < 394
    assert haversine_km(45.0, 5.0, 45.0, 5.0) == 0.0
    assert abs(haversine_km(0.0, 0.0, 0.0, 180.0) - 20015.1) < 1  # half the equator, mean radius


def test_the_importers_resolver_reads_a_catalogues_city_within_its_postcode_area(session: Session) -> None:
    from passerelles.places.resolver import CommuneIndex

    index = CommuneIndex.load(session.connection())
    assert index.named_in_postcode_area(None, "42000", "ST ETIENNE") == "42218"
    # A CEDEX postcode is no commune's: the one commune of that name in its département.
    assert index.named_in_postcode_area(None, "42961", "Saint-Étienne Cedex 9") == "42218"
    assert index.named_in_postcode_area("42218", None, None) == "42218"
    assert index.named_in_postcode_area(None, "42000", "Atlantide") is None
    assert index.named_in_postcode_area(None, None, "Saint-Étienne") is None  # a name alone is not enough here
    assert index.coordinates("42218")[0] is not None
