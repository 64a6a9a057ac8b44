"""inbound shapes, long texts in parts, template refusals, any status Twilio reports

messages: `shape` and `details` (what kind of message a phone sent, and its fields),
`part_of_id` (the later parts of a text too long for one message point at the first),
`no_template_reason` (why a message went without its WhatsApp template).
delivery_events.status: 40 characters, so a status Twilio adds later is kept as written.

Revision ID: 0013_shapes
Revises: 0005
Create Date: 2026-11-30 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_shapes"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHAPES = (
    "text",
    "button",
    "list",
    "referral",
    "media",
    "voice",
    "sticker",
    "location",
    "contacts",
    "reaction",
    "unreadable",
)
PART_OF_FK = "fk_messages_part_of_id_messages"


def upgrade() -> None:
    op.add_column(
        "messages",
        sa.Column(
            "shape",
            sa.Enum(*SHAPES, name="inboundshape", native_enum=False, length=40),
            server_default="text",
            nullable=False,
        ),
    )
    op.add_column("messages", sa.Column("details", sa.JSON(), nullable=True))
    op.add_column("messages", sa.Column("no_template_reason", sa.String(length=300), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot add a constraint to a table, and batch mode would copy `messages`
        # (which others point at, with a running install's rows in it). An inline
        # REFERENCES on ADD COLUMN is what SQLite allows, and all that is needed.
        op.execute(
            "ALTER TABLE messages ADD COLUMN part_of_id INTEGER "
            f"CONSTRAINT {PART_OF_FK} REFERENCES messages (id)"
        )
    else:
        op.add_column("messages", sa.Column("part_of_id", sa.Integer(), nullable=True))
        op.create_foreign_key(PART_OF_FK, "messages", "messages", ["part_of_id"], ["id"])
    # Nothing points at delivery_events, so SQLite's batch mode may copy it.
    with op.batch_alter_table("delivery_events") as batch_op:
        batch_op.alter_column(
            "status", existing_type=sa.String(length=20), type_=sa.String(length=40)
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery_events") as batch_op:
        batch_op.alter_column(
            "status", existing_type=sa.String(length=40), type_=sa.String(length=20)
        )
    with op.batch_alter_table("messages") as batch_op:
        if op.get_bind().dialect.name != "sqlite":
            batch_op.drop_constraint(PART_OF_FK, type_="foreignkey")
        batch_op.drop_column("part_of_id")
        batch_op.drop_column("no_template_reason")
        batch_op.drop_column("details")
        batch_op.drop_column("shape")
