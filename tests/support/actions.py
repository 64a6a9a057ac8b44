"""Running custom actions as the action server does: a CollectingDispatcher, a tracker
snapshot, the real domain, and the real (test) database behind them."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import ActionAskIdentityDob, store
from models import Case, CaseVictim, Channel, Conversation, Language, Victim, utcnow
from models.db import Database
from services.identity import verification
from services.settings import Settings

DOMAIN_PATH = Path(__file__).resolve().parents[2] / "bot" / "domain.yml"
DATE_OF_BIRTH = dt.date(1984, 3, 2)


@cache
def domain() -> DomainDict:
    loaded: DomainDict = yaml.safe_load(DOMAIN_PATH.read_text(encoding="utf-8"))
    return loaded


@dataclass
class Person:
    """An invented victim on one case, with their conversation."""

    db: Database
    victim_id: int
    case_id: int
    conversation_id: int
    public_id: str


def add_person(
    db: Database,
    phone: str = "+447700900501",
    language: Language = Language.EN,
    case_refs: tuple[str, ...] = ("CR-UNIT-1",),
) -> Person:
    with db.session() as session:
        victim = Victim(
            name="Rhiannon Prydderch",
            phone=phone,
            channel=Channel.SMS,
            language=language,
            date_of_birth=DATE_OF_BIRTH,
        )
        session.add(victim)
        cases = []
        for ref in case_refs:
            case = Case(case_ref=ref, crime_type="burglary", officer_in_charge="PC Ifan Rees")
            session.add(case)
            session.flush()
            session.add(CaseVictim(case=case, victim=victim))
            cases.append(case)
        conversation = Conversation(address=phone, channel=Channel.SMS, victim=victim)
        session.add(conversation)
        session.flush()
        return Person(db, victim.id, cases[0].id, conversation.id, conversation.public_id)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """The test's database, which the actions use too."""
    database = store.configure(database_url)
    yield database
    database.dispose()


def tracker(
    sender_id: str,
    text: str = "",
    intent: str | None = None,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
) -> Tracker:
    """A tracker snapshot as the action server receives it."""
    all_slots = {"language": "en", **(slots or {})}
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": entities or [],
    }
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": all_slots,
            "latest_message": latest,
            "events": events
            or [{"event": "user", "text": text, "parse_data": latest, "timestamp": 1.0}],
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        }
    )


def run(action: Action, snapshot: Tracker) -> tuple[list[EventType], list[str]]:
    """Run `action`; its events and the texts it sent."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, snapshot, domain()))
    return list(events), [m["text"] for m in dispatcher.messages]


def slot_events(events: list[EventType]) -> dict[str, Any]:
    """The slots the events set, last value wins."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.fixture
def rules() -> Settings:
    """Settings with the identity check's durations: 60 minutes, 15 for safe contact."""
    return dataclasses.replace(
        Settings.from_env(), verify_minutes=60.0, verify_minutes_safe_contact=15.0
    )


def ask_dob(person: Person, form: str = "update_form", language: str = "en") -> list[str]:
    """A form asks for the date of birth (action_ask_identity_dob); what it said."""
    snapshot = tracker(person.public_id, slots={"language": language}, active_loop=form)
    return run(ActionAskIdentityDob(), snapshot)[1]


def arrives(person: Person, body: str, rules: Settings) -> str:
    """What the web app stores of an arriving message and the bot is given, with the
    identity check done on the way (services/identity/verification.screen)."""
    with person.db.session() as session:
        conversation = session.get_one(Conversation, person.conversation_id)
        screened = verification.screen(
            session, conversation, conversation.victim, body, rules, utcnow()
        )
        if screened.apply is not None:
            screened.apply()
        return screened.body


def verify(person: Person, rules: Settings) -> None:
    """The victim proves who they are in their conversation."""
    ask_dob(person)
    arrives(person, DATE_OF_BIRTH.strftime("%d/%m/%Y"), rules)
