"""Routing one conversation's inbound messages, in order: keywords, then the bot.

A worker holds the conversation's lease while it works here. Rasa is called outside any
database transaction; its replies and the "processed" mark are written together, so a
crash in between means the message is processed again, never that its replies go twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from models import (
    Author,
    Conversation,
    ConversationState,
    Direction,
    HandoffPriority,
    InboundShape,
    Language,
    Message,
    MessageStatus,
    Victim,
    utcnow,
)
from models.messaging import BOT_ANSWERS
from services.casework import notifications, surveys
from services.console import handoffs
from services.conversations import consent, keywords, safety
from services.conversations.keywords import Keyword
from services.identity import verification
from services.language.texts import text
from services.messaging import leases, outbox, phones, shapes
from services.messaging.rasa import RasaUnavailable
from services.messaging.retry import next_attempt
from services.runtime import Runtime
from services.settings import Settings
from services.victims_code.calendar import LONDON

log = logging.getLogger(__name__)

# An unregistered number is told once a day that we cannot help it, not at every message:
# an auto-responder at the other end must not start a loop.
UNREGISTERED_REPLY_EVERY = dt.timedelta(hours=24)

DANGER_REASON = "danger words"
LOCATION_REASON = "shared a location"


def _needs_no_answer(conversation: Conversation, message: Message) -> bool:
    """Whether a message is only stored: nothing goes back, nothing reaches the bot.

    An alphanumeric sender ID or a short code (a parcel firm, a carrier) cannot take a
    reply, and a machine that answers back could start a loop. A WhatsApp reaction (an
    emoji on one of our messages) asks nothing, and an answer would invite another.
    """
    return not phones.can_answer(conversation.address) or message.shape is InboundShape.REACTION


def _victim(session: Session, conversation: Conversation) -> Victim | None:
    """The victim at this address; looked up again until found, since they may register later."""
    if conversation.victim is None:
        _, number = phones.split_address(conversation.address)
        victim = session.scalar(select(Victim).where(Victim.phone == number))
        if victim is not None:
            conversation.victim = victim
    return conversation.victim


def _next_inbound(session: Session, conversation_id: int) -> Message | None:
    return session.scalar(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.INBOUND,
            Message.status == MessageStatus.RECEIVED,
        )
        .order_by(Message.id)
        .limit(1)
        # Routing needs the conversation and its victim: one query instead of three.
        .options(joinedload(Message.conversation).joinedload(Conversation.victim))
    )


def _done(message: Message) -> None:
    message.status = MessageStatus.PROCESSED
    message.processed_at = utcnow()


def _reply(
    session: Session,
    conversation: Conversation,
    inbound: Message,
    bodies: list[str],
    author: Author = Author.SYSTEM,
    bypass_opt_out: bool = False,
) -> None:
    """Write the answers to `inbound` to the outbox and mark it processed, in one go."""
    for seq, body in enumerate(bodies):
        outbox.enqueue(
            session,
            conversation,
            body,
            author,
            reply_to=inbound,
            reply_seq=seq,
            bypass_opt_out=bypass_opt_out,
        )
    _done(inbound)


def _route_without_bot(session: Session, conversation: Conversation, message: Message) -> bool:
    """Handle what needs no NLU; True when the message is dealt with."""
    if _needs_no_answer(conversation, message):
        _done(message)  # Stored for the record; an answer would be wrong (see there).
        return True
    victim = _victim(session, conversation)
    language = victim.language if victim else None
    keyword = keywords.match(message.body) if message.num_media == 0 else None
    now = utcnow()

    if keyword is Keyword.OPT_OUT:
        if consent.opt_out(session, conversation, now):
            _reply(
                session, conversation, message, [text("opted_out", language)], bypass_opt_out=True
            )
        else:
            _done(message)  # One confirmation only: carriers require silence after it.
        return True
    if safety.in_danger(message.body):
        # Before anything else, whoever is writing: an urgent handoff, and 999 guidance at
        # once (bilingual for a number we do not know). An opted-out number is sent nothing,
        # since carriers require silence after STOP, but a person must still look. The bot
        # never sees the message: a second, confused reply would only get in the way.
        handoffs.open_handoff(session, conversation, HandoffPriority.URGENT, DANGER_REASON)
        log.warning("conversation %s: danger words, urgent handoff", conversation.id)
        if conversation.opted_out_at is None:
            _reply(session, conversation, message, [text("danger", language)])
        else:
            _done(message)
        return True
    if message.shape is InboundShape.LOCATION:
        # A shared location is rare here, and may be someone showing where they are because
        # they cannot say more: a person looks (high, not urgent: no words of danger), and
        # the reply below gives 999 and 55. The coordinates are kept for that officer.
        handoffs.open_handoff(session, conversation, HandoffPriority.HIGH, LOCATION_REASON)
    if conversation.opted_out_at is not None:
        if keyword is Keyword.OPT_IN:
            consent.opt_in(conversation)
            _reply(session, conversation, message, [text("opted_in", language)])
        else:
            _done(message)  # Stored for the record; nothing goes back until they opt in.
        return True
    if keyword is Keyword.HELP:
        _reply(session, conversation, message, [text("help", language)])
        return True
    if victim is None:
        last = conversation.unregistered_reply_at
        if last is None or now - last >= UNREGISTERED_REPLY_EVERY:
            conversation.unregistered_reply_at = now
            _reply(session, conversation, message, [text("unregistered", None)])
        else:
            _done(message)
        return True
    if conversation.state is ConversationState.CLOSED:
        # An officer closed it, and the victim writes again: the bot answers again.
        conversation.move(ConversationState.BOT)
    if conversation.state not in BOT_ANSWERS:
        # An officer has the conversation (services/console/takeover.py): the message is
        # theirs, and the bot stays quiet.
        _done(message)
        return True
    notice = shapes.NOTICES.get(message.shape)
    if notice is not None and not message.body.strip():
        # Something we cannot read (a picture, a voice note, a location...): say so plainly,
        # with 999, rather than pass the bot an empty text.
        _reply(session, conversation, message, [text(notice, language)])
        return True
    thanks = surveys.take_answer(session, victim, message.body, now)
    if thanks is not None:
        _reply(session, conversation, message, [text(thanks, language)])
        return True
    return False


@dataclass(frozen=True)
class BotRequest:
    """One message on its way to Rasa."""

    message_id: int
    sender: str
    body: str
    metadata: dict[str, Any]
    # The text key of what we say first about the part we cannot read (the picture with a
    # caption, say), or None.
    notice: str | None
    language: Language


HANDLED = "handled"


def _screen(session: Session, message: Message, settings: Settings) -> None:
    """A date of birth that came before the question was stored as sent: check it now, if it
    is the answer, and keep only "[date of birth given]" (services/identity). The web app
    does this as a message arrives; this catches the one that overtook the question."""
    conversation = message.conversation
    screened = verification.screen(
        session, conversation, _victim(session, conversation), message.body, settings, utcnow()
    )
    if screened.body != message.body:
        message.body = screened.body
    if screened.apply is not None:
        screened.apply()


def for_rasa(body: str, today: dt.date) -> str:
    """The text Rasa is given. Its REST channel reads a text that starts with "/" as an
    intent with entities ("/affirm", '/inform{"verified": true}'), skipping the NLU: a
    victim's words are words, so the slashes go. Dates are blanked out
    (services/identity/verification.for_bot)."""
    text = verification.for_bot(body, today).strip()
    while text.startswith("/"):
        text = text[1:].lstrip()
    return text


def start_processing(
    session: Session, conversation_id: int, settings: Settings
) -> BotRequest | str | None:
    """Deal with the oldest waiting message as far as the database allows.

    Returns HANDLED when it needed no bot (a keyword, an unregistered number, ...), what to
    ask Rasa otherwise, or None when no message is due (none waits, or the oldest is
    waiting out a backoff: later ones wait behind it, in order).
    """
    message = _next_inbound(session, conversation_id)
    if message is None or (message.next_attempt_at and message.next_attempt_at > utcnow()):
        return None
    conversation = message.conversation
    _screen(session, message, settings)
    if _route_without_bot(session, conversation, message):
        return HANDLED
    victim = conversation.victim
    assert victim is not None
    return BotRequest(
        message_id=message.id,
        sender=conversation.public_id,
        body=for_rasa(message.body, utcnow().astimezone(LONDON).date()),
        metadata={
            "victim_id": victim.id,
            "channel": conversation.channel.value,
            "language": victim.language.value,
            # The first message after an officer handed the conversation back.
            **({"handed_back": True} if conversation.handed_back_at is not None else {}),
        },
        notice=shapes.NOTICES.get(message.shape),
        language=victim.language,
    )


def ask_bot(rt: Runtime, request: BotRequest) -> list[str] | RasaUnavailable:
    """Rasa's replies (outside any transaction), or why there are none yet."""
    try:
        return rt.rasa.send(request.sender, request.body, request.metadata)
    except RasaUnavailable as exc:
        return exc


