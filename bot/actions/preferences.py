"""Changing contact preferences by text; each change is stored, audited and confirmed back.

A change that raises protection is made at once. One that lowers it needs the date of birth
first, in this conversation (the preferences form asks it); services/assistant/preferences.py
decides, from the database, at the moment of the change. A confirmation repeats only what
the message asked: no stored setting is ever read back to whoever holds the phone.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import danger, leaving, store
from bot.actions.identity import (
    CANCELLED,
    DANGER,
    DOB_SLOT,
    LEFT,
    RESUME,
    answered,
    validate_dob,
)
from bot.actions.replies import say
from models import Channel, Language, Setting
from services.assistant import preferences
from services.assistant.leaving import Leave
from services.assistant.preferences import Applied, Change, Outcome
from services.casework.protection import QuietHours
from services.identity import verification
from services.identity.verification import IdentityState
from services.language import wording

PREF_SLOT, HALT_SLOT = "pref_text", "form_halt"
FORM = "preferences_form"


def confirm(
    dispatcher: CollectingDispatcher, domain: DomainDict, change: Change, language: Language
) -> None:
    """Say back one stored change, in the words of what was asked."""
    if change.setting is Setting.FREQUENCY:
        say(dispatcher, domain, "utter_pref_frequency", language, days=change.value)
    elif change.setting is Setting.QUIET_HOURS:
        assert isinstance(change.value, QuietHours)
        say(
            dispatcher,
            domain,
            "utter_pref_quiet_hours",
            language,
            start=wording.clock(change.value.start),
            end=wording.clock(change.value.end),
        )
    elif change.setting is Setting.CHANNEL:
        name = (
            "utter_pref_channel_whatsapp"
            if change.value is Channel.WHATSAPP
            else "utter_pref_channel_sms"
        )
        say(dispatcher, domain, name, language)
    elif change.setting is Setting.SAFE_CONTACT:
        # Off is made only by an officer, so "done" is said only when it was off already.
        say(
            dispatcher,
            domain,
            "utter_pref_safe_on" if change.value else "utter_pref_safe_off",
            language,
        )
    elif change.setting is Setting.LANGUAGE:
        assert isinstance(change.value, Language)
        say(dispatcher, domain, "utter_language_switched", change.value)


def _say_outcomes(
    dispatcher: CollectingDispatcher,
    domain: DomainDict,
    applied: list[Applied],
    language: Language,
    held: bool,
    only_changed: bool,
) -> tuple[Language, list[EventType]]:
    """Confirm what was done, say what waits and why; the language to go on in."""
    events: list[EventType] = []
    made = [a for a in applied if a.outcome in (Outcome.DONE, Outcome.TOLD_OFFICER)]
    waiting = [a for a in applied if a.outcome is Outcome.AWAITS_OFFICER]
    if only_changed and any(a.changed for a in made + waiting):
        # After the date of birth: what was made before it was confirmed then.
        made = [a for a in made if a.changed]
    for a in made:
        if a.change.setting is Setting.LANGUAGE:
            assert isinstance(a.change.value, Language)
            language = a.change.value
            events.append(SlotSet("language", language.value))
        confirm(dispatcher, domain, a.change, language)
    if waiting:
        say(dispatcher, domain, "utter_pref_safe_off_pending", language)
    if any(a.outcome is Outcome.TOLD_OFFICER for a in applied):
        say(dispatcher, domain, "utter_pref_officer_told", language)
    if any(a.outcome is Outcome.LOCKED for a in applied):
        say(dispatcher, domain, "utter_identity_held" if held else "utter_pref_locked", language)
    return language, events


class ActionChangePreferences(Action):
    """Apply what the message (or the form's answer) asks; ask what to change when unclear,
    and for the date of birth before a change that lowers protection."""

    def name(self) -> str:
        return "action_change_preferences"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = store.tracker_language(tracker)
        reset: list[EventType] = [
            SlotSet(PREF_SLOT, None),
            SlotSet(HALT_SLOT, None),
            SlotSet(DOB_SLOT, None),
        ]
        halt = tracker.get_slot(HALT_SLOT)
        if halt in (DANGER, LEFT):
            return reset  # 999 guidance, support or an officer was the answer
        if halt == CANCELLED:
            say(dispatcher, domain, "utter_okay", language)
            return reset
        answer = tracker.get_slot(PREF_SLOT)
        text = answer if answer is not None else tracker.latest_message.get("text") or ""
        changes = preferences.parse(text)
        if not changes:
            if answer is None:
                return [FollowupAction(FORM)]
            say(dispatcher, domain, "utter_pref_not_understood", language)
            return [SlotSet(PREF_SLOT, None)]
        with store.context(tracker) as ctx:
            if ctx is None:
                say(dispatcher, domain, "utter_okay", language)
                return reset
            applied = preferences.apply(ctx.session, ctx.conversation, ctx.victim, changes, ctx.now)
            held = ctx.victim.identity_held
        language, events = _say_outcomes(
            dispatcher, domain, applied, language, held, only_changed=answer is not None
        )
        if any(a.outcome is Outcome.NEEDS_IDENTITY for a in applied):
            # The rest waits for the date of birth: the form asks it, then this runs again.
            return [*events, SlotSet(PREF_SLOT, text), FollowupAction(FORM)]
        return [*events, *reset, SlotSet("pending_question", None)]


class ValidatePreferencesForm(FormValidationAction):
    def name(self) -> str:
        return "validate_preferences_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot(HALT_SLOT):
            return []
        text = tracker.get_slot(PREF_SLOT)
        if text is None:
            return [PREF_SLOT]
        with store.context(tracker) as ctx:
            if ctx is None:
                return [PREF_SLOT]
            lowers = preferences.lowers(ctx.victim, preferences.parse(str(text)))
            state = verification.state(ctx.conversation, ctx.victim, ctx.now)
        # Locked: the form ends, and action_change_preferences says why.
        ask = lowers and state is IdentityState.NEEDED
        return [PREF_SLOT, DOB_SLOT] if ask or answered(tracker) else [PREF_SLOT]

    def validate_pref_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {PREF_SLOT: None}
        text = str(value)
        leave = leaving.request_in(tracker, text, free_text=False)
        if danger.said_danger(tracker) or leave is Leave.EMERGENCY:
            danger.respond(dispatcher, tracker)
            return {PREF_SLOT: None, HALT_SLOT: DANGER}
        if leave is not None and not preferences.parse(text):
            slots = leaving.answer(dispatcher, tracker, domain, leave, RESUME[FORM])
            return {PREF_SLOT: None, HALT_SLOT: LEFT, **slots}
        # Any other answer ends the question; action_change_preferences makes sense of it.
        return {PREF_SLOT: text}

    def validate_identity_dob(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return validate_dob(value, dispatcher, tracker, domain)
