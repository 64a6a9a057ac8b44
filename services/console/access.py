"""Who may see what in the console: conversations and cases, by role and relation.

Supervisors see everything; officers the queue, the conversations they have, and the
victims on the cases they are on; admins no victim data (models/officers.ROLE_PERMISSIONS).
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from models import (
    CaseOfficer,
    CaseVictim,
    Conversation,
    Handoff,
    HandoffStatus,
    Officer,
    Permission,
    Victim,
    utcnow,
)
from services.errors import NotFound, ServiceError


class NotAllowed(ServiceError):
    """The officer's role or relation to the conversation does not allow this (HTTP 403)."""


def _on_victims_case(session: Session, officer: Officer, victim_id: int | None) -> bool:
    if victim_id is None:
        return False
    return bool(
        session.scalar(
            select(
                exists().where(
                    CaseOfficer.officer_id == officer.id,
                    CaseOfficer.case_id == CaseVictim.case_id,
                    CaseVictim.victim_id == victim_id,
                )
            )
        )
    )


def may_see_conversation(session: Session, officer: Officer, conversation: Conversation) -> bool:
    """A supervisor sees every conversation; an officer those waiting in the queue, the
    ones they have, and those of victims on the cases they are on."""
    if officer.may(Permission.SUPERVISE):
        return True
    if not officer.may(Permission.WORK):
        return False
    if conversation.officer_id == officer.id:
        return True
    waiting = session.scalar(
        select(
            exists().where(
                Handoff.conversation_id == conversation.id,
                Handoff.status == HandoffStatus.OPEN,
            )
        )
    )
    return bool(waiting) or _on_victims_case(session, officer, conversation.victim_id)


def may_see_case(session: Session, officer: Officer, case_id: int) -> bool:
    """A supervisor sees every case; an officer the cases they are on."""
    if officer.may(Permission.SUPERVISE):
        return True
    if not officer.may(Permission.WORK):
        return False
    return bool(
        session.scalar(
            select(
                exists().where(CaseOfficer.case_id == case_id, CaseOfficer.officer_id == officer.id)
            )
        )
    )


def may_see_victim(session: Session, officer: Officer, victim: Victim) -> bool:
    """A victim's profile: a supervisor sees every one; an officer those on the cases they
    are on, and those with a conversation they may see (in the queue, say)."""
    if officer.may(Permission.SUPERVISE):
        return True
    if not officer.may(Permission.WORK):
        return False
    if _on_victims_case(session, officer, victim.id):
        return True
    talks = session.scalars(select(Conversation).where(Conversation.victim_id == victim.id))
    return any(may_see_conversation(session, officer, t) for t in talks)


def victim_for(session: Session, officer: Officer, victim_id: int) -> Victim:
    """The victim, if this officer may see them: NotFound or NotAllowed otherwise."""
    victim = session.get(Victim, victim_id)
    if victim is None:
        raise NotFound(f"no victim {victim_id}")
    if not may_see_victim(session, officer, victim):
        raise NotAllowed("this victim is not on your cases")
    return victim


def conversation_for(session: Session, officer: Officer, conversation_id: int) -> Conversation:
    """The conversation, if this officer may see it: NotFound or NotAllowed otherwise."""
    conversation = session.get(
        Conversation, conversation_id, options=[joinedload(Conversation.victim)]
    )
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    if not may_see_conversation(session, officer, conversation):
        raise NotAllowed("this conversation is not in your queue or your cases")
    return conversation


def put_on_case(session: Session, officer: Officer, case_id: int) -> None:
    """Record that `officer` is on the case (once; a second time adds nothing)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(CaseOfficer)
        .values(case_id=case_id, officer_id=officer.id, created_at=utcnow())
        .on_conflict_do_nothing()
    )


def my_conversations(session: Session, officer: Officer) -> list[Conversation]:
    """The conversations this officer has taken over."""
    return list(
        session.scalars(
            select(Conversation)
            .where(Conversation.officer_id == officer.id)
            .order_by(Conversation.id)
            .options(joinedload(Conversation.victim))
        )
    )
