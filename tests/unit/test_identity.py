"""The identity check (services/identity): dates of birth as people text them, found and
blanked out inside a message; verification as a server fact, counted per victim across
conversations, locked for a day and then until an officer unlocks it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from models import (
    AuditAction,
    AuditEvent,
    Channel,
    Conversation,
    Handoff,
    HandoffPriority,
    IdentityOutcome,
    Officer,
    OfficerRole,
    Victim,
    utcnow,
)
from models.db import Database
from services.identity import dates, verification
from services.identity.verification import HELD_REASON, LOCKED_REASON, IdentityState
from services.settings import Settings
from tests.support.actions import DATE_OF_BIRTH, add_person, db
from tests.support.clock import FakeClock

__all__ = ["db"]

TODAY = dt.date(2026, 11, 27)
# Every way the date of birth 2 March 1984 may be written, as the tests send it.
THE_DATE_OF_BIRTH = [
    "02/03/1984",
    "2/3/84",
    "02.03.1984",
    "2-3-1984",
    "2 3 84",
    "020384",
    "02031984",
    "1984-03-02",
    "2 March 1984",
    "2nd of March 84",
    "2nd March '84",
    "March 2nd, 1984",
    "2 mar 1984",
    "the second of March 1984",
    "2 Mawrth 1984",
    "2il o Fawrth 1984",
    "yr ail o Fawrth 1984",
    " 2/3/1984. ",
]


@pytest.mark.parametrize("text", THE_DATE_OF_BIRTH)
def test_dates_of_birth_as_people_text_them(text: str) -> None:
    assert dates.parse_date_of_birth(text, TODAY) == dt.date(1984, 3, 2)


@pytest.mark.parametrize(
    "text",
    [
        "dunno",
        "31/02/1984",
        "02/03/2030",
        "",
        "my birthday",
        "ok",
        "locked",
        "/affirm",
        "2/3/84 or 3/2/84",
    ],
)
def test_not_a_date_of_birth(text: str) -> None:
    # Two dates are no answer either: nobody tries several guesses in one message.
    assert dates.parse_date_of_birth(text, TODAY) is None


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("it's 2/3/84 x", "it's [date of birth given] x"),
        ("i was born on the 2nd of march 1984 ok?", "i was born on the [date of birth given] ok?"),
        ("2il o Fawrth 1984", "[date of birth given]"),
        ("March 1984", "[date of birth given]"),
        ("1984", "[date of birth given]"),
        ("2/3", "[date of birth given]"),
        ("2nd March", "[date of birth given]"),
    ],
)
def test_a_date_or_part_of_one_is_blanked_out(text: str, stored: str) -> None:
    found = dates.find(text, TODAY, parts=True)
    assert dates.redact(text, found) == stored


def test_text_without_a_date_finds_none() -> None:
    for text in ("dw i angen cymorth", "call 999", "07700900123", "help hes here", "ok"):
        assert dates.find(text, TODAY, parts=True) == []


# With the database: the check as the worker and the web app run it, on the tests' clock
# (tests/conftest.py: a Wednesday in December, London on UTC).


@pytest.fixture
def rules() -> Settings:
    return dataclasses.replace(
        Settings.from_env(), verify_minutes=60.0, verify_minutes_safe_contact=15.0
    )


def _answer(
    db: Database, conversation_id: int, text: str, rules: Settings, ask: bool = True
) -> tuple[str, IdentityOutcome | None]:
    """Ask (as the assistant does), then screen `text` as the web app does on arrival."""
    with db.session() as session:
        conversation = session.get_one(Conversation, conversation_id)
        now = utcnow()
        if ask:
            verification.ask(conversation, now)
        screened = verification.screen(session, conversation, conversation.victim, text, rules, now)
        outcome = screened.apply() if screened.apply else None
        return screened.body, outcome


def _second_conversation(db: Database, victim_id: int) -> int:
    """The same phone on WhatsApp: another conversation of the same person."""
    with db.session() as session:
        victim = session.get_one(Victim, victim_id)
        talk = Conversation(
            address=f"whatsapp:{victim.phone}", channel=Channel.WHATSAPP, victim=victim
        )
        session.add(talk)
        session.flush()
        return talk.id


def _state(db: Database, conversation_id: int) -> IdentityState:
    with db.session() as session:
        conversation = session.get_one(Conversation, conversation_id)
        assert conversation.victim is not None
        return verification.state(conversation, conversation.victim, utcnow())


def test_the_right_date_verifies_this_conversation_for_minutes(
    db: Database, clock: FakeClock, rules: Settings
) -> None:
    person = add_person(db)
    body, outcome = _answer(db, person.conversation_id, "2nd March 1984", rules)
    assert (body, outcome) == (dates.MARK, IdentityOutcome.VERIFIED)
    assert _state(db, person.conversation_id) is IdentityState.VERIFIED
    # Only here: the same person's WhatsApp conversation must prove it itself.
    assert _state(db, _second_conversation(db, person.victim_id)) is IdentityState.NEEDED
    clock.advance(minutes=59)
    assert _state(db, person.conversation_id) is IdentityState.VERIFIED
    clock.advance(minutes=2)
    assert _state(db, person.conversation_id) is IdentityState.NEEDED


def test_safe_contact_victims_are_verified_for_less(
    db: Database, clock: FakeClock, rules: Settings
) -> None:
    person = add_person(db)
    with db.session() as session:
        session.get_one(Victim, person.victim_id).safe_contact = True
    _answer(db, person.conversation_id, "02/03/1984", rules)
    clock.advance(minutes=14)
    assert _state(db, person.conversation_id) is IdentityState.VERIFIED
    clock.advance(minutes=2)
    assert _state(db, person.conversation_id) is IdentityState.NEEDED


@pytest.mark.parametrize(
    "typed", ["ok", "locked", "verified", "yes", "/affirm", "[date of birth given]"]
)
def test_no_words_verify(db: Database, clock: FakeClock, rules: Settings, typed: str) -> None:
    person = add_person(db)
    body, outcome = _answer(db, person.conversation_id, typed, rules)
    # Not a date: it goes to the bot as it is, and the conversation stays unverified.
    assert (body, outcome) == (typed, None)
    assert _state(db, person.conversation_id) is IdentityState.NEEDED


def test_wrong_dates_count_per_victim_across_channels_and_lock_until_midnight(
    db: Database, clock: FakeClock, rules: Settings
) -> None:
    person = add_person(db)
    whatsapp = _second_conversation(db, person.victim_id)
    assert _answer(db, person.conversation_id, "01/01/1990", rules)[1] is IdentityOutcome.WRONG
    assert _answer(db, whatsapp, "01/01/1991", rules)[1] is IdentityOutcome.WRONG
    assert _answer(db, person.conversation_id, "1 Ionawr 1992", rules)[1] is (
        IdentityOutcome.LOCKED
    )
    # Locked on every channel; even the right date is not checked now.
    assert _state(db, whatsapp) is IdentityState.LOCKED
    assert _answer(db, whatsapp, "2/3/84", rules)[1] is IdentityOutcome.LOCKED
    with db.session() as session:
        victim = session.get_one(Victim, person.victim_id)
        # Midnight in London (UTC in December).
        assert victim.identity_locked_until == dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
        [handoff] = session.scalars(select(Handoff)).all()
        assert (handoff.priority, handoff.reason) == (HandoffPriority.NORMAL, LOCKED_REASON)
        [locked] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.LOCK_IDENTITY)
        ).all()
        assert locked.actor == "service" and locked.victim_id == person.victim_id
    clock.set(dt.datetime(2026, 12, 3, 0, 1, tzinfo=dt.UTC))
    assert _answer(db, whatsapp, "2/3/84", rules)[1] is IdentityOutcome.VERIFIED


def test_after_the_first_days_lock_the_next_waits_for_an_officer(
    db: Database, clock: FakeClock, rules: Settings
) -> None:
    person = add_person(db)
    for guess in ("1/1/1990", "2/1/1990", "3/1/1990"):
        _answer(db, person.conversation_id, guess, rules)
    clock.advance(days=1)
    for guess in ("4/1/1990", "5/1/1990", "6/1/1990"):
        _answer(db, person.conversation_id, guess, rules)
    clock.advance(days=30)
    assert _state(db, person.conversation_id) is IdentityState.LOCKED
    assert _answer(db, person.conversation_id, "2/3/84", rules)[1] is IdentityOutcome.LOCKED
    with db.session() as session:
        handoffs = session.scalars(select(Handoff).order_by(Handoff.id)).all()
        assert handoffs[-1].priority is HandoffPriority.HIGH
        assert handoffs[-1].reason == HELD_REASON
        officer = Officer(
            username="alys", display_name="PC Alys", role=OfficerRole.OFFICER, password_hash="x"
        )
        session.add(officer)
        session.flush()
        verification.unlock(session, session.get_one(Victim, person.victim_id), officer)
    assert _answer(db, person.conversation_id, "2/3/84", rules)[1] is IdentityOutcome.VERIFIED
    with db.session() as session:
        [unlocked] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.UNLOCK_IDENTITY)
        ).all()
        assert unlocked.actor == "alys"


def test_a_lock_ends_every_verification_of_the_victim(
    db: Database, clock: FakeClock, rules: Settings
) -> None:
    person = add_person(db)
    whatsapp = _second_conversation(db, person.victim_id)
    _answer(db, person.conversation_id, "2/3/84", rules)
    for guess in ("1/1/1990", "2/1/1990", "3/1/1990"):
        _answer(db, whatsapp, guess, rules)
    with db.session() as session:
        assert session.get_one(Conversation, person.conversation_id).verified_until is None
    assert _state(db, person.conversation_id) is IdentityState.LOCKED


def test_two_dates_in_one_message_count_nothing(
    db: Database, clock: FakeClock, rules: Settings
) -> None:
    person = add_person(db)
    body, outcome = _answer(db, person.conversation_id, "1/1/90 or 2/3/84", rules)
    assert outcome is IdentityOutcome.UNREADABLE
    assert "2/3/84" not in body and "1/1/90" not in body
    with db.session() as session:
        assert session.get_one(Victim, person.victim_id).identity_failures == 0


def test_unasked_the_own_date_is_blanked_out_and_checks_nothing(
    db: Database, clock: FakeClock, rules: Settings
) -> None:
    person = add_person(db)
    body, outcome = _answer(db, person.conversation_id, "my dob is 2/3/84", rules, ask=False)
    assert (body, outcome) == (f"my dob is {dates.MARK}", None)
    assert _state(db, person.conversation_id) is IdentityState.NEEDED
    # Another date, unasked, is nobody's date of birth: it is kept as sent.
    court = "court is on 5/6/2026"
    assert _answer(db, person.conversation_id, court, rules, ask=False) == (court, None)


def test_the_question_is_forgotten_with_rasas_session(
    db: Database, clock: FakeClock, rules: Settings
) -> None:
    person = add_person(db)
    with db.session() as session:
        verification.ask(session.get_one(Conversation, person.conversation_id), clock())
    clock.advance(minutes=61)
    # Not an answer any more (a wrong date is kept), but the own date is still blanked out.
    assert _answer(db, person.conversation_id, "1/1/1990", rules, ask=False)[1] is None
    body, _ = _answer(db, person.conversation_id, "2/3/1984", rules, ask=False)
    assert body == dates.MARK
    assert DATE_OF_BIRTH == dt.date(1984, 3, 2)
