"""The right to be the one active scheduler, held by a lock rather than by hope.

APScheduler's job store must never be shared by two running schedulers, so exactly one may
run at a time; any others wait as standbys and take over when it dies.

- PostgreSQL: a session-level advisory lock, held on a connection of its own for as long as
  the process runs. The server drops it the moment that connection goes, a crash or a
  kill -9 included, so a standby's next try succeeds.
- SQLite: an exclusive lock on a file beside the database. A SQLite database lives on one
  machine, so every process that could use it can see the file; the kernel drops the lock
  when the process dies.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from models.db import Database

log = logging.getLogger(__name__)

# Any fixed 64-bit number, the same in every copy of the scheduler: "victim care scheduler".
ADVISORY_KEY = 0x5643_5343_4845_4400


class ActiveLock(Protocol):
    def try_acquire(self) -> bool:
        """Become the active one if nobody is; True when this process now holds the lock."""

    def held(self) -> bool:
        """Whether the lock is still ours (a dropped connection loses it)."""

    def release(self) -> None: ...


class AdvisoryLock:
    """PostgreSQL's pg_try_advisory_lock on a dedicated connection."""

    def __init__(self, db: Database) -> None:
        # A connection of its own, outside the pool: the lock lives and dies with it, and
        # closing it must really close it (a pooled one would go back to the pool, locked).
        self._engine = create_engine(
            db.url, poolclass=NullPool, isolation_level="AUTOCOMMIT", hide_parameters=True
        )
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        if self._conn is None:
            # Autocommit: a session-level lock outlives transactions, and an idle
            # transaction must not sit open for the life of the process.
            self._conn = self._engine.connect()
        got = bool(self._conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}))
        if not got:
            self._close()
        return got

    def held(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure: the connection, and the lock, are gone
            log.error("scheduler lock: its database connection is gone")
            self._close()
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            except Exception:  # noqa: BLE001 - closing the connection releases it anyway
                log.warning("scheduler lock: unlock failed; closing its connection instead")
            finally:
                self._close()

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail too
                pass
            self._conn = None


class FileLock:
    """flock() on a file beside the SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+b")  # noqa: SIM115 - held open while we are active
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.truncate(0)
        handle.write(str(os.getpid()).encode())
        handle.flush()
        self._file = handle
        return True

    def held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def lock_for(db: Database) -> ActiveLock:
    """The lock that suits the database: advisory on PostgreSQL, a file lock on SQLite."""
    url = make_url(str(db.engine.url))
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(db)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return FileLock(Path(url.database + ".scheduler.lock"))
    raise RuntimeError(f"no way to hold the scheduler lock on {url.get_backend_name()}")
