"""Conversation leases: one worker at a time handles a conversation, so order is kept.

A lease names its owner; a lease whose owner died is taken over at once, any other runs
out after LEASE_SECONDS. Deciding that an owner died must never be wrong the other way: a
live owner's lease taken over means its message may be sent twice. So an owner is judged
dead only by evidence that holds wherever the processes run:

- on PostgreSQL, by the database: every worker holds a session-level advisory lock named
  after it for as long as it lives (`Presence`), and the server drops it the moment that
  connection goes, a kill -9 or a lost host included. No lock, no owner;
- by its PID, only when the owner shares this process's PID namespace and boot (two
  containers may share a hostname yet number their processes apart: their PIDs say nothing
  about each other). The owner id carries a token of both.

Anything else (another host on SQLite, an id we cannot read) waits for the lease to run
out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import logging
import os
import socket
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Update,
    bindparam,
    create_engine,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from models import Conversation, utcnow
from models.db import Database, rows_updated

log = logging.getLogger(__name__)

# Marks an owner whose life is shown by its advisory lock in PostgreSQL (`Presence`).
ON_DATABASE = "+db"


@functools.cache
def pid_namespace() -> str:
    """A token for this process's PID namespace and the host's boot; '-' when unknown.

    Two processes with the same token number their processes alike, so one may judge the
    other by its PID. The boot id tells two hosts (or one host before and after a restart)
    apart even when their namespaces have the same inode.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return "-"
    return hashlib.sha256(f"{boot}/{namespace}".encode()).hexdigest()[:12]


@dataclasses.dataclass(frozen=True)
class Owner:
    """A lease owner id: `host:pid:namespace:random`, with ON_DATABASE when it holds a
    Presence. Fits the 100 characters of `conversations.lease_owner`."""

    host: str
    pid: int
    namespace: str
    on_database: bool

    @classmethod
    def parse(cls, text: str) -> Owner | None:
        """The parts of an owner id, or None for one this code did not make."""
        on_database = text.endswith(ON_DATABASE)
        parts = text.removesuffix(ON_DATABASE).split(":")
        if len(parts) != 4 or not parts[1].isdigit():
            return None
        return cls(parts[0], int(parts[1]), parts[2], on_database)


def new_owner(on_database: bool = False) -> str:
    """A lease owner id for this process: host, pid, PID namespace and a random part.

    `on_database`: the caller will hold a Presence for it (workers on PostgreSQL).
    """
    host = socket.gethostname()[:40].replace(":", "-")
    owner = f"{host}:{os.getpid()}:{pid_namespace()}:{uuid.uuid4().hex[:8]}"
    return owner + ON_DATABASE if on_database else owner


def advisory_key(owner: str) -> int:
    """The 63-bit advisory lock key that stands for `owner` in PostgreSQL."""
    return int.from_bytes(hashlib.sha256(owner.encode()).digest()[:8], "big") >> 1


def _holds_presence(session: Session, owner: str) -> bool:
    # A bigint advisory key shows in pg_locks as classid (high 32 bits), objid (low 32
    # bits) and objsubid 1, in the database it was taken in.
    key = advisory_key(owner)
    return bool(
        session.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND classid::bigint = :high AND objid::bigint = :low AND objsubid = 1"
                " AND granted)"
            ),
            {"high": key >> 32, "low": key & 0xFFFFFFFF},
        )
    )


