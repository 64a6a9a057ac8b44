"""News on a case, for a verified victim: latest events, officer in charge, next update."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import store
from bot.actions.identity import CANCELLED, CASE_SLOT, DANGER, DOB_SLOT, HALT_SLOT, LEFT
from bot.actions.replies import say
from models import Victim
from services.assistant import updates
from services.identity import verification
from services.identity.verification import IdentityState
from services.language import wording


def locked_response(victim: Victim) -> str:
    """What a locked identity check says: for the day, or until an officer has been in touch."""
    return "utter_identity_held" if victim.identity_held else "utter_identity_locked"


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
        ]
        if tracker.get_slot(HALT_SLOT) in (DANGER, LEFT):
            # 999 guidance, support or an officer has been given; nothing more now, and a
            # referral just offered keeps its question open for the yes or no.
            return reset
        reset.append(SlotSet("pending_question", None))
        if tracker.get_slot(HALT_SLOT) == CANCELLED:
            say(dispatcher, domain, "utter_okay", language)
            return reset
        with store.context(tracker) as ctx:
            if ctx is None:
                say(dispatcher, domain, "utter_no_case", language)
                return reset
            # Checked here, at the moment of disclosure: never from what the bot remembers.
            state = verification.state(ctx.conversation, ctx.victim, ctx.now)
            if state is IdentityState.LOCKED:
                say(dispatcher, domain, locked_response(ctx.victim), language)
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
