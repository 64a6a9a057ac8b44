"""A conversation's next step, found by one query (processing._take_next): its first unsent
message in the outbox's order, else its oldest waiting inbound message, with the same
answers as asking the outbox and then the inbound side apart, as the worker did before."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from models import Author, Conversation, Direction, Message, MessageStatus, utcnow
from services.conversations import processing
from services.messaging import leases, outbox
from services.runtime import Runtime
from services.settings import Settings
from tests.support.factories import inbound_form, new_case, new_victim, signed_post
from tests.support.statements import recorded, verbs

# Both databases: the order is a CASE in SQL, and each dialect must sort it alike.
pytestmark = pytest.mark.both_databases

MEGAN = "+447700900641"


@pytest.fixture
def conversation_id(
    client: FlaskClient, auth: dict[str, str], settings: Settings, rt: Runtime
) -> int:
    """Megan, registered, with "hello" waiting to be processed."""
    new_victim(client, auth, new_case(client, auth), phone=MEGAN, language="en")
    form = inbound_form(MEGAN, "hello")
    assert signed_post(client, settings, "/twilio/messages", form).status_code == 200
    with rt.db.session() as session:
        found = session.scalar(select(Conversation.id).where(Conversation.address == MEGAN))
    assert found is not None
    return found


def _write(rt: Runtime, conversation_id: int, body: str, **values: object) -> int:
    with rt.db.session() as session:
        conversation = session.get_one(Conversation, conversation_id)
        message = outbox.enqueue(session, conversation, body, Author.OFFICER)
        for name, value in values.items():
            setattr(message, name, value)
        return message.id


def _step(
    rt: Runtime, conversation_id: int
) -> outbox.Submission | processing.BotRequest | str | None:
    with rt.db.session() as session:
        return processing._take_next(session, rt, conversation_id)


def test_the_waiting_message_is_found_by_one_query(rt: Runtime, conversation_id: int) -> None:
    with recorded(rt.db.engine, "SELECT") as selects, rt.db.session() as session:
        step = processing._take_next(session, rt, conversation_id)
        assert isinstance(step, processing.BotRequest) and step.body == "hello"
    # One for the step; then what processing "hello" asks itself: the victim, linked to the
    # conversation at its first message; the repeat check; an open survey. Before, the
    # outbox was asked apart first: five.
    assert len(selects) == 4, "\n".join(selects)


def test_replies_go_before_the_next_message_is_read(rt: Runtime, conversation_id: int) -> None:
    first = _write(rt, conversation_id, "An officer will call you today.")
    _write(rt, conversation_id, "Ffoniwch 999 mewn argyfwng.")
    step = _step(rt, conversation_id)
    assert isinstance(step, outbox.Submission) and step.message_id == first
    assert not step.reconcile


def test_a_bulk_message_waits_behind_a_reply_written_after_it(
    rt: Runtime, conversation_id: int
) -> None:
    _write(rt, conversation_id, "Your case update.", priority=1)
    reply = _write(rt, conversation_id, "We have your message.")
    step = _step(rt, conversation_id)
    assert isinstance(step, outbox.Submission) and step.message_id == reply


def test_a_long_texts_later_parts_go_straight_after_its_first(
    rt: Runtime, conversation_id: int
) -> None:
    long = " ".join(["word"] * 500)  # 2,499 characters: two parts
    first = _write(rt, conversation_id, long)
    _write(rt, conversation_id, "Another message, written after it.")
    with rt.db.session() as session:
        later = session.scalar(select(Message.id).where(Message.part_of_id == first))
        session.execute(
            update(Message).where(Message.id == first).values(status=MessageStatus.SENT)
        )
    step = _step(rt, conversation_id)
    assert isinstance(step, outbox.Submission) and step.message_id == later


def test_a_send_left_mid_request_is_asked_about_before_it_goes_again(
    rt: Runtime, conversation_id: int
) -> None:
    left = _write(
        rt, conversation_id, "An officer will call you today.", status=MessageStatus.SUBMITTING
    )
    step = _step(rt, conversation_id)
    assert isinstance(step, outbox.Submission) and step.message_id == left and step.reconcile


def test_a_reply_waiting_out_a_backoff_does_not_hold_up_the_victims_message(
    rt: Runtime, conversation_id: int
) -> None:
    later = utcnow() + dt.timedelta(minutes=5)
    _write(rt, conversation_id, "An officer will call you today.", next_attempt_at=later)
    step = _step(rt, conversation_id)
    assert isinstance(step, processing.BotRequest) and step.body == "hello"


def test_urgent_messages_are_never_the_leases_step(rt: Runtime, conversation_id: int) -> None:
    _write(rt, conversation_id, "Call 999 now.", priority=outbox.URGENT)
    step = _step(rt, conversation_id)
    assert isinstance(step, processing.BotRequest) and step.body == "hello"


def test_nothing_due_is_none(rt: Runtime, conversation_id: int) -> None:
    with rt.db.session() as session:
        session.execute(
            update(Message)
            .where(Message.direction == Direction.INBOUND)
            .values(status=MessageStatus.PROCESSED)
        )
    _write(rt, conversation_id, "Sent already.", status=MessageStatus.SENT)
    assert _step(rt, conversation_id) is None


def _lease(rt: Runtime, conversation_id: int) -> str | None:
    with rt.db.session() as session:
        return session.scalar(
            select(Conversation.lease_owner).where(Conversation.id == conversation_id)
        )


def _heard(rt: Runtime, conversation_id: int) -> dt.datetime | None:
    with rt.db.session() as session:
        return session.get_one(Conversation, conversation_id).last_inbound_at


def _release_if_idle(
    rt: Runtime, conversation_id: int, owner: str, heard: dt.datetime | None = None
) -> bool:
    heard = heard or _heard(rt, conversation_id)
    with rt.db.session() as session:
        return leases.release_if(
            session, processing._RELEASE_IF_IDLE, conversation_id, owner, heard=heard
        )


def test_a_drain_lets_its_lease_go_in_one_statement_only_when_nothing_is_left(
    rt: Runtime, conversation_id: int
) -> None:
    """The usual end of a drain, after a send: one UPDATE instead of renewing the lease,
    looking for the next step and letting go. Anything unsent or unread keeps the lease."""
    me, other = "host:1:x:me", "host:2:x:other"
    with rt.db.session() as session:
        assert leases.claim(session, conversation_id, me, 60)
    assert not _release_if_idle(rt, conversation_id, me), '"hello" is still to be read'
    assert _lease(rt, conversation_id) == me
    with rt.db.session() as session:
        session.execute(
            update(Message)
            .where(Message.direction == Direction.INBOUND)
            .values(status=MessageStatus.PROCESSED)
        )
    later = utcnow() + dt.timedelta(minutes=5)
    waiting = _write(rt, conversation_id, "An officer will call you.", next_attempt_at=later)
    assert not _release_if_idle(rt, conversation_id, me), "a reply waits out a backoff"
    with rt.db.session() as session:
        session.execute(
            update(Message).where(Message.id == waiting).values(status=MessageStatus.ACCEPTED)
        )
    # Urgent messages are claimed one by one, never through the lease: they keep nothing.
    _write(rt, conversation_id, "Call 999 now.", priority=outbox.URGENT)
    assert not _release_if_idle(rt, conversation_id, other), "not theirs to let go"
    assert _lease(rt, conversation_id) == me
    heard = _heard(rt, conversation_id)
    with recorded(rt.db.engine) as statements:
        assert _release_if_idle(rt, conversation_id, me, heard)
    assert verbs(statements) == ["UPDATE"]
    assert _lease(rt, conversation_id) is None


def test_a_message_stored_while_the_lease_is_let_go_keeps_it(
    rt: Runtime, conversation_id: int
) -> None:
    """A webhook stores its message, then sets the conversation's last_inbound_at, holding
    the row until it commits. A drain letting go meanwhile waits for that row; on
    PostgreSQL it then reads the row again but not the messages (its snapshot is older),
    and let the lease go with the message unread. It must keep the lease and read it."""
    me = "host:1:x:me"
    with rt.db.session() as session:
        session.execute(
            update(Message)
            .where(Message.direction == Direction.INBOUND)
            .values(status=MessageStatus.PROCESSED)
        )
        assert leases.claim(session, conversation_id, me, 60)
    heard = _heard(rt, conversation_id)
    webhook = rt.db.sessions()
    try:
        now = utcnow()
        webhook.add(
            Message(
                conversation_id=conversation_id,
                direction=Direction.INBOUND,
                author=Author.VICTIM,
                body="are you there?",
                twilio_sid="SM" + "7" * 32,
                status=MessageStatus.RECEIVED,
                next_attempt_at=now,
            )
        )
        webhook.flush()
        webhook.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(last_inbound_at=now)
        )
        released: list[bool] = []

        def let_go() -> None:
            with rt.db.session() as session:
                released.append(
                    leases.release_if(
                        session, processing._RELEASE_IF_IDLE, conversation_id, me, heard=heard
                    )
                )

        drain = threading.Thread(target=let_go)
        drain.start()
        drain.join(0.5)  # waiting for the webhook's row (PostgreSQL) or write lock (SQLite)
        webhook.commit()
    finally:
        webhook.close()
    drain.join(30)
    assert released == [False]
    assert _lease(rt, conversation_id) == me
    step = _step(rt, conversation_id)
    assert isinstance(step, processing.BotRequest) and step.body == "are you there?"
