"""Opening handoffs (a person must look at a conversation) and listing the open ones."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from models import Conversation, Handoff, HandoffPriority, HandoffStatus
from models.handoffs import PRIORITY_RANK

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
    The conversation's state is left alone: until officers can answer in the console, the
    bot keeps answering (processing keeps quiet in any state but BOT).
    """
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


def open_handoffs(session: Session) -> list[Handoff]:
    """Every open handoff, urgent first, then high, then normal; oldest first within each."""
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
            .options(joinedload(Handoff.case))
        )
    )


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
