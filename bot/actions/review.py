"""A request for a review of a police decision (the Victims' Right to Review): recorded with
its limits, an officer asked to take it on, and the victim told by when to expect an answer."""

from __future__ import annotations

import datetime as dt

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import store
from bot.actions.replies import say
from models import AuditAction
from services.casework import reviews
from services.console import audit
from services.identity import verification
from services.identity.verification import IdentityState
from services.language import wording
from services.victims_code.calendar import LONDON


def _last_day(limit: dt.datetime) -> dt.date:
    # A limit is the midnight (London) that starts the day after the last day allowed.
    return (limit.astimezone(LONDON) - dt.timedelta(days=1)).date()


class ActionRequestReview(Action):
    def name(self) -> str:
        return "action_request_review"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = store.tracker_language(tracker)
        with store.context(tracker) as ctx:
            if ctx is None:
                # (Unregistered numbers never reach the assistant; a person looks all the same.)
                say(dispatcher, domain, "utter_review_unknown", language)
                return [SlotSet("pending_question", None)]
            review, new = reviews.request(ctx.session, ctx.conversation, ctx.victim, ctx.now)
            if new:
                audit.record_by(
                    ctx.session,
                    audit.Actor.victim_by_text(ctx.conversation.channel),
                    AuditAction.REQUEST_REVIEW,
                    victim_id=ctx.victim.id,
                    conversation_id=ctx.conversation.id,
                    case_id=review.case_id,
                    detail=f"review request #{review.id}",
                )
            # The dates tell whoever holds the phone that a review was asked for, and when
            # (an earlier, undecided request is the one answered): only a verified
            # conversation out of safe contact hears them (docs/SAFETY.md).
            verified = (
                verification.state(ctx.conversation, ctx.victim, ctx.now) is IdentityState.VERIFIED
            )
            if not verified or ctx.victim.safe_contact:
                say(dispatcher, domain, "utter_review_unknown", language)
                return [SlotSet("pending_question", None)]
            acknowledge_by = wording.day(_last_day(review.acknowledge_by), language)
            decide_by = wording.day(_last_day(review.decide_by), language)
        say(
            dispatcher,
            domain,
            "utter_review_requested",
            language,
            acknowledge_by=acknowledge_by,
            decide_by=decide_by,
        )
        return [SlotSet("pending_question", None)]
