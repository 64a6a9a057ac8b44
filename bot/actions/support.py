"""Support on offer, and referrals made only with the victim's explicit consent."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import store
from bot.actions.replies import say
from models import Language
from services.assistant import referrals, support

PENDING_REFERRAL = "referral"
PENDING_NEEDS = "needs"


def list_services(dispatcher: CollectingDispatcher, domain: DomainDict, language: Language) -> None:
    """The support services, free and confidential (config/support_services.yml)."""
    say(dispatcher, domain, "utter_support_services", language, services=support.listing(language))


def offer_referral(dispatcher: CollectingDispatcher, domain: DomainDict, language: Language) -> str:
    """Ask whether we may refer them; the value for `pending_question` (yes or no answers)."""
    service = support.referral_service()
    say(dispatcher, domain, "utter_offer_referral", language, service=service.name[language])
    return PENDING_REFERRAL


class ActionSupport(Action):
    """List the services, then offer a referral (the answer goes to action_yes_no)."""

    def name(self) -> str:
        return "action_support"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = store.tracker_language(tracker)
        list_services(dispatcher, domain, language)
        return [SlotSet("pending_question", offer_referral(dispatcher, domain, language))]


def answer_referral(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, consent: bool
) -> list[EventType]:
    """Record the referral on a yes, share nothing on a no; then offer the questionnaire."""
    language = store.tracker_language(tracker)
    service = support.referral_service()
    if consent:
        with store.context(tracker) as ctx:
            if ctx is not None:
                referrals.refer(ctx.session, ctx.conversation, ctx.victim, service, ctx.now)
        say(dispatcher, domain, "utter_referral_done", language, service=service.name[language])
    else:
        say(dispatcher, domain, "utter_referral_declined", language)
    say(dispatcher, domain, "utter_offer_needs", language)
    return [SlotSet("pending_question", PENDING_NEEDS)]
