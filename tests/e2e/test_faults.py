"""Faults: Rasa down or slow, Twilio failing, duplicate webhooks, processes killed with -9."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Direction, Message, MessageStatus
from services.runtime import Runtime
from services.settings import Settings
from tests.conftest import LiveServer
from tests.e2e.conftest import RasaStack, WorkerThread, env_for
from tests.support.bot import first_reply
from tests.support.factories import message_sid, new_case_with_quiet_victim
from tests.support.handset import Handset
from tests.support.processes import APP_PY, ROOT, Process
from workers.worker import Worker

pytestmark = pytest.mark.e2e

MEGAN = "+447700900301"
GREETING = first_reply("utter_greet", "en")


@pytest.fixture
def megan(client: FlaskClient, auth: dict[str, str], live_server: LiveServer) -> Handset:
    new_case_with_quiet_victim(
        client, auth, "CR-FAULT-1", name="Megan Price", phone=MEGAN, channel="sms", language="en"
    )
    return Handset(live_server.url, MEGAN)


def _control(base_url: str, **faults: object) -> None:
    response = requests.put(f"{base_url}/devphone/control", json=faults, timeout=5)
    assert response.status_code == 200, response.text


def _outbound(rt: Runtime) -> list[Message]:
    with rt.db.session() as session:
        return list(
            session.scalars(
                select(Message).where(Message.direction == Direction.OUTBOUND).order_by(Message.id)
            )
        )


def _inbound(rt: Runtime) -> list[Message]:
    with rt.db.session() as session:
        return list(
            session.scalars(
                select(Message).where(Message.direction == Direction.INBOUND).order_by(Message.id)
            )
        )


def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def test_rasa_down_then_up_answers_once(
    megan: Handset, rasa_stack: RasaStack, worker: Worker, rt: Runtime
) -> None:
    rasa_stack.proxy.mode = "refuse"
    megan.send("hello")
    _until(lambda: _inbound(rt)[0].attempts >= 2)
    assert megan.received() == []
    assert _inbound(rt)[0].status is MessageStatus.RECEIVED
    rasa_stack.proxy.mode = "pass"
    assert [m["body"] for m in megan.wait_for(1)] == [GREETING]
    assert [m["body"] for m in megan.settle(quiet=3)] == [GREETING]


def test_rasa_slow_message_waits_and_is_answered_once(
    megan: Handset, rasa_stack: RasaStack, rt: Runtime
) -> None:
    rt.settings = dataclasses.replace(rt.settings, rasa_timeout=1.5)
    rt.reset_clients()  # the Rasa client is rebuilt with the short timeout
    rasa_stack.proxy.mode = "stall"
    with WorkerThread(rt):
        megan.send("hello")
        _until(lambda: _inbound(rt)[0].attempts >= 1, timeout=20)
        assert megan.received() == []
        rasa_stack.proxy.mode = "pass"
        assert [m["body"] for m in megan.wait_for(1)] == [GREETING]
        assert [m["body"] for m in megan.settle(quiet=3)] == [GREETING]


@pytest.mark.parametrize("status", [500, 429])
def test_twilio_errors_are_retried_until_accepted(
    megan: Handset, live_server: LiveServer, worker: Worker, rt: Runtime, status: int
) -> None:
    _control(live_server.url, fail_next=2, fail_status=status)
    megan.send("hello")
    assert [m["body"] for m in megan.wait_for(1)] == [GREETING]
    assert len(megan.settle(quiet=2)) == 1
    [reply] = _outbound(rt)
    assert reply.attempts == 3
    assert reply.twilio_sid == megan.received()[0]["sid"]


def test_permanent_twilio_error_is_recorded_not_retried(
    megan: Handset, live_server: LiveServer, worker: Worker, rt: Runtime
) -> None:
    _control(live_server.url, reject={MEGAN: 21610})
    megan.send("hello")
    _until(lambda: bool(_outbound(rt)) and _outbound(rt)[0].status is MessageStatus.FAILED)
    time.sleep(1.5)
    [reply] = _outbound(rt)
    assert reply.error_code == 21610
    assert reply.attempts == 1
    assert megan.received() == []


@pytest.mark.both_databases  # leases, unique MessageSids and submitting rows: SQL
def test_duplicate_webhook_is_answered_once(megan: Handset, worker: Worker, rt: Runtime) -> None:
    sid = message_sid()
    assert megan.send("hello", sid=sid)["webhook_status"] == 200
    assert megan.send("hello", sid=sid)["webhook_status"] == 200
    assert [m["body"] for m in megan.settle(quiet=3)] == [GREETING]
    assert len(_inbound(rt)) == 1


def test_out_of_order_callbacks_never_move_status_back(
    megan: Handset, live_server: LiveServer, worker: Worker, rt: Runtime
) -> None:
    _control(
        live_server.url,
        callback_statuses=["sent", "delivered"],
        callback_reverse=True,
        callback_interval=0.2,
    )
    megan.send("hello")
    megan.wait_for(1)
    time.sleep(1.5)
    [reply] = _outbound(rt)
    assert reply.status is MessageStatus.DELIVERED


# --- kill -9 ---------------------------------------------------------------------------


@pytest.fixture
def spawn_worker(settings: Settings, tmp_path: Path) -> Iterator[Callable[[], Process]]:
    started: list[Process] = []

    def spawn() -> Process:
        process = Process(
            f"worker{len(started)}",
            [str(APP_PY), "-m", "workers"],
            env_for(settings),
            tmp_path,
        )
        started.append(process)
        return process

    yield spawn
    for process in started:
        process.stop()


@pytest.mark.both_databases  # leases, unique MessageSids and submitting rows: SQL
def test_worker_killed_while_waiting_for_rasa_loses_nothing_and_doubles_nothing(
    megan: Handset, rasa_stack: RasaStack, spawn_worker: Callable[[], Process], rt: Runtime
) -> None:
    rasa_stack.proxy.mode = "stall"
    first = spawn_worker()
    before = rasa_stack.proxy.connections
    megan.send("hello")
    _until(lambda: rasa_stack.proxy.connections > before)  # the worker is inside the Rasa call
    first.kill()
    rasa_stack.proxy.mode = "pass"
    spawn_worker()
    assert [m["body"] for m in megan.wait_for(1)] == [GREETING]
    assert [m["body"] for m in megan.settle(quiet=3)] == [GREETING]
    assert [m.status for m in _inbound(rt)] == [MessageStatus.PROCESSED]


@pytest.mark.both_databases  # leases, unique MessageSids and submitting rows: SQL
def test_worker_killed_while_twilio_is_answering_sends_once(
    megan: Handset, live_server: LiveServer, spawn_worker: Callable[[], Process], rt: Runtime
) -> None:
    # Twilio takes the message, then is slow to answer: the worker dies not knowing the SID.
    _control(live_server.url, delay_seconds=6)
    first = spawn_worker()
    megan.send("hello")
    _until(lambda: len(megan.received()) == 1)
    first.kill()
    [reply] = _outbound(rt)
    assert reply.status is MessageStatus.SUBMITTING and reply.twilio_sid is None
    requests.delete(f"{live_server.url}/devphone/control", timeout=5)
    spawn_worker()
    _until(lambda: _outbound(rt)[0].twilio_sid is not None)
    assert [m["body"] for m in megan.settle(quiet=3)] == [GREETING]
    [reply] = _outbound(rt)
    assert reply.twilio_sid == megan.received()[0]["sid"]


@pytest.mark.both_databases  # leases, unique MessageSids and submitting rows: SQL
def test_twilio_slow_to_take_a_message_gets_it_once(
    megan: Handset, live_server: LiveServer, worker: Worker, rt: Runtime, settings: Settings
) -> None:
    # Twilio takes the message only after our request has given up waiting for it: asked at
    # once, it would say it has no such message, and the reply would go twice.
    _control(live_server.url, store_delay_seconds=settings.twilio_timeout + 1.5)
    try:
        megan.send("hello")
        _until(lambda: any(m.twilio_sid is not None for m in _outbound(rt)), timeout=60)
    finally:
        requests.delete(f"{live_server.url}/devphone/control", timeout=5)
    assert [m["body"] for m in megan.settle(quiet=3)] == [GREETING]
    [reply] = _outbound(rt)
    assert reply.twilio_sid == megan.received()[0]["sid"]


def test_web_killed_and_restarted_with_twilio_retrying_loses_and_doubles_nothing(
    settings: Settings,
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    tmp_path: Path,
    web_socket: socket.socket,
) -> None:
    # The web app as its own process (gunicorn, as in production) on the test's port.
    new_case_with_quiet_victim(
        client, auth, "CR-FAULT-2", name="Megan Price", phone=MEGAN, channel="sms", language="en"
    )
    argv = [
        str(ROOT / ".venvs/app/bin/gunicorn"),
        "--workers",
        "2",
        "--threads",
        "4",
        # The test's own listening socket: the port stays held across the kill and restart.
        "--bind",
        f"fd://{web_socket.fileno()}",
        "webhooks:create_app()",
    ]
    fds = (web_socket.fileno(),)
    base = settings.public_base_url
    web = Process("web", argv, env_for(settings), tmp_path, pass_fds=fds)
    restarted: Process | None = None
    try:
        web.wait_http(f"{base}/devphone", timeout=60)
        with WorkerThread(rt):
            phone = Handset(base, MEGAN)
            sid = message_sid()
            assert phone.send("hello", sid=sid)["webhook_status"] == 200
            web.kill()
            restarted = Process("web-restarted", argv, env_for(settings), tmp_path, pass_fds=fds)
            restarted.wait_http(f"{base}/devphone", timeout=60)
            # Twilio never saw an answer from the dead process, so it delivers again.
            assert phone.send("hello", sid=sid)["webhook_status"] == 200
            assert [m["body"] for m in phone.wait_for(1)] == [GREETING]
            assert [m["body"] for m in phone.settle(quiet=3)] == [GREETING]
            assert len(_inbound(rt)) == 1
    finally:
        web.stop()
        if restarted:
            restarted.stop()
