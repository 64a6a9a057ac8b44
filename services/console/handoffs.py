"""Opening handoffs (a person must look at a conversation) and listing the open ones."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from models import (
    Author,
    Conversation,
    ConversationState,
    Handoff,
    HandoffPriority,
    HandoffStatus,
    Language,
)
from models.db import rows_updated
from models.handoffs import PRIORITY_RANK
from services.console import staffing
from services.language.texts import TEXTS
from services.messaging import outbox

log = logging.getLogger(__name__)


def _open_one(session: Session, conversation_id: int) -> Handoff | None:
    return session.scalar(
        select(Handoff).where(
            Handoff.conversation_id == conversation_id, Handoff.status == HandoffStatus.OPEN
        )
    )


def _raise_to(handoff: Handoff, priority: HandoffPriority, reason: str) -> Handoff:
    # The same or a lower priority adds nothing: the open one already asks for a person,
    # at least as urgently. A higher one raises it, and its reason is now the one that counts.
    if PRIORITY_RANK[priority] < PRIORITY_RANK[handoff.priority]:
        log.info("handoff %s raised %s -> %s", handoff.id, handoff.priority, priority)
        handoff.priority, handoff.reason = priority, reason[:200]
    return handoff


def open_handoff(
    session: Session, conversation: Conversation, priority: HandoffPriority, reason: str
) -> Handoff:
    """Ask for a person on `conversation`: a new open handoff, or the open one, raised.

    Only an OPEN handoff absorbs a new request. A claimed one is an officer's already, but
    a new urgent reason must still show in the open queue, where every officer looks.
    A conversation with the bot (or closed) now waits for an officer; the bot still answers
    it until one claims it. One that an officer has keeps its officer.
    """
    if conversation.state in (ConversationState.BOT, ConversationState.CLOSED):
        conversation.move(ConversationState.WAITING_FOR_OFFICER)
    existing = _open_one(session, conversation.id)
    if existing is not None:
        return _raise_to(existing, priority, reason)
    victim = conversation.victim
    cases = victim.cases if victim is not None else []
    handoff = Handoff(
        conversation_id=conversation.id,
        victim_id=victim.id if victim is not None else None,
        case_id=cases[0].case_id if len(cases) == 1 else None,
        priority=priority,
        reason=reason[:200],
        status=HandoffStatus.OPEN,
    )
    try:
        with session.begin_nested():
            session.add(handoff)
    except IntegrityError:
        # Another process opened one for this conversation a moment ago (the unique partial
        # index allows one open per conversation): raise that one instead.
        existing = _open_one(session, conversation.id)
        if existing is None:
            raise
        return _raise_to(existing, priority, reason)
    log.info("handoff %s opened: %s, %s", handoff.id, priority, reason)
    return handoff


def open_handoffs(session: Session, limit: int | None = None, offset: int = 0) -> list[Handoff]:
    """Every open handoff, urgent first, then high, then normal; oldest first within each.

    `limit` and `offset` page through them (the console shows a page at a time).
    """
    rank = case(
        dict(PRIORITY_RANK),
        value=Handoff.priority,
        else_=len(PRIORITY_RANK),
    )
    return list(
        session.scalars(
            select(Handoff)
            .where(Handoff.status == HandoffStatus.OPEN)
            .order_by(rank, Handoff.opened_at, Handoff.id)
            .options(joinedload(Handoff.case), joinedload(Handoff.victim))
            .offset(offset)
            .limit(limit)
        )
    )


def count_open(session: Session) -> int:
    """How many handoffs are open."""
    total = session.scalar(
        select(func.count()).select_from(Handoff).where(Handoff.status == HandoffStatus.OPEN)
    )
    return int(total or 0)


def waiting_by_priority(
    session: Session, now: dt.datetime
) -> dict[HandoffPriority, tuple[int, float]]:
    """Open handoffs (no officer has claimed them) by priority: how many, and how long the
    oldest has waited (seconds; 0 when none). Every priority is present. For /metrics."""
    rows = session.execute(
        select(Handoff.priority, func.count(), func.min(Handoff.opened_at))
        .where(Handoff.status == HandoffStatus.OPEN)
        .group_by(Handoff.priority)
    ).all()
    waiting = {priority: (0, 0.0) for priority in HandoffPriority}
    for priority, count, oldest in rows:
        waiting[priority] = (count, max(0.0, (now - oldest).total_seconds()))
    return waiting


def overdue_text(language: Language | None, now: dt.datetime) -> str:
    """The honest message to a victim nobody has answered in time: when to expect contact
    (staffed hours), and 999 and 101; bilingual, Welsh first, for an unknown language."""
    if language is None:
        return "\n\n".join(overdue_text(lang, now) for lang in (Language.CY, Language.EN))
    return TEXTS["handoff_overdue"][language].format(when=staffing.next_contact(now, language))


def flag_overdue(session: Session, now: dt.datetime, claim_within: dt.timedelta) -> list[Handoff]:
    """Mark open handoffs unclaimed for `claim_within` as overdue, and tell each victim once.

    The scheduler calls this. Each handoff is marked with a conditional UPDATE first, so
    however many processes run it, the victim gets the message once. An opted-out number
    is sent nothing (carriers require silence after STOP); supervisors still see it overdue.
    """
    candidates = session.scalars(
        select(Handoff)
        .where(
            Handoff.status == HandoffStatus.OPEN,
            Handoff.overdue_at.is_(None),
            Handoff.opened_at <= now - claim_within,
        )
        .order_by(Handoff.opened_at)
        .options(joinedload(Handoff.conversation).joinedload(Conversation.victim))
    ).all()
    flagged = []
    for handoff in candidates:
        marked = rows_updated(
            session,
            update(Handoff)
            .where(
                Handoff.id == handoff.id,
                Handoff.status == HandoffStatus.OPEN,
                Handoff.overdue_at.is_(None),
            )
            .values(overdue_at=now),
        )
        if not marked:
            continue  # claimed, or flagged by another process, since the SELECT
        handoff.overdue_at = now
        conversation = handoff.conversation
        if conversation.opted_out_at is None:
            victim = conversation.victim
            language = victim.language if victim is not None else None
            outbox.enqueue(session, conversation, overdue_text(language, now), Author.SYSTEM)
        log.warning("handoff %s overdue: unclaimed since %s", handoff.id, handoff.opened_at)
        flagged.append(handoff)
    return flagged


def as_json(handoff: Handoff) -> dict[str, Any]:
    """A handoff as the API shows it (contract)."""
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "victim_id": handoff.victim_id,
        "case_ref": handoff.case.case_ref if handoff.case is not None else None,
        "priority": handoff.priority.value,
        "reason": handoff.reason,
        "opened_at": handoff.opened_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
    }
