"""officer console: officers, notes, case assignments, audit trail; who owns what

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("(CURRENT_TIMESTAMP)")

# Columns that point at an officer, added to tables that exist already.
OFFICER_COLUMNS = [("conversations", True), ("handoffs", True), ("messages", False)]


def _add_officer_column(table: str) -> None:
    name = f"fk_{table}_officer_id_officers"
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot add a constraint to a table, and batch mode would copy the table
        # (dropping one that others point at, with the rows of a running install in it). An
        # inline REFERENCES on ADD COLUMN is what SQLite allows, and it is all that is needed.
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN officer_id INTEGER "
            f"CONSTRAINT {name} REFERENCES officers (id)"
        )
    else:
        op.add_column(table, sa.Column("officer_id", sa.Integer(), nullable=True))
        op.create_foreign_key(name, table, "officers", ["officer_id"], ["id"])


def upgrade() -> None:
    op.create_table(
        "officers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "officer", "supervisor", "admin", name="officerrole", native_enum=False, length=40
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", models.base.UTCDateTime(timezone=True), server_default=NOW, nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officers")),
        sa.UniqueConstraint("username", name=op.f("uq_officers_username")),
    )
    op.create_table(
        "case_officers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", models.base.UTCDateTime(timezone=True), server_default=NOW, nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_officers_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name=op.f("fk_case_officers_officer_id_officers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_officers")),
        sa.UniqueConstraint(
            "case_id", "officer_id", name=op.f("uq_case_officers_case_id_officer_id")
        ),
    )
    op.create_index(op.f("ix_case_officers_case_id"), "case_officers", ["case_id"])
    op.create_index(op.f("ix_case_officers_officer_id"), "case_officers", ["officer_id"])
    op.create_table(
        "officer_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "created_at", models.base.UTCDateTime(timezone=True), server_default=NOW, nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_officer_notes_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name=op.f("fk_officer_notes_officer_id_officers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer_notes")),
    )
    op.create_index(op.f("ix_officer_notes_conversation_id"), "officer_notes", ["conversation_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "login",
                "login_failed",
                "logout",
                "view_conversation",
                "view_profile",
                "view_case",
                "claim",
                "reply",
                "note",
                "hand_back",
                "close",
                "register_case",
                "register_victim",
                "record_event",
                "create_officer",
                "change_officer",
                "export_audit",
                "view_report",
                name="auditaction",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("victim_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_audit_events_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_audit_events_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name=op.f("fk_audit_events_officer_id_officers")
        ),
        sa.ForeignKeyConstraint(
            ["victim_id"], ["victims.id"], name=op.f("fk_audit_events_victim_id_victims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_officer", "audit_events", ["officer_id", "at"])
    op.create_index("ix_audit_events_victim", "audit_events", ["victim_id", "at"])

    for table, indexed in OFFICER_COLUMNS:
        _add_officer_column(table)
        if indexed:
            op.create_index(op.f(f"ix_{table}_officer_id"), table, ["officer_id"])
    op.add_column(
        "conversations",
        sa.Column("handed_back_at", models.base.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "handoffs", sa.Column("overdue_at", models.base.UTCDateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("overdue_at")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("handed_back_at")
    for table, indexed in reversed(OFFICER_COLUMNS):
        if indexed:
            op.drop_index(op.f(f"ix_{table}_officer_id"), table_name=table)
        with op.batch_alter_table(table) as batch:
            if not sqlite:
                batch.drop_constraint(f"fk_{table}_officer_id_officers", type_="foreignkey")
            batch.drop_column("officer_id")
    op.drop_table("audit_events")
    op.drop_table("officer_notes")
    op.drop_table("case_officers")
    op.drop_table("officers")
