"""open offers by publication date (the « /emploi » list: open offers, newest first)

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-23 20:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_job_offer_open_published", "job_offer", ["closed_at", "published_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_job_offer_open_published", table_name="job_offer")
