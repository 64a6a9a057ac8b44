"""Unit tests for the custom action_session_start (bot/actions/session.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import ActionSessionStart

DOMAIN_PATH = Path(__file__).resolve().parents[2] / "bot" / "domain.yml"


@pytest.fixture(scope="module")
def domain() -> DomainDict:
    with DOMAIN_PATH.open(encoding="utf-8") as fh:
        loaded: DomainDict = yaml.safe_load(fh)
    return loaded


def make_tracker(metadata: Any, language: str | None = "en") -> Tracker:
    """A tracker as the action server receives it at the start of a session."""
    return Tracker.from_dict(
        {
            "sender_id": "42",
            "slots": {"language": language, "session_started_metadata": metadata},
            "latest_message": {},
            "events": [
                {"event": "action", "name": "action_session_start", "timestamp": 1.0},
                {
                    "event": "slot",
                    "name": "session_started_metadata",
                    "value": metadata,
                    "timestamp": 1.0,
                },
            ],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "active_form": {},
            "latest_action_name": "action_session_start",
            "stack": [],
            "user_id": None,
        }
    )


def run_action(
    tracker: Tracker, domain: DomainDict
) -> tuple[list[EventType], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionSessionStart().run(dispatcher, tracker, domain))
    return events, dispatcher


def language_events(events: list[EventType]) -> list[EventType]:
    return [e for e in events if e.get("event") == "slot" and e.get("name") == "language"]


def test_name() -> None:
    assert ActionSessionStart().name() == "action_session_start"


def test_domain_declares_language_slot(domain: DomainDict) -> None:
    slot = domain["slots"]["language"]
    assert slot["type"] == "categorical"
    assert slot["values"] == ["en", "cy"]
    assert slot["initial_value"] == "en"
    assert slot["influence_conversation"] is False


def test_welsh_metadata_sets_language(domain: DomainDict) -> None:
    events, dispatcher = run_action(make_tracker({"language": "cy", "channel": "sms"}), domain)

    assert events[0] == SessionStarted()
    assert events[-1] == ActionExecuted("action_listen")
    assert SlotSet("language", "cy") in events
    assert language_events(events) == [SlotSet("language", "cy")]
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "metadata",
    [
        {"language": "fr"},
        {"language": "CY"},
        {"language": 1},
        {"language": None},
        {"channel": "whatsapp"},
        {},
        None,
        "cy",
    ],
)
def test_bogus_metadata_sets_no_language(domain: DomainDict, metadata: Any) -> None:
    events, _ = run_action(make_tracker(metadata), domain)

    assert events[0] == SessionStarted()
    assert events[-1] == ActionExecuted("action_listen")
    assert language_events(events) == []


def test_language_carried_over_from_previous_session(domain: DomainDict) -> None:
    events, _ = run_action(make_tracker({"channel": "sms"}, language="cy"), domain)

    assert language_events(events) == [SlotSet("language", "cy")]


def test_metadata_overrides_carried_over_language(domain: DomainDict) -> None:
    events, _ = run_action(make_tracker({"language": "en"}, language="cy"), domain)

    # The carried-over value comes first; the metadata value is applied last and wins.
    assert language_events(events)[-1] == SlotSet("language", "en")


def test_session_started_metadata_not_carried_over(domain: DomainDict) -> None:
    events, _ = run_action(make_tracker({"language": "cy"}), domain)

    assert not [e for e in events if e.get("name") == "session_started_metadata"]


def test_dialogue_state_is_not_carried_over(domain: DomainDict) -> None:
    snapshot = make_tracker({"language": "cy"})
    snapshot.slots.update({"pending_question": "referral", "identity_dob": "[date of birth given]"})
    events, _ = run_action(snapshot, domain)

    assert not [e for e in events if e.get("name") in ("pending_question", "identity_dob")]
