"""Issue 10, end to end through the dev phone's signed webhooks, the real Rasa and the real
action server: danger never waits for a stalled Rasa; the victim is never left in silence
when Rasa, the action server or an action fails; auto-responders are left to an officer;
STOP with a photo; the action server takes calls only with Rasa's token."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Direction, Language, Message, MessageStatus
from services.conversations import processing
from services.language.texts import text
from services.runtime import Runtime
from tests.conftest import LiveServer
from tests.e2e.conftest import RasaStack, port_of, start_action_server
from tests.support.bot import first_reply
from tests.support.factories import new_case_with_quiet_victim
from tests.support.handset import Handset
from tests.support.processes import Process
from workers.worker import Worker

pytestmark = pytest.mark.e2e

MEGAN = "+447700900631"
GWEN = "+447700900632"
PEOPLE = {"en": (MEGAN, "Megan Price"), "cy": (GWEN, "Gwenllian ap Rhys")}


def _handset(
    client: FlaskClient, auth: dict[str, str], server: LiveServer, language: str
) -> Handset:
    phone, name = PEOPLE[language]
    new_case_with_quiet_victim(
        client, auth, "CR-E2E-SAFE", name=name, phone=phone, channel="sms", language=language
    )
    return Handset(server.url, phone)


def _handoffs(client: FlaskClient, auth: dict[str, str]) -> list[dict[str, object]]:
    body: list[dict[str, object]] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    return body


def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def _waiting(rt: Runtime) -> int:
    """Inbound messages not processed yet."""
    with rt.db.session() as session:
        return len(
            session.scalars(
                select(Message.id).where(
                    Message.direction == Direction.INBOUND,
                    Message.status == MessageStatus.RECEIVED,
                )
            ).all()
        )


def _bodies(handset: Handset) -> list[str]:
    return [m["body"] for m in handset.received()]


# --- Danger never waits -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "danger"),
    [("en", "he's outside my house now"), ("cy", "mae ganddo gyllell, mae o wrth y drws")],
)
def test_danger_is_answered_within_ten_seconds_while_rasa_stalls(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    rasa_stack: RasaStack,
    worker: Worker,
    rt: Runtime,
    language: str,
    danger: str,
) -> None:
    handset = _handset(client, auth, live_server, language)
    rasa_stack.proxy.mode = "stall"
    before = rasa_stack.proxy.connections
    handset.send("hello" if language == "en" else "shwmae")
    # A worker now holds the conversation's lease, inside a call to Rasa that will not end
    # for RASA_TIMEOUT_SECONDS (20 s in tests; 30 s by default).
    _until(lambda: rasa_stack.proxy.connections > before)
    sent = time.monotonic()
    handset.send(danger)
    received = handset.wait_for(1, timeout=10)
    took = time.monotonic() - sent
    assert [m["body"] for m in received] == [text("danger", Language(language))], took
    assert took < 10
    [handoff] = _handoffs(client, auth)
    assert handoff["priority"] == "urgent" and handoff["reason"] == "danger words"
    # Rasa comes back: the message it was stuck on is answered, once, after the danger reply.
    rasa_stack.proxy.mode = "pass"
    greeting = first_reply("utter_greet", language)
    assert [m["body"] for m in handset.wait_for(2)] == [
        text("danger", Language(language)),
        greeting,
    ]
    assert _bodies(handset) == [text("danger", Language(language)), greeting]
    with rt.db.session() as session:
        statuses = session.scalars(
            select(Message.status).where(Message.direction == Direction.INBOUND)
        ).all()
    assert statuses == [MessageStatus.PROCESSED, MessageStatus.PROCESSED]


# --- Never silent -------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "cy"])
def test_rasa_down_past_the_limit_gets_a_holding_reply_and_a_handoff(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    rasa_stack: RasaStack,
    worker: Worker,
    rt: Runtime,
    language: str,
) -> None:
    rt.settings = dataclasses.replace(rt.settings, rasa_give_up_seconds=3)
    handset = _handset(client, auth, live_server, language)
    rasa_stack.proxy.mode = "refuse"
    handset.send("any news on my case?" if language == "en" else "oes newyddion am fy achos?")
    assert [m["body"] for m in handset.wait_for(1, timeout=30)] == [
        text("holding", Language(language))
    ]
    [handoff] = _handoffs(client, auth)
    assert handoff["priority"] == "high" and handoff["reason"] == processing.RASA_DOWN_REASON
    # Rasa is back: the next message is the assistant's again.
    rasa_stack.proxy.mode = "pass"
    handset.send("hello" if language == "en" else "shwmae")
    assert handset.wait_for(2)[1]["body"] == first_reply("utter_greet", language)


@pytest.mark.parametrize("language", ["en", "cy"])
def test_the_action_server_down_gets_a_holding_reply_and_a_handoff(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    rasa_stack: RasaStack,
    worker: Worker,
    rt: Runtime,
    language: str,
) -> None:
    rt.settings = dataclasses.replace(rt.settings, rasa_give_up_seconds=3)
    handset = _handset(client, auth, live_server, language)
    # Without its action server, Rasa would answer, but wrongly ("Sorry, I didn't understand":
    # it carries on without the session's start), so the message waits for it, then holds.
    rasa_stack.action_proxy.mode = "refuse"
    handset.send("I need support" if language == "en" else "dw i angen cymorth")
    assert [m["body"] for m in handset.wait_for(1, timeout=30)] == [
        text("holding", Language(language))
    ]
    [handoff] = _handoffs(client, auth)
    assert handoff["priority"] == "high" and handoff["reason"] == processing.RASA_DOWN_REASON
    # Back: the next message is answered by the assistant, with its action.
    rasa_stack.action_proxy.mode = "pass"
    handset.send("I need support" if language == "en" else "dw i angen cymorth")
    support = "Victim Support" if language == "en" else "Cymorth i Ddioddefwyr"
    assert support in handset.wait_for(2)[1]["body"]


@pytest.mark.parametrize("language", ["en", "cy"])
def test_an_action_that_raises_gets_a_holding_reply_and_a_handoff(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    rasa_stack: RasaStack,
    worker: Worker,
    tmp_path: Path,
    language: str,
) -> None:
    handset = _handset(client, auth, live_server, language)
    # An action server whose database cannot be opened (a directory, not a file): every
    # action that reads it raises, as it would with the database down.
    broken = start_action_server(
        {**rasa_stack.env, "DATABASE_URL": f"sqlite:///{tmp_path}"}, tmp_path, "broken-actions"
    )
    try:
        rasa_stack.action_proxy.target_port = port_of(broken)
        # Asking for an officer opens a handoff: that action needs the database.
        handset.send(
            "can I talk to an officer" if language == "en" else "ga i siarad â swyddog heddlu"
        )
        assert [m["body"] for m in handset.wait_for(1)] == [text("holding", Language(language))]
        [handoff] = _handoffs(client, auth)
        assert handoff["reason"] == processing.ACTION_FAILED_REASON
        assert "raised; the victim gets a holding reply" in broken.tail(200)
    finally:
        broken.stop()


@pytest.mark.parametrize(
    ("language", "auto"),
    [("en", "I'm driving, I'll reply later"), ("cy", "Dwi'n gyrru, mi wna i ateb wedyn")],
)
def test_an_auto_responder_is_answered_three_times_then_left_to_an_officer(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    worker: Worker,
    rt: Runtime,
    language: str,
    auto: str,
) -> None:
    handset = _handset(client, auth, live_server, language)
    for answered in range(1, processing.REPEAT_LIMIT + 1):
        handset.send(auto)
        assert len(handset.wait_for(answered)) >= answered
        handset.settle(quiet=1.5)
    replies = len(handset.received())
    handset.send(auto)
    handset.send(auto)
    _until(lambda: _waiting(rt) == 0)
    assert len(handset.settle(quiet=3)) == replies  # nothing more goes back
    assert [h["priority"] for h in _handoffs(client, auth)] == ["normal"]


@pytest.mark.parametrize(("language", "stop"), [("en", "STOP"), ("cy", "stopio")])
def test_stop_with_a_photo_is_an_opt_out(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    worker: Worker,
    language: str,
    stop: str,
) -> None:
    handset = _handset(client, auth, live_server, language)
    handset.send(stop, num_media=1)
    assert [m["body"] for m in handset.settle(quiet=2)] == [text("opted_out", Language(language))]


# --- The action server's token ------------------------------------------------------------


def test_the_action_server_refuses_calls_without_rasas_token(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    rasa_stack: RasaStack,
    action_server: Process,
    worker: Worker,
    rt: Runtime,
    tmp_path: Path,
) -> None:
    base = f"http://127.0.0.1:{port_of(action_server)}"
    call = {"next_action": "action_support", "tracker": {"sender_id": "x"}, "domain": {}}
    assert requests.get(f"{base}/health", timeout=5).status_code == 200
    assert requests.post(f"{base}/webhook", json=call, timeout=5).status_code == 401
    wrong = requests.post(f"{base}/webhook", params={"token": "guess"}, json=call, timeout=5)
    assert wrong.status_code == 401
    assert requests.get(f"{base}/actions", timeout=5).status_code == 401
    right = requests.get(
        f"{base}/actions", params={"token": rasa_stack.env["ACTION_SERVER_TOKEN"]}, timeout=5
    )
    assert right.status_code == 200 and "action_support" in right.text

    # Through the real Rasa: an action server that expects another token refuses Rasa's
    # calls (Rasa then answers without its actions); the right one takes them.
    handset = _handset(client, auth, live_server, "en")
    other = start_action_server(
        {**rasa_stack.env, "DATABASE_URL": rt.settings.database_url, "ACTION_SERVER_TOKEN": "x"},
        tmp_path,
        "other-actions",
    )

    def ask_rasa(sender: str) -> str:
        answer = requests.post(
            f"{rasa_stack.proxy.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": "I need support"},
            timeout=60,
        )
        assert answer.status_code == 200
        return " ".join(str(m.get("text")) for m in answer.json())

    try:
        rasa_stack.action_proxy.target_port = port_of(other)
        assert "Victim Support" not in ask_rasa("refused-" + uuid.uuid4().hex)
        assert "refused a call to /webhook without the right token" in other.tail(200)
        # The worker asks the action server first, with the same token: it waits, then holds.
        rt.settings = dataclasses.replace(rt.settings, rasa_give_up_seconds=3)
        handset.send("I need support")
        assert [m["body"] for m in handset.wait_for(1, timeout=30)] == [
            text("holding", Language.EN)
        ]
    finally:
        other.stop()
    rasa_stack.action_proxy.target_port = port_of(action_server)
    assert "Victim Support" in ask_rasa("accepted-" + uuid.uuid4().hex)
    handset.send("I need support")
    assert "Victim Support" in handset.wait_for(2)[1]["body"]
