"""A wake-up never holds up the request that sends it (services/messaging/wake.py)."""

from __future__ import annotations

import socket
import threading
import time

from services.messaging.wake import Waker

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/unreachable"


def test_a_nudge_never_waits_on_the_database() -> None:
    # The NOTIFY is sent by the waker's own thread: a request that nudges is never held by a
    # slow or dead connection. Here a server that takes the connection and never answers
    # (libpq then waits out its 2 s connect timeout).
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        waker = Waker(f"postgresql+psycopg://postgres@127.0.0.1:{port}/silent", ("127.0.0.1", 9))
        try:
            started = time.monotonic()
            for _ in range(3):
                waker.nudge()
            assert time.monotonic() - started < 0.5
        finally:
            waker.close()


def test_a_commit_marked_while_a_notify_is_in_flight_gets_one_sent_after_it() -> None:
    # Pure logic, with the NOTIFY itself stood in for: a nudge that comes while a NOTIFY is
    # on its way (which may have gone before that nudge's commit) makes the thread send again.
    waker = Waker(UNREACHABLE, ("127.0.0.1", 9))
    sent: list[float] = []
    in_flight = threading.Event()
    go_on = threading.Event()

    def notify() -> None:
        sent.append(time.monotonic())
        if len(sent) == 1:
            in_flight.set()
            go_on.wait(5)

    waker._notify = notify  # type: ignore[method-assign]
    try:
        waker.nudge()
        assert in_flight.wait(5)
        marked_at = time.monotonic()
        waker.nudge()  # committed while the first NOTIFY is in flight
        go_on.set()
        deadline = time.monotonic() + 5
        while len(sent) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(sent) == 2 and sent[1] > marked_at
        time.sleep(0.1)
        assert len(sent) == 2  # and no more: nothing else was marked
    finally:
        waker.close()