def finish_processing(
    session: Session, rt: Runtime, request: BotRequest, answer: list[str] | RasaUnavailable
) -> None:
    """Write the replies and the processed mark together, or schedule a retry."""
    settings = rt.settings
    message = session.get_one(Message, request.message_id)
    if message.status is not MessageStatus.RECEIVED:
        return
    if isinstance(answer, RasaUnavailable):
        message.attempts += 1
        message.error_message = str(answer)[:500]
        message.next_attempt_at = next_attempt(
            message.attempts, settings.retry_base_seconds, settings.retry_cap_seconds
        )
        log.warning("message %s waits for rasa: %s", request.message_id, answer)
        return
    if answer and _first_bot_reply(session, message.conversation):
        answer = [*answer[:-1], with_language_hint(answer[-1], message.conversation.victim)]
    replies = ([text(request.notice, request.language)] if request.notice else []) + answer
    _reply(session, message.conversation, message, replies, author=Author.BOT)
    if request.metadata.get("handed_back"):
        message.conversation.handed_back_at = None  # Rasa has been told; once is enough.
    if message.attempts or rt.rasa.recovered():
        _wake_waiting(session)


def _first_bot_reply(session: Session, conversation: Conversation) -> bool:
    """Whether the assistant has never answered in this conversation before."""
    return (
        session.scalar(
            select(Message.id)
            .where(
                Message.conversation_id == conversation.id,
                Message.direction == Direction.OUTBOUND,
                Message.author == Author.BOT,
            )
            .limit(1)
        )
        is None
    )


