"""A wake-up never holds up the request that sends it (services/messaging/wake.py)."""

from __future__ import annotations

import threading

from services.messaging.wake import Waker


def test_a_nudge_never_queues_behind_another_threads_nudge() -> None:
    # Another thread is nudging (say, on a connection left half-open): its NOTIFY wakes the
    # workers for this commit too, and this webhook must not wait for it.
    waker = Waker("postgresql+psycopg://postgres@127.0.0.1:1/unreachable", ("127.0.0.1", 9))
    waker._lock.acquire()
    try:
        nudging = threading.Thread(target=waker.nudge, daemon=True)
        nudging.start()
        nudging.join(0.5)
        assert not nudging.is_alive()
    finally:
        waker._lock.release()
