"""Heartbeats: how a background process (a worker, the active scheduler) says it is alive.

/healthz reads them: a beat older than `heartbeat_stale_seconds` means none is running.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Heartbeat, utcnow

WORKER = "worker"
SCHEDULER = "scheduler"


def beat(session: Session, name: str, owner: str) -> None:
    """Record that a background process (`name`: worker, scheduler) is alive."""
    row = session.get(Heartbeat, name)
    if row is None:
        session.add(Heartbeat(name=name, owner=owner, beat_at=utcnow()))
    else:
        row.owner, row.beat_at = owner, utcnow()


def last_beat(session: Session, name: str) -> dt.datetime | None:
    """When a process called `name` last beat (UTC), or None if none ever has."""
    return session.scalar(select(Heartbeat.beat_at).where(Heartbeat.name == name))
