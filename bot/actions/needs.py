"""The needs questionnaire as a Rasa form: started by the victim, by a yes to the assistant's
offer or to the scheduler's invitation; each answer saved as it is given
(services/assistant/assessments.py); SKIP, LATER (pause, resume later where it stopped)
and NO MORE."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import danger, leaving, store
from bot.actions.replies import say
from models import NeedsQuestion
from models.assessments import QUESTION_ORDER
from services.assistant import assessments
from services.assistant.assessments import Control
from services.assistant.leaving import Leave, names_an_officer

HALT_SLOT = "form_halt"
PAUSED, STOPPED = "later", "stopped"
LEFT = leaving.LEFT
# Questions whose answers are a closed set: words that answer one are an answer.
CLOSED_QUESTIONS = frozenset({NeedsQuestion.SAFE_NOW, NeedsQuestion.SUPPORT})


def slot_for(question: NeedsQuestion) -> str:
    return f"needs_{question.value}"


SLOTS = tuple(slot_for(q) for q in QUESTION_ORDER)


def cleared() -> list[EventType]:
    """Every questionnaire slot emptied: the database holds the answers, not the tracker."""
    return [SlotSet(slot, None) for slot in SLOTS] + [SlotSet(HALT_SLOT, None)]


class ActionStartNeeds(Action):
    """Start the questionnaire, or resume a paused one with its answers so far."""

    def name(self) -> str:
        return "action_start_needs"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = store.tracker_language(tracker)
        given: dict[NeedsQuestion, str] = {}
        resumed = False
        with store.context(tracker) as ctx:
            if ctx is not None:
                assessment, resumed = assessments.start_or_resume(ctx.session, ctx.victim)
                given = assessments.given_so_far(assessment)
        say(dispatcher, domain, "utter_needs_resume" if resumed else "utter_needs_intro", language)
        return [
            *cleared(),
            *(SlotSet(slot_for(q), value) for q, value in given.items()),
            SlotSet("pending_question", None),
        ]


class ValidateNeedsForm(FormValidationAction):
    def name(self) -> str:
        return "validate_needs_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # Paused or stopped: nothing more is required, and the form ends (requested_slot
        # None); action_needs_done says what happened.
        return [] if tracker.get_slot(HALT_SLOT) else domain_slots

    def _answer(
        self,
        question: NeedsQuestion,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        slot = slot_for(question)
        if value is None:
            return {slot: None}  # emptied by action_start_needs: nothing to check
        text = str(value)
        language = store.tracker_language(tracker)
        control = assessments.control(text)
        with store.context(tracker) as ctx:
            if ctx is None:
                return {slot: text}
            assessment, _ = assessments.start_or_resume(ctx.session, ctx.victim)
            if control is Control.LATER:
                assessments.pause(assessment)
                return {slot: None, HALT_SLOT: PAUSED}
            if control is Control.STOP:
                assessments.stop(assessment)
                return {slot: None, HALT_SLOT: STOPPED}
            leave = leaving.request_in(tracker, text, free_text=True)
            in_danger = danger.said_danger(tracker) or leave is Leave.EMERGENCY
            # Asking for support or an officer leaves the questionnaire (paused, to resume
            # where it stopped), unless it answers a question whose answers are a closed set
            # ("no, I need help" to "do you feel safe?", "someone to talk to" to question 2);
            # asking for an officer by name is never an answer.
            answers = (
                question in CLOSED_QUESTIONS
                and assessments.interpret(question, text) is not None
                and not (leave is Leave.OFFICER and names_an_officer(text))
            )
            leaves = leave in (Leave.OFFICER, Leave.SUPPORT) and not in_danger and not answers
            if leaves:
                assessments.pause(assessment)
                recorded = None
            else:
                # A cry for help is an answer only to "do you feel safe?"; to any other
                # question it is not, and the question is asked again after the 999 guidance.
                recorded = (
                    assessments.record(
                        ctx.session, ctx.conversation, assessment, question, text, ctx.now
                    )
                    if not in_danger or question is NeedsQuestion.SAFE_NOW
                    else None
                )
        if leaves:
            assert leave is not None
            slots = leaving.answer(dispatcher, tracker, domain, leave, "utter_resume_needs")
            return {slot: None, HALT_SLOT: LEFT, **slots}
        if in_danger:
            # 999 guidance first; the answer, if it was one, is kept, and the form goes on.
            danger.respond(dispatcher, tracker)
            if recorded is None:
                return {slot: None}
        elif recorded is None:
            say(dispatcher, domain, "utter_needs_not_understood", language)
            return {slot: None}
        elif recorded.unsafe:
            say(dispatcher, domain, "utter_needs_unsafe", language)
        return {slot: assessments.SKIPPED if recorded.skipped else text}

    def validate_needs_safe_now(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._answer(NeedsQuestion.SAFE_NOW, value, dispatcher, tracker, domain)

    def validate_needs_support(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._answer(NeedsQuestion.SUPPORT, value, dispatcher, tracker, domain)

    def validate_needs_communication(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._answer(NeedsQuestion.COMMUNICATION, value, dispatcher, tracker, domain)

    def validate_needs_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._answer(NeedsQuestion.CONTACT, value, dispatcher, tracker, domain)

    def validate_needs_avoid_times(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._answer(NeedsQuestion.AVOID_TIMES, value, dispatcher, tracker, domain)


class ActionNeedsDone(Action):
    """After the form: paused, stopped, or completed (timestamped, for officers)."""

    def name(self) -> str:
        return "action_needs_done"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = store.tracker_language(tracker)
        halt = tracker.get_slot(HALT_SLOT)
        if halt == LEFT:
            pass  # support or an officer was the answer, with how to carry on later
        elif halt == PAUSED:
            say(dispatcher, domain, "utter_needs_paused", language)
        elif halt == STOPPED:
            say(dispatcher, domain, "utter_needs_stopped", language)
        else:
            with store.context(tracker) as ctx:
                if ctx is not None:
                    assessment = assessments.open_assessment(ctx.session, ctx.victim)
                    if assessment is not None:
                        assessments.complete(assessment)
            say(dispatcher, domain, "utter_needs_done", language)
        return cleared()
