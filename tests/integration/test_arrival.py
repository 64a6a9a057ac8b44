"""What is dealt with as a message arrives, through the signed webhook and a real database:
STOP in every shape (a photo captioned STOP, Twilio's OptOutType), START and HELP, and words
of danger, whose 999 guidance is an urgent message any worker claims without the lease."""

from __future__ import annotations

import socket
import threading

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import (
    Conversation,
    Direction,
    Handoff,
    HandoffPriority,
    Language,
    Message,
    MessageStatus,
)
from services.casework import notifications
from services.conversations import processing
from services.conversations.consent import OPTED_OUT_REASON
from services.language.texts import text
from services.messaging import leases, outbox
from services.messaging.rasa import BotAnswer
from services.messaging.twilio_gateway import SendFailed
from services.runtime import Runtime
from services.settings import Settings
from tests.support.factories import inbound_form, new_case, new_victim, signed_post
from workers.worker import due_conversations

MEGAN = "+447700900611"
GWEN = "+447700900612"


def _deliver(client: FlaskClient, settings: Settings, sender: str, body: str, **extra: str) -> None:
    form = inbound_form(sender, body, **extra)
    assert signed_post(client, settings, "/twilio/messages", form).status_code == 200


def _conversation(rt: Runtime, address: str) -> Conversation:
    with rt.db.session() as session:
        found = session.scalar(select(Conversation).where(Conversation.address == address))
        assert found is not None
        return found


def _messages(rt: Runtime, direction: Direction) -> list[Message]:
    with rt.db.session() as session:
        return list(
            session.scalars(
                select(Message).where(Message.direction == direction).order_by(Message.id)
            )
        )


def _handoffs(rt: Runtime) -> list[Handoff]:
    with rt.db.session() as session:
        return list(session.scalars(select(Handoff).order_by(Handoff.id)))


@pytest.fixture
def victims(client: FlaskClient, auth: dict[str, str]) -> None:
    case_ref = new_case(client, auth)
    new_victim(client, auth, case_ref, phone=MEGAN, language="en")
    new_victim(client, auth, case_ref, phone=GWEN, language="cy", name="Gwenllian ap Rhys")


# --- STOP, whatever its shape ------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "body", "language"), [(MEGAN, "STOP", "en"), (GWEN, "Stopio", "cy")]
)
def test_stop_with_a_photo_opts_out_at_once(
    client: FlaskClient,
    settings: Settings,
    rt: Runtime,
    victims: None,
    phone: str,
    body: str,
    language: str,
) -> None:
    _deliver(client, settings, phone, body, NumMedia="1", MediaContentType0="image/jpeg")
    conversation = _conversation(rt, phone)
    assert conversation.opted_out_at is not None
    [inbound] = _messages(rt, Direction.INBOUND)
    assert inbound.status is MessageStatus.PROCESSED  # not the media notice, not the bot
    [confirmation] = _messages(rt, Direction.OUTBOUND)
    assert confirmation.body == text("opted_out", Language(language))
    assert confirmation.bypass_opt_out
    [handoff] = _handoffs(rt)
    assert handoff.reason == OPTED_OUT_REASON


def test_twilio_advanced_opt_out_is_honoured_and_not_answered_twice(
    client: FlaskClient, settings: Settings, rt: Runtime, victims: None
) -> None:
    # A force added DIWEDD ("end") to its Messaging Service: not one of our words, but Twilio
    # matched it, opted the number out, sent its own confirmation, and says so in
    # OptOutType. We record it; a second confirmation would be refused (21610), or doubled.
    _deliver(client, settings, GWEN, "DIWEDD", OptOutType="STOP")
    assert _conversation(rt, GWEN).opted_out_at is not None
    assert _messages(rt, Direction.OUTBOUND) == []
    assert [h.reason for h in _handoffs(rt)] == [OPTED_OUT_REASON]
    # Opted out: the bot never sees what follows, and nothing goes back.
    _deliver(client, settings, GWEN, "shwmae")
    with rt.db.session() as session:
        conversation_id = _conversation(rt, GWEN).id
        assert (
            processing.start_processing(session, conversation_id, rt.settings) == processing.HANDLED
        )
    assert _messages(rt, Direction.OUTBOUND) == []
    # Twilio's START: opted in again, confirmed by Twilio, not by us.
    _deliver(client, settings, GWEN, "DECHRAU", OptOutType="START")
    assert _conversation(rt, GWEN).opted_out_at is None
    assert _messages(rt, Direction.OUTBOUND) == []


