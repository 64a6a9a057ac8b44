"""Rasa's tracker store, as retention and erasure reach into it.

Rasa keeps every event of a conversation in its SQL tracker store (its `events` table: one
row per event, `sender_id`, `type_name`, `timestamp` in seconds since the epoch, and `data`,
the event as JSON, with everything the victim typed). The sender id is the conversation's
`public_id`. The store is a SQLite file beside a SQLite app database, or the app's own
PostgreSQL database (Settings.tracker_url). Rasa creates the table on first use: until then
there is nothing to read or delete.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, column, create_engine, delete, func, inspect, select, table
from sqlalchemy.pool import NullPool

from models.db import private_file, sqlite_path

EVENTS = table(
    "events",
    column("id"),
    column("sender_id"),
    column("type_name"),
    column("timestamp"),
    column("data"),
)


@contextmanager
def _connection(url: str) -> Iterator[Connection | None]:
    """A connection to the store in a transaction, or None when it does not exist yet."""
    path = sqlite_path(url)
    if url.startswith("sqlite"):
        if path is None or not path.exists():
            yield None
            return
        # Rasa created the file with its process's umask: it holds what victims typed.
        private_file(path)
    # Rasa's own file and settings are left as Rasa made them (no WAL switch here), and its
    # parameters stay out of any error (hide_parameters, as on every engine of ours).
    engine = create_engine(
        url,
        hide_parameters=True,
        poolclass=NullPool,
        **({"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {}),
    )
    try:
        with engine.begin() as connection:
            yield connection if inspect(connection).has_table("events") else None
    finally:
        engine.dispose()


def events_of(url: str, sender_ids: Collection[str]) -> dict[str, list[dict[str, Any]]]:
    """Every event of these senders, oldest first, as Rasa stored them (parsed JSON)."""
    found: dict[str, list[dict[str, Any]]] = {s: [] for s in sender_ids}
    if not sender_ids:
        return found
    with _connection(url) as connection:
        if connection is None:
            return found
        rows = connection.execute(
            select(EVENTS.c.sender_id, EVENTS.c.data)
            .where(EVENTS.c.sender_id.in_(list(sender_ids)))
            .order_by(EVENTS.c.id)
        )
        for sender_id, data in rows:
            found[sender_id].append(json.loads(data) if data else {})
    return found


def erase(url: str, sender_ids: Collection[str]) -> int:
    """Delete every event of these senders; how many went."""
    if not sender_ids:
        return 0
    with _connection(url) as connection:
        if connection is None:
            return 0
        result = connection.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(list(sender_ids))))
        return int(result.rowcount or 0)


def purge_idle(url: str, before: dt.datetime) -> int:
    """Delete the whole tracker of every sender whose last event is older than `before`;
    how many events went.

    A whole tracker, never part of one: Rasa reads a tracker as a story from its start, and
    a conversation idle this long starts a new session anyway. One statement, so a sender
    who writes meanwhile keeps their tracker.
    """
    with _connection(url) as connection:
        if connection is None:
            return 0
        idle = (
            select(EVENTS.c.sender_id)
            .group_by(EVENTS.c.sender_id)
            .having(func.max(EVENTS.c.timestamp) < before.timestamp())
        )
        result = connection.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(idle)))
        return int(result.rowcount or 0)
