"""The per-sender rate limit: its pace, its order (replies first), and Redis's shared pace."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from services.messaging.ratelimit import LocalSlots, RateLimiter, RedisSlots, limiter_for

REDIS_URL = "redis://127.0.0.1:6379/15"


def test_no_rate_means_no_waiting() -> None:
    limiter = limiter_for(0, None, 1.0)
    started = time.monotonic()
    for _ in range(1000):
        limiter.acquire("+447700900000")
    assert time.monotonic() - started < 1.0


def test_a_sender_never_goes_faster_than_its_rate() -> None:
    limiter = RateLimiter(LocalSlots(rate=50))
    stamps: list[float] = []
    for _ in range(20):
        limiter.acquire("+447700900000")
        stamps.append(time.monotonic())
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    # 50 a second: at least 20 ms apart, each one (a little slack for the clock's grain).
    assert min(gaps) >= 0.019


def test_senders_have_separate_paces() -> None:
    limiter = RateLimiter(LocalSlots(rate=2))
    started = time.monotonic()
    limiter.acquire("+447700900000")
    limiter.acquire("whatsapp:+447700900001")
    assert time.monotonic() - started < 0.2


def test_a_reply_waiting_goes_before_bulk_that_waited_longer() -> None:
    limiter = RateLimiter(LocalSlots(rate=20))
    sender = "+447700900000"
    limiter.acquire(sender)  # the next slot is 50 ms away: everyone below must queue
    order: list[str] = []
    lock = threading.Lock()

    def send(name: str, priority: int) -> None:
        limiter.acquire(sender, priority)
        with lock:
            order.append(name)

    bulk = [threading.Thread(target=send, args=(f"bulk{i}", 1)) for i in range(6)]
    for thread in bulk:
        thread.start()
    time.sleep(0.02)  # the bulk is queued first
    reply = threading.Thread(target=send, args=("reply", 0))
    reply.start()
    for thread in [*bulk, reply]:
        thread.join(5)
    # Whichever bulk already held the head of the queue may go first; the reply next.
    assert order.index("reply") <= 1, order


def _redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.skip(f"Redis tests skipped: no Redis answers at {REDIS_URL} ({exc})")
    return client


def test_processes_share_one_pace_through_redis() -> None:
    client = _redis_or_skip()
    sender = f"test-{time.monotonic_ns()}"
    # Two limiters stand for two worker processes.
    a = RateLimiter(RedisSlots(REDIS_URL, rate=20, fallback=LocalSlots(20)))
    b = RateLimiter(RedisSlots(REDIS_URL, rate=20, fallback=LocalSlots(20)))
    started = time.monotonic()
    for _ in range(5):
        a.acquire(sender)
        b.acquire(sender)
    # Ten sends at 20 a second, shared: the tenth goes 450 ms after the first at the soonest.
    assert time.monotonic() - started >= 0.44
    client.delete(f"ratelimit:{sender}")


def test_a_long_text_costs_its_segments() -> None:
    limiter = RateLimiter(LocalSlots(rate=20))
    started = time.monotonic()
    limiter.acquire("+447700900000", cost=4)  # a long Welsh text: four segments
    limiter.acquire("+447700900000")
    # The second waits out the four segments of the first: 200 ms at 20 a second.
    assert time.monotonic() - started >= 0.19
