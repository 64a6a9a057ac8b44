"""Not understood: the first time, ask to rephrase and say what we can do; the second time
in a row, offer an officer."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import store
from bot.actions.replies import say
from bot.actions.rights import detail_asked

FALLBACK_ACTIONS = frozenset({"action_fallback", "action_default_fallback"})


def previous_turn_was_fallback(tracker: Tracker) -> bool:
    """Whether the assistant's answer to the message before this one was a fallback."""
    users_seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users_seen += 1
            if users_seen == 2:
                return False
        elif users_seen == 1 and event.get("event") == "action":
            if event.get("name") in FALLBACK_ACTIONS:
                return True
    return False


class ActionFallback(Action):
    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = store.tracker_language(tracker)
        detail = detail_asked(tracker.latest_message.get("text") or "")
        if detail is not None and detail != "utter_complaint":
            # STATEMENT or RESTORATIVE alone: what the rights summary told them to send.
            say(dispatcher, domain, detail, language)
            return [SlotSet("pending_question", None)]
        if previous_turn_was_fallback(tracker):
            say(dispatcher, domain, "utter_default_offer_officer", language)
            return [SlotSet("pending_question", "officer")]
        say(dispatcher, domain, "utter_default", language)
        return [SlotSet("pending_question", None)]
