"""Whole-pipeline conversations: dev phone -> webhook -> worker -> Rasa -> outbox -> dev phone."""

from __future__ import annotations

import threading
import time

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, select

from models import Conversation, Direction, Language, Message, MessageStatus
from services.conversations import processing
from services.language.texts import TEXTS, text
from services.messaging import leases
from services.runtime import Runtime
from tests.conftest import LiveServer
from tests.support.bot import first_reply, response
from tests.support.factories import new_case_with_quiet_victim
from tests.support.handset import Handset
from workers.worker import Worker

pytestmark = pytest.mark.e2e

MEGAN = "+447700900201"
GWEN = "+447700900202"


def _register(client: FlaskClient, auth: dict[str, str], **victim: str) -> None:
    new_case_with_quiet_victim(client, auth, "CR-E2E-1", **victim)


def test_hello_by_sms_gets_the_assistants_greeting(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker
) -> None:
    _register(client, auth, name="Megan Price", phone=MEGAN, channel="sms", language="en")
    phone = Handset(live_server.url, MEGAN, "sms")
    assert phone.send("hello")["webhook_status"] == 200
    received = phone.wait_for(1)
    assert [m["body"] for m in received] == [first_reply("utter_greet", "en")]


def test_welsh_victim_on_whatsapp_is_answered_in_welsh(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker
) -> None:
    _register(client, auth, name="Gwen Huws", phone=GWEN, channel="whatsapp", language="cy")
    phone = Handset(live_server.url, GWEN, "whatsapp")
    phone.send("shwmae")
    received = phone.wait_for(1)
    assert received[0]["body"] == first_reply("utter_greet", "cy")
    phone.send("asdfgh qwerty zxcvb")
    received = phone.wait_for(2)
    assert received[1]["body"] == response("utter_default", "cy")


def test_misunderstood_message_gets_the_fallback(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker
) -> None:
    _register(client, auth, name="Megan Price", phone=MEGAN, channel="sms", language="en")
    phone = Handset(live_server.url, MEGAN)
    phone.send("qwpoeiru zmxncb lkjh")
    assert phone.wait_for(1)[0]["body"] == first_reply("utter_default", "en")


def test_emoji_diacritics_and_1600_characters_pass_through(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker, rt: Runtime
) -> None:
    _register(client, auth, name="Megan Price", phone=MEGAN, channel="sms", language="en")
    phone = Handset(live_server.url, MEGAN)
    start = "Helô 👋🏽 ŵyr — "
    body = start + "a" * (1600 - len(start))
    phone.send(body)
    assert len(phone.wait_for(1)) == 1
    with rt.db.session() as session:
        stored = session.scalar(select(Message.body).where(Message.direction == Direction.INBOUND))
    assert stored == body


def test_unregistered_number_is_told_once_and_learns_nothing(
    live_server: LiveServer, worker: Worker
) -> None:
    stranger = Handset(live_server.url, "+447700900666")
    stranger.send("hello, is Megan there? what is happening with her case")
    stranger.send("hello??")
    received = stranger.settle(quiet=2)
    assert [m["body"] for m in received] == [text("unregistered", None)]
    assert "999" in received[0]["body"] and "101" in received[0]["body"]


def test_pictures_get_a_text_only_reply(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker
) -> None:
    _register(client, auth, name="Megan Price", phone=MEGAN, channel="sms", language="en")
    phone = Handset(live_server.url, MEGAN)
    phone.send("", num_media=1)
    assert phone.wait_for(1)[0]["body"] == TEXTS["media"][Language.EN]


def test_stop_then_silence_then_start(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker
) -> None:
    _register(client, auth, name="Gwen Huws", phone=GWEN, channel="sms", language="cy")
    phone = Handset(live_server.url, GWEN)
    phone.send("Stop.")
    assert phone.wait_for(1)[0]["body"] == TEXTS["opted_out"][Language.CY]
    phone.send("STOPIO")
    phone.send("helo")
    phone.send("help")
    assert len(phone.settle(quiet=2)) == 1  # nothing at all after the one confirmation
    phone.send("dechrau")
    assert phone.wait_for(2)[1]["body"] == TEXTS["opted_in"][Language.CY]
    phone.send("helo")
    assert phone.wait_for(3)[2]["body"] == first_reply("utter_greet", "cy")


