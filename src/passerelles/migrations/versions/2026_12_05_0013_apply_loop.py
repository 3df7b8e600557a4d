"""apply to any offer: applications without a file (own contact, CV, through a counsellor); offers keep
where to apply (feeds) and the employers' form fields (start date, requirements, how to apply)

Revision ID: 0013_apply_loop
Revises: 0012_support_structures
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_apply_loop"
down_revision: str | None = "0012_support_structures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job_offer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("apply_url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("apply_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("start_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("requirements", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("how_to_apply", sa.Text(), nullable=True))
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.alter_column("file_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("applicant_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("applicant_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("applicant_phone", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("cv_name", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("cv_size", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("via_counsellor", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("validation", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("counsellor_consent", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_foreign_key(
            batch_op.f("fk_application_account_id_account"), "account", ["account_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index(batch_op.f("ix_application_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_application_validation"), ["validation"], unique=False)
    # Applications so far were all made from a file and read by its counsellors: they keep that.
    application = sa.table("application", sa.column("counsellor_consent", sa.Boolean()))
    op.execute(application.update().values(counsellor_consent=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_validation"))
        batch_op.drop_index(batch_op.f("ix_application_account_id"))
        batch_op.drop_constraint(batch_op.f("fk_application_account_id_account"), type_="foreignkey")
        for name in (
            "counsellor_consent",
            "validation",
            "via_counsellor",
            "cv_size",
            "cv_name",
            "applicant_phone",
            "applicant_email",
            "applicant_name",
            "account_id",
        ):
            batch_op.drop_column(name)
    op.execute("DELETE FROM application WHERE file_id IS NULL")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.alter_column("file_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("job_offer", schema=None) as batch_op:
        for name in ("how_to_apply", "requirements", "start_on", "apply_email", "apply_url"):
            batch_op.drop_column(name)
