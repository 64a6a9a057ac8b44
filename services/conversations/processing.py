"""Routing one conversation's inbound messages, in order: the officer, or the bot.

Words of danger and the carrier keywords never wait for this: they are dealt with as each
message arrives (services/conversations/arrival.py). What is left keeps its order: a worker
holds the conversation's lease while it works here. Rasa is called outside any database
transaction; its replies and the "processed" mark are written together, so a crash in
between means the message is processed again, never that its replies go twice.

The victim is never left in silence: when Rasa cannot answer within RASA_GIVE_UP_SECONDS,
answers with nothing for them, or our action server reports an action that failed, they get
a holding reply (we have your message, an officer will read it, 999 in an emergency) and a
high-priority handoff asks an officer to read it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, case, exists, or_, select, update
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
from services.conversations import arrival
from services.conversations.replies import done, reply, victim_for
from services.identity import dates, verification
from services.language.phrases import normalise
from services.language.texts import text
from services.messaging import leases, outbox, phones, shapes, wake
from services.messaging.rasa import BotAnswer, RasaUnavailable
from services.messaging.retry import next_attempt
from services.runtime import Runtime
from services.settings import Settings
from services.victims_code.calendar import LONDON

log = logging.getLogger(__name__)

# An unregistered number is told once a day that we cannot help it, not at every message:
# an auto-responder at the other end must not start a loop.
UNREGISTERED_REPLY_EVERY = dt.timedelta(hours=24)

# An auto-responder ("I'm driving, I'll reply later") answers every message we send, and we
# would answer it back without end. The same text (case, accents and punctuation aside) more
# than REPEAT_LIMIT times within REPEAT_WINDOW is answered no more by the service, and an
# officer is asked to look: a person who repeats themselves in distress is answered by a
# person. Danger words are still answered every time (they never get here).
REPEAT_LIMIT = 3
REPEAT_WINDOW = dt.timedelta(minutes=10)
REPEAT_REASON = "the same message again and again: an auto-responder, or someone who needs a person"

# Why an officer is asked to read a message the assistant could not answer.
RASA_DOWN_REASON = "the assistant could not answer in time: please read their message"
# (Rasa or its action server down, stalled or refusing past RASA_GIVE_UP_SECONDS.)
NO_ANSWER_REASON = "the assistant had no answer: please read their message"
ACTION_FAILED_REASON = "the assistant failed while answering: please read their message"
LOCATION_REASON = "shared a location"


# Built once, as the worker runs them at every step: building a statement per call cost
# more CPU than running it (bench/README.md, "Profile").
_EARLIER_TEXTS = (
    select(Message.body, Message.num_media)
    .where(
        Message.conversation_id == bindparam("conversation_id"),
        Message.direction == Direction.INBOUND,
        Message.id < bindparam("before"),
        Message.created_at >= bindparam("since", type_=Message.created_at.type),
    )
    .order_by(Message.id.desc())
    .limit(50)
)
_NEXT_INBOUND = (
    select(Message)
    .where(
        Message.conversation_id == bindparam("conversation_id"),
        Message.direction == Direction.INBOUND,
        Message.status == MessageStatus.RECEIVED,
    )
    .order_by(Message.id)
    .limit(1)
    # Routing needs the conversation and its victim: one query instead of three.
    .options(joinedload(Message.conversation).joinedload(Conversation.victim))
)
# What a drain works on: a message to send through the lease (outbox.UNSENT), or one to read.
_WORK = or_(
    outbox.UNSENT,
    (Message.direction == Direction.INBOUND) & (Message.status == MessageStatus.RECEIVED),
)
# The conversation's next step in one query, not two (outbox.start_send's, then
# _NEXT_INBOUND's): its first unsent message in the outbox's order, else its oldest waiting
# inbound message. Replies go out before the next message is read, as they always did.
_OUTBOUND_FIRST = Message.direction == Direction.OUTBOUND
_NEXT_WORK = (
    select(Message)
    .where(Message.conversation_id == bindparam("conversation_id"), _WORK)
    .order_by(
        case((_OUTBOUND_FIRST, 0), else_=1),
        # Inbound messages by arrival alone, whatever else their rows hold.
        *(case((_OUTBOUND_FIRST, key), else_=Message.id) for key in outbox.SEND_ORDER),
    )
    .limit(1)
    .options(joinedload(Message.conversation).joinedload(Conversation.victim))
)
# The lease let go, in one UPDATE, when the conversation has nothing to send or read: the
# usual end of a drain, which otherwise took three statements (renew the lease, look for
# the next step, let go). Any unsent or unread message, due or waiting out a backoff, keeps
# it, and the drain goes on as before (claim, `_take_next`).
#
# `heard`: the conversation's last_inbound_at when the send began (Submission.heard_at). A
# webhook stores its message, then sets last_inbound_at, holding the conversation's row
# until it commits. On PostgreSQL (READ COMMITTED) an UPDATE that waited for that row reads
# the row again, but not the messages: its subquery keeps the snapshot from before the
# webhook committed, and would let the lease go with the message unread, leaving it to the
# webhook's wake-up. The row's new last_inbound_at fails this test instead, and the drain
# goes on to read it. (SQLite has one writer at a time: this UPDATE sees every commit.)
_RELEASE_IF_IDLE = leases.releaser(
    Conversation.last_inbound_at.is_not_distinct_from(
        bindparam("heard", type_=Conversation.last_inbound_at.type)
    )
    & ~exists().where(Message.conversation_id == bindparam("conversation_id"), _WORK)
)
_ANY_BOT_REPLY = (
    select(Message.id)
    .where(
        Message.conversation_id == bindparam("conversation_id"),
        Message.direction == Direction.OUTBOUND,
        Message.author == Author.BOT,
    )
    .limit(1)
)


def _needs_no_answer(conversation: Conversation, message: Message) -> bool:
    """Whether a message is only stored: nothing goes back, nothing reaches the bot.

    An alphanumeric sender ID or a short code (a parcel firm, a carrier) cannot take a
    reply, and a machine that answers back could start a loop. A WhatsApp reaction (an
    emoji on one of our messages) asks nothing, and an answer would invite another.
    """
    return not phones.can_answer(conversation.address) or message.shape is InboundShape.REACTION


def _repeated(session: Session, message: Message) -> bool:
    """Whether the same text came REPEAT_LIMIT times already within REPEAT_WINDOW before it.

    A message holding a date of birth is never a repeat: it is stored as `dates.MARK`, so
    different dates look alike here, and the identity check bounds guessing already.
    """
    if dates.MARK in message.body:
        return False
    earlier = session.execute(
        _EARLIER_TEXTS,
        {
            "conversation_id": message.conversation_id,
            "before": message.id,
            "since": message.created_at - REPEAT_WINDOW,
        },
    )
    same = (normalise(message.body), message.num_media > 0)
    return sum((normalise(body), media > 0) == same for body, media in earlier) >= REPEAT_LIMIT


def _next_inbound(session: Session, conversation_id: int) -> Message | None:
    return session.scalar(_NEXT_INBOUND, {"conversation_id": conversation_id})


def _route_without_bot(session: Session, conversation: Conversation, message: Message) -> bool:
    """Handle what needs no NLU; True when the message is dealt with."""
    # Screened as it arrived; again here for a message stored before screening existed, or
    # before the danger lists changed (it costs microseconds and no query when it finds
    # nothing).
    if arrival.screen(session, message):
        return True
    if _needs_no_answer(conversation, message):
        done(message)  # Stored for the record; an answer would be wrong (see there).
        return True
    victim = victim_for(session, conversation)
    language = victim.language if victim else None
    now = utcnow()
    if message.shape is InboundShape.LOCATION:
        # A shared location is rare here, and may be someone showing where they are because
        # they cannot say more: a person looks (high, not urgent: no words of danger), and
        # the reply below gives 999 and 55. The coordinates are kept for that officer.
        handoffs.open_handoff(session, conversation, HandoffPriority.HIGH, LOCATION_REASON)
    if conversation.opted_out_at is not None:
        done(message)  # Stored for the record; nothing goes back until they opt in.
        return True
    if victim is None:
        last = conversation.unregistered_reply_at
        if last is None or now - last >= UNREGISTERED_REPLY_EVERY:
            conversation.unregistered_reply_at = now
            reply(session, conversation, message, [text("unregistered", None)])
        else:
            done(message)
        return True
    if conversation.state is ConversationState.CLOSED:
        # An officer closed it, and the victim writes again: the bot answers again.
        conversation.move(ConversationState.BOT)
    if conversation.state not in BOT_ANSWERS:
        # An officer has the conversation (services/console/takeover.py): the message is
        # theirs, and the bot stays quiet.
        done(message)
        return True
    if _repeated(session, message):
        handoffs.open_handoff(session, conversation, HandoffPriority.NORMAL, REPEAT_REASON)
        log.warning(
            "conversation %s: the same message again and again; left to an officer", conversation.id
        )
        done(message)
        return True
    notice = shapes.NOTICES.get(message.shape)
    if notice is not None and not message.body.strip():
        # Something we cannot read (a picture, a voice note, a location...): say so plainly,
        # with 999, rather than pass the bot an empty text.
        reply(session, conversation, message, [text(notice, language)])
        return True
    thanks = surveys.take_answer(session, victim, message.body, now)
    if thanks is not None:
        reply(session, conversation, message, [text(thanks, language)])
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
        session, conversation, victim_for(session, conversation), message.body, settings, utcnow()
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
    session: Session, conversation_id: int, settings: Settings, oldest: Message | None = None
) -> BotRequest | str | None:
    """Deal with the oldest waiting message as far as the database allows.

    Returns HANDLED when it needed no bot (a keyword, an unregistered number, ...), what to
    ask Rasa otherwise, or None when no message is due (none waits, or the oldest is
    waiting out a backoff: later ones wait behind it, in order). `oldest`: that message,
    with its conversation and victim loaded, when the caller has looked it up already.
    """
    message = oldest if oldest is not None else _next_inbound(session, conversation_id)
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


def ask_bot(rt: Runtime, request: BotRequest) -> BotAnswer | RasaUnavailable:
    """Rasa's replies (outside any transaction), or why there are none yet.

    The assistant is Rasa and its action server: without the second, Rasa would answer, but
    wrongly (it carries on without the actions), so the message waits for both.
    """
    if not rt.rasa.actions_ready():
        return RasaUnavailable("the action server does not answer, or refuses our token")
    try:
        return rt.rasa.send(request.sender, request.body, request.metadata)
    except RasaUnavailable as exc:
        return exc


def finish_processing(
    session: Session, rt: Runtime, request: BotRequest, answer: BotAnswer | RasaUnavailable
) -> None:
    """Write the replies and the processed mark together; or schedule a retry; or, when
    retrying is over or the answer leaves the victim with nothing, a holding reply and a
    handoff."""
    settings = rt.settings
    # With its conversation: every answer needs it (one query, not two).
    message = session.get_one(
        Message, request.message_id, options=[joinedload(Message.conversation)]
    )
    if message.status is not MessageStatus.RECEIVED:
        return
    conversation = message.conversation
    if isinstance(answer, RasaUnavailable):
        message.attempts += 1
        message.error_message = str(answer)[:500]
        waited = (utcnow() - message.created_at).total_seconds()
        if waited >= settings.rasa_give_up_seconds:
            log.error(
                "message %s: rasa gave no answer in %.0f s; holding reply", message.id, waited
            )
            _hold(session, conversation, message, request, RASA_DOWN_REASON)
            return
        message.next_attempt_at = next_attempt(
            message.attempts, settings.retry_base_seconds, settings.retry_cap_seconds
        )
        log.warning("message %s waits for rasa: %s", request.message_id, answer)
        return
    if answer.silent:
        # Rasa's REST channel answers 200 and nothing when the action server is down or an
        # action raised; our action server reports the latter by name.
        log.error(
            "message %s: no answer for the victim (failed: %s); holding reply",
            message.id,
            ", ".join(answer.failed_actions) or "none reported",
        )
        reason = ACTION_FAILED_REASON if answer.failed_actions else NO_ANSWER_REASON
        _hold(session, conversation, message, request, reason)
        if message.attempts or rt.rasa.recovered():
            _wake_waiting(session)
        return
    texts = answer.texts
    if _first_bot_reply(session, conversation):
        texts = [*texts[:-1], with_language_hint(texts[-1], conversation.victim)]
    replies = ([text(request.notice, request.language)] if request.notice else []) + texts
    reply(session, conversation, message, replies, author=Author.BOT)
    if request.metadata.get("handed_back"):
        conversation.handed_back_at = None  # Rasa has been told; once is enough.
    if message.attempts or rt.rasa.recovered():
        _wake_waiting(session)


def _hold(
    session: Session,
    conversation: Conversation,
    message: Message,
    request: BotRequest,
    reason: str,
) -> None:
    """The holding reply, in the victim's language, and a high-priority handoff: the
    assistant could not answer, so a person must read the message."""
    handoffs.open_handoff(session, conversation, HandoffPriority.HIGH, reason)
    notice = [text(request.notice, request.language)] if request.notice else []
    reply(session, conversation, message, [*notice, text("holding", request.language)])


def _first_bot_reply(session: Session, conversation: Conversation) -> bool:
    """Whether the assistant has never answered in this conversation before."""
    return session.scalar(_ANY_BOT_REPLY, {"conversation_id": conversation.id}) is None


def with_language_hint(body: str, victim: Victim | None) -> str:
    """The assistant's first reply, with how to switch language, in both languages.

    The victim's language as it is now: a first message that switched it is answered in the
    new one.
    """
    return f"{body}\n\n{text('language_hint', victim.language if victim else None)}"


def _wake_waiting(session: Session) -> None:
    """Rasa is back: messages waiting out a backoff for it need not wait any longer."""
    wake.note_new_work(session)  # other conversations' messages: a look must find them
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


def send_urgent(rt: Runtime, message_id: int, owner: str) -> None:
    """Send one urgent message (999 guidance) without the conversation's lease.

    Whichever worker claims it first sends it (outbox.claim_urgent); a worker holding the
    conversation's lease while Rasa thinks about an earlier message is not waited for.
    """
    with rt.db.session() as session:
        step = outbox.claim_urgent(
            session, message_id, owner, rt.settings.lease_seconds, notifications.settle
        )
    if isinstance(step, outbox.Submission):
        outcome = outbox.deliver(rt.twilio, rt.rate_limiter, step)
        with rt.db.session() as session:
            outbox.finish_send(session, step, outcome, rt.settings, notifications.settle)


# HANDLED and SUPPRESSED steps need no slow call: a transaction takes at most this many of
# them before it commits, so one conversation's backlog of keywords cannot hold the
# database's write lock (SQLite has one) for long.
_QUICK_STEPS_PER_TRANSACTION = 20


def _take_next(
    session: Session, rt: Runtime, conversation_id: int
) -> outbox.Submission | BotRequest | str | None:
    """outbox.start_send, or else start_processing, from one look at the conversation."""
    head = session.scalar(_NEXT_WORK, {"conversation_id": conversation_id})
    if head is None:
        return None
    if head.direction is Direction.INBOUND:
        return start_processing(session, conversation_id, rt.settings, head)
    step = outbox.start_head(session, head, notifications.settle)
    # Its first unsent message waits out a backoff: the victim's messages need not wait too.
    return step or start_processing(session, conversation_id, rt.settings)


def _next_step(
    session: Session, rt: Runtime, conversation_id: int, owner: str
) -> outbox.Submission | BotRequest | str | None:
    """The conversation's next step that needs a slow call, in the caller's transaction
    (which holds the lease): first the outbox, so replies go out as soon as they are written,
    then the next inbound message. Steps that need no slow call (a keyword, an opted-out
    message) are taken here, up to _QUICK_STEPS_PER_TRANSACTION; then a string is returned
    and the caller commits before going on. None, with the lease let go, when nothing is due.
    """
    for _ in range(_QUICK_STEPS_PER_TRANSACTION):
        step = _take_next(session, rt, conversation_id)
        if step is None:
            leases.release(session, conversation_id, owner)
            return None
        if not isinstance(step, str):
            return step
    return HANDLED


def drain(rt: Runtime, conversation_id: int, owner: str, take_over: bool = True) -> float | None:
    """Work a conversation under its lease until nothing in it is due.

    Returns the time.monotonic() at which the transaction that let the lease go, nothing
    being due, began; None when the drain ended otherwise (another worker holds the lease).
    Whatever a look had seen due in the conversation before that time was read or sent by
    then, or the lease would not have been let go: every statement of that transaction sees
    what was committed before the look read it. The worker uses it to look for work again
    after a drain only when a look may have seen work this drain did not take
    (workers.worker.Worker._finished).

    `take_over`: whether the first claim may take the lease over from an owner that died
    (leases.claim). A worker whose look found the lease free passes False: with several
    workers woken by one NOTIFY, all but one lose that claim on every message, and losing
    it then costs one statement, not three.

    One transaction per slow call: the one that ends a call (Twilio's answer, Rasa's replies)
    also renews the lease and starts the next step, and the last one lets the lease go. A
    message with one reply costs three: claim and start processing; write the reply and mark
    it as being sent; record Twilio's SID and let the lease go (bench/README.md, "Profile").
    The slow calls, to Twilio and Rasa, happen between transactions.
    """
    lease = rt.settings.lease_seconds
    step: outbox.Submission | BotRequest | str | None = HANDLED
    began = time.monotonic()
    while step is not None:
        if isinstance(step, outbox.Submission):
            outcome = outbox.deliver(rt.twilio, rt.rate_limiter, step)
            began = time.monotonic()
            with rt.db.session() as session:
                # What Twilio said is recorded whoever holds the lease now: it is this
                # send's outcome (finish_send checks the row is still ours to finish).
                outbox.finish_send(session, step, outcome, rt.settings, notifications.settle)
                if leases.release_if(
                    session, _RELEASE_IF_IDLE, conversation_id, owner, heard=step.heard_at
                ):
                    return began  # Nothing more to send or read: the lease is let go.
                if not leases.claim(session, conversation_id, owner, lease):
                    return None  # Another worker has it.
                step = _next_step(session, rt, conversation_id, owner)
        elif isinstance(step, BotRequest):
            answer = ask_bot(rt, step)
            began = time.monotonic()
            with rt.db.session() as session:
                if not leases.renew(session, conversation_id, owner, lease):
                    # Someone took over while Rasa was thinking: they will process it.
                    log.warning("conversation %s: lease lost", conversation_id)
                    return None
                finish_processing(session, rt, step, answer)
                step = _next_step(session, rt, conversation_id, owner)
        else:
            began = time.monotonic()
            with rt.db.session() as session:
                if not leases.claim(session, conversation_id, owner, lease, take_over):
                    return None  # Another worker has it.
                step = _next_step(session, rt, conversation_id, owner)
            take_over = True  # Only the first claim follows the look.
    # _next_step found nothing due and let the lease go, in the transaction begun then.
    return began
