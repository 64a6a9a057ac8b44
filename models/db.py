"""Engine and session set-up, the same for the web app, the worker and the tests."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Engine,
    Insert,
    Table,
    Update,
    create_engine,
    event,
    make_url,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker


def private_file(path: Path) -> None:
    """Create `path` readable and writable by its owner only (0600), or make it so.

    A SQLite database holds victims' names, numbers and messages: no other local user may
    read it. SQLite gives its -wal and -shm files the database file's own permissions, so
    a database created 0600 keeps them 0600 as well; existing ones are put right too.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for member in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if member.exists() and member.stat().st_mode & 0o077:
            os.chmod(member, 0o600)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for memory, or another database)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL (`postgresql+psycopg://...`) as libpq takes it, for a
    connection of psycopg's own (LISTEN/NOTIFY, services/messaging/wake.py)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`, with SQLite set up for several processes at once.

    Every engine hides its statements' parameters from its errors and logs
    (`hide_parameters`): an IntegrityError would otherwise carry a victim's name, phone
    number or date of birth into the logs.
    """
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None:
            private_file(path)
        # The web app, the worker and the dev phone's callbacks all write to the one file;
        # WAL lets readers go on while one writes, and the busy timeout makes a writer wait
        # for the lock instead of failing at once.
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if "poolclass" in kwargs:
        return create_engine(url, **kwargs)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # The same pool, outside any transaction (`reads`). SQLite's driver runs a SELECT
        # outside any transaction already (it begins one only at a write), and switching a
        # SQLite connection to autocommit and back costs a statement at each checkout
        # (SQLAlchemy resets it with `PRAGMA read_uncommitted`): there it is the plain
        # factory.
        self._reads = (
            self.sessions
            if url.startswith("sqlite")
            else sessionmaker(
                self.engine.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False,
            )
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def reads(self) -> Iterator[Session]:
        """A session for reads alone, outside any transaction (autocommit).

        On PostgreSQL a transaction costs a round trip to begin and one to commit: for a
        single SELECT, two of three. Each statement here sees what was committed before it
        starts, as each does under PostgreSQL's READ COMMITTED anyway; two statements do not
        share a snapshot (on SQLite they would in a transaction). Never write in it: each
        statement would commit on its own. For a worker's look for work, which runs at every
        wake-up, on every worker (bench/README.md, "fifth session"). On SQLite a plain
        session: its driver already leaves a SELECT outside any transaction.
        """
        with self._reads() as session:
            yield session

    def dispose(self) -> None:
        """Close every pooled connection (after a fork, or at shutdown)."""
        self.engine.dispose()


def rows_updated(session: Session, statement: Update, params: dict[str, Any] | None = None) -> int:
    """Run a conditional UPDATE (with `params` for its bind parameters); how many rows it
    changed (what claims and leases rest on)."""
    result = session.execute(statement, params, execution_options={"synchronize_session": False})
    return cast(CursorResult[Any], result).rowcount


@functools.cache
def _insert_ignoring_duplicate(dialect: str, table: Table) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing().returning(table.c.id)


def insert_ignoring_duplicate(session: Session, table: Table, values: dict[str, Any]) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the new id, or None for a duplicate.

    One statement, no savepoint: the webhook's hot path uses it, and so do planners whose
    rows carry a unique key. (A savepoint that is a SQLite transaction's first write is
    committed by its RELEASE under Python's sqlite3, whatever the transaction does next.)
    SQLite and PostgreSQL both speak it. The statement is built once per dialect and table
    and `values` passed as its parameters: building it per call cost the webhook about a
    fifth of its CPU (bench/README.md, "Profile").
    """
    statement = _insert_ignoring_duplicate(session.get_bind().dialect.name, table)
    new_id: int | None = session.execute(statement, values).scalar()
    return new_id


# Built once: the worker and /twilio/status take it for every message sent.
_ADVISORY_XACT_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")


def lock_for_transaction(session: Session, key: str) -> None:
    """Hold a lock named `key` until the session's transaction ends, so that transactions
    about the same thing run one after the other.

    PostgreSQL: a transaction-level advisory lock on the key's hash (a hash shared by two
    keys only makes them wait for each other). SQLite needs none: it has one writer at a
    time, and Python's sqlite3 begins a transaction at its first write, so a transaction
    that writes first sees everything committed before it.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_ADVISORY_XACT_LOCK, {"key": key})
