"""Who may see what in the console, and who may grant what: every access rule, in one place.

Victims' data (models/officers.ROLE_PERMISSIONS):

- a **supervisor** sees every victim, case and conversation;
- an **officer** sees the cases they are on (they registered it in the console, or a
  supervisor put them on it) and the victims on those cases, with everything about them;
- an officer also sees a conversation waiting in the queue (to decide whether to claim it),
  and one they have claimed while they have it. Claiming gives that conversation and
  nothing else: not the victim's cases, needs answers or referrals, and it lapses when the
  officer hands the conversation back or closes it;
- an **admin** sees no victim data.

Putting a victim who is already registered on a case is a way to see them, so an officer may
do it only for a victim they may already see; otherwise a supervisor approves it
(services/casework/attach_requests.py).

Roles: a role that sees victims (officer, supervisor) is granted only by a supervisor, so an
admin can never give themselves or anyone else access to victims; an admin grants the admin
role only. The command line (`flask officers ...`), run by whoever runs the server, may grant
any role; every grant is audited.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from models import (
    VICTIM_DATA_ROLES,
    Case,
    CaseOfficer,
    CaseVictim,
    Conversation,
    ConversationState,
    Handoff,
    HandoffStatus,
    Officer,
    OfficerRole,
    Permission,
    Victim,
    utcnow,
)
from services.errors import NotFound, ServiceError


class NotAllowed(ServiceError):
    """The officer's role or relation to the data does not allow this (HTTP 403).

    It names what was asked for (`victim_id`, `conversation_id`, `case_id`), so that the
    refusal is audited against it.
    """

    def __init__(
        self,
        message: str,
        *,
        victim_id: int | None = None,
        conversation_id: int | None = None,
        case_id: int | None = None,
    ) -> None:
        super().__init__(message)
        self.victim_id = victim_id
        self.conversation_id = conversation_id
        self.case_id = case_id


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


def may_see_victim(session: Session, officer: Officer, victim_id: int | None) -> bool:
    """A supervisor sees every victim; an officer the victims on the cases they are on."""
    if officer.may(Permission.SUPERVISE):
        return True
    if not officer.may(Permission.WORK):
        return False
    return _on_victims_case(session, officer, victim_id)


def holds(officer: Officer, conversation: Conversation) -> bool:
    """Whether the officer has taken this conversation over and has it now."""
    return conversation.officer_id == officer.id and conversation.state is ConversationState.OFFICER


def may_see_conversation(session: Session, officer: Officer, conversation: Conversation) -> bool:
    """A supervisor sees every conversation; an officer one waiting in the queue, one they
    hold, and those of the victims they may see."""
    if officer.may(Permission.SUPERVISE):
        return True
    if not officer.may(Permission.WORK):
        return False
    if holds(officer, conversation):
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


def victim_for(session: Session, officer: Officer, victim_id: int) -> Victim:
    """The victim, if this officer may see them (`may_see_victim`): NotFound or NotAllowed
    otherwise."""
    victim = session.get(Victim, victim_id)
    if victim is None:
        raise NotFound(f"no victim {victim_id}")
    if not may_see_victim(session, officer, victim.id):
        raise NotAllowed("this victim is not on your cases")
    return victim


def visible_case_ids(session: Session, officer: Officer, case_ids: list[int]) -> set[int]:
    """Which of `case_ids` the officer may see (one query)."""
    if not case_ids:
        return set()
    if officer.may(Permission.SUPERVISE):
        return set(case_ids)
    if not officer.may(Permission.WORK):
        return set()
    return set(
        session.scalars(
            select(CaseOfficer.case_id).where(
                CaseOfficer.officer_id == officer.id, CaseOfficer.case_id.in_(case_ids)
            )
        )
    )


def conversation_for(session: Session, officer: Officer, conversation_id: int) -> Conversation:
    """The conversation, if this officer may see it: NotFound or NotAllowed otherwise."""
    conversation = session.get(
        Conversation, conversation_id, options=[joinedload(Conversation.victim)]
    )
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    if not may_see_conversation(session, officer, conversation):
        raise NotAllowed(
            "this conversation is not in your queue or your cases",
            victim_id=conversation.victim_id,
            conversation_id=conversation.id,
        )
    return conversation


def case_for(session: Session, officer: Officer, case: Case) -> Case:
    """The case, if this officer may see it: NotAllowed otherwise."""
    if not may_see_case(session, officer, case.id):
        raise NotAllowed("you are not on this case", case_id=case.id)
    return case


def may_attach(session: Session, officer: Officer, victim_id: int) -> bool:
    """Whether the officer may put this registered victim on a case without a supervisor's
    approval: only when they may see the victim already."""
    return may_see_victim(session, officer, victim_id)


def put_on_case(session: Session, officer: Officer, case_id: int) -> bool:
    """Record that `officer` is on the case; True when they were not already (the caller
    audits the grant)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = session.execute(
        insert(CaseOfficer)
        .values(case_id=case_id, officer_id=officer.id, created_at=utcnow())
        .on_conflict_do_nothing()
        .returning(CaseOfficer.id)
    )
    return result.scalar() is not None


def may_grant(granter: Officer | None, role: OfficerRole) -> bool:
    """Whether `granter` may give `role` to an account (None: the command line, which may).

    A role that sees victims is granted by a supervisor only; the admin role by an admin.
    """
    if granter is None:
        return True
    if role in VICTIM_DATA_ROLES:
        return granter.may(Permission.STAFF) and granter.may(Permission.SUPERVISE)
    return granter.may(Permission.ACCOUNTS)


def grantable_roles(granter: Officer) -> list[OfficerRole]:
    """The roles `granter` may give, in the order the forms show them."""
    return [role for role in OfficerRole if may_grant(granter, role)]


def may_manage(manager: Officer | None, target: Officer, *, hands_over: bool) -> bool:
    """Whether `manager` may change `target`'s account.

    `hands_over` is a change that would let whoever makes it act as the target (a new
    password, a reset second factor) or changes what the target may see (a role): for an
    account that sees victims, only a supervisor; for an admin's account, an admin. Other
    upkeep (deactivating, lifting a sign-in pause) only takes access away, and an admin may
    do it to any account. Nobody manages their own account here (they change their own
    password on their own page).
    """
    if manager is None:
        return True
    if manager.id == target.id:
        return False
    if not hands_over and manager.may(Permission.ACCOUNTS):
        return True
    return may_grant(manager, target.role)


def my_conversations(session: Session, officer: Officer) -> list[Conversation]:
    """The conversations this officer has taken over."""
    return list(
        session.scalars(
            select(Conversation)
            .where(
                Conversation.officer_id == officer.id,
                Conversation.state == ConversationState.OFFICER,
            )
            .order_by(Conversation.id)
            .options(joinedload(Conversation.victim))
        )
    )
