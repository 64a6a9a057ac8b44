"""Yes and no, answered according to the question the assistant asked last
(the `pending_question` slot), or to the scheduler's questionnaire invitation."""

from __future__ import annotations

import datetime as dt

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions import store
from bot.actions.officer import request_officer
from bot.actions.replies import say
from bot.actions.support import PENDING_NEEDS, PENDING_REFERRAL, answer_referral
from models import Notification, NotificationKind, NotificationStatus, Victim
from services.assistant import assessments

PENDING_OFFICER = "officer"
# A yes this long after a questionnaire invitation still answers it.
INVITATION_ANSWERABLE = dt.timedelta(days=14)


def invited_to_needs(session: Session, victim: Victim, now: dt.datetime) -> bool:
    """Whether the victim was recently invited to the questionnaire and has not finished it."""
    sent = session.scalar(
        select(Notification.id)
        .where(
            Notification.victim_id == victim.id,
            Notification.kind.in_([NotificationKind.NEEDS_INVITE, NotificationKind.NEEDS_REMINDER]),
            Notification.status.in_([NotificationStatus.QUEUED, NotificationStatus.SENT]),
            Notification.created_at >= now - INVITATION_ANSWERABLE,
        )
        .limit(1)
    )
    return sent is not None or assessments.open_assessment(session, victim) is not None


class ActionYesNo(Action):
    def name(self) -> str:
        return "action_yes_no"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = store.tracker_language(tracker)
        yes = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        pending = tracker.get_slot("pending_question")
        if pending == PENDING_REFERRAL:
            return answer_referral(dispatcher, tracker, domain, consent=yes)
        if pending == PENDING_NEEDS and yes:
            return [SlotSet("pending_question", None), FollowupAction("action_start_needs")]
        if pending == PENDING_OFFICER and yes:
            request_officer(dispatcher, tracker, domain)
            return [SlotSet("pending_question", None)]
        if pending is None and yes:
            with store.context(tracker) as ctx:
                invited = ctx is not None and invited_to_needs(ctx.session, ctx.victim, ctx.now)
            if invited:
                return [FollowupAction("action_start_needs")]
        say(dispatcher, domain, "utter_okay", language)
        return [SlotSet("pending_question", None)]
