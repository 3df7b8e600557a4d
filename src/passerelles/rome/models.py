"""The ROME 4 referential as France Travail publishes it. Every row keeps its ``rome_version``:
ROME 4 reuses codes with new meanings (K1301 was the AMP's fiche in ROME 3; in ROME 4 the AES is K1306)."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKeyConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from passerelles.db import Base


class RomeFiche(Base):
    __tablename__ = "rome_fiche"

    rome_version: Mapped[str] = mapped_column(String(10), primary_key=True)
    code_rome: Mapped[str] = mapped_column(String(5), primary_key=True)
    code_ogr: Mapped[int] = mapped_column(Integer)
    libelle: Mapped[str] = mapped_column(Text)
    code_fiche_metier: Mapped[str | None] = mapped_column(String(20))
    grand_domaine_code: Mapped[str | None] = mapped_column(String(2))
    grand_domaine_libelle: Mapped[str | None] = mapped_column(Text)
    domaine_code: Mapped[str | None] = mapped_column(String(3))
    domaine_libelle: Mapped[str | None] = mapped_column(Text)
    riasec_majeur: Mapped[str | None] = mapped_column(String(1))
    riasec_mineur: Mapped[str | None] = mapped_column(String(1))
    transition_eco: Mapped[str | None] = mapped_column(String(120))
    transition_num: Mapped[str | None] = mapped_column(String(120))
    transition_demo: Mapped[str | None] = mapped_column(String(120))
    emploi_reglemente: Mapped[bool] = mapped_column(Boolean, default=False)
    emploi_cadre: Mapped[bool] = mapped_column(Boolean, default=False)
    row_hash: Mapped[str] = mapped_column(String(40))


class RomeAppellation(Base):
    __tablename__ = "rome_appellation"
    __table_args__ = (
        ForeignKeyConstraint(["rome_version", "code_rome"], ["rome_fiche.rome_version", "rome_fiche.code_rome"]),
    )

    rome_version: Mapped[str] = mapped_column(String(10), primary_key=True)
    code_ogr: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_rome: Mapped[str] = mapped_column(String(5), index=True)
    libelle_long: Mapped[str] = mapped_column(Text)
    libelle_court: Mapped[str] = mapped_column(Text)
    classification: Mapped[str | None] = mapped_column(String(40))
    emploi_reglemente: Mapped[bool] = mapped_column(Boolean, default=False)
    emploi_cadre: Mapped[bool] = mapped_column(Boolean, default=False)
    peu_usite: Mapped[bool] = mapped_column(Boolean, default=False)
    row_hash: Mapped[str] = mapped_column(String(40))


class RomeItem(Base):
    """A skill (savoir-faire, savoir-être), a piece of knowledge (savoir) or a work context."""

    __tablename__ = "rome_item"

    rome_version: Mapped[str] = mapped_column(String(10), primary_key=True)
    code_ogr: Mapped[int] = mapped_column(Integer, primary_key=True)
    libelle: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))  # savoir_faire | savoir_etre | savoir | contexte
    categorie: Mapped[str | None] = mapped_column(Text)
    sous_categorie: Mapped[str | None] = mapped_column(Text)
    row_hash: Mapped[str] = mapped_column(String(40))


class RomeFicheItem(Base):
    __tablename__ = "rome_fiche_item"
    __table_args__ = (
        ForeignKeyConstraint(["rome_version", "code_rome"], ["rome_fiche.rome_version", "rome_fiche.code_rome"]),
        ForeignKeyConstraint(["rome_version", "code_ogr"], ["rome_item.rome_version", "rome_item.code_ogr"]),
    )

    rome_version: Mapped[str] = mapped_column(String(10), primary_key=True)
    code_rome: Mapped[str] = mapped_column(String(5), primary_key=True)
    code_ogr: Mapped[int] = mapped_column(Integer, primary_key=True)
    bloc: Mapped[int] = mapped_column(Integer)
    coeur_metier: Mapped[str | None] = mapped_column(String(20))  # Principale | Émergente
    row_hash: Mapped[str] = mapped_column(String(40))


class RomeMobility(Base):
    __tablename__ = "rome_mobility"
    __table_args__ = (
        ForeignKeyConstraint(["rome_version", "code_rome"], ["rome_fiche.rome_version", "rome_fiche.code_rome"]),
    )

    rome_version: Mapped[str] = mapped_column(String(10), primary_key=True)
    code_rome: Mapped[str] = mapped_column(String(5), primary_key=True)
    code_rome_cible: Mapped[str] = mapped_column(String(5), primary_key=True)
    ordre: Mapped[int] = mapped_column(Integer)
    row_hash: Mapped[str] = mapped_column(String(40))


class RomeText(Base):
    __tablename__ = "rome_text"
    __table_args__ = (
        ForeignKeyConstraint(["rome_version", "code_rome"], ["rome_fiche.rome_version", "rome_fiche.code_rome"]),
    )

    rome_version: Mapped[str] = mapped_column(String(10), primary_key=True)
    code_rome: Mapped[str] = mapped_column(String(5), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)  # definition | acces_metier
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    row_hash: Mapped[str] = mapped_column(String(40))
