"""Apply Alembic migrations from code (the CLI, `make`, and the tests use this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Bring the database at `database_url` up to `revision` (every head by default).

    "heads", not "head": work done side by side may add sibling revisions before a merge
    revision joins them, and an install must still migrate meanwhile.
    """
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)
