"""A worker's wake listener in a process of its own, for tests that a wake-up reaches it
(services/messaging/wake.py)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import IO

from tests.support.processes import base_env

# The worker's end, in a process of its own: it prints "listening" once it is, then "woken"
# or "not woken" after at most `timeout` seconds.
LISTENER = textwrap.dedent(
    """
    import sys, threading
    from services.messaging.wake import WakeListener

    url, host, port, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    woken = threading.Event()
    listener = WakeListener(url, (host, port), woken)
    listener.listening.wait(10)
    if url.startswith("postgresql"):
        woken.wait(10)  # the wake-up it gives itself once listening: not a nudge's
    woken.clear()
    print("listening", flush=True)
    print("woken" if woken.wait(timeout) else "not woken", flush=True)
    listener.close()
    """
)


class Listener:
    """The listener process's answers."""

    def __init__(self, stdout: IO[str]) -> None:
        self.stdout = stdout
        assert self.stdout.readline().strip() == "listening"

    def outcome(self) -> str:
        return self.stdout.readline().strip()


@contextlib.contextmanager
def listening(database_url: str, addr: tuple[str, int]) -> Iterator[Listener]:
    """A worker's wake listener for `database_url` and `addr`, in a process of its own."""
    command = [sys.executable, "-c", LISTENER, database_url, addr[0], str(addr[1]), "5"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=base_env()) as process:
        try:
            assert process.stdout is not None
            yield Listener(process.stdout)
        finally:
            process.kill()
