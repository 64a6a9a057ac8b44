"""The date-of-birth question, which any form may ask, and the update form: the date of birth
before any case detail, then which case.

The date never reaches the bot. Asking sets a fact on the server (the conversation awaits
a date of birth); the web app or the worker checks the answer as it comes and gives Rasa
"[date of birth given]" in its place (services/identity/verification.py). The forms read
what happened from the database, never from a slot: verified or not, and the outcome of the
latest answer. The slot `identity_dob` only carries the turn; nothing typed can verify.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import danger, leaving, store
from bot.actions.replies import say
from models import IdentityOutcome
from services.assistant import assessments, updates
from services.assistant.assessments import Control
from services.assistant.leaving import Leave
from services.identity import dates, verification
from services.identity.verification import IdentityState

DOB_SLOT, CASE_SLOT, HALT_SLOT = "identity_dob", "update_case", "form_halt"
CANCELLED = "cancelled"
# The form was left for 999 guidance (danger, or a request for 999).
DANGER = "danger"
LEFT = leaving.LEFT
REQUESTED_SLOT = "requested_slot"
# Why each form asks for the date of birth.
ASK_FOR = {"update_form": "utter_ask_update_dob", "preferences_form": "utter_ask_dob_for_change"}
RESUME = {"update_form": "utter_resume_update", "preferences_form": "utter_resume_preferences"}


def answered(tracker: Tracker) -> bool:
    """Whether this turn answers the date-of-birth question. The answer is validated even
    when the web app has verified the conversation already: validating empties the slot."""
    return tracker.get_slot(DOB_SLOT) is not None


def ask_date_of_birth(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, form: str | None
) -> None:
    """Ask for the date of birth, and record on the server that its answer is awaited."""
    with store.context(tracker) as ctx:
        if ctx is not None:
            verification.ask(ctx.conversation, ctx.now)
    name = ASK_FOR.get(form or "", ASK_FOR["update_form"])
    say(dispatcher, domain, name, store.tracker_language(tracker))


class ActionAskIdentityDob(Action):
    """The forms ask for `identity_dob` through this action (Rasa's action_ask_<slot>)."""

    def name(self) -> str:
        return "action_ask_identity_dob"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        ask_date_of_birth(dispatcher, tracker, domain, tracker.active_loop.get("name"))
        return []


def validate_dob(
    value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> dict[str, Any]:
    """An answer to the date-of-birth question, in whichever form asked it.

    A date was checked before the bot saw the message; this says what came of it. Anything
    else is no date: the form is paused, left for support, an officer or 999, or the
    question is asked again. The slot is always emptied: the form's required slots, read
    from the database, decide whether the question is asked again.
    """
    if value is None:
        return {DOB_SLOT: None}
    text = str(value)
    language = store.tracker_language(tracker)
    form = tracker.active_loop.get("name") or "update_form"
    with store.context(tracker) as ctx:
        if ctx is None:
            return {DOB_SLOT: None, HALT_SLOT: CANCELLED}
        outcome = verification.take_outcome(ctx.conversation) if dates.MARK in text else None
        locked = verification.locked(ctx.victim, ctx.now)
        leave = None if outcome else leaving.request_in(tracker, text, free_text=False)
        in_danger = outcome is None and (danger.said_danger(tracker) or leave is Leave.EMERGENCY)
        paused = outcome is None and assessments.control(text) in (Control.LATER, Control.STOP)
        if in_danger or paused or leave is not None:
            verification.stop_asking(ctx.conversation)
    if in_danger:
        danger.respond(dispatcher, tracker)
        return {DOB_SLOT: None, HALT_SLOT: DANGER}
    if leave is not None:
        slots = leaving.answer(dispatcher, tracker, domain, leave, RESUME[form])
        return {DOB_SLOT: None, HALT_SLOT: LEFT, **slots}
    if paused:
        return {DOB_SLOT: None, HALT_SLOT: CANCELLED}
    if locked or outcome is IdentityOutcome.VERIFIED:
        # Verified: the form moves on. Locked (here or on another channel): it ends, and its
        # closing action says so, whatever was sent.
        return {DOB_SLOT: None}
    if outcome is IdentityOutcome.WRONG:
        say(dispatcher, domain, "utter_dob_wrong", language)
    else:
        # No date (the service found none in the message), or none that can be read.
        say(dispatcher, domain, "utter_dob_unreadable", language)
    return {DOB_SLOT: None}


class ValidateUpdateForm(FormValidationAction):
    def name(self) -> str:
        return "validate_update_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot(HALT_SLOT):
            return []
        with store.context(tracker) as ctx:
            if ctx is None:
                return []
            state = verification.state(ctx.conversation, ctx.victim, ctx.now)
            several = len(updates.cases_of(ctx.session, ctx.victim)) > 1
        required = [DOB_SLOT] if state is IdentityState.NEEDED or answered(tracker) else []
        if state is IdentityState.VERIFIED and several:
            required.append(CASE_SLOT)
        return required

    def validate_identity_dob(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return validate_dob(value, dispatcher, tracker, domain)

    def validate_update_case(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {CASE_SLOT: None}
        text = str(value)
        if assessments.control(text) in (Control.LATER, Control.STOP):
            return {CASE_SLOT: None, HALT_SLOT: CANCELLED}
        leave = leaving.request_in(tracker, text, free_text=False)
        if danger.said_danger(tracker) or leave is Leave.EMERGENCY:
            danger.respond(dispatcher, tracker)
            return {CASE_SLOT: None, HALT_SLOT: DANGER}
        with store.context(tracker) as ctx:
            verified = (
                ctx is not None
                and verification.state(ctx.conversation, ctx.victim, ctx.now)
                is IdentityState.VERIFIED
            )
            cases = updates.cases_of(ctx.session, ctx.victim) if ctx and verified else []
            chosen = updates.choose(cases, text)
            ref = chosen.case_ref if chosen else None
        if ref is None and leave is not None:
            slots = leaving.answer(dispatcher, tracker, domain, leave, RESUME["update_form"])
            return {CASE_SLOT: None, HALT_SLOT: LEFT, **slots}
        if ref is None and verified:
            say(dispatcher, domain, "utter_case_choice_unclear", store.tracker_language(tracker))
        # Not verified any more (it lasts minutes): the required slots ask for it again.
        return {CASE_SLOT: ref}


class ActionAskUpdateCase(Action):
    """Ask which case, listing them with their crime types: case information, so only while
    the conversation is verified, checked here at the moment of listing."""

    def name(self) -> str:
        return "action_ask_update_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        with store.context(tracker) as ctx:
            verified = (
                ctx is not None
                and verification.state(ctx.conversation, ctx.victim, ctx.now)
                is IdentityState.VERIFIED
            )
            cases = (
                updates.choice_list(updates.cases_of(ctx.session, ctx.victim))
                if ctx is not None and verified
                else ""
            )
        if not verified:
            # The verification ran out between the question and now: ask again first.
            ask_date_of_birth(dispatcher, tracker, domain, "update_form")
            return [SlotSet(REQUESTED_SLOT, DOB_SLOT)]
        say(dispatcher, domain, "utter_which_case", store.tracker_language(tracker), cases=cases)
        return []
