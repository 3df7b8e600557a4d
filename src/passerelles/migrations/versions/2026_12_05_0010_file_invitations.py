"""one account, several files over time; a counsellor invites an existing account to a file

Revision ID: 0010_file_invitations
Revises: 0009_employer_memberships
Create Date: 2026-12-05 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_file_invitations"
down_revision: str | None = "0009_employer_memberships"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_file_account_id"))
        batch_op.create_index(batch_op.f("ix_person_file_account_id"), ["account_id"], unique=False)
        batch_op.add_column(sa.Column("invited_account_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("invited_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_person_file_invited_account_id_account"),
            "account",
            ["invited_account_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_person_file_invited_account_id"), ["invited_account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("person_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_file_invited_account_id"))
        batch_op.drop_constraint(batch_op.f("fk_person_file_invited_account_id_account"), type_="foreignkey")
        batch_op.drop_column("invited_at")
        batch_op.drop_column("invited_account_id")
        batch_op.drop_index(batch_op.f("ix_person_file_account_id"))
        batch_op.create_index(batch_op.f("ix_person_file_account_id"), ["account_id"], unique=True)
