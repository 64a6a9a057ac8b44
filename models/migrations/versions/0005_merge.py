"""join the console, assistant and scheduling revisions

They were written side by side (each from 0001); from here there is one head again.

Revision ID: 0005
Revises: 0002, 0003, 0004
Create Date: 2026-11-27 06:46:24.722428
"""

from collections.abc import Sequence

revision: str = "0005"
down_revision: str | Sequence[str] | None = ("0002", "0003", "0004")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
