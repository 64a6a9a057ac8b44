"""The scheduler's own table: APScheduler's persistent job store.

APScheduler creates this table itself when it is missing; declaring it here, with the same
columns, lets the Alembic migrations own the schema like every other table's.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, LargeBinary, String, Table

from models.base import Base

JOBS_TABLE = "apscheduler_jobs"

apscheduler_jobs = Table(
    JOBS_TABLE,
    Base.metadata,
    Column("id", String(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
