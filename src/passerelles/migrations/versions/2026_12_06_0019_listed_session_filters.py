"""Sessions' access routes as bits (``route_mask``), and the search's own filters (route, modality, registration)
held by the listed sessions' indexes: « voie », « modalité » and « inscriptions ouvertes » read the index alone

Revision ID: 0019_listed_session_filters
Revises: 0018_listed_sessions
Create Date: 2026-12-06 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_listed_session_filters"
down_revision: str | None = "0018_listed_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTED = sa.text("closed_at IS NULL AND full_session_id IS NULL")
COLUMNS = ["closed_at", "full_session_id"]  # always NULL there: SQLite then reads the index alone
FILTERS = ["route_mask", "modality", "recruitment_state", "registration_start", "registration_end"]
BITS = {"initiale": 1, "continue": 2, "apprentissage": 4, "vae": 8}  # as trainings.models.ROUTE_BITS
INDEXES = {
    "ix_training_session_listed_start": [
        "start_date", "id", "commune_code", "certification_id", "is_demo", "latitude", "longitude"
    ],
    "ix_training_session_listed_cert": [
        "certification_id", "start_date", "commune_code", "is_demo", "latitude", "longitude"
    ],
    "ix_training_session_listed_commune": ["commune_code", "start_date", "certification_id", "is_demo"],
    "ix_training_session_listed_place": [
        "latitude", "longitude", "start_date", "certification_id", "commune_code", "is_demo", "duration_hours"
    ],
}  # fmt: skip


def _indexes(filters: list[str]) -> None:
    listed = {"sqlite_where": LISTED, "postgresql_where": LISTED}
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="training_session")
        op.create_index(name, "training_session", [*columns, *filters, *COLUMNS], **listed)


def upgrade() -> None:
    with op.batch_alter_table("training_session") as batch_op:
        batch_op.add_column(sa.Column("route_mask", sa.Integer(), server_default=sa.text("0"), nullable=False))
    mask = " + ".join(
        f"(CASE WHEN CAST(routes AS TEXT) LIKE '%\"{route}\"%' THEN {bit} ELSE 0 END)" for route, bit in BITS.items()
    )
    # Constant text (the routes and their bits above), no input.
    op.execute(f"UPDATE training_session SET route_mask = {mask} WHERE CAST(routes AS TEXT) <> '[]'")  # noqa: S608
    _indexes(FILTERS)
    op.execute("ANALYZE training_session")


def downgrade() -> None:
    _indexes([])
    with op.batch_alter_table("training_session") as batch_op:
        batch_op.drop_column("route_mask")
