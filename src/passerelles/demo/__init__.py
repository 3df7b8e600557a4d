"""Demonstration data: realistic, schema-valid, seeded and clearly labelled as fictitious.

No real regional training catalogue (LHÉO) or job-offer feed (France Travail Offres d'emploi v2) can be
downloaded in every environment, yet benchmarks and demos need volume. ``passerelles.demo.generator``
writes such files from the project's reference facts (certifications, occupations) and the shared open
data (COG communes with La Poste coordinates, ROME 4.60 appellations), streaming to disk::

    python -m passerelles.demo.generator lheo OUT.xml --sessions 300000 --seed 1
    python -m passerelles.demo.generator offers OUT.jsonl --offers 1000000 --seed 1

Every organisation, training title, description and employer carries the label
``(données de démonstration)`` so that pages can flag it. The generator module is not imported here, so
``python -m passerelles.demo.generator`` runs without a double-import warning.
"""

DEMO_LABEL = "données de démonstration"

__all__ = ["DEMO_LABEL"]
