"""report_danger from the model: 999 guidance at once and an urgent handoff.

The safety net in processing (services/conversations/safety.py) catches most cries for
help before Rasa sees them; this is the model adding to it, never vetoing it. It runs
before anything else, identity checks and forms included (bot/rules/danger.yml).
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import store
from models import HandoffPriority
from services.console import handoffs
from services.language.texts import text

log = logging.getLogger(__name__)

REASON = "danger (assistant)"


def said_danger(tracker: Tracker) -> bool:
    """Whether the model took the latest message for report_danger."""
    return (tracker.latest_message.get("intent") or {}).get("name") == "report_danger"


def respond(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """999 guidance at once, in the conversation's language, and an urgent handoff."""
    language = store.tracker_language(tracker)
    # The guidance goes whatever happens to the database: it must never wait on it.
    dispatcher.utter_message(text=text("danger", language))
    with store.context(tracker) as ctx:
        if ctx is not None:
            handoffs.open_handoff(ctx.session, ctx.conversation, HandoffPriority.URGENT, REASON)
            log.warning("conversation %s: report_danger, urgent handoff", ctx.conversation.id)


class ActionReportDanger(Action):
    def name(self) -> str:
        return "action_report_danger"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        respond(dispatcher, tracker)
        return []
