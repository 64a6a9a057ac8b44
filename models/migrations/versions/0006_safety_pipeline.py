"""safety pipeline: urgent messages claimed one by one, without the conversation's lease

Revision ID: 0006_safety_pipeline
Revises: 0005
Create Date: 2026-11-30 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0006_safety_pipeline"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_owner", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("claim_until", models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("claim_until")
        batch_op.drop_column("claim_owner")
