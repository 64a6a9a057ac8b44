"""Heartbeats: how a background process (a worker, the active scheduler) says it is alive.

/healthz reads them: a beat older than `heartbeat_stale_seconds` means none is running.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models import Heartbeat, utcnow

WORKER = "worker"
SCHEDULER = "scheduler"
# Each standby scheduler beats under this prefix and its owner id, so they can be counted.
SCHEDULER_STANDBY = "scheduler-standby:"
# A standby that has not beaten for this long has gone; its row is forgotten.
FORGET_AFTER = dt.timedelta(days=1)


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


def standby_name(owner: str) -> str:
    """The heartbeat name of a standby scheduler (fits the 100-character key)."""
    return (SCHEDULER_STANDBY + owner)[:100]


def beat_standby(session: Session, owner: str) -> None:
    """Record that a standby scheduler is alive, and forget standbys long gone."""
    beat(session, standby_name(owner), owner)
    session.execute(
        delete(Heartbeat).where(
            Heartbeat.name.startswith(SCHEDULER_STANDBY),
            Heartbeat.beat_at < utcnow() - FORGET_AFTER,
        )
    )


def stop_standby(session: Session, owner: str) -> None:
    """A standby became active (or stopped): it no longer stands by."""
    session.execute(delete(Heartbeat).where(Heartbeat.name == standby_name(owner)))


def fresh_count(session: Session, prefix: str, within: dt.timedelta) -> int:
    """How many processes whose heartbeat names start with `prefix` beat within `within`."""
    return (
        session.scalar(
            select(func.count()).where(
                Heartbeat.name.startswith(prefix), Heartbeat.beat_at >= utcnow() - within
            )
        )
        or 0
    )
