"""assistant: needs assessments, referrals, identity checks on conversations

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-27 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "needs_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("victim_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "in_progress",
                "paused",
                "stopped",
                "completed",
                name="assessmentstatus",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("completed_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_needs_assessments_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["victim_id"], ["victims.id"], name=op.f("fk_needs_assessments_victim_id_victims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_needs_assessments")),
    )
    with op.batch_alter_table("needs_assessments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_needs_assessments_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_needs_assessments_victim_id"), ["victim_id"], unique=False
        )

    op.create_table(
        "needs_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column(
            "question",
            sa.Enum(
                "safe_now",
                "support",
                "communication",
                "contact",
                "avoid_times",
                name="needsquestion",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.Column("answered_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["needs_assessments.id"],
            name=op.f("fk_needs_answers_assessment_id_needs_assessments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_needs_answers")),
        sa.UniqueConstraint(
            "assessment_id", "question", name=op.f("uq_needs_answers_assessment_id_question")
        ),
    )
    with op.batch_alter_table("needs_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_needs_answers_assessment_id"), ["assessment_id"], unique=False
        )

    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("victim_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("consent_at", UTC, nullable=False),
        sa.Column("created_at", UTC, server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("told_officer_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_referrals_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.id"], name=op.f("fk_referrals_handoff_id_handoffs")
        ),
        sa.ForeignKeyConstraint(
            ["victim_id"], ["victims.id"], name=op.f("fk_referrals_victim_id_victims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referrals_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referrals_victim_id"), ["victim_id"], unique=False)

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified_until", UTC, nullable=True))
        batch_op.add_column(
            sa.Column("verify_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("verify_locked_until", UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("verify_locked_until")
        batch_op.drop_column("verify_failures")
        batch_op.drop_column("verified_until")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referrals_victim_id"))
        batch_op.drop_index(batch_op.f("ix_referrals_case_id"))
    op.drop_table("referrals")
    with op.batch_alter_table("needs_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_needs_answers_assessment_id"))
    op.drop_table("needs_answers")
    with op.batch_alter_table("needs_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_needs_assessments_victim_id"))
        batch_op.drop_index(batch_op.f("ix_needs_assessments_case_id"))
    op.drop_table("needs_assessments")
