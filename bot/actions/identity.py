"""The update form: the date of birth before any case detail, then which case.

The form's validation action decides what is required: nothing when the conversation is
verified already (or locked for the day), the date of birth otherwise, and the choice of case
when the victim is on several.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import danger, store
from bot.actions.replies import say
from models import utcnow
from services.assistant import assessments, identity, updates
from services.assistant.assessments import Control
from services.assistant.identity import CheckOutcome, IdentityState

DOB_SLOT, CASE_SLOT, HALT_SLOT = "update_dob", "update_case", "form_halt"
VERIFIED, LOCKED, CANCELLED = "ok", "locked", "cancelled"
# The form was left for 999 guidance (a message the model took for report_danger).
DANGER = "danger"


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
            state = identity.state(ctx.conversation, utcnow())
            several = len(updates.cases_of(ctx.session, ctx.victim)) > 1
        if state is IdentityState.LOCKED:
            return []
        required = [DOB_SLOT] if state is IdentityState.NEEDED else []
        if several:
            required.append(CASE_SLOT)
        return required

    def validate_update_dob(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None or value in (VERIFIED, LOCKED):
            return {DOB_SLOT: value}
        text = str(value)
        language = store.tracker_language(tracker)
        if assessments.control(text) in (Control.LATER, Control.STOP):
            return {DOB_SLOT: None, HALT_SLOT: CANCELLED}
        if danger.said_danger(tracker) and identity.parse_date_of_birth(text) is None:
            # Danger comes before identity checks; but a date of birth, asked for, is one.
            danger.respond(dispatcher, tracker)
            return {DOB_SLOT: None, HALT_SLOT: DANGER}
        with store.context(tracker) as ctx:
            if ctx is None:
                return {DOB_SLOT: None, HALT_SLOT: CANCELLED}
            outcome = identity.check(ctx.session, ctx.conversation, ctx.victim, text, ctx.now)
        if outcome is CheckOutcome.VERIFIED:
            return {DOB_SLOT: VERIFIED}
        if outcome is CheckOutcome.LOCKED:
            return {DOB_SLOT: LOCKED}
        say(
            dispatcher,
            domain,
            "utter_dob_wrong" if outcome is CheckOutcome.WRONG else "utter_dob_unreadable",
            language,
        )
        return {DOB_SLOT: None}

    def validate_update_case(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {CASE_SLOT: None}
        text = str(value)
        if assessments.control(text) in (Control.LATER, Control.STOP):
            return {CASE_SLOT: None, HALT_SLOT: CANCELLED}
        if danger.said_danger(tracker):
            danger.respond(dispatcher, tracker)
            return {CASE_SLOT: None, HALT_SLOT: DANGER}
        with store.context(tracker) as ctx:
            cases = updates.cases_of(ctx.session, ctx.victim) if ctx else []
            chosen = updates.choose(cases, text)
            ref = chosen.case_ref if chosen else None
        if ref is None:
            say(dispatcher, domain, "utter_case_choice_unclear", store.tracker_language(tracker))
        return {CASE_SLOT: ref}


class ActionAskUpdateCase(Action):
    """Ask which case, listing them (the form asks this when the victim has several)."""

    def name(self) -> str:
        return "action_ask_update_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        with store.context(tracker) as ctx:
            cases = updates.choice_list(updates.cases_of(ctx.session, ctx.victim)) if ctx else ""
        say(dispatcher, domain, "utter_which_case", store.tracker_language(tracker), cases=cases)
        return []
