"""LHÉO registration (terms, information meetings), « léger » summaries linked to their full offer, and the
runs of ``passerelles data refresh``

Plain ``ADD COLUMN``s and indexes (no batch mode, no foreign key): SQLite adds them in place, where a batch
operation would copy the whole session table (minutes on a national store).

Revision ID: 0017_lheo_registration_refresh
Revises: 0016_rncp_inserjeunes
Create Date: 2026-12-06 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_lheo_registration_refresh"
down_revision: str | None = "0016_rncp_inserjeunes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("training", sa.Column("offer_url", sa.Text(), nullable=True))
    op.add_column("training", sa.Column("full_training_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_training_full_training_id"), "training", ["full_training_id"], unique=False)
    op.add_column("training_session", sa.Column("registration_terms", sa.Text(), nullable=True))
    op.add_column(
        "training_session",
        sa.Column("information_dates", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )
    op.add_column("training_session", sa.Column("information_address", sa.Text(), nullable=True))
    op.add_column("training_session", sa.Column("full_session_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_training_session_full_session_id"), "training_session", ["full_session_id"], unique=False)
    op.create_table(
        "refresh_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refresh_id", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_run")),
    )
    op.create_index("ix_refresh_run_source_finished", "refresh_run", ["source", "finished_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_refresh_run_source_finished", table_name="refresh_run")
    op.drop_table("refresh_run")
    op.drop_index(op.f("ix_training_session_full_session_id"), table_name="training_session")
    with op.batch_alter_table("training_session", schema=None) as batch_op:
        batch_op.drop_column("full_session_id")
        batch_op.drop_column("information_address")
        batch_op.drop_column("information_dates")
        batch_op.drop_column("registration_terms")
    op.drop_index(op.f("ix_training_full_training_id"), table_name="training")
    with op.batch_alter_table("training", schema=None) as batch_op:
        batch_op.drop_column("full_training_id")
        batch_op.drop_column("offer_url")
