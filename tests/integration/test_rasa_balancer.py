"""The haproxy in front of the Rasa replicas (scripts/layout.haproxy_config), with the real
haproxy: it spreads messages over the replicas, goes around one that is down, and never
plays a message twice on another replica once one has received it."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from scripts.layout import Layout, haproxy_config
from tests.support.ports import listening_socket
from tests.support.processes import base_env, start_http

WEBHOOK = "/webhooks/rest/webhook"


class FakeReplica:
    """A stand-in for one Rasa replica: answers its health check and counts messages.

    `drop` makes it take a message and close the connection without answering, as a
    replica that dies mid-message does.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.sock = listening_socket()
        self.port = self.sock.getsockname()[1]
        self.messages = 0
        self.drop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                request = conn.recv(65536).decode(errors="replace")
                if request.startswith("POST"):
                    self.messages += 1
                    if self.drop:
                        continue  # closed unanswered
                body = f'[{{"text": "{self.name}"}}]'.encode()
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


@pytest.fixture
def replicas() -> Iterator[list[FakeReplica]]:
    pair = [FakeReplica("one"), FakeReplica("two")]
    yield pair
    for replica in pair:
        try:
            replica.close()
        except OSError:
            pass


@pytest.fixture
def balancer(replicas: list[FakeReplica], tmp_path: Path) -> Iterator[str]:
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        pytest.skip("haproxy is not installed: `make haproxy` installs Debian's package")
    config = tmp_path / "haproxy.cfg"

    def argv(port: int) -> list[str]:
        plan = Layout(
            production=True,
            run_dir=tmp_path,
            host="127.0.0.1",
            port=0,
            web_workers=1,
            workers=1,
            schedulers=1,
            rasa_host="127.0.0.1",
            rasa_port=port,
            action_host="127.0.0.1",
            replicas=[(r.port, "http://127.0.0.1:9/webhook") for r in replicas],
        )
        config.write_text(haproxy_config(plan, rasa_timeout=5))
        return [haproxy, "-db", "-f", str(config)]

    process, port = start_http(
        "haproxy", argv, lambda port: f"http://127.0.0.1:{port}/", base_env(), tmp_path, 30
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


def _send(url: str) -> requests.Response:
    return requests.post(f"{url}{WEBHOOK}", json={"sender": "s", "message": "hi"}, timeout=20)


def _wait_both_up(url: str, replicas: list[FakeReplica]) -> None:
    # haproxy checks each replica every 2 s; until then it may send everything to one.
    deadline = time.monotonic() + 15
    while not all(r.messages for r in replicas):
        assert time.monotonic() < deadline, "haproxy never used both replicas"
        _send(url)
        time.sleep(0.1)


def test_messages_are_spread_over_the_replicas(balancer: str, replicas: list[FakeReplica]) -> None:
    _wait_both_up(balancer, replicas)
    answered = [_send(balancer).json()[0]["text"] for _ in range(10)]
    assert set(answered) == {"one", "two"}


def test_a_replica_that_is_down_is_gone_around(balancer: str, replicas: list[FakeReplica]) -> None:
    _wait_both_up(balancer, replicas)
    replicas[1].close()
    answers = [_send(balancer) for _ in range(10)]
    assert [a.status_code for a in answers] == [200] * 10
    assert {a.json()[0]["text"] for a in answers} == {"one"}


def test_a_message_a_replica_received_is_never_sent_to_another(
    balancer: str, replicas: list[FakeReplica]
) -> None:
    _wait_both_up(balancer, replicas)
    for replica in replicas:
        replica.drop = True
    before = sum(r.messages for r in replicas)
    answer = _send(balancer)
    # The worker gets an error and retries later (its backoff), knowing it may be a repeat;
    # haproxy itself must not have played it to the other replica.
    assert answer.status_code >= 500
    assert sum(r.messages for r in replicas) - before == 1
