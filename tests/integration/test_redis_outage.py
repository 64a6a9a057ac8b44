"""Redis paces sending and holds nothing: when it goes away mid-burst, sending slows to each
process's own pace and every message still goes, once. A Redis server of the test's own is
killed; the shared one is never touched. Real worker, real dev phone, real Redis."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Direction, Message, MessageStatus
from models.devphone import DevPhoneMessage
from services.casework import notifications
from services.messaging.outbox import Submission, deliver, finish_send, start_send
from services.messaging.ratelimit import LocalSlots, RateLimiter, RedisSlots
from services.messaging.twilio_gateway import SendFailed
from services.runtime import Runtime
from services.settings import Settings
from tests.conftest import LiveServer
from tests.support.factories import NO_QUIET_HOURS, new_case, new_victim
from tests.support.redis_server import RedisServer, start_redis
from workers.worker import Worker

RATE = 20.0
RATE_WITHOUT_REDIS = 4.0
BURST = 30
CASE = "CR-2026-0600"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = start_redis(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def settings(settings: Settings, redis_server: RedisServer) -> Settings:
    return dataclasses.replace(
        settings,
        redis_url=redis_server.url,
        send_rate_per_second=RATE,
        send_rate_without_redis=RATE_WITHOUT_REDIS,
        worker_threads=4,
        # Were a failure without Redis to count as an attempt, two would fail a message.
        outbound_max_attempts=2,
    )


def _sent(rt: Runtime) -> list[tuple[float, str, str]]:
    with rt.db.session() as session:
        rows = session.execute(
            select(DevPhoneMessage.created_at, DevPhoneMessage.handset, DevPhoneMessage.body)
            .where(DevPhoneMessage.direction == "to_handset")
            .order_by(DevPhoneMessage.id)
        ).all()
    return [(created.timestamp(), handset, body) for created, handset, body in rows]


def _outbound(rt: Runtime) -> list[Message]:
    with rt.db.session() as session:
        return list(session.scalars(select(Message).where(Message.direction == Direction.OUTBOUND)))


def test_a_redis_outage_mid_burst_slows_sending_and_fails_nothing(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    settings: Settings,
    live_server: LiveServer,
    redis_server: RedisServer,
) -> None:
    new_case(client, auth, CASE)
    for i in range(BURST):
        new_victim(
            client,
            auth,
            CASE,
            name=f"Dioddefwr {i}",
            phone=f"+447700900{800 + i:03d}",
            quiet_hours=NO_QUIET_HOURS,
        )
    assert notifications.hand_over_due(rt.db, rt.templates) == BURST
    worker = Worker(rt)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(_sent(rt)) < 8:
            assert time.monotonic() < deadline, "the burst did not start"
            time.sleep(0.02)
        redis_server.stop()
        stopped_at = time.time()
        deadline = time.monotonic() + 60
        while any(m.twilio_sid is None for m in _outbound(rt)):
            states = Counter(m.status for m in _outbound(rt))
            assert MessageStatus.FAILED not in states, states
            assert time.monotonic() < deadline, f"the burst did not drain: {states}"
            time.sleep(0.2)
    finally:
        worker.stop()
        thread.join(30)

    outbound = _outbound(rt)
    assert len(outbound) == BURST
    # Taken by Twilio (accepted, or further on by its status callbacks), none failed.
    assert all(m.twilio_sid and m.status is not MessageStatus.FAILED for m in outbound)
    sent = _sent(rt)
    # Every welcome reached its victim once: none lost, none twice.
    assert sorted(handset for _, handset, _ in sent) == sorted(
        f"+447700900{800 + i:03d}" for i in range(BURST)
    )
    # Sends that began after Redis went kept to the slower pace of this one process (a send
    # already past the limiter when Redis went may still land just after it).
    after = [t for t, _, _ in sent if t > stopped_at + 1 / RATE + 0.2]
    assert len(after) >= 5, "too few sends after the outage to judge the pace"
    gaps = [b - a for a, b in zip(after, after[1:], strict=False)]
    assert min(gaps) >= 1 / RATE_WITHOUT_REDIS - 0.02, gaps


def test_a_pace_that_cannot_reach_redis_falls_back_at_once(redis_server: RedisServer) -> None:
    slots = RedisSlots(redis_server.url, rate=100, fallback=LocalSlots(RATE_WITHOUT_REDIS))
    assert slots.try_take("+447700900000") == 0.0 and slots.shared
    redis_server.stop()
    limiter = RateLimiter(slots)
    started = time.monotonic()
    for _ in range(3):
        limiter.acquire("+447700900000")
    # Three sends at 4 a second, the first at once: half a second, not an exception.
    assert 0.45 <= time.monotonic() - started < 3
    assert not slots.shared


class _BrokenPace:
    def try_take(self, sender: str, cost: int = 1) -> float:
        raise RuntimeError("pacing broke")


def test_a_message_never_offered_to_twilio_is_retried_and_never_fails(
    rt: Runtime, settings: Settings, client: FlaskClient, auth: dict[str, str]
) -> None:
    new_case(client, auth, CASE)
    new_victim(client, auth, CASE, quiet_hours=NO_QUIET_HOURS)
    assert notifications.hand_over_due(rt.db, rt.templates) == 1
    message = _outbound(rt)[0]
    for _ in range(settings.outbound_max_attempts + 2):
        with rt.db.session() as session:
            row = session.get_one(Message, message.id)
            row.next_attempt_at = None
            submission = start_send(session, row.conversation_id, notifications.settle)
        assert isinstance(submission, Submission)
        outcome = deliver(rt.twilio, RateLimiter(_BrokenPace()), submission)
        assert isinstance(outcome, SendFailed) and not outcome.attempted
        with rt.db.session() as session:
            finish_send(session, submission, outcome, settings, notifications.settle)
    (after,) = _outbound(rt)
    assert after.status is MessageStatus.PENDING
    assert after.attempts == 0
