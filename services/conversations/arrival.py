"""What never waits for a message's turn: words of danger, and the carrier keywords.

Every inbound message is screened here as it arrives, in the webhook, in the transaction that
stores it (webhooks/twilio.py): so before Twilio gets its 2xx, and whatever Rasa is doing and
whatever messages of the same conversation are queued before it. The other messages of a
conversation keep their order (services/conversations/processing.py); these do not need it:

- **words of danger** (services/conversations/safety.py): an urgent handoff, and 999 guidance
  written to the outbox as an urgent message, which any free worker sends at once without the
  conversation's lease (services/messaging/outbox.claim_urgent). An opted-out number is sent
  nothing (carriers require silence after STOP), but the handoff still opens. The bot never
  sees the message: a second, bot-made reply to a cry for help would only confuse;
- **STOP** and the other opt-out words, whatever comes with them (a photo captioned STOP), and
  Twilio's Advanced Opt-Out (`OptOutType`): messages stop at once, including replies the bot
  is still writing to earlier messages (the outbox suppresses them);
- **START** for an opted-out number, and **HELP**.

The common message (no keyword, no danger) costs a dict lookup and the safety net's n-gram
lookups, and no query at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session, joinedload

from models import Conversation, HandoffPriority, Message, utcnow
from services.console import handoffs
from services.conversations import consent, keywords, safety
from services.conversations.keywords import Keyword
from services.conversations.replies import done, reply, victim_for
from services.language.texts import text
from services.messaging import outbox, phones

log = logging.getLogger(__name__)

DANGER_REASON = "danger words"


@dataclass(frozen=True)
class Signals:
    """What a message's words alone say it needs before its turn."""

    keyword: Keyword | None
    # Twilio's Advanced Opt-Out matched the keyword, and has sent its own confirmation.
    answered_by_twilio: bool
    danger: bool


def signals(body: str, opt_out_type: str | None = None) -> Signals | None:
    """The keyword and danger in a message (no database), or None for an ordinary one.

    Twilio's `OptOutType` outranks our own reading of the words: it is what Twilio did.
    """
    twilio = keywords.from_opt_out_type(opt_out_type)
    keyword = twilio or keywords.match(body)
    danger = safety.in_danger(body)
    if keyword is None and not danger:
        return None
    return Signals(keyword, twilio is not None, danger)


def screen_stored(
    session: Session, message_id: int, body: str, opt_out_type: str | None = None
) -> bool:
    """Screen a message just stored (the webhook); True when it is dealt with already."""
    found = signals(body, opt_out_type)
    if found is None:
        return False
    message = session.get_one(
        Message,
        message_id,
        options=[joinedload(Message.conversation).joinedload(Conversation.victim)],
    )
    return act(session, message, found)


def screen(session: Session, message: Message) -> bool:
    """Screen a message at its turn (the worker): one stored before screening existed, or
    before the lists changed. True when it is dealt with."""
    found = signals(message.body)
    return found is not None and act(session, message, found)


def act(session: Session, message: Message, found: Signals) -> bool:
    """Do what the signals ask, in the caller's transaction; True when the message is done.

    False only for START or YES from a number that has not opted out: that is an answer for
    the assistant ("yes"), and takes its turn like any other message.
    """
    conversation = message.conversation
    if not phones.can_answer(conversation.address):
        # An alphanumeric sender ID or a short code: no person writes from it, and nothing
        # can go back (services/messaging/shapes.py). Stored for the record only.
        done(message)
        return True
    victim = victim_for(session, conversation)
    language = victim.language if victim else None
    if found.keyword is Keyword.OPT_OUT:
        newly = consent.opt_out(session, conversation, utcnow())
        if newly and not found.answered_by_twilio:
            reply(
                session, conversation, message, [text("opted_out", language)], bypass_opt_out=True
            )
        else:
            done(message)  # One confirmation only: carriers require silence after it.
        return True
    if found.danger:
        handoffs.open_handoff(session, conversation, HandoffPriority.URGENT, DANGER_REASON)
        log.warning("conversation %s: danger words, urgent handoff", conversation.id)
        if conversation.opted_out_at is None:
            # Bilingual for a number we do not know (text() with no language).
            danger = [text("danger", language)]
            reply(session, conversation, message, danger, priority=outbox.URGENT)
        else:
            done(message)
        return True
    if conversation.opted_out_at is not None:
        if found.keyword is Keyword.OPT_IN:
            consent.opt_in(conversation)
            if found.answered_by_twilio:
                done(message)
            else:
                reply(session, conversation, message, [text("opted_in", language)])
        else:
            done(message)  # Stored for the record; nothing goes back until they opt in.
        return True
    if found.keyword is Keyword.HELP:
        if found.answered_by_twilio:
            done(message)
        else:
            reply(session, conversation, message, [text("help", language)])
        return True
    return False
