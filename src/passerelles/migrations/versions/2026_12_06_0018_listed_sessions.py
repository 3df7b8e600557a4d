"""Partial indexes of the sessions the lists show (open, not a linked summary), read alone by counts, pages and
maps; open offers newest first (of all ROME codes, or of one with its communes) for PostgreSQL

Indexes only: SQLite builds them in place (seconds on a national store).

Revision ID: 0018_listed_sessions
Revises: 0017_lheo_registration_refresh
Create Date: 2026-12-06 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_listed_sessions"
down_revision: str | None = "0017_lheo_registration_refresh"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTED = sa.text("closed_at IS NULL AND full_session_id IS NULL")
COLUMNS = ["closed_at", "full_session_id"]  # always NULL there: SQLite then reads the index alone
OPEN = sa.text("closed_at IS NULL")
NEWEST = [sa.text("published_at DESC NULLS LAST"), sa.text("id DESC")]


def upgrade() -> None:
    op.drop_index("ix_training_session_open_start", table_name="training_session")
    op.drop_index("ix_training_session_cert_open_start", table_name="training_session")
    op.drop_index("ix_training_session_open_place", table_name="training_session")
    listed = {"sqlite_where": LISTED, "postgresql_where": LISTED}
    op.create_index(
        "ix_training_session_listed_start",
        "training_session",
        ["start_date", "id", "commune_code", "certification_id", "is_demo", "latitude", "longitude", *COLUMNS],
        **listed,
    )
    op.create_index(
        "ix_training_session_listed_cert",
        "training_session",
        ["certification_id", "start_date", "commune_code", "is_demo", "latitude", "longitude", *COLUMNS],
        **listed,
    )
    op.create_index(
        "ix_training_session_listed_commune",
        "training_session",
        ["commune_code", "start_date", "certification_id", "is_demo", *COLUMNS],
        **listed,
    )
    op.create_index(
        "ix_training_session_listed_place",
        "training_session",
        [
            "latitude",
            "longitude",
            "start_date",
            "certification_id",
            "commune_code",
            "is_demo",
            "duration_hours",
            *COLUMNS,
        ],
        **listed,
    )
    if op.get_bind().dialect.name != "postgresql":  # SQLite has no NULLS LAST index (nor needs one: see the model)
        op.execute("ANALYZE training_session")
        return
    op.create_index("ix_job_offer_open_newest", "job_offer", NEWEST, postgresql_where=OPEN)
    op.create_index(
        "ix_job_offer_open_rome_newest",
        "job_offer",
        [sa.text("code_rome"), *NEWEST, sa.text("commune_code"), sa.text("latitude"), sa.text("longitude")],
        postgresql_where=OPEN,
    )
    op.execute("ANALYZE training_session")
    op.execute("ANALYZE job_offer")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_job_offer_open_rome_newest", table_name="job_offer")
        op.drop_index("ix_job_offer_open_newest", table_name="job_offer")
    op.drop_index("ix_training_session_listed_place", table_name="training_session")
    op.drop_index("ix_training_session_listed_commune", table_name="training_session")
    op.drop_index("ix_training_session_listed_cert", table_name="training_session")
    op.drop_index("ix_training_session_listed_start", table_name="training_session")
    op.create_index(
        "ix_training_session_cert_open_start",
        "training_session",
        ["certification_id", "closed_at", "start_date", "commune_code", "is_demo"],
    )
    op.create_index(
        "ix_training_session_open_start", "training_session", ["closed_at", "start_date", "commune_code", "is_demo"]
    )
    op.create_index(
        "ix_training_session_open_place",
        "training_session",
        ["closed_at", "latitude", "longitude", "start_date", "certification_id"],
    )
