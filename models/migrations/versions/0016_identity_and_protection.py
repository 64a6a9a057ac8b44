"""identity checks counted per victim; the date-of-birth question as a server fact; setting
requests that wait for an officer (issue 10, part B)

Revision ID: 0016_identity
Revises: 0005
Create Date: 2026-11-30 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0016_identity"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "setting_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("victim_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column(
            "setting",
            sa.Enum(
                "frequency",
                "quiet_hours",
                "channel",
                "safe_contact",
                "enhanced_rights",
                "language",
                name="setting",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "confirmed",
                "refused",
                "withdrawn",
                name="requeststatus",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("requested_at", UTC, nullable=False),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_setting_requests_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name=op.f("fk_setting_requests_officer_id_officers")
        ),
        sa.ForeignKeyConstraint(
            ["victim_id"], ["victims.id"], name=op.f("fk_setting_requests_victim_id_victims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setting_requests")),
    )
    with op.batch_alter_table("setting_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_setting_requests_victim_id"), ["victim_id"], unique=False
        )
        batch_op.create_index(
            "uq_setting_requests_one_pending",
            ["victim_id", "setting"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    with op.batch_alter_table("victims", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("identity_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("identity_locks", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("identity_locked_until", UTC, nullable=True))
        batch_op.add_column(
            sa.Column("identity_held", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    # A lock a conversation had becomes its victim's, so that nobody is unlocked by the
    # upgrade; and every verification ends, since they were granted for a day under the old
    # rule and now last minutes.
    op.execute(
        """
        UPDATE victims SET
          identity_locked_until = (
            SELECT MAX(c.verify_locked_until) FROM conversations c WHERE c.victim_id = victims.id
          ),
          identity_locks = 1
        WHERE EXISTS (
          SELECT 1 FROM conversations c
          WHERE c.victim_id = victims.id AND c.verify_locked_until IS NOT NULL
        )
        """
    )
    op.execute("UPDATE conversations SET verified_until = NULL")

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dob_asked_at", UTC, nullable=True))
        batch_op.add_column(
            sa.Column(
                "dob_outcome",
                sa.Enum(
                    "verified",
                    "wrong",
                    "locked",
                    "unreadable",
                    name="identityoutcome",
                    native_enum=False,
                    length=40,
                ),
                nullable=True,
            )
        )
        batch_op.drop_column("verify_failures")
        batch_op.drop_column("verify_locked_until")


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verify_locked_until", UTC, nullable=True))
        batch_op.add_column(
            sa.Column("verify_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.drop_column("dob_outcome")
        batch_op.drop_column("dob_asked_at")

    with op.batch_alter_table("victims", schema=None) as batch_op:
        batch_op.drop_column("identity_held")
        batch_op.drop_column("identity_locked_until")
        batch_op.drop_column("identity_locks")
        batch_op.drop_column("identity_failures")

    with op.batch_alter_table("setting_requests", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_setting_requests_one_pending",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index(batch_op.f("ix_setting_requests_victim_id"))

    op.drop_table("setting_requests")
