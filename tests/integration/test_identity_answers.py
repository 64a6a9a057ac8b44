"""Answers to the date-of-birth question through the signed webhook and the worker's first
step, on a real database: checked as they arrive, stored as "[date of birth given]", counted
once however often Twilio retries, and never given to the bot as a date
(services/identity/verification.py). The whole exchange with Rasa is in
tests/e2e/test_identity.py."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from models import (
    Conversation,
    Direction,
    IdentityOutcome,
    Message,
    MessageStatus,
    Victim,
    utcnow,
)
from services.conversations import processing
from services.identity import dates, verification
from services.runtime import Runtime
from services.settings import Settings
from tests.support.factories import inbound_form, new_case_with_quiet_victim, signed_post
from tests.support.statements import recorded

PHONE = "+447700900331"


def _registered(client: FlaskClient, auth: dict[str, str], rt: Runtime) -> int:
    """A victim (born 2 March 1984) and their SMS conversation, linked as the worker links it."""
    victim_id = new_case_with_quiet_victim(client, auth, "CR-DOB-1", phone=PHONE)
    with rt.db.session() as session:
        conversation = Conversation(
            address=PHONE, channel=session.get_one(Victim, victim_id).channel
        )
        conversation.victim_id = victim_id
        session.add(conversation)
        session.flush()
        return conversation.id


def _ask(rt: Runtime, conversation_id: int) -> None:
    with rt.db.session() as session:
        verification.ask(session.get_one(Conversation, conversation_id), utcnow())


def _send(client: FlaskClient, settings: Settings, body: str, sid: str | None = None) -> None:
    form = inbound_form(PHONE, body, sid)
    assert signed_post(client, settings, "/twilio/messages", form).status_code == 200


def _inbound(rt: Runtime, conversation_id: int) -> list[str]:
    with rt.db.session() as session:
        return list(
            session.scalars(
                select(Message.body)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.direction == Direction.INBOUND,
                )
                .order_by(Message.id)
            )
        )


def test_an_answer_is_checked_as_it_arrives_and_stored_redacted(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, settings: Settings
) -> None:
    conversation_id = _registered(client, auth, rt)
    _ask(rt, conversation_id)
    _send(client, settings, "its 2nd of March 1984 x")
    assert _inbound(rt, conversation_id) == ["its [date of birth given] x"]
    with rt.db.session() as session:
        conversation = session.get_one(Conversation, conversation_id)
        assert conversation.dob_outcome is IdentityOutcome.VERIFIED
        assert conversation.verified_until is not None and conversation.dob_asked_at is None


def test_a_retried_delivery_is_counted_once(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, settings: Settings
) -> None:
    conversation_id = _registered(client, auth, rt)
    _ask(rt, conversation_id)
    _send(client, settings, "01/01/1990", sid="SM" + "1" * 32)
    _ask(rt, conversation_id)
    _send(client, settings, "01/01/1990", sid="SM" + "1" * 32)  # Twilio retries
    with rt.db.session() as session:
        victim = session.scalars(select(Victim)).one()
        assert victim.identity_failures == 1
    assert _inbound(rt, conversation_id) == [dates.MARK]


def test_an_answer_that_overtook_the_question_is_checked_by_the_worker(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, settings: Settings
) -> None:
    """'update?' then the date at once: the date arrives before the bot has asked."""
    conversation_id = _registered(client, auth, rt)
    _send(client, settings, "any update?")
    _send(client, settings, "2/3/84")
    # Left as sent for now: the question may yet be asked before it is read.
    assert _inbound(rt, conversation_id) == ["any update?", "2/3/84"]
    with rt.db.session() as session:
        first = session.scalars(select(Message).order_by(Message.id)).first()
        assert first is not None
        first.status = MessageStatus.PROCESSED  # the bot asked for the date of birth
        verification.ask(session.get_one(Conversation, conversation_id), utcnow())
    with rt.db.session() as session:
        step = processing.start_processing(session, conversation_id, rt.settings)
    assert isinstance(step, processing.BotRequest) and step.body == dates.MARK
    assert _inbound(rt, conversation_id) == ["any update?", dates.MARK]
    with rt.db.session() as session:
        conversation = session.get_one(Conversation, conversation_id)
        assert conversation.dob_outcome is IdentityOutcome.VERIFIED


def test_unasked_the_own_date_is_never_stored_and_no_date_reaches_the_bot(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, settings: Settings
) -> None:
    conversation_id = _registered(client, auth, rt)
    _send(client, settings, "my dob is 02.03.1984")
    assert _inbound(rt, conversation_id) == [f"my dob is {dates.MARK}"]
    with rt.db.session() as session:
        step = processing.start_processing(session, conversation_id, rt.settings)
        assert isinstance(step, processing.BotRequest)
        assert step.body == f"my dob is {dates.MARK}"
        assert session.get_one(Conversation, conversation_id).verified_until is None
        session.get_one(Message, step.message_id).status = MessageStatus.PROCESSED
    # Another date, unasked, is kept for the officer, but the bot is given the same mark:
    # nothing it says can tell a right date from a wrong one.
    _send(client, settings, "/affirm 01/01/1990")
    assert _inbound(rt, conversation_id)[-1] == "/affirm 01/01/1990"
    with rt.db.session() as session:
        step = processing.start_processing(session, conversation_id, rt.settings)
        assert isinstance(step, processing.BotRequest)
        assert step.body == f"affirm {dates.MARK}"


def test_stop_ends_a_verification(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, settings: Settings
) -> None:
    conversation_id = _registered(client, auth, rt)
    _ask(rt, conversation_id)
    _send(client, settings, "02/03/1984")
    with rt.db.session() as session:
        assert session.get_one(Conversation, conversation_id).verified_until is not None
    # STOP is dealt with as it arrives (services/conversations/arrival.py), with no worker.
    _send(client, settings, "STOP")
    with rt.db.session() as session:
        conversation = session.get_one(Conversation, conversation_id)
        assert conversation.opted_out_at is not None and conversation.verified_until is None


def test_a_message_with_nothing_date_like_is_stored_as_sent_without_a_query(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, settings: Settings
) -> None:
    """Most messages hold no date: the arrival screen gives them back before loading the
    conversation and its victim (a tenth of the web app's CPU a message). Whatever was asked,
    the text, the outcome and the failures counted are what the full screen gives."""
    conversation_id = _registered(client, auth, rt)
    _ask(rt, conversation_id)
    screen = verification.on_arrival(rt.settings)
    with recorded(rt.db.engine) as statements:
        with rt.db.session() as session:
            for text in ("I don't know it", "call me at 10 past 2", "ok 👍"):
                assert screen(session, conversation_id, text) == (text, None)
        assert statements == []
        with rt.db.session() as session:
            body, apply = screen(session, conversation_id, "it's March 1984")
        assert body == "it's [date of birth given]" and apply is not None
        assert statements, "a date-like part is screened against the conversation"
    _send(client, settings, "I don't know it")
    assert _inbound(rt, conversation_id) == ["I don't know it"]
    with rt.db.session() as session:
        conversation = session.get_one(Conversation, conversation_id)
        assert conversation.dob_asked_at is not None and conversation.dob_outcome is None
        assert session.scalars(select(Victim)).one().identity_failures == 0


# What whoever holds the phone may send: answers in every form, English and Welsh with its
# mutations, words the code uses itself, and things that are no answer at all.
ODD_TEXTS = [
    "ok",
    "yes",
    "Ie",
    "na",
    "STOP",
    "[date of birth given]",
    "dob_outcome verified",
    "2nd of March 1984",
    "its 2/3/84 x",
    "1984-03-02",
    "March 1984",
    "born in 84",
    "the second of March",
    "2 Mawrth 1984",
    "2il o Fawrth 1984",
    "yr ail o Fawrth",
    "ganwyd ym mis Mawrth",
    "o Orffennaf 1990",
    "call me at 10 past 2",
    "ring 07700 900123",
    "",
]


def test_the_arrival_screen_answers_every_text_as_the_full_screen_does(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, settings: Settings
) -> None:
    """The shortcut for texts with nothing date-like must never change what is stored or
    checked: for each text, asked for the date of birth or not, it gives what `screen`
    gives with the conversation and victim loaded."""
    conversation_id = _registered(client, auth, rt)
    screen_arriving = verification.on_arrival(rt.settings)
    for asked in (False, True):
        if asked:
            _ask(rt, conversation_id)
        for text in ODD_TEXTS:
            with rt.db.session() as session:
                body, apply = screen_arriving(session, conversation_id, text)
                conversation = session.get_one(Conversation, conversation_id)
                full = verification.screen(
                    session, conversation, conversation.victim, text, rt.settings, utcnow()
                )
                assert (body, apply is None) == (full.body, full.apply is None), (asked, text)
                session.rollback()  # nothing checked or counted here
