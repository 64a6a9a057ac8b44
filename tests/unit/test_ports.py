"""The test servers' ports: held from the start, or retried when taken (no pick-then-bind race)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from tests.support import ports
from tests.support.processes import base_env, start_http


def test_a_listening_socket_holds_its_port_so_nothing_else_can_bind_it() -> None:
    held = ports.listening_socket()
    try:
        port = held.getsockname()[1]
        with socket.socket() as other, pytest.raises(OSError) as refused:
            other.bind(("127.0.0.1", port))
        assert ports.says_address_in_use(str(refused.value))
    finally:
        held.close()


def test_spare_ports_are_outside_the_range_outgoing_connections_take() -> None:
    low, high = ports._ephemeral_range()
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        for _ in range(50):
            port = ports.spare_port(kind)
            assert not low <= port <= high
            assert port >= 10000


def test_a_start_that_finds_its_port_taken_is_retried_on_another() -> None:
    tried: list[int] = []

    def start(port: int) -> str:
        tried.append(port)
        if len(tried) < 3:
            raise OSError(98, "Address already in use")
        return "up"

    assert ports.start_with_retry(start) == ("up", tried[-1])
    assert len(tried) == 3


def test_any_other_failure_is_raised_at_once() -> None:
    tried: list[int] = []

    def start(port: int) -> None:
        tried.append(port)
        raise RuntimeError("the model file is missing")

    with pytest.raises(RuntimeError, match="model file"):
        ports.start_with_retry(start)
    assert len(tried) == 1


def test_a_real_server_whose_port_was_taken_starts_again_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another program binds the first port we are given before our server does: the child
    # exits with EADDRINUSE, and start_http starts it again on the next spare port.
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen(1)
    taken = squatter.getsockname()[1]
    choices = iter([taken])
    real_spare = ports.spare_port
    monkeypatch.setattr(
        ports, "spare_port", lambda kind=socket.SOCK_STREAM: next(choices, None) or real_spare(kind)
    )
    try:
        server, port = start_http(
            "http",
            lambda port: [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
            lambda port: f"http://127.0.0.1:{port}/",
            base_env(),
            tmp_path,
            30,
        )
        try:
            assert port != taken
            assert ports.says_address_in_use((tmp_path / "http.log").read_text())
        finally:
            server.stop()
    finally:
        squatter.close()
