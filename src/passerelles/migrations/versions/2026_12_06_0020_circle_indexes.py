"""An occupation's open offers newest first with their place; circles around a commune for one occupation or certification: open offers by ROME code then latitude
(with contract and working time), listed sessions by certification then latitude, read from the index alone

Indexes only.

Revision ID: 0020_circle_indexes
Revises: 0019_listed_session_filters
Create Date: 2026-12-06 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_circle_indexes"
down_revision: str | None = "0019_listed_session_filters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTED = sa.text("closed_at IS NULL AND full_session_id IS NULL")
OPEN = sa.text("closed_at IS NULL")
FILTERS = ["route_mask", "modality", "recruitment_state", "registration_start", "registration_end"]


def upgrade() -> None:
    # An occupation's open offers newest first, with their place (a page of a département or région).
    op.drop_index("ix_job_offer_open_rome", table_name="job_offer")
    op.create_index(
        "ix_job_offer_open_rome",
        "job_offer",
        ["closed_at", "code_rome", "published_at", "id", "commune_code", "latitude", "longitude"],
    )
    op.create_index(
        "ix_job_offer_open_rome_place",
        "job_offer",
        ["code_rome", "latitude", "longitude", "contract_type", "working_time", "published_at", "closed_at"],
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_index(
        "ix_training_session_listed_cert_place",
        "training_session",
        [
            "certification_id", "latitude", "longitude", "start_date", "commune_code", "is_demo", "duration_hours",
            *FILTERS, "closed_at", "full_session_id",
        ],
        sqlite_where=LISTED,
        postgresql_where=LISTED,
    )  # fmt: skip
    op.execute("ANALYZE job_offer")
    op.execute("ANALYZE training_session")


def downgrade() -> None:
    op.drop_index("ix_training_session_listed_cert_place", table_name="training_session")
    op.drop_index("ix_job_offer_open_rome_place", table_name="job_offer")
    op.drop_index("ix_job_offer_open_rome", table_name="job_offer")
    op.create_index("ix_job_offer_open_rome", "job_offer", ["closed_at", "code_rome"])
