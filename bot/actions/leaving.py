"""Leaving a form's question by asking for support or an officer: that answer, at once, and
how to take the form up again (services/assistant/leaving.py reads the request). Asking for
999 is answered as danger is (bot/actions/danger.py), by each form."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import store
from bot.actions.officer import request_officer
from bot.actions.replies import say
from bot.actions.support import list_services, offer_referral
from services.assistant.leaving import Leave, asked

# The value of `form_halt` for a form left this way: its closing action adds nothing.
LEFT = "left"
REASON = "asked for an officer during a question"


def request_in(tracker: Tracker, text: str, free_text: bool) -> Leave | None:
    """What the latest message asks for instead of an answer. `free_text`: the question
    takes any words, so only the words count, not the model's intent."""
    if free_text:
        return asked(text)
    intent = tracker.latest_message.get("intent") or {}
    return asked(text, intent.get("name"), float(intent.get("confidence") or 0.0))


def answer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    leave: Leave,
    resume: str,
) -> dict[str, Any]:
    """Give what was asked for (support or an officer), then `resume`: how to come back to
    the question. The slots to set as the form is left."""
    language = store.tracker_language(tracker)
    if leave is Leave.OFFICER:
        request_officer(dispatcher, tracker, domain, REASON)
        say(dispatcher, domain, resume, language)
        return {"pending_question": None}
    list_services(dispatcher, domain, language)
    say(dispatcher, domain, resume, language)
    # The referral question goes last, so that a yes or no answers it.
    return {"pending_question": offer_referral(dispatcher, domain, language)}
