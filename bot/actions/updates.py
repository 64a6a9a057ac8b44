"""News on a case, for a verified victim: latest events, officer in charge, next update."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import store
from bot.actions.identity import CANCELLED, CASE_SLOT, DANGER, DOB_SLOT, HALT_SLOT
from bot.actions.replies import say
from services.assistant import identity, updates
from services.assistant.identity import IdentityState
from services.language import wording


class ActionCaseUpdate(Action):
    def name(self) -> str:
        return "action_case_update"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = store.tracker_language(tracker)
        reset: list[EventType] = [
            SlotSet(DOB_SLOT, None),
            SlotSet(CASE_SLOT, None),
            SlotSet(HALT_SLOT, None),
            SlotSet("pending_question", None),
        ]
        if tracker.get_slot(HALT_SLOT) == DANGER:
            return reset  # 999 guidance has been given; nothing more now
        if tracker.get_slot(HALT_SLOT) == CANCELLED:
            say(dispatcher, domain, "utter_okay", language)
            return reset
        with store.context(tracker) as ctx:
            if ctx is None:
                say(dispatcher, domain, "utter_no_case", language)
                return reset
            state = identity.state(ctx.conversation, ctx.now)
            if state is IdentityState.LOCKED:
                say(dispatcher, domain, "utter_identity_locked", language)
                return reset
            if state is not IdentityState.VERIFIED:
                # The form ended without a verification (it should not): ask again next time.
                say(dispatcher, domain, "utter_okay", language)
                return reset
            cases = updates.cases_of(ctx.session, ctx.victim)
            chosen = tracker.get_slot(CASE_SLOT)
            case = next((c for c in cases if c.case_ref == chosen), None)
            if case is None and len(cases) == 1:
                case = cases[0]
            if case is None:
                say(dispatcher, domain, "utter_no_case", language)
                return reset
            events = updates.latest_events(ctx.session, case, language)
            values = {
                "case_ref": case.case_ref,
                "officer": case.officer_in_charge,
                "next_due": wording.day(
                    updates.next_update_due(ctx.session, ctx.victim, case, ctx.now), language
                ),
            }
        if events:
            say(dispatcher, domain, "utter_case_update", language, events=events, **values)
        else:
            say(dispatcher, domain, "utter_case_update_no_events", language, **values)
        return reset
