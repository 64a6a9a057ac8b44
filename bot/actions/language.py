"""Switching the conversation's language: stored on the victim, used from then on."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import store
from bot.actions.replies import say
from models import Language, Setting
from services.assistant import preferences

_ENTITY_VALUES = {"en": Language.EN, "cy": Language.CY}


def requested_language(tracker: Tracker) -> Language:
    """The language asked for: the entity, else the words, else the other one."""
    for value in tracker.get_latest_entity_values("language"):
        if isinstance(value, str) and value.lower() in _ENTITY_VALUES:
            return _ENTITY_VALUES[value.lower()]
    named = preferences.language_from(tracker.latest_message.get("text") or "")
    if named is not None:
        return named
    current = store.tracker_language(tracker)
    return Language.EN if current is Language.CY else Language.CY


class ActionSwitchLanguage(Action):
    """Switch language. Anyone holding the phone may: it changes how we write, not what is
    disclosed, and a victim who cannot read the current language could not even read the
    date-of-birth question (docs/SAFETY.md). Stored and audited like any other change."""

    def name(self) -> str:
        return "action_switch_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = requested_language(tracker)
        with store.context(tracker) as ctx:
            if ctx is not None:
                change = preferences.Change(Setting.LANGUAGE, language)
                preferences.apply(ctx.session, ctx.conversation, ctx.victim, [change], ctx.now)
        say(dispatcher, domain, "utter_language_switched", language)
        return [SlotSet("language", language.value)]
