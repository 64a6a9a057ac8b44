"""join the safety pipeline, data protection, inbound shapes and identity revisions

They were written side by side (each from 0005); from here there is one head again.

Revision ID: 0017_merge
Revises: 0006_safety_pipeline, 0011_data_protection, 0013_shapes, 0016_identity
Create Date: 2026-11-30 20:40:00
"""

from collections.abc import Sequence

revision: str = "0017_merge"
down_revision: str | Sequence[str] | None = (
    "0006_safety_pipeline",
    "0011_data_protection",
    "0013_shapes",
    "0016_identity",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