def owner_is_dead(session: Session, owner: str) -> bool:
    """True only when `owner` is known to be gone (rules in the module docstring)."""
    parsed = Owner.parse(owner)
    if parsed is None:
        return False
    if parsed.on_database and session.get_bind().dialect.name == "postgresql":
        return not _holds_presence(session, owner)
    if parsed.namespace == "-" or parsed.namespace != pid_namespace():
        return False
    try:
        os.kill(parsed.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


# Built once: the worker checks its presence each time it looks for work.
_PING = text("SELECT 1")


class Presence:
    """A worker's proof of life in PostgreSQL: `pg_advisory_lock(advisory_key(owner))` on a
    connection of its own, held while the worker runs.

    Only for PostgreSQL; `for_database` says whether a database has it. If the connection
    drops (a network blip, a database restart) other workers may take this owner's leases
    at once, as if it had died; its renewals then fail, so it writes nothing more to those
    conversations (processing.drain), and `hold` takes the lock again.
    """

    def __init__(self, db: Database, owner: str) -> None:
        # Outside the pool, in autocommit: the lock lives and dies with this connection.
        self.owner = owner
        self._engine = create_engine(db.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self._conn: Connection | None = None

    @staticmethod
    def for_database(db: Database) -> bool:
        """Whether the database can show a worker's life (PostgreSQL can)."""
        return db.engine.dialect.name == "postgresql"

    def hold(self) -> bool:
        """Make sure the lock is held (taking it again after a drop); True when it is."""
        try:
            if self._conn is not None:
                self._conn.execute(_PING)
                return True
            self._conn = self._engine.connect()
            self._conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": advisory_key(self.owner)})
            return True
        except Exception:  # noqa: BLE001 - any failure: the lock is not (or no longer) held
            log.exception("worker %s: its presence lock in the database is lost", self.owner)
            self._drop()
            return False

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail too
                pass
            self._conn = None

    def close(self) -> None:
        """Let the lock go (closing its connection does) and dispose of the engine."""
        self._drop()
        self._engine.dispose()


# Built once, with the values as parameters: the worker runs these at every step of every
# conversation, and building a statement cost more CPU than running it (bench/README.md).
_CLAIM = (
    update(Conversation)
    .where(
        Conversation.id == bindparam("conversation_id"),
        or_(
            Conversation.lease_owner.is_(None),
            Conversation.lease_until < bindparam("now"),
            Conversation.lease_owner == bindparam("owner"),
        ),
    )
    .values(lease_owner=bindparam("owner"), lease_until=bindparam("until"))
)
_HOLDER = select(Conversation.lease_owner).where(Conversation.id == bindparam("conversation_id"))
_TAKE_OVER = (
    update(Conversation)
    .where(
        Conversation.id == bindparam("conversation_id"),
        Conversation.lease_owner == bindparam("holder"),
    )
    .values(lease_owner=bindparam("owner"), lease_until=bindparam("until"))
)
_OURS = update(Conversation).where(
    Conversation.id == bindparam("conversation_id"),
    Conversation.lease_owner == bindparam("owner"),
)
_RENEW = _OURS.values(lease_until=bindparam("until"))
_RELEASE = _OURS.values(lease_owner=null(), lease_until=null())


def claim(
    session: Session, conversation_id: int, owner: str, seconds: float, take_over: bool = True
) -> bool:
    """Take the conversation's lease if it is free, expired, ours, or its owner died.

    `take_over=False`: a lease that another owner holds, not run out, is left to it without
    asking whether that owner lives (two queries fewer, one of them `pg_locks`). For a
    caller that found the lease free or run out a moment before (workers.worker.look): whoever
    holds it now has only just taken it. If that owner died meanwhile, the next look, which
    does ask, takes the conversation over: only ever a delay.
    """
    now = utcnow()
    until = now + dt.timedelta(seconds=seconds)
    params = {"conversation_id": conversation_id, "owner": owner, "now": now, "until": until}
    if rows_updated(session, _CLAIM, params):
        return True
    if not take_over:
        return False
    holder = session.scalar(_HOLDER, {"conversation_id": conversation_id})
    if holder and owner_is_dead(session, holder):
        return bool(rows_updated(session, _TAKE_OVER, {**params, "holder": holder}))
    return False


def renew(session: Session, conversation_id: int, owner: str, seconds: float) -> bool:
    """Extend our lease; False when it is no longer ours (then stop and write nothing)."""
    until = utcnow() + dt.timedelta(seconds=seconds)
    params = {"conversation_id": conversation_id, "owner": owner, "until": until}
    return bool(rows_updated(session, _RENEW, params))


def release(session: Session, conversation_id: int, owner: str) -> None:
    """Give the lease up."""
    rows_updated(session, _RELEASE, {"conversation_id": conversation_id, "owner": owner})


def releaser(idle: ColumnElement[bool]) -> Update:
    """A statement for `release_if`: the lease let go only while `idle` holds, a condition
    on the conversation's row with `conversation_id` bound (built once by the caller)."""
    return _RELEASE.where(idle)


def release_if(
    session: Session, statement: Update, conversation_id: int, owner: str, **params: Any
) -> bool:
    """Give the lease up if it is ours and the condition `statement` was built with
    (`releaser`, its other bind parameters in `params`) holds, in one UPDATE; whether it was
    let go. False means: not ours any more, or not idle; the caller then claims and looks as
    it would have."""
    params = {**params, "conversation_id": conversation_id, "owner": owner}
    return bool(rows_updated(session, statement, params))
