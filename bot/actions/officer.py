"""Asking for a person: a normal handoff, and an honest word on when they will be in touch."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import store
from bot.actions.replies import say
from models import HandoffPriority, utcnow
from services.console import handoffs, staffing

REASON = "asked for an officer"


def request_officer(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, reason: str = REASON
) -> None:
    """Open a normal handoff and tell the victim what happens next, and when."""
    language = store.tracker_language(tracker)
    with store.context(tracker) as ctx:
        if ctx is not None:
            handoffs.open_handoff(ctx.session, ctx.conversation, HandoffPriority.NORMAL, reason)
    say(
        dispatcher,
        domain,
        "utter_officer_requested",
        language,
        next_contact=staffing.next_contact(utcnow(), language),
    )


class ActionTalkToOfficer(Action):
    def name(self) -> str:
        return "action_talk_to_officer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        request_officer(dispatcher, tracker, domain)
        return [SlotSet("pending_question", None)]
