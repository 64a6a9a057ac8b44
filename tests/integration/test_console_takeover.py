"""Claiming, the bot keeping quiet, replies through the outbox, notes, hand-back, close."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import (
    AuditEvent,
    Author,
    Conversation,
    ConversationState,
    Direction,
    Handoff,
    HandoffStatus,
    Message,
    Officer,
    OfficerNote,
    OfficerRole,
    utcnow,
)
from services.console import takeover
from services.conversations import processing
from services.messaging.rasa import BotAnswer
from services.runtime import Runtime
from services.settings import Settings
from tests.support.console import make_officer, post, signed_in, waiting_victim
from tests.support.factories import inbound_form, mentions, signed_post

# Both databases: one owner: a conditional UPDATE, raced by two threads.
pytestmark = pytest.mark.both_databases

MEGAN = "+447700900411"
GWEN = "+447700900412"


def _state(rt: Runtime, conversation_id: int) -> Conversation:
    with rt.db.session() as session:
        return session.get_one(Conversation, conversation_id)


def _inbound(
    client: FlaskClient, settings: Settings, rt: Runtime, sender: str, body: str
) -> processing.BotRequest | str | None:
    """Deliver a message through the signed webhook and route it as the worker would."""
    assert (
        signed_post(client, settings, "/twilio/messages", inbound_form(sender, body)).status_code
        == 200
    )
    with rt.db.session() as session:
        conversation_id = session.scalar(
            select(Conversation.id).where(Conversation.address == sender)
        )
        assert conversation_id is not None
        return processing.start_processing(session, conversation_id, rt.settings)


def _outbound(rt: Runtime, conversation_id: int) -> list[Message]:
    with rt.db.session() as session:
        return list(
            session.scalars(
                select(Message)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.direction == Direction.OUTBOUND,
                )
                .order_by(Message.id)
            )
        )


def test_a_handoff_makes_the_conversation_wait_and_the_bot_still_answers(
    client: FlaskClient, auth: dict[str, str], settings: Settings, rt: Runtime
) -> None:
    conversation_id, _ = waiting_victim(client, auth, rt, MEGAN)
    assert _state(rt, conversation_id).state is ConversationState.WAITING_FOR_OFFICER
    request = _inbound(client, settings, rt, MEGAN, "hello")
    assert isinstance(request, processing.BotRequest)
    assert "handed_back" not in request.metadata


def test_claim_takes_the_conversation_and_the_bot_keeps_quiet(
    client: FlaskClient, auth: dict[str, str], settings: Settings, rt: Runtime
) -> None:
    conversation_id, handoff_id = waiting_victim(client, auth, rt, MEGAN)
    officer_id = signed_in(client, rt, "alys", OfficerRole.OFFICER)
    response = post(client, f"/console/handoffs/{handoff_id}/claim")
    assert response.headers["Location"] == f"/console/conversations/{conversation_id}"
    conversation = _state(rt, conversation_id)
    assert conversation.state is ConversationState.OFFICER and conversation.officer_id == officer_id
    with rt.db.session() as session:
        handoff = session.get_one(Handoff, handoff_id)
        assert handoff.status is HandoffStatus.CLAIMED and handoff.officer_id == officer_id
    assert b"Nobody is waiting" in client.get("/console/queue/items").data

    # The victim writes: the message is the officer's, not Rasa's (none runs here).
    assert _inbound(client, settings, rt, MEGAN, "are you there?") == processing.HANDLED
    assert _outbound(rt, conversation_id) == []
    page = client.get(f"/console/conversations/{conversation_id}/transcript").get_data(as_text=True)
    assert "are you there?" in page and "Victim" in page


def test_two_officers_can_never_both_own_a_handoff(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    _, handoff_id = waiting_victim(client, auth, rt, MEGAN)
    ids = [make_officer(rt, f"officer{i}") for i in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def claim(officer_id: int) -> None:
        barrier.wait()
        try:
            with rt.db.session() as session:
                takeover.claim(session, session.get_one(Officer, officer_id), handoff_id)
            outcomes.append("won")
        except takeover.AlreadyClaimed:
            outcomes.append("lost")

    threads = [threading.Thread(target=claim, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["lost", "won"]
    with rt.db.session() as session:
        handoff = session.get_one(Handoff, handoff_id)
        assert handoff.officer_id in ids
        claims = session.scalars(select(AuditEvent).where(AuditEvent.action == "claim")).all()
        assert [c.officer_id for c in claims] == [handoff.officer_id]


def test_the_second_claim_over_http_is_told_it_was_taken(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    _, handoff_id = waiting_victim(client, auth, rt, MEGAN)
    make_officer(rt, "ifan")
    with rt.db.session() as session:
        officer = session.scalar(select(Officer).where(Officer.username == "ifan"))
        assert officer is not None
        takeover.claim(session, officer, handoff_id)
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    response = post(client, f"/console/handoffs/{handoff_id}/claim")
    assert response.status_code == 409 and b"claimed this handoff first" in response.data


def test_reply_goes_to_the_outbox_as_the_officer_and_notes_never_do(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    conversation_id, handoff_id = waiting_victim(client, auth, rt, MEGAN)
    officer_id = signed_in(client, rt, "alys", OfficerRole.OFFICER)
    post(client, f"/console/handoffs/{handoff_id}/claim")
    post(
        client,
        f"/console/conversations/{conversation_id}/reply",
        {"body": "Hello, this is PC Alys."},
    )
    post(
        client,
        f"/console/conversations/{conversation_id}/notes",
        {"note": "Sounded calm; call later."},
    )
    [reply] = _outbound(rt, conversation_id)
    assert reply.author is Author.OFFICER and reply.officer_id == officer_id
    assert reply.body == "Hello, this is PC Alys." and reply.status.value == "pending"
    with rt.db.session() as session:
        [note] = session.scalars(select(OfficerNote)).all()
        assert note.body == "Sounded calm; call later." and note.officer_id == officer_id
        bodies = set(session.scalars(select(Message.body)))
    assert "Sounded calm; call later." not in bodies
    page = client.get(f"/console/conversations/{conversation_id}").get_data(as_text=True)
    assert "PC Alys" in page and "Sounded calm; call later." in page and "never sent" in page


def test_hand_back_resumes_the_bot_and_tells_it_once(
    client: FlaskClient, auth: dict[str, str], settings: Settings, rt: Runtime
) -> None:
    conversation_id, handoff_id = waiting_victim(client, auth, rt, MEGAN)
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    post(client, f"/console/handoffs/{handoff_id}/claim")
    assert post(client, f"/console/conversations/{conversation_id}/hand-back").status_code == 302
    conversation = _state(rt, conversation_id)
    assert conversation.state is ConversationState.BOT and conversation.officer_id is None
    with rt.db.session() as session:
        assert session.get_one(Handoff, handoff_id).status is HandoffStatus.CLOSED

    request = _inbound(client, settings, rt, MEGAN, "thanks")
    assert isinstance(request, processing.BotRequest) and request.metadata["handed_back"] is True
    with rt.db.session() as session:
        processing.finish_processing(session, rt, request, BotAnswer(["You're welcome."]))
    assert _state(rt, conversation_id).handed_back_at is None
    again = _inbound(client, settings, rt, MEGAN, "bye")
    assert isinstance(again, processing.BotRequest) and "handed_back" not in again.metadata


def test_close_then_the_victim_writes_again_and_the_bot_answers(
    client: FlaskClient, auth: dict[str, str], settings: Settings, rt: Runtime
) -> None:
    conversation_id, handoff_id = waiting_victim(client, auth, rt, MEGAN)
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    post(client, f"/console/handoffs/{handoff_id}/claim")
    post(client, f"/console/conversations/{conversation_id}/close")
    assert _state(rt, conversation_id).state is ConversationState.CLOSED
    assert isinstance(_inbound(client, settings, rt, MEGAN, "hello"), processing.BotRequest)
    assert _state(rt, conversation_id).state is ConversationState.BOT


def test_a_new_urgent_request_while_claimed_returns_to_the_queue_on_hand_back(
    client: FlaskClient, auth: dict[str, str], settings: Settings, rt: Runtime
) -> None:
    conversation_id, handoff_id = waiting_victim(client, auth, rt, MEGAN)
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    post(client, f"/console/handoffs/{handoff_id}/claim")
    # Words of danger are dealt with as they arrive: nothing is left for the worker.
    assert _inbound(client, settings, rt, MEGAN, "he's here, help") is None
    assert _state(rt, conversation_id).state is ConversationState.OFFICER
    items = client.get("/console/queue/items").get_data(as_text=True)
    assert 'data-urgent="1"' in items
    post(client, f"/console/conversations/{conversation_id}/hand-back")
    assert _state(rt, conversation_id).state is ConversationState.WAITING_FOR_OFFICER


@pytest.mark.parametrize(("hours_ago", "route"), [(1, "text"), (30, "sms")])
def test_whatsapp_outside_the_window_shows_the_sms_fallback(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, hours_ago: int, route: str
) -> None:
    conversation_id, handoff_id = waiting_victim(
        client, auth, rt, GWEN, channel="whatsapp", language="cy", name="Gwen Huws"
    )
    with rt.db.session() as session:
        session.get_one(Conversation, conversation_id).last_inbound_at = utcnow() - dt.timedelta(
            hours=hours_ago
        )
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    post(client, f"/console/handoffs/{handoff_id}/claim")
    page = client.get(f"/console/conversations/{conversation_id}").get_data(as_text=True)
    if route == "sms":
        assert "this reply will go by SMS instead" in page
    else:
        assert "Goes by WHATSAPP." in page


def test_profile_shows_preferences_and_never_the_date_of_birth(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    conversation_id, _ = waiting_victim(
        client, auth, rt, MEGAN, date_of_birth="1984-03-02", safe_contact=True
    )
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    page = client.get(f"/console/conversations/{conversation_id}").get_data(as_text=True)
    assert "Rhiannon Prydderch" in page and "Safe-contact mode" in page and "On: no case" in page
    assert "Identity verified</dt><dd>No" in page
    for form in ("1984-03-02", "02/03/1984", "2 March 1984", "1984"):
        assert not mentions(page, form)
    # A preference the victim changes by text (the assistant writes it) shows at once.
    with rt.db.session() as session:
        from models import Language, Victim

        victim = session.scalar(select(Victim).where(Victim.phone == MEGAN))
        assert victim is not None
        victim.language = Language.CY
    page = client.get(f"/console/conversations/{conversation_id}").get_data(as_text=True)
    assert "Cymraeg (Welsh)" in page


def test_every_act_on_a_victims_data_is_audited(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    conversation_id, handoff_id = waiting_victim(client, auth, rt, MEGAN)
    officer_id = signed_in(client, rt, "alys", OfficerRole.OFFICER)
    client.get(f"/console/conversations/{conversation_id}")
    post(client, f"/console/handoffs/{handoff_id}/claim")
    post(client, f"/console/conversations/{conversation_id}/reply", {"body": "Hello"})
    post(client, f"/console/conversations/{conversation_id}/notes", {"note": "n"})
    with rt.db.session() as session:
        victim_id = session.get_one(Conversation, conversation_id).victim_id
    client.get(f"/console/victims/{victim_id}")
    post(client, f"/console/conversations/{conversation_id}/hand-back")
    with rt.db.session() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.officer_id == officer_id).order_by(AuditEvent.id)
        ).all()
    about_victim = [(e.action.value, e.victim_id) for e in events if e.victim_id is not None]
    assert [a for a, _ in about_victim] == [
        "view_conversation",
        "claim",
        "reply",
        "note",
        "view_profile",
        "hand_back",
    ]
    assert {v for _, v in about_victim} == {victim_id}
