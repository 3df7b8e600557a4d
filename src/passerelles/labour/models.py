"""BMO hiring projects and Dares tension indicators, as their publishers lay them out (one row each)."""

from __future__ import annotations

from sqlalchemy import Float, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from passerelles.db import Base


class BmoProject(Base):
    """One row of the BMO open-data workbook: a year × BMO occupation × bassin d'emploi. A count the publisher
    masked (``*``, too few answers) is ``NULL``."""

    __tablename__ = "bmo_project"
    __table_args__ = (
        UniqueConstraint("year", "bmo_code", "bassin_code"),
        Index("ix_bmo_project_code_year", "bmo_code", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger)  # ``annee``
    bmo_code: Mapped[str] = mapped_column(String(10))  # ``Code métier BMO`` (a FAP code)
    bmo_name: Mapped[str] = mapped_column(String(200))  # ``Nom métier BMO``
    family_code: Mapped[str] = mapped_column(String(10))  # ``Famille_met``
    family_name: Mapped[str] = mapped_column(String(200))  # ``Lbl_fam_met``
    region_code: Mapped[str] = mapped_column(String(3))  # ``REG``
    region_name: Mapped[str] = mapped_column(String(100))  # ``NOM_REG``
    departement_code: Mapped[str] = mapped_column(String(3), index=True)  # ``Dept``
    departement_name: Mapped[str] = mapped_column(String(100))  # ``NomDept``
    bassin_code: Mapped[str] = mapped_column(String(6))  # ``BE26`` (named after the bassins' year)
    bassin_name: Mapped[str] = mapped_column(String(150))  # ``NOMBE26``
    projects: Mapped[int | None] = mapped_column(Integer)  # ``met``
    difficult: Mapped[int | None] = mapped_column(Integer)  # ``xmet``
    seasonal: Mapped[int | None] = mapped_column(Integer)  # ``smet``
    row_hash: Mapped[str] = mapped_column(String(40))


class TensionIndicator(Base):
    """One row of the Dares tension indicators: a year × FAP family × territory (France, région or
    département). Components are quintiles 1 (lowers tension) to 5 (raises it); ``NULL`` where the
    publisher gives none (too few people)."""

    __tablename__ = "tension_indicator"
    __table_args__ = (
        UniqueConstraint("year", "fap_code", "geo_level", "geo_code"),
        Index("ix_tension_indicator_fap_year", "fap_code", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger)  # ``Année``
    fap_code: Mapped[str] = mapped_column(String(5))  # ``fap`` (FAP 225 or FAP 87)
    fap_level: Mapped[str] = mapped_column(String(10))  # ``niveau_fap``: « fap 225 », « fap 87 »
    geo_level: Mapped[str] = mapped_column(String(3))  # ``niveau_geo``: nat, reg, dep
    geo_code: Mapped[str] = mapped_column(String(3))  # ``reg`` or ``dep``; empty for France
    employment: Mapped[int | None] = mapped_column(Integer)  # ``Emploi moyen``
    tension: Mapped[float | None] = mapped_column(Float)  # ``Tension`` (centred, reduced)
    category: Mapped[int | None] = mapped_column(SmallInteger)  # ``Catégorie Tension`` 1–5
    hiring_intensity: Mapped[int | None] = mapped_column(SmallInteger)  # ``Intensité d'embauches``
    training_link: Mapped[int | None] = mapped_column(SmallInteger)  # ``Lien formation-emploi``
    labour_shortage: Mapped[int | None] = mapped_column(SmallInteger)  # ``Manque de main-d'œuvre disponible``
    non_durable: Mapped[int | None] = mapped_column(SmallInteger)  # ``Non-durabilité de l'emploi``
    working_conditions: Mapped[int | None] = mapped_column(SmallInteger)  # ``Conditions de travail contraignantes``
    geographic_mismatch: Mapped[int | None] = mapped_column(SmallInteger)  # ``Inadéquation géographique``
    row_hash: Mapped[str] = mapped_column(String(40))