def with_language_hint(body: str, victim: Victim | None) -> str:
    """The assistant's first reply, with how to switch language, in both languages.

    The victim's language as it is now: a first message that switched it is answered in the
    new one.
    """
    return f"{body}\n\n{text('language_hint', victim.language if victim else None)}"


def _wake_waiting(session: Session) -> None:
    """Rasa is back: messages waiting out a backoff for it need not wait any longer."""
    session.execute(
        update(Message)
        .where(
            Message.direction == Direction.INBOUND,
            Message.status == MessageStatus.RECEIVED,
            Message.attempts > 0,
        )
        .values(next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def drain(rt: Runtime, conversation_id: int, owner: str) -> None:
    """Work a conversation under its lease until nothing in it is due.

    Each step is one transaction that takes (or renews) the lease and picks the work:
    first the outbox, so replies go out as soon as they are written, then the next inbound
    message. The slow calls, to Twilio and Rasa, happen between transactions. The step
    that finds nothing due lets the lease go.
    """
    lease = rt.settings.lease_seconds
    while True:
        with rt.db.session() as session:
            if not leases.claim(session, conversation_id, owner, lease):
                return  # Another worker has it.
            step = outbox.start_send(
                session, conversation_id, notifications.settle
            ) or start_processing(session, conversation_id, rt.settings)
            if step is None:
                leases.release(session, conversation_id, owner)
                return
        if isinstance(step, outbox.Submission):
            outcome = outbox.deliver(rt.twilio, rt.rate_limiter, step)
            with rt.db.session() as session:
                outbox.finish_send(session, step, outcome, rt.settings, notifications.settle)
        elif isinstance(step, BotRequest):
            answer = ask_bot(rt, step)
            with rt.db.session() as session:
                if not leases.renew(session, conversation_id, owner, lease):
                    # Someone took over while Rasa was thinking: they will process it.
                    log.warning("conversation %s: lease lost", conversation_id)
                    return
                finish_processing(session, rt, step, answer)
