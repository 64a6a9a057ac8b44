"""the Victims' Code right by right: the duty a notification meets, Right 4's limit on a
referral, requests for a review (issue 14)

Revision ID: 0018_victims_code
Revises: 0017_merge
Create Date: 2026-11-30 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0018_victims_code"
down_revision: str | Sequence[str] | None = "0017_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("duty", sa.String(length=40), nullable=True))
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("due_by", UTC, nullable=True))
        batch.add_column(sa.Column("sent_at", UTC, nullable=True))
        batch.add_column(sa.Column("sent_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("overdue_handoff_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_referrals_overdue_handoff_id_handoffs", "handoffs", ["overdue_handoff_id"], ["id"]
        )
        batch.create_index("ix_referrals_due_by", ["due_by"])
    # Event notifications planned before this revision met Right 6 (the only duty then).
    op.execute(
        "UPDATE notifications SET duty = 'right_6_update' "
        "WHERE kind = 'code_update' AND due_by IS NOT NULL"
    )
    op.create_table(
        "review_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("victim_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", UTC, nullable=False),
        sa.Column("acknowledge_by", UTC, nullable=False),
        sa.Column("decide_by", UTC, nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "acknowledged",
                "decided",
                name="reviewstatus",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("acknowledged_at", UTC, nullable=True),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_review_requests_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.id"], name=op.f("fk_review_requests_handoff_id_handoffs")
        ),
        sa.ForeignKeyConstraint(
            ["victim_id"], ["victims.id"], name=op.f("fk_review_requests_victim_id_victims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_requests")),
    )
    op.create_index("ix_review_requests_case_id", "review_requests", ["case_id"])
    op.create_index("ix_review_requests_victim_id", "review_requests", ["victim_id"])


def downgrade() -> None:
    op.drop_index("ix_review_requests_victim_id", table_name="review_requests")
    op.drop_index("ix_review_requests_case_id", table_name="review_requests")
    op.drop_table("review_requests")
    with op.batch_alter_table("referrals") as batch:
        batch.drop_index("ix_referrals_due_by")
        batch.drop_constraint("fk_referrals_overdue_handoff_id_handoffs", type_="foreignkey")
        batch.drop_column("overdue_handoff_id")
        batch.drop_column("sent_by")
        batch.drop_column("sent_at")
        batch.drop_column("due_by")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("duty")
