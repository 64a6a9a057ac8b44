"""Changing contact preferences by text; each change is stored and confirmed back."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import danger, store
from bot.actions.replies import say
from models import Channel, Language
from services.assistant import preferences
from services.assistant.preferences import Change, Setting
from services.language import wording

PREF_SLOT, HALT_SLOT, DANGER = "pref_text", "form_halt", "danger"


def confirm(
    dispatcher: CollectingDispatcher, domain: DomainDict, change: Change, language: Language
) -> None:
    """Say back one stored change."""
    if change.setting is Setting.FREQUENCY:
        say(dispatcher, domain, "utter_pref_frequency", language, days=change.value)
    elif change.setting is Setting.QUIET_HOURS:
        assert isinstance(change.value, tuple)
        start, end = change.value
        say(
            dispatcher,
            domain,
            "utter_pref_quiet_hours",
            language,
            start=wording.clock(start),
            end=wording.clock(end),
        )
    elif change.setting is Setting.CHANNEL:
        name = (
            "utter_pref_channel_whatsapp"
            if change.value is Channel.WHATSAPP
            else "utter_pref_channel_sms"
        )
        say(dispatcher, domain, name, language)
    elif change.setting is Setting.SAFE_CONTACT:
        say(
            dispatcher,
            domain,
            "utter_pref_safe_on" if change.value else "utter_pref_safe_off",
            language,
        )
    elif change.setting is Setting.LANGUAGE:
        assert isinstance(change.value, Language)
        say(dispatcher, domain, "utter_language_switched", change.value)


class ActionChangePreferences(Action):
    """Apply what the message (or the form's answer) asks; ask what to change when unclear."""

    def name(self) -> str:
        return "action_change_preferences"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = store.tracker_language(tracker)
        if tracker.get_slot(HALT_SLOT) == DANGER:
            return [SlotSet(PREF_SLOT, None), SlotSet(HALT_SLOT, None)]
        answer = tracker.get_slot(PREF_SLOT)
        text = answer if answer is not None else tracker.latest_message.get("text") or ""
        changes = preferences.parse(text)
        if not changes:
            if answer is None:
                return [FollowupAction("preferences_form")]
            say(dispatcher, domain, "utter_pref_not_understood", language)
            return [SlotSet(PREF_SLOT, None)]
        events: list[EventType] = [SlotSet(PREF_SLOT, None), SlotSet("pending_question", None)]
        with store.context(tracker) as ctx:
            for change in changes:
                if ctx is not None:
                    preferences.apply(ctx.victim, change)
        for change in changes:
            if change.setting is Setting.LANGUAGE:
                assert isinstance(change.value, Language)
                language = change.value
                events.append(SlotSet("language", language.value))
            confirm(dispatcher, domain, change, language)
        return events


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
        return [] if tracker.get_slot(HALT_SLOT) else domain_slots

    def validate_pref_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is not None and danger.said_danger(tracker):
            danger.respond(dispatcher, tracker)
            return {PREF_SLOT: None, HALT_SLOT: DANGER}
        # Any other answer ends the form; action_change_preferences makes sense of it.
        return {PREF_SLOT: None if value is None else str(value)}
