"""The Victims' Code in plain words, with detail on request, and complaints."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import store
from bot.actions.replies import say
from models import HandoffPriority
from services.console import handoffs
from services.language import phrases

COMPLAINT_REASON = "complaint"

# Which detail a message asks for; otherwise the summary.
DETAILS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "utter_rights_statement",
        (
            "statement",
            "vps",
            "personal statement",
            "victim personal statement",
            "impact statement",
            "datganiad",
            "datganiad personol",
        ),
    ),
    (
        "utter_rights_restorative",
        (
            "restorative",
            "restorative justice",
            "rj",
            "meet the offender",
            "adferol",
            "cyfiawnder adferol",
            "cwrdd ar troseddwr",
        ),
    ),
    (
        "utter_complaint",
        (
            "complaint",
            "complain",
            "complaints",
            "ombudsman",
            "cwyn",
            "cwyno",
            "ombwdsmon",
        ),
    ),
)


def detail_asked(text: str) -> str | None:
    """The detail response a message asks for, if it asks for one."""
    for response, words in DETAILS:
        if phrases.contains(text, words):
            return response
    return None


class ActionRights(Action):
    def name(self) -> str:
        return "action_rights"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = store.tracker_language(tracker)
        detail = detail_asked(tracker.latest_message.get("text") or "")
        if detail == "utter_complaint":
            record_complaint(tracker)
        say(dispatcher, domain, detail or "utter_rights_summary", language)
        return [SlotSet("pending_question", None)]


def record_complaint(tracker: Tracker) -> None:
    """A complaint is for a person to answer: a normal handoff."""
    with store.context(tracker) as ctx:
        if ctx is not None:
            handoffs.open_handoff(
                ctx.session, ctx.conversation, HandoffPriority.NORMAL, COMPLAINT_REASON
            )


class ActionComplaint(Action):
    def name(self) -> str:
        return "action_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        record_complaint(tracker)
        say(dispatcher, domain, "utter_complaint", store.tracker_language(tracker))
        return [SlotSet("pending_question", None)]