def test_twilio_help_is_answered_by_twilio_and_never_reaches_the_bot(
    client: FlaskClient, settings: Settings, rt: Runtime, victims: None
) -> None:
    _deliver(client, settings, MEGAN, "HELP", OptOutType="HELP")
    assert [m.status for m in _messages(rt, Direction.INBOUND)] == [MessageStatus.PROCESSED]
    assert _messages(rt, Direction.OUTBOUND) == []
    # Without Advanced Opt-Out, our own help text answers it.
    _deliver(client, settings, MEGAN, "help")
    assert [m.body for m in _messages(rt, Direction.OUTBOUND)] == [text("help", Language.EN)]


def test_an_unknown_opt_out_type_is_stored_and_goes_on_as_any_message(
    client: FlaskClient, settings: Settings, rt: Runtime, victims: None
) -> None:
    _deliver(client, settings, MEGAN, "hello", OptOutType="SOMETHING-NEW")
    [inbound] = _messages(rt, Direction.INBOUND)
    assert inbound.status is MessageStatus.RECEIVED  # its turn comes, with the bot
    assert _conversation(rt, MEGAN).opted_out_at is None


def test_stop_outruns_replies_the_bot_is_still_writing(
    client: FlaskClient, settings: Settings, rt: Runtime, victims: None
) -> None:
    # "hello" is with Rasa when STOP arrives: STOP is honoured at once, and the answer to
    # "hello", written afterwards, is suppressed, never sent.
    _deliver(client, settings, MEGAN, "hello")
    conversation_id = _conversation(rt, MEGAN).id
    with rt.db.session() as session:
        request = processing.start_processing(session, conversation_id, rt.settings)
    assert isinstance(request, processing.BotRequest)
    _deliver(client, settings, MEGAN, "stop")
    with rt.db.session() as session:
        processing.finish_processing(session, rt, request, BotAnswer(["Hello! How can I help?"]))
    sent: list[str] = []
    while True:
        with rt.db.session() as session:
            step = outbox.start_send(session, conversation_id, notifications.settle)
            if step is None:
                break
            if isinstance(step, outbox.Submission):
                sent.append(step.body)
                session.get_one(Message, step.message_id).status = MessageStatus.SENT
    assert sent == [text("opted_out", Language.EN)]
    [bot_reply] = [m for m in _messages(rt, Direction.OUTBOUND) if m.body.startswith("Hello!")]
    assert bot_reply.status is MessageStatus.SUPPRESSED


# --- Danger: an urgent message, claimed one by one --------------------------------------


def _urgent_reply(rt: Runtime) -> Message:
    [reply] = [m for m in _messages(rt, Direction.OUTBOUND) if m.priority == outbox.URGENT]
    return reply


@pytest.mark.parametrize(
    ("phone", "body", "language"),
    [(MEGAN, "he's at the door", "en"), (GWEN, "mae ganddo gyllell", "cy")],
)
def test_danger_is_claimed_by_any_worker_while_another_holds_the_lease(
    client: FlaskClient,
    settings: Settings,
    rt: Runtime,
    victims: None,
    phone: str,
    body: str,
    language: str,
) -> None:
    _deliver(client, settings, phone, "hello")
    conversation_id = _conversation(rt, phone).id
    # A worker has the conversation and is waiting on Rasa for "hello".
    with rt.db.session() as session:
        assert leases.claim(session, conversation_id, "busy-host:1:waiting-on-rasa", 90)
    _deliver(client, settings, phone, body)
    reply = _urgent_reply(rt)
    assert reply.body == text("danger", Language(language))
    [handoff] = _handoffs(rt)
    assert handoff.priority is HandoffPriority.URGENT
    with rt.db.session() as session:
        # The conversation's ordered path never takes it, nor lists it as due work...
        assert outbox.next_due(session, conversation_id) is None
        assert [c for c, _ in due_conversations(session)] == [conversation_id]  # "hello"
        # ...any worker may claim it, lease or not.
        assert outbox.due_urgent(session) == [reply.id]
        step = outbox.claim_urgent(session, reply.id, "free-worker", 90, notifications.settle)
    assert isinstance(step, outbox.Submission) and step.claimed_by == "free-worker"
    assert step.body == reply.body and step.priority == outbox.URGENT
    with rt.db.session() as session:
        # Claimed: nobody else may have it while the claim holds.
        assert outbox.claim_urgent(session, reply.id, "other", 90, notifications.settle) is None
        assert outbox.due_urgent(session) == []


