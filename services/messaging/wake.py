"""A nudge from the web app to the workers that new work is waiting.

Workers also poll, so a nudge that is lost costs a little latency and nothing else; it is
a UDP datagram on the loopback for that reason: it can never block or fail a webhook.
"""

from __future__ import annotations

import socket


def nudge(addr: tuple[str, int]) -> None:
    """Tell a worker listening on `addr` to look for work now."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"w", addr)
    except OSError:
        pass


class WakeListener:
    """The worker's end: wait up to a timeout for a nudge."""

    def __init__(self, addr: tuple[str, int]) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # Several workers may listen on one port; the kernel hands each datagram to one.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self.sock.bind(addr)

    def wait(self, timeout: float) -> bool:
        """True when nudged within `timeout` seconds; drains any backlog of nudges."""
        self.sock.settimeout(timeout)
        try:
            self.sock.recv(16)
        except TimeoutError:
            return False
        self.sock.setblocking(False)
        try:
            while self.sock.recv(16):
                pass
        except BlockingIOError:
            pass
        return True

    def close(self) -> None:
        self.sock.close()
