"""indexes for « /formations » (upcoming open sessions by start date); labour-market panel aggregates: open offers, weekly publications, pay bins and employers per ROME code ×
département, kept by the imports (an empty store starts maintained; a filled one waits for its next offers
import or ``passerelles emploi agreger``)

Revision ID: 0014_market_aggregates
Revises: 0013_apply_loop
Create Date: 2026-12-06 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_market_aggregates"
down_revision: str | None = "0013_apply_loop"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key() -> list[sa.Column]:
    return [
        sa.Column("code_rome", sa.String(length=5), nullable=False),
        sa.Column("departement", sa.String(length=3), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "offer_market_week",
        *_key(),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.Column("demo", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code_rome", "departement", "week", name=op.f("pk_offer_market_week")),
    )
    op.create_table(
        "offer_market_open",
        *_key(),
        sa.Column("contract_type", sa.String(length=10), nullable=False),
        sa.Column("working_time", sa.String(length=20), nullable=False),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.Column("demo", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "code_rome", "departement", "contract_type", "working_time", name=op.f("pk_offer_market_open")
        ),
    )
    op.create_table(
        "offer_market_pay",
        *_key(),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("euros", sa.Integer(), nullable=False),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code_rome", "departement", "kind", "euros", name=op.f("pk_offer_market_pay")),
    )
    op.create_table(
        "offer_market_employer",
        *_key(),
        sa.Column("employer_name", sa.Text(), nullable=False),
        sa.Column("structure_type", sa.String(length=40), nullable=False),
        sa.Column("city", sa.String(length=200), nullable=False),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "code_rome",
            "departement",
            "employer_name",
            "structure_type",
            "city",
            name=op.f("pk_offer_market_employer"),
        ),
    )
    op.create_table(
        "offer_market_commune",
        sa.Column("code_rome", sa.String(length=5), nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.Column("departement", sa.String(length=3), nullable=False),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.Column("demo", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code_rome", "commune_code", name=op.f("pk_offer_market_commune")),
    )
    with op.batch_alter_table("offer_market_commune", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_market_commune_departement"), ["departement"], unique=False)
    op.create_table(
        "offer_market_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_market_state")),
    )
    with op.batch_alter_table("training_session", schema=None) as batch_op:
        batch_op.create_index(
            "ix_training_session_open_start", ["closed_at", "start_date", "commune_code", "is_demo"], unique=False
        )
        batch_op.create_index(
            "ix_training_session_cert_open_start",
            ["certification_id", "closed_at", "start_date", "commune_code", "is_demo"],
            unique=False,
        )
        batch_op.create_index(
            "ix_training_session_open_place",
            ["closed_at", "latitude", "longitude", "start_date", "certification_id"],
            unique=False,
        )
    with op.batch_alter_table("job_offer", schema=None) as batch_op:
        batch_op.create_index(
            "ix_job_offer_open_place",
            ["closed_at", "latitude", "longitude", "code_rome", "published_at"],
            unique=False,
        )
    # An empty store is described by empty aggregates: maintained from its first offer on. A filled one is
    # aggregated by its next offers import (or ``passerelles emploi agreger``); its panel counts offers until then.
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT 1 FROM job_offer LIMIT 1")).first() is None:
        state = sa.table(
            "offer_market_state",
            sa.column("id", sa.Integer()),
            sa.column("refreshed_at", sa.DateTime(timezone=True)),
            sa.column("offers", sa.Integer()),
            sa.column("seconds", sa.Float()),
        )
        op.execute(state.insert().values(id=1, refreshed_at=sa.func.current_timestamp(), offers=0, seconds=0.0))


def downgrade() -> None:
    with op.batch_alter_table("job_offer", schema=None) as batch_op:
        batch_op.drop_index("ix_job_offer_open_place")
    with op.batch_alter_table("training_session", schema=None) as batch_op:
        batch_op.drop_index("ix_training_session_open_place")
        batch_op.drop_index("ix_training_session_cert_open_start")
        batch_op.drop_index("ix_training_session_open_start")
    for name in (
        "offer_market_state",
        "offer_market_commune",
        "offer_market_employer",
        "offer_market_pay",
        "offer_market_open",
        "offer_market_week",
    ):
        op.drop_table(name)
