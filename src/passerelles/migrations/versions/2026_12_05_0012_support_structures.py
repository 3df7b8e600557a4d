"""support structures and their services (data·inclusion schema v1)

Revision ID: 0012_support_structures
Revises: 0011_public_services
Create Date: 2026-12-05 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_support_structures"
down_revision: str | None = "0011_public_services"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "support_structure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("postcode", sa.String(length=5), nullable=True),
        sa.Column("commune_code", sa.String(length=5), nullable=True),
        sa.Column("commune_name", sa.String(length=100), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("website", sa.String(length=2083), nullable=True),
        sa.Column("hours", sa.Text(), nullable=True),
        sa.Column("networks", sa.JSON(), nullable=False),
        sa.Column("source_url", sa.String(length=2083), nullable=True),
        sa.Column("updated_on", sa.Date(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("row_hash", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_structure")),
        sa.UniqueConstraint("source_id", name=op.f("uq_support_structure_source_id")),
    )
    with op.batch_alter_table("support_structure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_support_structure_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_support_structure_commune_code"), ["commune_code"], unique=False)
        batch_op.create_index("ix_support_structure_position", ["latitude", "longitude"], unique=False)
    op.create_table(
        "support_service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("modes", sa.JSON(), nullable=False),
        sa.Column("fees", sa.String(length=20), nullable=True),
        sa.Column("access", sa.Text(), nullable=True),
        sa.Column("link", sa.String(length=2083), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("hours", sa.Text(), nullable=True),
        sa.Column("row_hash", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["support_structure.id"],
            name=op.f("fk_support_service_structure_id_support_structure"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_service")),
        sa.UniqueConstraint("source_id", name=op.f("uq_support_service_source_id")),
    )
    with op.batch_alter_table("support_service", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_support_service_structure_id"), ["structure_id"], unique=False)


def downgrade() -> None:
    op.drop_table("support_service")
    op.drop_table("support_structure")
