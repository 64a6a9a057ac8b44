"""How fast we hand messages to Twilio, per sender, with replies ahead of bulk.

Twilio queues what a sender cannot send at once, but its queue is first come, first served,
and it drops what has waited too long (4 hours by default): a burst of 10,000 notifications
would bury the answer to a victim who wrote a minute ago. So we hold back at our end instead,
at the sender's rate, and whoever waits with the lowest priority (a reply, 0) goes first.

Twilio's rates count message segments, not messages (services/messaging/segments.py): a long Welsh
text costs several. One process keeps its own pace with a schedule per sender. Several
worker processes share the pace through Redis when REDIS_URL is set: each takes the next
free slot of a shared schedule for that sender (GCRA); within a process, replies still go
first.

Redis only paces; it holds no message. So when it cannot be reached, each process keeps a
slower pace of its own (`SEND_RATE_WITHOUT_REDIS_PER_SECOND`) until Redis answers again:
sending slows down, and no message fails because of it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from typing import Protocol

import redis

from services.operations import metrics

log = logging.getLogger(__name__)

# After Redis failed, how long a process paces itself before asking Redis again, so that a
# Redis that is down costs one failed connection every few seconds, not one per message.
REDIS_RETRY_SECONDS = 5.0

_GCRA = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat > now then return tostring(tat - now) end
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', math.ceil(interval * 1000) + 60000)
return '0'
"""


class SlotSource(Protocol):
    def try_take(self, sender: str, cost: int = 1) -> float:
        """Take `cost` send slots (segments) for `sender` if free now (0.0), else say how long
        to wait."""


class LocalSlots:
    """A token bucket per sender, for one process; at most one message per 1/rate seconds."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next: dict[str, float] = {}

    def try_take(self, sender: str, cost: int = 1) -> float:
        now = time.monotonic()
        free_at = max(self._next.get(sender, now), now)
        if free_at - now > 0:
            return free_at - now
        self._next[sender] = now + self.interval * cost
        return 0.0


class RedisSlots:
    """One schedule per sender shared by every process, kept in Redis.

    While Redis cannot be reached, slots come from `fallback`, this process's own slower
    pace, and Redis is asked again every REDIS_RETRY_SECONDS.
    """

    def __init__(self, url: str, rate: float, fallback: LocalSlots) -> None:
        self.interval = 1.0 / rate
        # Short timeouts: a Redis that does not answer must cost a send a second at most.
        self._redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._script = self._redis.register_script(_GCRA)
        self.fallback = fallback
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def shared(self) -> bool:
        """Whether the pace is the shared one (Redis answered last time it was asked)."""
        return self._down_until == 0.0

    def try_take(self, sender: str, cost: int = 1) -> float:
        if time.monotonic() < self._down_until:
            return self.fallback.try_take(sender, cost)
        try:
            seconds, micros = self._redis.time()  # One clock for every process: Redis's own.
            wait = self._script(
                keys=[f"ratelimit:{sender}"], args=[seconds + micros / 1e6, self.interval * cost]
            )
        except redis.RedisError as exc:
            with self._lock:
                if self.shared:
                    metrics.SEND_PACE_FALLBACKS.inc()
                    log.warning(
                        "Redis unreachable (%s): sending at this process's own slower pace",
                        type(exc).__name__,
                    )
                self._down_until = time.monotonic() + REDIS_RETRY_SECONDS
            return self.fallback.try_take(sender, cost)
        if not self.shared:
            with self._lock:
                self._down_until = 0.0
            log.warning("Redis answers again: sending at the shared pace")
        return float(wait)


class RateLimiter:
    """Blocks each sender's callers to its rate; the lowest priority waiting goes first."""

    def __init__(self, slots: SlotSource | None) -> None:
        # None: no limit (tests and benchmarks of raw throughput).
        self._slots = slots
        self._cond = threading.Condition()
        self._waiting: list[tuple[int, int, str]] = []
        self._seq = itertools.count()

    def acquire(self, sender: str, priority: int = 0, cost: int = 1) -> None:
        """Return when `sender` may send one more message of `cost` segments."""
        if self._slots is None:
            return
        with self._cond:
            entry = (priority, next(self._seq), sender)
            heapq.heappush(self._waiting, entry)
            try:
                while True:
                    first = min(e for e in self._waiting if e[2] == sender)
                    if first is entry:
                        wait = self._slots.try_take(sender, cost)
                        if wait <= 0:
                            return
                    else:
                        wait = None  # Someone ahead of us; they notify when they go.
                    self._cond.wait(timeout=wait)
            finally:
                self._waiting.remove(entry)
                heapq.heapify(self._waiting)
                self._cond.notify_all()


def limiter_for(rate: float, redis_url: str | None, rate_without_redis: float) -> RateLimiter:
    """The limiter the settings ask for: none at rate 0, shared through Redis when it is set,
    at `rate_without_redis` (per process) while Redis cannot be reached."""
    if rate <= 0:
        return RateLimiter(None)
    if not redis_url:
        return RateLimiter(LocalSlots(rate))
    return RateLimiter(RedisSlots(redis_url, rate, LocalSlots(min(rate, rate_without_redis))))
