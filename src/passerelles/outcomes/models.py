"""InserJeunes rates by formation and région, as the DEPP and the DARES publish them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from passerelles.db import Base


class TrainingOutcome(Base):
    """What became of the last-year students of one formation in one région (``region_code`` ``FR``: the
    whole country), for one millésime and one way (apprentissage or voie scolaire). A rate is ``None``
    when the publisher masked it (too few students) or left it empty; ``masked`` names those."""

    __tablename__ = "training_outcome"
    __table_args__ = (
        UniqueConstraint("millesime", "region_code", "formation_code", "pathway", name="uq_training_outcome_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    millesime: Mapped[str] = mapped_column(String(9))  # 2022-2023: the two years of leavers cumulated
    region_code: Mapped[str] = mapped_column(String(3), index=True)
    formation_code: Mapped[str] = mapped_column(String(11))  # code formation diplôme or MEFSTAT11
    pathway: Mapped[str] = mapped_column(String(20))  # apprentissage | scolaire | ensemble
    diploma_type: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    certification_id: Mapped[int | None] = mapped_column(
        ForeignKey("certification.id", ondelete="SET NULL"), index=True
    )
    study_rate: Mapped[int | None] = mapped_column(Integer)  # taux de poursuite d'études, %
    employment_6m: Mapped[int | None] = mapped_column(Integer)  # taux d'emploi 6 mois après la sortie, %
    employment_12m: Mapped[int | None] = mapped_column(Integer)
    value_added: Mapped[float | None] = mapped_column(Float)  # points above (or below) the expected rate
    final_year: Mapped[int | None] = mapped_column(Integer)  # nb en année terminale
    leavers: Mapped[int | None] = mapped_column(Integer)  # nb de sortants
    masked: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    row_hash: Mapped[str] = mapped_column(String(40))
