"""Ports for the servers that tests start, without the race of picking a port and binding later.

Picking a free port, closing it and handing its number to a server that binds it a moment
later is a race: in between, anything may take the port, and outgoing connections take
their local ports from the same (ephemeral) range. A fresh clone's suite once failed 40
tests that way. So:

- a server that can be handed a socket is given one already bound and listening
  (`listening_socket`): the werkzeug live server by its file descriptor, gunicorn by
  `--bind fd://N`. Nothing can take a port that is already held;
- a server that can only be told a number (Rasa, the action server, a worker's UDP wake
  port, `make run`'s children) gets a port outside the kernel's ephemeral range
  (`spare_port`), which no outgoing connection ever takes, and `start_with_retry` starts it
  again on another port if it still finds the port taken (EADDRINUSE).
"""

from __future__ import annotations

import random
import socket
from collections.abc import Callable
from pathlib import Path

# Linux's default when /proc cannot be read: 32768-60999.
_DEFAULT_EPHEMERAL = (32768, 60999)
# Below this are well-known and commonly configured ports (PostgreSQL 5432, Redis 6379,
# Rasa's 5005 and 5055, the dev server's 5000, ...): tests keep out of their way.
_LOWEST = 10000
# Sanic (Rasa, rasa_sdk) and Python say the first three; gunicorn says the last.
ADDRESS_IN_USE = ("address already in use", "errno 98", "eaddrinuse", "connection in use")


def listening_socket(host: str = "127.0.0.1") -> socket.socket:
    """A TCP socket bound to a port the kernel chose, already listening.

    Its port is `sock.getsockname()[1]`. Hand the socket itself to the server (werkzeug's
    `fd=`, gunicorn's `fd://`), so the port is never free between choosing and serving.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return _DEFAULT_EPHEMERAL


def _is_free(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def spare_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port outside the ephemeral range that was free when checked, for a server that can
    only be told a number. Start it with `start_with_retry`: another test may still bind
    the same port first, however unlikely."""
    low, high = _ephemeral_range()
    candidates = [p for p in range(_LOWEST, 65536) if not low <= p <= high]
    for _ in range(200):
        port = random.choice(candidates)
        if _is_free(port, kind):
            return port
    raise RuntimeError("no spare port outside the ephemeral range after 200 tries")


def says_address_in_use(text: str) -> bool:
    """Whether a server's output or error says its port was taken."""
    lowered = text.lower()
    return any(sign in lowered for sign in ADDRESS_IN_USE)


def start_with_retry[T](start: Callable[[int], T], attempts: int = 5) -> tuple[T, int]:
    """`start(port)` on a spare port; again on another one when the port was taken.

    `start` must raise an exception whose text says "address already in use" (as
    `Process.wait_http` does with the server's last output) when the port was taken, and
    must leave nothing running when it raises. Any other failure is raised at once.
    """
    last: Exception | None = None
    for _ in range(attempts):
        port = spare_port()
        try:
            return start(port), port
        except Exception as exc:  # noqa: BLE001 - only EADDRINUSE is retried
            if not says_address_in_use(str(exc)):
                raise
            last = exc
    raise RuntimeError(f"every port tried was taken ({attempts} tries)") from last
