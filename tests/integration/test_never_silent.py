"""Never silent (issue 10, item 7), routed as the worker routes, on a real database: a holding
reply and a handoff when the assistant cannot answer; an auto-responder left to an officer.

What Rasa answered is given here as the worker's port returns it (a BotAnswer, or
RasaUnavailable); the end-to-end tests (tests/e2e/test_safety_pipeline.py) get the same
answers from the real Rasa and the real action server."""

from __future__ import annotations

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
    utcnow,
)
from services.conversations import processing
from services.identity import dates, verification
from services.language.texts import text
from services.messaging.rasa import BotAnswer, RasaUnavailable
from services.runtime import Runtime
from services.settings import Settings
from tests.support.clock import FakeClock
from tests.support.factories import inbound_form, new_case, new_victim, signed_post

MEGAN = "+447700900621"
GWEN = "+447700900622"


@pytest.fixture
def victims(client: FlaskClient, auth: dict[str, str]) -> None:
    case_ref = new_case(client, auth)
    new_victim(client, auth, case_ref, phone=MEGAN, language="en")
    new_victim(client, auth, case_ref, phone=GWEN, language="cy", name="Gwenllian ap Rhys")


def _deliver(client: FlaskClient, settings: Settings, sender: str, body: str, **extra: str) -> None:
    form = inbound_form(sender, body, **extra)
    assert signed_post(client, settings, "/twilio/messages", form).status_code == 200


def _turn(rt: Runtime, sender: str) -> processing.BotRequest | str | None:
    """The worker's first step for the conversation at `sender`."""
    with rt.db.session() as session:
        conversation_id = session.scalar(
            select(Conversation.id).where(Conversation.address == sender)
        )
        assert conversation_id is not None
        return processing.start_processing(session, conversation_id, rt.settings)


def _answer(
    rt: Runtime, request: processing.BotRequest, answer: BotAnswer | RasaUnavailable
) -> None:
    with rt.db.session() as session:
        processing.finish_processing(session, rt, request, answer)


def _outbound(rt: Runtime) -> list[str]:
    with rt.db.session() as session:
        return list(
            session.scalars(
                select(Message.body)
                .where(Message.direction == Direction.OUTBOUND)
                .order_by(Message.id)
            )
        )


def _handoffs(rt: Runtime) -> list[Handoff]:
    with rt.db.session() as session:
        return list(session.scalars(select(Handoff).order_by(Handoff.id)))


def _inbound_status(rt: Runtime) -> list[MessageStatus]:
    with rt.db.session() as session:
        return list(
            session.scalars(
                select(Message.status)
                .where(Message.direction == Direction.INBOUND)
                .order_by(Message.id)
            )
        )


# --- Rasa down or stalled: retries end, with a holding reply ----------------------------


@pytest.mark.parametrize(("phone", "language"), [(MEGAN, "en"), (GWEN, "cy")])
def test_rasa_retries_stop_at_the_limit_with_a_holding_reply_and_a_handoff(
    client: FlaskClient,
    settings: Settings,
    rt: Runtime,
    clock: FakeClock,
    victims: None,
    phone: str,
    language: str,
) -> None:
    _deliver(client, settings, phone, "any news on my case")
    request = _turn(rt, phone)
    assert isinstance(request, processing.BotRequest)
    # Before the limit: tried again later, in order, and nothing is said yet.
    clock.advance(seconds=rt.settings.rasa_give_up_seconds - 5)
    _answer(rt, request, RasaUnavailable("rasa unreachable: ConnectTimeout"))
    assert _inbound_status(rt) == [MessageStatus.RECEIVED] and _outbound(rt) == []
    assert _handoffs(rt) == []
    # Past it: the holding reply in their language, and an officer asked to read it.
    clock.advance(seconds=10)
    request = _turn(rt, phone)
    assert isinstance(request, processing.BotRequest)
    _answer(rt, request, RasaUnavailable("rasa answered HTTP 503"))
    assert _inbound_status(rt) == [MessageStatus.PROCESSED]
    assert _outbound(rt) == [text("holding", Language(language))]
    [handoff] = _handoffs(rt)
    assert handoff.priority is HandoffPriority.HIGH
    assert handoff.reason == processing.RASA_DOWN_REASON


def test_a_message_that_waited_past_the_limit_is_held_at_its_first_failure(
    client: FlaskClient, settings: Settings, rt: Runtime, clock: FakeClock, victims: None
) -> None:
    _deliver(client, settings, MEGAN, "hello")
    _deliver(client, settings, MEGAN, "what happens next")
    clock.advance(seconds=rt.settings.rasa_give_up_seconds + 1)
    for _ in range(2):
        request = _turn(rt, MEGAN)
        assert isinstance(request, processing.BotRequest)
        _answer(rt, request, RasaUnavailable("rasa unreachable: ReadTimeout"))
    assert _inbound_status(rt) == [MessageStatus.PROCESSED, MessageStatus.PROCESSED]
    assert _outbound(rt) == [text("holding", Language.EN)] * 2
    assert len(_handoffs(rt)) == 1  # one conversation, one open handoff


