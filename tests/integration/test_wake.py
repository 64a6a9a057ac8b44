"""Wake-ups reach the workers: NOTIFY on PostgreSQL from any process to any other, UDP on SQLite."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import IO

import pytest
from flask.testing import FlaskClient

from services.settings import Settings
from tests.support.factories import inbound_form, signed_post
from tests.support.ports import spare_port
from tests.support.processes import base_env

# Both databases: each wakes its workers its own way (services/messaging/wake.py).
pytestmark = pytest.mark.both_databases

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


@pytest.fixture
def listener(settings: Settings) -> Iterator[Listener]:
    """A listener at a UDP port the web app never sends to."""
    port = spare_port(socket.SOCK_DGRAM)
    assert port != settings.worker_wake_addr[1]
    with listening(settings.database_url, ("127.0.0.1", port)) as found:
        yield found


def test_an_inbound_message_wakes_a_worker_elsewhere_on_postgresql(
    db_kind: str, client: FlaskClient, settings: Settings, listener: Listener
) -> None:
    """The web app's wake-up reaches a worker it shares no UDP path with, on PostgreSQL only:
    there a web node on one host wakes the workers of another."""
    form = inbound_form("+447700900401", "hello")
    assert signed_post(client, settings, "/twilio/messages", form).status_code == 200
    expected = "woken" if db_kind == "postgresql" else "not woken"
    assert listener.outcome() == expected


def test_a_worker_on_this_host_is_woken_by_udp_on_sqlite(
    db_kind: str, client: FlaskClient, settings: Settings
) -> None:
    """SQLite: the datagram to WORKER_WAKE_ADDR wakes the worker listening there."""
    if db_kind != "sqlite":
        pytest.skip("PostgreSQL wakes by NOTIFY (the test above)")
    with listening(settings.database_url, settings.worker_wake_addr) as local:
        form = inbound_form("+447700900402", "hello")
        assert signed_post(client, settings, "/twilio/messages", form).status_code == 200
        assert local.outcome() == "woken"


def test_a_datagram_to_the_wake_address_wakes_a_worker_on_either_database(
    settings: Settings,
) -> None:
    """WORKER_WAKE_ADDR is a contract (ARCHITECTURE.md): whatever runs on the host may wake
    the workers there with a datagram, on PostgreSQL too."""
    addr = ("127.0.0.1", spare_port(socket.SOCK_DGRAM))
    with listening(settings.database_url, addr) as local:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"w", addr)
        assert local.outcome() == "woken"