def test_two_workers_claim_an_urgent_message_once(
    client: FlaskClient, settings: Settings, rt: Runtime, victims: None
) -> None:
    _deliver(client, settings, MEGAN, "help me he's here")
    reply = _urgent_reply(rt)
    barrier = threading.Barrier(2)
    won: list[str] = []

    def claim(owner: str) -> None:
        barrier.wait()
        with rt.db.session() as session:
            step = outbox.claim_urgent(session, reply.id, owner, 90, notifications.settle)
            if isinstance(step, outbox.Submission):
                won.append(owner)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(won) == 1


def test_a_claim_that_ran_out_is_taken_over_and_twilio_asked_first(
    client: FlaskClient, settings: Settings, rt: Runtime, victims: None
) -> None:
    _deliver(client, settings, MEGAN, "he's outside")
    reply = _urgent_reply(rt)
    with rt.db.session() as session:
        first = outbox.claim_urgent(session, reply.id, "gone", 0.001, notifications.settle)
    assert isinstance(first, outbox.Submission) and not first.reconcile
    with rt.db.session() as session:
        # It died mid-send: its claim runs out, and whoever takes over reconciles.
        assert outbox.due_urgent(session) == [reply.id]
        second = outbox.claim_urgent(session, reply.id, "next", 90, notifications.settle)
    assert isinstance(second, outbox.Submission) and second.reconcile
    # The first worker comes back late: what it says is no longer its to record.
    with rt.db.session() as session:
        outbox.finish_send(
            session, first, SendFailed("late", None, retry=False), rt.settings, notifications.settle
        )
        assert session.get_one(Message, reply.id).status is MessageStatus.SUBMITTING


def test_a_claim_whose_local_worker_died_is_taken_over_at_once(
    client: FlaskClient, settings: Settings, rt: Runtime, victims: None
) -> None:
    _deliver(client, settings, MEGAN, "he's outside")
    reply = _urgent_reply(rt)
    # A worker of this host's PID namespace whose pid cannot exist.
    dead = f"{socket.gethostname()[:40]}:999999999:{leases.pid_namespace()}:dead"
    with rt.db.session() as session:
        assert outbox.claim_urgent(session, reply.id, dead, 90, notifications.settle)
    with rt.db.session() as session:
        assert outbox.due_urgent(session) == [reply.id]
        step = outbox.claim_urgent(session, reply.id, "alive", 90, notifications.settle)
    assert isinstance(step, outbox.Submission) and step.reconcile


def test_danger_to_an_opted_out_number_claims_nothing_and_sends_nothing(
    client: FlaskClient, settings: Settings, rt: Runtime, victims: None
) -> None:
    _deliver(client, settings, MEGAN, "STOP")
    _deliver(client, settings, MEGAN, "he's going to kill me")
    assert [m.body for m in _messages(rt, Direction.OUTBOUND)] == [text("opted_out", Language.EN)]
    assert [h.priority for h in _handoffs(rt)] == [HandoffPriority.URGENT]  # raised, one
    with rt.db.session() as session:
        assert outbox.due_urgent(session) == []


def test_each_danger_message_is_answered_even_in_a_burst(
    client: FlaskClient, settings: Settings, rt: Runtime, victims: None
) -> None:
    for _ in range(5):
        _deliver(client, settings, MEGAN, "please help me")
    urgent = [m for m in _messages(rt, Direction.OUTBOUND) if m.priority == outbox.URGENT]
    assert len(urgent) == 5
    assert all(m.status is MessageStatus.PROCESSED for m in _messages(rt, Direction.INBOUND))


def test_danger_arrives_screened_even_when_the_webhook_was_bypassed(
    client: FlaskClient, settings: Settings, rt: Runtime, victims: None
) -> None:
    # A message stored without screening (before this version, say) is screened at its turn.
    _deliver(client, settings, MEGAN, "hello")
    with rt.db.session() as session:
        message = session.scalars(select(Message)).one()
        message.body = "he's outside my house"
        conversation_id = message.conversation_id
    with rt.db.session() as session:
        assert (
            processing.start_processing(session, conversation_id, rt.settings) == processing.HANDLED
        )
    assert _urgent_reply(rt).body == text("danger", Language.EN)
