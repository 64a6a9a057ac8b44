"""Exactly one active scheduler: the lock, a standby taking over, and restarts that lose and
double nothing. The schedulers here are real `python -m scheduler` processes, killed -9."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from models import Heartbeat, Message, Notification, NotificationStatus
from models.db import Database
from scheduler.lock import AdvisoryLock, lock_for
from services.runtime import Runtime
from services.settings import Settings
from tests.support.factories import NO_QUIET_HOURS, new_case, new_victim
from tests.support.processes import APP_PY, Process, base_env

# Both databases: the lock: PostgreSQL's advisory lock, SQLite's flock.
pytestmark = pytest.mark.both_databases

CASE = "CR-2026-0300"


def test_only_one_holder_of_the_lock_at_a_time(settings: Settings) -> None:
    first_db, second_db = Database(settings.database_url), Database(settings.database_url)
    first, second = lock_for(first_db), lock_for(second_db)
    try:
        assert first.try_acquire() is True
        assert second.try_acquire() is False
        assert first.held() is True
        first.release()
        assert second.try_acquire() is True
        assert first.try_acquire() is False
    finally:
        first.release()
        second.release()
        first_db.dispose()
        second_db.dispose()


def test_a_dropped_connection_loses_the_advisory_lock(settings: Settings, db_kind: str) -> None:
    if db_kind != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; SQLite uses a file lock")
    first_db, second_db = Database(settings.database_url), Database(settings.database_url)
    first, second = AdvisoryLock(first_db), AdvisoryLock(second_db)
    try:
        assert first.try_acquire()
        assert first._conn is not None
        pid = first._conn.scalar(text("SELECT pg_backend_pid()"))
        with second_db.engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert first.held() is False
        assert second.try_acquire() is True
    finally:
        first.release()
        second.release()
        first_db.dispose()
        second_db.dispose()


@pytest.fixture
def spawn(settings: Settings, tmp_path: Path) -> Iterator[Callable[[str], Process]]:
    started: list[Process] = []
    env = base_env(
        DATABASE_URL=settings.database_url,
        PUBLIC_BASE_URL=settings.public_base_url,
        TWILIO_API_BASE_URL=settings.twilio_api_base_url,
        API_TOKEN=settings.api_token,
        WORKER_WAKE_ADDR=f"{settings.worker_wake_addr[0]}:{settings.worker_wake_addr[1]}",
        SCHEDULER_STANDBY_SECONDS="1",
    )

    def start(name: str) -> Process:
        process = Process(name, [str(APP_PY), "-m", "scheduler"], env, tmp_path)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def _until(check: Callable[[], bool], timeout: float, why: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, why
        time.sleep(0.2)


def _active_owner(rt: Runtime) -> str | None:
    with rt.db.session() as session:
        beat = session.get(Heartbeat, "scheduler")
        return beat.owner if beat else None


def _register(client: FlaskClient, auth: dict[str, str], first: int, count: int) -> None:
    for i in range(first, first + count):
        new_victim(
            client,
            auth,
            CASE,
            name=f"Dioddefwr {i}",
            phone=f"+447700900{i:03d}",
            quiet_hours=NO_QUIET_HOURS,
        )


def _counts(rt: Runtime) -> tuple[int, int, int]:
    """Notifications, those queued, and outbox messages."""
    with rt.db.session() as session:
        total = session.scalar(select(func.count()).select_from(Notification)) or 0
        queued = (
            session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.status == NotificationStatus.QUEUED)
            )
            or 0
        )
        messages = session.scalar(select(func.count()).select_from(Message)) or 0
    return total, queued, messages


def test_a_standby_waits_then_takes_over_when_the_active_one_is_killed(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, spawn: Callable[[str], Process]
) -> None:
    new_case(client, auth, CASE)
    first = spawn("scheduler-a")
    _until(lambda: "is the active scheduler" in first.tail(), 30, first.tail())
    second = spawn("scheduler-b")
    _until(lambda: "standing by" in second.tail(), 30, second.tail())
    _register(client, auth, 700, 5)
    _until(lambda: _counts(rt)[1] == 5, 30, "the active scheduler hands over")
    time.sleep(2)  # two standby turns: it must still be waiting
    assert "is the active scheduler" not in second.tail()
    owner_before = _active_owner(rt)

    first.kill()
    killed_at = time.monotonic()
    _until(lambda: "is the active scheduler" in second.tail(), 60, second.tail())
    assert time.monotonic() - killed_at < 60
    _until(lambda: _active_owner(rt) not in (None, owner_before), 30, "the new one beats")
    _register(client, auth, 705, 5)
    _until(lambda: _counts(rt)[1] == 10, 30, "the new active scheduler hands over")
    assert _counts(rt) == (10, 10, 10)  # one message per notification, none twice


def test_a_restart_loses_and_doubles_nothing(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, spawn: Callable[[str], Process]
) -> None:
    new_case(client, auth, CASE)
    _register(client, auth, 720, 60)
    first = spawn("scheduler-a")
    _until(lambda: _counts(rt)[1] > 0, 60, first.tail())
    first.kill()  # mid-way through the hand-over, most likely
    second = spawn("scheduler-b")
    _until(lambda: _counts(rt)[1] == 60, 60, second.tail())
    total, queued, messages = _counts(rt)
    assert (total, queued, messages) == (60, 60, 60)
    with rt.db.session() as session:
        carried = session.scalars(select(Notification.message_id)).all()
    assert len(set(carried)) == 60
