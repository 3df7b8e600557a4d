"""RNCP sheets and blocs de compétences (France Compétences); InserJeunes outcomes by formation and région

Revision ID: 0016_rncp_inserjeunes
Revises: 0013_apply_loop
Create Date: 2026-12-06 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_rncp_inserjeunes"
down_revision: str | None = "0015_labour_market"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rncp_sheet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=12), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("title_key", sa.String(length=300), nullable=False),
        sa.Column("acronym", sa.String(length=60), nullable=True),
        sa.Column("level_eu", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=60), nullable=True),
        sa.Column("registration", sa.String(length=60), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("effect_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("certifiers", sa.JSON(), nullable=False),
        sa.Column("routes", sa.JSON(), nullable=False),
        sa.Column("rome", sa.JSON(), nullable=False),
        sa.Column("formacodes", sa.JSON(), nullable=False),
        sa.Column("row_hash", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rncp_sheet")),
        sa.UniqueConstraint("number", name=op.f("uq_rncp_sheet_number")),
    )
    with op.batch_alter_table("rncp_sheet", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rncp_sheet_title_key"), ["title_key"], unique=False)
    op.create_table(
        "rncp_bloc",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("sheet_number", sa.String(length=12), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("title_key", sa.String(length=200), nullable=False),
        sa.Column("row_hash", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rncp_bloc")),
        sa.UniqueConstraint("code", name=op.f("uq_rncp_bloc_code")),
    )
    with op.batch_alter_table("rncp_bloc", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rncp_bloc_sheet_number"), ["sheet_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_rncp_bloc_title_key"), ["title_key"], unique=False)
    op.create_table(
        "training_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("millesime", sa.String(length=9), nullable=False),
        sa.Column("region_code", sa.String(length=3), nullable=False),
        sa.Column("formation_code", sa.String(length=11), nullable=False),
        sa.Column("pathway", sa.String(length=20), nullable=False),
        sa.Column("diploma_type", sa.String(length=40), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("certification_id", sa.Integer(), nullable=True),
        sa.Column("study_rate", sa.Integer(), nullable=True),
        sa.Column("employment_6m", sa.Integer(), nullable=True),
        sa.Column("employment_12m", sa.Integer(), nullable=True),
        sa.Column("value_added", sa.Float(), nullable=True),
        sa.Column("final_year", sa.Integer(), nullable=True),
        sa.Column("leavers", sa.Integer(), nullable=True),
        sa.Column("masked", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("row_hash", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["certification_id"],
            ["certification.id"],
            name=op.f("fk_training_outcome_certification_id_certification"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_outcome")),
        sa.UniqueConstraint(
            "millesime",
            "region_code",
            "formation_code",
            "pathway",
            name="uq_training_outcome_key",
        ),
    )
    with op.batch_alter_table("training_outcome", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_outcome_region_code"), ["region_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_outcome_certification_id"), ["certification_id"], unique=False)


def downgrade() -> None:
    op.drop_table("training_outcome")
    op.drop_table("rncp_bloc")
    op.drop_table("rncp_sheet")