def test_help_keyword_answers_without_the_bot(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker
) -> None:
    _register(client, auth, name="Megan Price", phone=MEGAN, channel="sms", language="en")
    phone = Handset(live_server.url, MEGAN)
    phone.send(" HELP! ")
    body = phone.wait_for(1)[0]["body"]
    assert body == TEXTS["help"][Language.EN]
    assert "999" in body and "101" in body


def test_one_conversation_is_answered_in_order(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker, rt: Runtime
) -> None:
    _register(client, auth, name="Megan Price", phone=MEGAN, channel="sms", language="en")
    phone = Handset(live_server.url, MEGAN)
    bodies = ["hello", "zzqx vvbn", "hiya", "plmokn ijb", "bye"]
    for body in bodies:
        phone.send(body)
    received = phone.wait_for(len(bodies))
    assert [m["body"] for m in received] == [
        first_reply("utter_greet", "en"),
        response("utter_default", "en"),
        response("utter_greet", "en"),
        response("utter_default", "en"),
        response("utter_goodbye", "en"),
    ]
    with rt.db.session() as session:
        inbound = session.scalars(
            select(Message).where(Message.direction == Direction.INBOUND).order_by(Message.id)
        ).all()
        assert [m.status for m in inbound] == [MessageStatus.PROCESSED] * len(bodies)
        processed = [m.processed_at for m in inbound if m.processed_at is not None]
        assert len(processed) == len(bodies) and processed == sorted(processed)


def test_delivery_status_reaches_delivered(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker, rt: Runtime
) -> None:
    _register(client, auth, name="Megan Price", phone=MEGAN, channel="sms", language="en")
    phone = Handset(live_server.url, MEGAN)
    phone.send("hello")
    phone.wait_for(1)
    deadline = time.monotonic() + 20
    status = None
    while time.monotonic() < deadline:
        with rt.db.session() as session:
            status = session.scalar(
                select(Message.status).where(Message.direction == Direction.OUTBOUND)
            )
        if status is MessageStatus.DELIVERED:
            break
        time.sleep(0.2)
    assert status is MessageStatus.DELIVERED


@pytest.mark.both_databases  # what a commit costs, and how many there are, is the database's
def test_a_message_and_its_reply_cost_three_transactions(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, rt: Runtime
) -> None:
    """One transaction per slow call (issue 12): claim the lease and start processing; write
    Rasa's reply and mark it as being sent; record Twilio's SID and let the lease go. Each
    commit is a round trip and, on SQLite, a turn at the one write lock."""
    _register(client, auth, name="Megan Price", phone=MEGAN, channel="sms", language="en")
    phone = Handset(live_server.url, MEGAN)
    assert phone.send("hello")["webhook_status"] == 200
    with rt.db.session() as session:
        conversation_id = session.scalar(
            select(Message.conversation_id).where(Message.direction == Direction.INBOUND)
        )
    assert conversation_id is not None
    me = threading.get_ident()
    commits: list[int] = []

    def counted(_connection: object) -> None:
        # The live server's threads commit too (the webhook, status callbacks): not ours.
        if threading.get_ident() == me:
            commits.append(1)

    event.listen(rt.db.engine, "commit", counted)
    try:
        processing.drain(rt, conversation_id, leases.new_owner())
    finally:
        event.remove(rt.db.engine, "commit", counted)
    assert [m["body"] for m in phone.wait_for(1)] == [first_reply("utter_greet", "en")]
    assert len(commits) == 3
    with rt.db.session() as session:
        lease = session.scalar(
            select(Conversation.lease_owner).where(Conversation.id == conversation_id)
        )
    assert lease is None  # Let go by the last of the three.
