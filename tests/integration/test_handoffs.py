"""Handoffs: opening, de-duplication and raising, the open list API, and danger routing."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from models import (
    Conversation,
    Direction,
    Handoff,
    HandoffPriority,
    HandoffStatus,
    Language,
    Message,
    MessageStatus,
    utcnow,
)
from models.cases import Channel
from models.handoffs import IllegalHandoffMove
from services.console import handoffs
from services.conversations import processing
from services.language.texts import TEXTS, text
from services.messaging import outbox
from services.runtime import Runtime
from services.settings import Settings
from tests.support.factories import inbound_form, new_case, new_victim, signed_post

# Both databases: a partial unique index de-duplicates.
pytestmark = pytest.mark.both_databases

MEGAN = "+447700900301"
GWEN = "+447700900302"
STRANGER = "+447700900399"


def _conversation(rt: Runtime, address: str) -> int:
    with rt.db.session() as session:
        conversation = Conversation(address=address, channel=Channel.SMS)
        session.add(conversation)
        session.flush()
        return conversation.id


def _open(
    rt: Runtime, conversation_id: int, priority: HandoffPriority, reason: str = "test"
) -> int:
    with rt.db.session() as session:
        conversation = session.get_one(Conversation, conversation_id)
        return handoffs.open_handoff(session, conversation, priority, reason).id


def _backdate(rt: Runtime, handoff_id: int, minutes: int) -> None:
    with rt.db.session() as session:
        handoff = session.get_one(Handoff, handoff_id)
        handoff.opened_at = utcnow() - dt.timedelta(minutes=minutes)


def test_open_list_is_urgent_first_then_oldest(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    normal_old = _open(rt, _conversation(rt, "+447700900311"), HandoffPriority.NORMAL)
    urgent_new = _open(rt, _conversation(rt, "+447700900312"), HandoffPriority.URGENT)
    high = _open(rt, _conversation(rt, "+447700900313"), HandoffPriority.HIGH)
    urgent_old = _open(rt, _conversation(rt, "+447700900314"), HandoffPriority.URGENT)
    normal_new = _open(rt, _conversation(rt, "+447700900315"), HandoffPriority.NORMAL)
    closed = _open(rt, _conversation(rt, "+447700900316"), HandoffPriority.URGENT)
    for handoff_id, minutes in [(normal_old, 50), (urgent_new, 5), (high, 30), (urgent_old, 40)]:
        _backdate(rt, handoff_id, minutes)
    with rt.db.session() as session:
        session.get_one(Handoff, closed).move(HandoffStatus.CLOSED)

    response = client.get("/api/handoffs?status=open", headers=auth)
    assert response.status_code == 200
    body = response.get_json()
    assert [h["id"] for h in body] == [urgent_old, urgent_new, high, normal_old, normal_new]
    assert [h["priority"] for h in body] == ["urgent", "urgent", "high", "normal", "normal"]
    first = body[0]
    assert set(first) == {
        "id",
        "conversation_id",
        "victim_id",
        "case_ref",
        "priority",
        "reason",
        "opened_at",
    }
    assert first["victim_id"] is None and first["case_ref"] is None
    assert first["reason"] == "test" and first["opened_at"].endswith("Z")


def test_handoff_names_the_victims_only_case(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    victim_id = new_victim(client, auth, new_case(client, auth, "CR-H-1"), phone=MEGAN)
    conversation_id = _conversation(rt, MEGAN)
    with rt.db.session() as session:
        conversation = session.get_one(Conversation, conversation_id)
        conversation.victim_id = victim_id
    _open(rt, conversation_id, HandoffPriority.HIGH)
    [handoff] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    assert handoff["victim_id"] == victim_id and handoff["case_ref"] == "CR-H-1"

    # On two cases, the handoff cannot say which one: the officer asks.
    new_victim(client, auth, new_case(client, auth, "CR-H-2"), phone=MEGAN)
    with rt.db.session() as session:
        session.get_one(Handoff, handoff["id"]).move(HandoffStatus.CLOSED)
    _open(rt, conversation_id, HandoffPriority.HIGH)
    [again] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    assert again["victim_id"] == victim_id and again["case_ref"] is None


def test_same_or_lower_priority_adds_nothing_and_higher_raises(rt: Runtime) -> None:
    conversation_id = _conversation(rt, MEGAN)
    first = _open(rt, conversation_id, HandoffPriority.HIGH, "asked for an officer")
    assert _open(rt, conversation_id, HandoffPriority.HIGH, "again") == first
    assert _open(rt, conversation_id, HandoffPriority.NORMAL, "lower") == first
    assert _open(rt, conversation_id, HandoffPriority.URGENT, "danger words") == first
    with rt.db.session() as session:
        [handoff] = session.scalars(select(Handoff)).all()
        assert handoff.priority is HandoffPriority.URGENT
        assert handoff.reason == "danger words"


def test_a_claimed_handoff_does_not_absorb_a_new_one(rt: Runtime) -> None:
    conversation_id = _conversation(rt, MEGAN)
    first = _open(rt, conversation_id, HandoffPriority.NORMAL)
    with rt.db.session() as session:
        handoff = session.get_one(Handoff, first)
        handoff.move(HandoffStatus.CLAIMED, officer="PC Ifan Rees")
        assert handoff.claimed_by == "PC Ifan Rees" and handoff.claimed_at is not None
    second = _open(rt, conversation_id, HandoffPriority.URGENT, "danger words")
    assert second != first
    with rt.db.session() as session:
        assert session.get_one(Handoff, first).status is HandoffStatus.CLAIMED
        assert session.get_one(Handoff, second).status is HandoffStatus.OPEN


def test_the_database_allows_one_open_handoff_per_conversation(rt: Runtime) -> None:
    conversation_id = _conversation(rt, MEGAN)
    _open(rt, conversation_id, HandoffPriority.NORMAL)
    with pytest.raises(IntegrityError):
        with rt.db.session() as session:
            session.add(
                Handoff(
                    conversation_id=conversation_id,
                    priority=HandoffPriority.URGENT,
                    reason="bypassing the service",
                )
            )


def test_moves_follow_the_rules(rt: Runtime) -> None:
    handoff_id = _open(rt, _conversation(rt, MEGAN), HandoffPriority.NORMAL)
    with rt.db.session() as session:
        handoff = session.get_one(Handoff, handoff_id)
        with pytest.raises(IllegalHandoffMove):
            handoff.move(HandoffStatus.CLAIMED)  # a claim needs the officer
        handoff.move(HandoffStatus.CLOSED)
        assert handoff.closed_at is not None
        with pytest.raises(IllegalHandoffMove):
            handoff.move(HandoffStatus.OPEN)


@pytest.mark.parametrize("query", ["", "?status=closed", "?status=claimed", "?status=OPEN"])
def test_status_other_than_open_is_400_naming_the_field(
    client: FlaskClient, auth: dict[str, str], query: str
) -> None:
    response = client.get(f"/api/handoffs{query}", headers=auth)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error.startswith("status:") and "open" in error


def test_handoffs_need_the_token(client: FlaskClient) -> None:
    assert client.get("/api/handoffs?status=open").status_code == 401


# Danger words and keywords, dealt with as the message arrives (no worker, no Rasa here).


def _process(client: FlaskClient, settings: Settings, rt: Runtime, sender: str, body: str) -> int:
    """Deliver through the signed webhook; the webhook itself must have dealt with it."""
    form = inbound_form(sender, body)
    assert signed_post(client, settings, "/twilio/messages", form).status_code == 200
    with rt.db.session() as session:
        conversation_id = session.scalar(
            select(Conversation.id).where(Conversation.address == sender)
        )
        assert conversation_id is not None
        # Nothing is left for the worker: the message was answered when it arrived.
        assert processing.start_processing(session, conversation_id, rt.settings) is None
        return conversation_id


def _replies(rt: Runtime, conversation_id: int) -> list[str]:
    with rt.db.session() as session:
        return list(
            session.scalars(
                select(Message.body)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.direction == Direction.OUTBOUND,
                )
                .order_by(Message.id)
            )
        )


@pytest.mark.parametrize(
    ("phone", "language", "body"),
    [(MEGAN, "en", "HES OUTSIDE help"), (GWEN, "cy", "mae e tu allan, rwy'n ofnus")],
)
def test_danger_words_get_999_in_the_victims_language_and_an_urgent_handoff(
    client: FlaskClient,
    auth: dict[str, str],
    settings: Settings,
    rt: Runtime,
    phone: str,
    language: str,
    body: str,
) -> None:
    new_victim(client, auth, new_case(client, auth), phone=phone, language=language)
    conversation_id = _process(client, settings, rt, phone, body)
    assert _replies(rt, conversation_id) == [TEXTS["danger"][Language(language)]]
    with rt.db.session() as session:
        # Urgent: sent by the first worker free, without the conversation's lease.
        priorities = session.scalars(
            select(Message.priority).where(Message.direction == Direction.OUTBOUND)
        ).all()
        assert priorities == [outbox.URGENT]
    [handoff] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    assert handoff["priority"] == "urgent" and handoff["reason"] == "danger words"
    assert handoff["conversation_id"] == conversation_id and handoff["case_ref"] == "CR-2026-0001"
    with rt.db.session() as session:
        inbound = session.scalar(select(Message).where(Message.direction == Direction.INBOUND))
        assert inbound is not None and inbound.status is MessageStatus.PROCESSED
        # The conversation waits for an officer (the console); the bot still answers meanwhile.
        assert session.get_one(Conversation, conversation_id).state.value == "waiting_for_officer"


def test_unregistered_number_in_danger_gets_bilingual_999_and_a_handoff(
    client: FlaskClient, auth: dict[str, str], settings: Settings, rt: Runtime
) -> None:
    conversation_id = _process(client, settings, rt, STRANGER, "he is at the door")
    assert _replies(rt, conversation_id) == [text("danger", None)]
    [handoff] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    assert handoff["victim_id"] is None and handoff["priority"] == "urgent"


def test_opted_out_number_in_danger_is_sent_nothing_but_gets_a_handoff(
    client: FlaskClient, auth: dict[str, str], settings: Settings, rt: Runtime
) -> None:
    new_victim(client, auth, new_case(client, auth), phone=MEGAN)
    conversation_id = _process(client, settings, rt, MEGAN, "STOP")
    assert _replies(rt, conversation_id) == [TEXTS["opted_out"][Language.EN]]
    _process(client, settings, rt, MEGAN, "he's going to kill me")
    _process(client, settings, rt, MEGAN, "please help me")
    assert _replies(rt, conversation_id) == [TEXTS["opted_out"][Language.EN]]
    [handoff] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    assert handoff["priority"] == "urgent" and handoff["conversation_id"] == conversation_id
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Handoff)) == 1
