"""Asking Twilio whether it has a message already (after a send whose outcome is unknown)
never takes another message's SID: an earlier reply with the same words ("Thank you.") is
not this one. Through the real twilio library and the dev phone."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Author, Channel, Conversation, Direction, Message, MessageStatus, SentAs
from services.casework import notifications
from services.messaging import outbox
from services.runtime import Runtime
from services.settings import Settings
from tests.conftest import LiveServer
from tests.support.factories import (
    inbound_form,
    new_case,
    new_victim,
    quiet_hours_covering_now,
    signed_post,
)
from tests.support.handset import Handset

pytestmark = pytest.mark.both_databases  # the unique SID, and a conversation left stuck

MEGAN = "+447700900631"
WORDS = "Thank you. An officer will read this."
# Taken by Twilio: the dev phone's status callbacks ("sent", "delivered") may have come
# before the test looks, a few hundred ms after the send.
HANDED_OVER = {
    MessageStatus.ACCEPTED,
    MessageStatus.QUEUED,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
}


def _send_next(rt: Runtime, conversation_id: int) -> outbox.Submission:
    """The outbox's steps for the conversation, as a worker takes them, until the message
    it started with has left the outbox (at most three steps: never a loop)."""
    first: outbox.Submission | None = None
    for _ in range(3):
        with rt.db.session() as session:
            step = outbox.start_send(session, conversation_id, notifications.settle)
        if step is None:
            break
        assert isinstance(step, outbox.Submission)
        first = first or step
        outcome = outbox.deliver(rt.twilio, rt.rate_limiter, step)
        with rt.db.session() as session:
            outbox.finish_send(session, step, outcome, rt.settings, notifications.settle)
            if session.get_one(Message, step.message_id).status in HANDED_OVER:
                break
    assert first is not None
    return first


def test_an_earlier_reply_with_the_same_words_is_not_taken_for_this_one(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    settings: Settings,
    live_server: LiveServer,
) -> None:
    new_victim(
        client, auth, new_case(client, auth), phone=MEGAN, quiet_hours=quiet_hours_covering_now()
    )
    signed = signed_post(client, settings, "/twilio/messages", inbound_form(MEGAN, "hello"))
    assert signed.status_code == 200
    with rt.db.session() as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.address == MEGAN)
        ).one()
        conversation_id = conversation.id
        for _ in range(2):
            session.add(
                Message(
                    conversation_id=conversation_id,
                    direction=Direction.OUTBOUND,
                    author=Author.BOT,
                    body=WORDS,
                    status=MessageStatus.PENDING,
                )
            )
    first = _send_next(rt, conversation_id)
    # The second was being sent by a worker that died: it may or may not be at Twilio, so
    # the outbox asks Twilio first. Twilio has the first one, with the same words.
    with rt.db.session() as session:
        second = session.get_one(Message, first.message_id + 1)
        second.status = MessageStatus.SUBMITTING
    _send_next(rt, conversation_id)
    with rt.db.session() as session:
        sent = list(
            session.scalars(
                select(Message)
                .where(Message.direction == Direction.OUTBOUND, Message.body == WORDS)
                .order_by(Message.id)
            )
        )
        assert [m.status in HANDED_OVER for m in sent] == [True, True]
        assert sent[0].twilio_sid != sent[1].twilio_sid
    # The phone has both: the second was sent, not taken for the first.
    bodies = [m["body"] for m in Handset(live_server.url, MEGAN).received()]
    assert bodies.count(WORDS) == 2


def test_the_same_words_sent_on_the_phones_other_conversation_are_not_this_message(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    settings: Settings,
    live_server: LiveServer,
) -> None:
    """A WhatsApp notification that falls back to SMS goes to the same phone as the SMS
    conversation: Twilio's look-up finds that conversation's message with the same words."""
    new_victim(
        client, auth, new_case(client, auth), phone=MEGAN, quiet_hours=quiet_hours_covering_now()
    )
    signed = signed_post(client, settings, "/twilio/messages", inbound_form(MEGAN, "hello"))
    assert signed.status_code == 200
    with rt.db.session() as session:
        sms = session.scalars(select(Conversation).where(Conversation.address == MEGAN)).one()
        whatsapp = Conversation(
            address=f"whatsapp:{MEGAN}", channel=Channel.WHATSAPP, victim_id=sms.victim_id
        )
        session.add(whatsapp)
        session.flush()
        sms_id, whatsapp_id = sms.id, whatsapp.id
        session.add(
            Message(
                conversation_id=sms_id,
                direction=Direction.OUTBOUND,
                author=Author.BOT,
                body=WORDS,
                status=MessageStatus.PENDING,
            )
        )
    _send_next(rt, sms_id)
    with rt.db.session() as session:
        # Its worker died mid-send, by SMS (the WhatsApp attempt had failed).
        session.add(
            Message(
                conversation_id=whatsapp_id,
                direction=Direction.OUTBOUND,
                author=Author.SYSTEM,
                body=WORDS,
                status=MessageStatus.SUBMITTING,
                sent_as=SentAs.SMS,
            )
        )
    _send_next(rt, whatsapp_id)
    with rt.db.session() as session:
        sent = list(
            session.scalars(select(Message).where(Message.body == WORDS).order_by(Message.id))
        )
        assert [m.status in HANDED_OVER for m in sent] == [True, True]
        assert sent[0].twilio_sid != sent[1].twilio_sid
    bodies = [m["body"] for m in Handset(live_server.url, MEGAN).received()]
    assert bodies.count(WORDS) == 2
