"""Session start: carry over slots and pick the reply language from the metadata."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

LANGUAGE_SLOT = "language"
SUPPORTED_LANGUAGES = frozenset({"en", "cy"})

# Slots Rasa fills itself, and the state of a dialogue in progress (a question asked, a form's
# answers: the database keeps those), must never be carried over into a new session: a "yes"
# hours later must not answer a question nobody remembers.
_INTERNAL_SLOTS = frozenset(
    {
        "session_started_metadata",
        "requested_slot",
        "pending_question",
        "form_halt",
        "identity_dob",
        "update_case",
        "needs_safe_now",
        "needs_support",
        "needs_communication",
        "needs_contact",
        "needs_avoid_times",
        "pref_text",
    }
)


def language_from_metadata(metadata: Any) -> str | None:
    """Return "en" or "cy" from session metadata, or None if absent or unsupported."""
    if not isinstance(metadata, dict):
        return None
    language = metadata.get(LANGUAGE_SLOT)
    if isinstance(language, str) and language in SUPPORTED_LANGUAGES:
        return language
    return None


def _carry_over_slots(tracker: Tracker, domain: DomainDict) -> list[EventType]:
    """SlotSet events re-applying the previous session's slots, if the domain asks for it.

    SessionStarted resets every slot to its initial value, so slots that hold
    their initial value (or None) need no event.
    """
    session_config: Any = domain.get("session_config") or {}
    if not isinstance(session_config, dict) or not session_config.get(
        "carry_over_slots_to_new_session", True
    ):
        return []
    slot_specs: Any = domain.get("slots") or {}
    events: list[EventType] = []
    for name, value in tracker.slots.items():
        if name in _INTERNAL_SLOTS or value is None:
            continue
        spec = slot_specs.get(name) if isinstance(slot_specs, dict) else None
        if isinstance(spec, dict) and spec.get("initial_value") == value:
            continue
        events.append(SlotSet(name, value))
    return events


class ActionSessionStart(Action):
    """Start a conversation session and set the `language` slot from its metadata."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        events.extend(_carry_over_slots(tracker, domain))

        language = language_from_metadata(tracker.get_slot("session_started_metadata"))
        if language is not None:
            events.append(SlotSet(LANGUAGE_SLOT, language))

        events.append(ActionExecuted("action_listen"))
        return events
