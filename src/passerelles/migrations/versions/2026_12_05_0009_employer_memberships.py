"""employer memberships (structures are claimed, not joined), contact address, one hire per application

Revision ID: 0009_employer_memberships
Revises: 0008
Create Date: 2026-12-05 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_employer_memberships"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "employer_membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_how", sa.String(length=20), nullable=True),
        sa.Column("claim_token_hash", sa.String(length=64), nullable=True),
        sa.Column("claim_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_employer_membership_account_id_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["account.id"],
            name=op.f("fk_employer_membership_decided_by_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["employer_id"],
            ["employer.id"],
            name=op.f("fk_employer_membership_employer_id_employer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employer_membership")),
        sa.UniqueConstraint("account_id", name=op.f("uq_employer_membership_account_id")),
        sa.UniqueConstraint("claim_token_hash", name=op.f("uq_employer_membership_claim_token_hash")),
    )
    with op.batch_alter_table("employer_membership", schema=None) as batch_op:
        batch_op.create_index("ix_employer_membership_employer_status", ["employer_id", "status"], unique=False)
    # Every employer account of today keeps its structure: the first account of each structure becomes its
    # administrator, the others active members (they may have joined by SIRET alone: an administrator of the
    # structure can see them in the space; only administrators accept newcomers).
    op.execute(
        """
        INSERT INTO employer_membership (employer_id, account_id, status, role, created_at, decided_at, decided_how)
        SELECT a.employer_id, a.id, 'active',
               CASE WHEN a.id = (SELECT MIN(b.id) FROM account b
                                 WHERE b.employer_id = a.employer_id AND b.role = 'employeur')
                    THEN 'admin' ELSE 'member' END,
               a.created_at, a.created_at, 'migration'
        FROM account a
        WHERE a.role = 'employeur' AND a.employer_id IS NOT NULL
        """
    )
    with op.batch_alter_table("employer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_email", sa.String(length=254), nullable=True))
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hired_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("hire_step_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_application_hire_step_id_file_step"),
            "file_step",
            ["hire_step_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # A hire already recorded stays recorded once: setting « embauche » again adds no step.
    op.execute("UPDATE application SET hired_at = updated_at WHERE status = 'embauche'")


def downgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_application_hire_step_id_file_step"), type_="foreignkey")
        batch_op.drop_column("hire_step_id")
        batch_op.drop_column("hired_at")
    # Not in batch mode: recreating « employer » on SQLite would drop a table that others reference (foreign
    # keys are enforced); SQLite ≥ 3.35 drops a plain column in place.
    op.execute("ALTER TABLE employer DROP COLUMN contact_email")
    with op.batch_alter_table("employer_membership", schema=None) as batch_op:
        batch_op.drop_index("ix_employer_membership_employer_status")
    op.drop_table("employer_membership")
