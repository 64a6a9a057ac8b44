"""data protection: server-side sessions, second factor, throttles, API clients, attach
requests, erasure

Sign-in failures are counted in `throttles` (by account and by client address) instead of on
the officer's row, so the officer's `failed_logins` and `locked_until` go.

Revision ID: 0011_data_protection
Revises: 0005
Create Date: 2026-11-30 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0011_data_protection"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("(CURRENT_TIMESTAMP)")
UTC = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "officer_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("last_seen_at", UTC, nullable=False),
        sa.Column("ended_at", UTC, nullable=True),
        sa.Column("end_reason", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name=op.f("fk_officer_sessions_officer_id_officers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_officer_sessions_token_hash")),
    )
    op.create_index(op.f("ix_officer_sessions_officer_id"), "officer_sessions", ["officer_id"])
    op.create_table(
        "officer_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        sa.Column("created_at", UTC, server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["officers.id"],
            name=op.f("fk_officer_recovery_codes_officer_id_officers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer_recovery_codes")),
    )
    op.create_index(
        op.f("ix_officer_recovery_codes_officer_id"), "officer_recovery_codes", ["officer_id"]
    )
    op.create_table(
        "throttles",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", UTC, nullable=False),
        sa.Column("strikes", sa.Integer(), nullable=False),
        sa.Column("blocked_until", UTC, nullable=True),
        sa.Column("last_attempt_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttles")),
    )
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC, server_default=NOW, nullable=False),
        sa.Column("last_used_at", UTC, nullable=True),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_api_clients_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_clients_token_hash")),
    )
    op.create_table(
        "attach_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("victim_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "refused",
                name="attachstatus",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("requested_at", UTC, nullable=False),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_attach_requests_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["officers.id"], name=op.f("fk_attach_requests_decided_by_officers")
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name=op.f("fk_attach_requests_officer_id_officers")
        ),
        sa.ForeignKeyConstraint(
            ["victim_id"], ["victims.id"], name=op.f("fk_attach_requests_victim_id_victims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attach_requests")),
    )
    op.create_index(op.f("ix_attach_requests_case_id"), "attach_requests", ["case_id"])
    op.create_index(op.f("ix_attach_requests_victim_id"), "attach_requests", ["victim_id"])

    op.add_column("officers", sa.Column("totp_secret", sa.String(length=64), nullable=True))
    op.add_column("officers", sa.Column("totp_enrolled_at", UTC, nullable=True))
    op.add_column("officers", sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.add_column("officers", sa.Column("demo", sa.Boolean(), server_default="0", nullable=False))
    # The demo's accounts made before this revision are demo accounts: no second factor in
    # development, no sign-in at all in production (where they should never have been).
    op.execute(
        "UPDATE officers SET demo = true "
        "WHERE username IN ('demo.officer', 'demo.supervisor', 'demo.admin')"
    )
    # SQLite (3.35 and later) drops a plain column in place; batch mode would copy the
    # table, which others point at.
    op.drop_column("officers", "failed_logins")
    op.drop_column("officers", "locked_until")
    op.add_column("victims", sa.Column("erased_at", UTC, nullable=True))


def downgrade() -> None:
    op.drop_column("victims", "erased_at")
    op.add_column("officers", sa.Column("locked_until", UTC, nullable=True))
    op.add_column(
        "officers", sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False)
    )
    for column in ("demo", "totp_last_step", "totp_enrolled_at", "totp_secret"):
        op.drop_column("officers", column)
    op.drop_table("attach_requests")
    op.drop_table("api_clients")
    op.drop_table("throttles")
    op.drop_table("officer_recovery_codes")
    op.drop_table("officer_sessions")