# --- An answer with nothing for the victim, or a failed action ---------------------------


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (BotAnswer([]), processing.NO_ANSWER_REASON),
        (BotAnswer([], failed_actions=["action_case_update"]), processing.ACTION_FAILED_REASON),
        (
            BotAnswer(["Here is"], failed_actions=["action_case_update"]),
            processing.ACTION_FAILED_REASON,
        ),
    ],
)
def test_an_empty_answer_or_a_failed_action_gets_a_holding_reply_and_a_handoff(
    client: FlaskClient,
    settings: Settings,
    rt: Runtime,
    victims: None,
    answer: BotAnswer,
    reason: str,
) -> None:
    _deliver(client, settings, GWEN, "oes newyddion")
    request = _turn(rt, GWEN)
    assert isinstance(request, processing.BotRequest)
    _answer(rt, request, answer)
    assert _outbound(rt) == [text("holding", Language.CY)]
    [handoff] = _handoffs(rt)
    assert handoff.priority is HandoffPriority.HIGH and handoff.reason == reason


def test_a_picture_the_assistant_cannot_answer_gets_both_notices(
    client: FlaskClient, settings: Settings, rt: Runtime, victims: None
) -> None:
    _deliver(client, settings, MEGAN, "look at this", NumMedia="1")
    request = _turn(rt, MEGAN)
    assert isinstance(request, processing.BotRequest)
    _answer(rt, request, BotAnswer([]))
    assert _outbound(rt) == [text("media", Language.EN), text("holding", Language.EN)]


# --- Auto-responders --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "auto", "language"),
    [
        (MEGAN, "I'm driving, I'll reply later", "en"),
        (GWEN, "Dwi'n gyrru. Mi wna i ateb wedyn.", "cy"),
    ],
)
def test_the_same_text_again_and_again_is_left_to_an_officer_after_the_third(
    client: FlaskClient,
    settings: Settings,
    rt: Runtime,
    clock: FakeClock,
    victims: None,
    phone: str,
    auto: str,
    language: str,
) -> None:
    answered = 0
    for n in range(5):
        # Case and punctuation aside, the same text: a machine, or a person repeating it.
        _deliver(client, settings, phone, auto.upper() if n % 2 else auto)
        request = _turn(rt, phone)
        if isinstance(request, processing.BotRequest):
            _answer(rt, request, BotAnswer(["Sorry, I didn't understand."]))
            answered += 1
        else:
            assert request == processing.HANDLED
        clock.advance(seconds=20)
    assert answered == processing.REPEAT_LIMIT
    [handoff] = _handoffs(rt)
    assert handoff.priority is HandoffPriority.NORMAL
    assert handoff.reason == processing.REPEAT_REASON
    # Another text is answered, and so is the same one once the window has passed.
    _deliver(client, settings, phone, "help me with my case" if language == "en" else "diolch")
    assert isinstance(_turn(rt, phone), processing.BotRequest)


def test_dates_of_birth_are_never_taken_for_an_auto_responder(
    client: FlaskClient, settings: Settings, rt: Runtime, clock: FakeClock, victims: None
) -> None:
    # Every answer to the date-of-birth question is stored as the same mark, whatever date
    # it held: a victim confirming it a fourth time is no machine repeating itself.
    _deliver(client, settings, MEGAN, "any update on my case?")
    first = _turn(rt, MEGAN)
    assert isinstance(first, processing.BotRequest)
    _answer(rt, first, BotAnswer(["What is your date of birth?"]))
    for given in ("02/03/1984", "2 March 1984", "02.03.1984", "2/3/84", "1984-03-02"):
        with rt.db.session() as session:
            talk = session.scalars(select(Conversation).where(Conversation.address == MEGAN))
            verification.ask(talk.one(), utcnow())
        _deliver(client, settings, MEGAN, given)
        request = _turn(rt, MEGAN)
        assert isinstance(request, processing.BotRequest), given
        assert request.body == dates.MARK
        _answer(rt, request, BotAnswer(["Thank you."]))
        clock.advance(seconds=20)
    assert _handoffs(rt) == []


def test_danger_repeated_is_answered_every_time(
    client: FlaskClient, settings: Settings, rt: Runtime, victims: None
) -> None:
    for _ in range(5):
        _deliver(client, settings, MEGAN, "he's outside, please help me")
    assert _outbound(rt) == [text("danger", Language.EN)] * 5


def test_the_window_passes(
    client: FlaskClient, settings: Settings, rt: Runtime, clock: FakeClock, victims: None
) -> None:
    for _ in range(processing.REPEAT_LIMIT):
        _deliver(client, settings, MEGAN, "ok")
        request = _turn(rt, MEGAN)
        assert isinstance(request, processing.BotRequest)
        _answer(rt, request, BotAnswer(["Is there anything else?"]))
    clock.advance(seconds=processing.REPEAT_WINDOW.total_seconds() + 1)
    _deliver(client, settings, MEGAN, "ok")
    assert isinstance(_turn(rt, MEGAN), processing.BotRequest)
