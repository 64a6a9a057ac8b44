"""The Code's Right 4 on a referral: its limit, marking it sent, and raising it when overdue.

A referral is recorded when the victim agrees to it (services/assistant/referrals.py), with a
`due_by` from the Victims' Code file (right_4_referral: 2 working days in the 2020 Code). It is
marked sent by an officer in the console or by a case system through the API
(`POST /api/referrals/<id>/sent`). One still unsent when its limit passes raises a handoff, once:
the scheduler's `flag_overdue_referrals` job claims it with a conditional UPDATE first, so two
schedulers, or a job run twice, raise it once.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, joinedload

from models import (
    Case,
    CaseVictim,
    Conversation,
    HandoffPriority,
    Referral,
    utcnow,
)
from models.db import rows_updated
from services.casework.cases import find_case
from services.casework.notifications import iso
from services.casework.scheduled_updates import MAX_ID
from services.console import handoffs
from services.errors import Conflict, NotFound
from services.messaging import inbound
from services.victims_code import deadlines, duties

log = logging.getLogger(__name__)

OVERDUE_REASON = "support referral overdue (Right 4): not sent to the service within its limit"


def due_by(consent_at: dt.datetime, enhanced_rights: bool) -> dt.datetime:
    """Right 4's limit for a referral agreed at `consent_at` (exclusive, UTC), by the file."""
    duty = duties.current()[duties.DutyKey.RIGHT_4_REFERRAL]
    return deadlines.due_by(consent_at, enhanced_rights, duty)


def find(session: Session, referral_id: int) -> Referral:
    """The referral, or NotFound."""
    # An id beyond the column is no row (PostgreSQL would refuse the query: a 500).
    referral = session.get(Referral, referral_id) if 1 <= referral_id <= MAX_ID else None
    if referral is None:
        raise NotFound(f"no referral {referral_id}")
    return referral


def mark_sent(session: Session, referral_id: int, by: str) -> Referral:
    """Record that the referral reached the support service now, `by` whom
    ("officer:<username>" or "api:<client>"). Conflict when it was marked already: the first
    time it went is the one the Code counts."""
    referral = find(session, referral_id)
    now = utcnow()
    marked = rows_updated(
        session,
        update(Referral)
        .where(Referral.id == referral_id, Referral.sent_at.is_(None))
        .values(sent_at=now, sent_by=by[:200]),
    )
    if not marked:
        raise Conflict(f"referral {referral_id} was marked sent already")
    session.refresh(referral)
    log.info("referral %s marked sent by %s", referral_id, by.split(":", 1)[0])
    return referral


def _listing() -> Select[tuple[Referral]]:
    query: Select[tuple[Referral]] = select(Referral)
    return query.options(joinedload(Referral.case)).order_by(Referral.id)


def for_case(session: Session, case_ref: str) -> list[Referral]:
    """Referrals of the victims on a case (one made while a victim was on several cases has
    no case of its own, and shows on each of theirs). NotFound for an unknown case."""
    case = find_case(session, case_ref)
    on_case = select(CaseVictim.victim_id).where(CaseVictim.case_id == case.id)
    return list(
        session.scalars(
            _listing().where(
                (Referral.case_id == case.id)
                | (Referral.case_id.is_(None) & Referral.victim_id.in_(on_case))
            )
        )
    )


def unsent(session: Session) -> list[Referral]:
    """Every referral with a limit not yet marked sent, the soonest due first."""
    return list(
        session.scalars(
            _listing()
            .where(Referral.sent_at.is_(None), Referral.due_by.is_not(None))
            .order_by(None)
            .order_by(Referral.due_by, Referral.id)
        )
    )


def flag_overdue(session: Session, now: dt.datetime | None = None) -> list[Referral]:
    """Raise a high-priority handoff, once, for each referral still unsent at its limit.

    Each is claimed by a conditional UPDATE of its row (still unsent and unflagged) before
    anything else, so however many processes run it the handoff is raised once. The handoff
    is on the victim's conversation, where officers look (an open one there is raised to
    high instead).
    """
    now = now or utcnow()
    due = list(
        session.scalars(
            select(Referral)
            .where(
                Referral.sent_at.is_(None),
                Referral.overdue_handoff_id.is_(None),
                Referral.due_by.is_not(None),
                Referral.due_by <= now,
            )
            .options(joinedload(Referral.victim))
            .order_by(Referral.due_by, Referral.id)
        )
    )
    flagged = []
    for referral in due:
        victim = referral.victim
        if victim.erased_at is not None:
            continue
        # The claim is the first write: on SQLite a transaction that writes first sees all
        # that was committed before it (one that read first and writes later fails when
        # another writer came between); on PostgreSQL a second scheduler's same UPDATE waits
        # for the row, then finds it claimed. It changes nothing until the handoff is set.
        claimed = rows_updated(
            session,
            update(Referral)
            .where(
                Referral.id == referral.id,
                Referral.overdue_handoff_id.is_(None),
                Referral.sent_at.is_(None),
            )
            .values(overdue_handoff_id=Referral.overdue_handoff_id),
        )
        if not claimed:
            continue  # raised by another scheduler a moment ago, or sent meanwhile
        conversation = session.get_one(
            Conversation, inbound.conversation_id_for(session, victim.address)
        )
        if conversation.victim is None:
            # A victim who has never written: the conversation learns whose it is here, so
            # the handoff names them.
            conversation.victim = victim
        handoff = handoffs.open_handoff(session, conversation, HandoffPriority.HIGH, OVERDUE_REASON)
        session.flush()
        rows_updated(
            session,
            update(Referral)
            .where(Referral.id == referral.id)
            .values(overdue_handoff_id=handoff.id),
        )
        referral.overdue_handoff_id = handoff.id
        log.warning(
            "referral %s overdue since %s: handoff %s", referral.id, referral.due_by, handoff.id
        )
        flagged.append(referral)
    return flagged


def as_json(referral: Referral, now: dt.datetime | None = None) -> dict[str, Any]:
    """A referral as the API shows it: no name or number, the victim by id only."""
    now = now or utcnow()
    overdue = referral.due_by is not None and referral.sent_at is None and now >= referral.due_by
    case: Case | None = referral.case
    return {
        "id": referral.id,
        "victim_id": referral.victim_id,
        "case_ref": case.case_ref if case is not None else None,
        "service": referral.service,
        "consent_at": iso(referral.consent_at),
        "due_by": iso(referral.due_by),
        "sent_at": iso(referral.sent_at),
        "within_code": referral.within_code,
        "overdue": overdue,
    }
