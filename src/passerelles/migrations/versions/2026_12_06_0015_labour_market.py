"""labour market: BMO hiring projects (France Travail) and tension indicators (Dares)

Revision ID: 0015_labour_market
Revises: 0014_market_aggregates
Create Date: 2026-12-06 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_labour_market"
down_revision: str | None = "0014_market_aggregates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bmo_project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("bmo_code", sa.String(length=10), nullable=False),
        sa.Column("bmo_name", sa.String(length=200), nullable=False),
        sa.Column("family_code", sa.String(length=10), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=3), nullable=False),
        sa.Column("region_name", sa.String(length=100), nullable=False),
        sa.Column("departement_code", sa.String(length=3), nullable=False),
        sa.Column("departement_name", sa.String(length=100), nullable=False),
        sa.Column("bassin_code", sa.String(length=6), nullable=False),
        sa.Column("bassin_name", sa.String(length=150), nullable=False),
        sa.Column("projects", sa.Integer(), nullable=True),
        sa.Column("difficult", sa.Integer(), nullable=True),
        sa.Column("seasonal", sa.Integer(), nullable=True),
        sa.Column("row_hash", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bmo_project")),
        sa.UniqueConstraint("year", "bmo_code", "bassin_code", name=op.f("uq_bmo_project_year_bmo_code_bassin_code")),
    )
    with op.batch_alter_table("bmo_project", schema=None) as batch_op:
        batch_op.create_index("ix_bmo_project_code_year", ["bmo_code", "year"], unique=False)
        batch_op.create_index(batch_op.f("ix_bmo_project_departement_code"), ["departement_code"], unique=False)
    op.create_table(
        "tension_indicator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("fap_code", sa.String(length=5), nullable=False),
        sa.Column("fap_level", sa.String(length=10), nullable=False),
        sa.Column("geo_level", sa.String(length=3), nullable=False),
        sa.Column("geo_code", sa.String(length=3), nullable=False),
        sa.Column("employment", sa.Integer(), nullable=True),
        sa.Column("tension", sa.Float(), nullable=True),
        sa.Column("category", sa.SmallInteger(), nullable=True),
        sa.Column("hiring_intensity", sa.SmallInteger(), nullable=True),
        sa.Column("training_link", sa.SmallInteger(), nullable=True),
        sa.Column("labour_shortage", sa.SmallInteger(), nullable=True),
        sa.Column("non_durable", sa.SmallInteger(), nullable=True),
        sa.Column("working_conditions", sa.SmallInteger(), nullable=True),
        sa.Column("geographic_mismatch", sa.SmallInteger(), nullable=True),
        sa.Column("row_hash", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tension_indicator")),
        sa.UniqueConstraint(
            "year",
            "fap_code",
            "geo_level",
            "geo_code",
            name=op.f("uq_tension_indicator_year_fap_code_geo_level_geo_code"),
        ),
    )
    with op.batch_alter_table("tension_indicator", schema=None) as batch_op:
        batch_op.create_index("ix_tension_indicator_fap_year", ["fap_code", "year"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tension_indicator", schema=None) as batch_op:
        batch_op.drop_index("ix_tension_indicator_fap_year")
    op.drop_table("tension_indicator")
    with op.batch_alter_table("bmo_project", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bmo_project_departement_code"))
        batch_op.drop_index("ix_bmo_project_code_year")
    op.drop_table("bmo_project")
