"""Wake-ups reach the workers: NOTIFY on PostgreSQL from any process to any other, UDP on SQLite."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import psycopg
import pytest
from flask.testing import FlaskClient

from models.db import libpq_url
from services.messaging.wake import Waker
from services.settings import Settings
from tests.support.factories import inbound_form, signed_post
from tests.support.ports import spare_port
from tests.support.processes import base_env
from tests.support.wakeups import Listener, listening

# Both databases: each wakes its workers its own way (services/messaging/wake.py).
pytestmark = pytest.mark.both_databases


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


@pytest.mark.postgresql_only  # NOTIFY's kept connection
def test_a_nudge_still_wakes_the_workers_after_the_server_closed_its_connection(
    db_kind: str, settings: Settings
) -> None:
    """A restart, a failover or an idle timeout closes the waker's kept connection, and
    psycopg learns it only by using it: that NOTIFY fails, and it is sent again on a new
    connection, not left to the workers' poll."""
    waker = Waker(settings.database_url, settings.worker_wake_addr)
    try:
        with listening(
            settings.database_url, ("127.0.0.1", spare_port(socket.SOCK_DGRAM))
        ) as first:
            waker.nudge()
            assert first.outcome() == "woken"
        assert waker._conn is not None
        backend = waker._conn.info.backend_pid
        with psycopg.connect(libpq_url(settings.database_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
        with listening(
            settings.database_url, ("127.0.0.1", spare_port(socket.SOCK_DGRAM))
        ) as again:
            waker.nudge()
            assert again.outcome() == "woken"
        assert waker._conn is not None and waker._conn.info.backend_pid != backend
    finally:
        waker.close()


# A process that nudges and exits at once, as a web worker stopped just after a webhook.
NUDGE_AND_EXIT = textwrap.dedent(
    """
    import sys
    from services.messaging.wake import Waker

    Waker(sys.argv[1], ("127.0.0.1", 9)).nudge()
    sys.exit(0)
    """
)


@pytest.mark.postgresql_only  # NOTIFY's thread
def test_a_nudge_just_before_the_process_exits_still_wakes_the_workers(
    db_kind: str, settings: Settings, listener: Listener
) -> None:
    """The NOTIFY goes from the waker's own thread, which the interpreter does not wait for
    at exit: what was marked is sent at exit (atexit), or the 999 guidance of a webhook
    answered just before its worker stopped would wait for the poll."""
    command = [sys.executable, "-c", NUDGE_AND_EXIT, settings.database_url]
    subprocess.run(command, env=base_env(), check=True, timeout=30)
    assert listener.outcome() == "woken"


@pytest.mark.postgresql_only  # NOTIFY's thread and connection
def test_closing_the_waker_stops_its_thread_and_closes_its_connection(
    db_kind: str, settings: Settings, listener: Listener
) -> None:
    waker = Waker(settings.database_url, settings.worker_wake_addr)
    waker.nudge()
    assert listener.outcome() == "woken"
    thread = waker._thread
    assert thread is not None and thread.is_alive()
    started = time.monotonic()
    waker.close()
    assert time.monotonic() - started < 1.0  # told at once, not at its next look up
    assert not thread.is_alive() and waker._conn is None


@pytest.mark.postgresql_only  # NOTIFY's thread
def test_a_nudge_after_close_still_wakes_the_workers(
    db_kind: str, settings: Settings, listener: Listener
) -> None:
    """An exit handler, or a request the graceful timeout outlived, may commit after the
    waker closed: no thread sends for it then, so the nudge sends its own."""
    waker = Waker(settings.database_url, settings.worker_wake_addr)
    waker.close()
    waker.nudge()
    assert listener.outcome() == "woken"
