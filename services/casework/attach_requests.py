"""Registering a victim on a case when the phone is already registered: who may, and the
supervisor's approval when the officer may not see that victim.

Putting a registered victim on a case lets everyone on the case see them, their
conversations, needs answers and referrals. So:

- an officer in the console may do it only for a victim they may see already
  (services/console/access.may_attach). Otherwise nothing is registered: a request waits
  for a supervisor, and the officer is told only that. The answer is the same whatever the
  name and date of birth given, so it cannot be used to check someone's date of birth;
- a case system through the API (cases:write) registers as before: the same name and date
  of birth reuse the victim, anything else is refused (409);
- either way, every refused attempt is audited against the victim it aimed at, and the
  attempts are throttled per officer or API client (LIMIT): a sixth refusal within a day
  pauses that actor's registrations of known numbers, for a day, then two, and so on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AttachRequest, AttachStatus, AuditAction, Case, Officer, Permission, Victim
from models.db import Database
from services.casework import cases
from services.casework.cases import KnownVictim
from services.console import access, audit, throttle
from services.errors import Conflict, InvalidField, NotFound, ServiceError

# Refused or approval-needing registrations of known numbers, per officer or API client.
LIMIT = throttle.Limit(5, dt.timedelta(hours=24))


class Paused(ServiceError):
    """Too many refused registrations of known numbers by this actor (HTTP 429)."""


@dataclass(frozen=True)
class Outcome:
    """A registration's result: the victim registered, or the request waiting for approval."""

    victim_id: int | None = None
    request_id: int | None = None
    # The registration's answer (cases.Registration.as_json): the settings in force, and
    # what differs from what was asked.
    registration: dict[str, Any] | None = None
    # For a person known already, what registering did to their settings, in words.
    known_summary: str | None = None


def throttle_key(actor: str) -> str:
    return f"attach:{actor}"


def _known(session: Session, payload: dict[str, Any]) -> Victim | None:
    return cases.victim_with_phone(session, cases.phone_of(payload))


def _reserve(db: Database, officer_id: int | None, actor: str, victim_id: int, case: Case) -> None:
    verdict = throttle.reserve(db, throttle_key(actor), LIMIT)
    if not verdict.allowed:
        audit.refused(
            db,
            officer_id,
            "registration of a known number: paused after repeated refusals",
            actor=actor,
            victim_id=victim_id,
            case_id=case.id,
        )
        raise Paused(
            "too many refused registrations of numbers already registered: ask a supervisor"
        )


def register(
    db: Database,
    case_ref: str,
    payload: dict[str, Any],
    *,
    actor: str,
    officer_id: int | None = None,
) -> Outcome:
    """Register a victim on a case for an officer (`officer_id`, `actor` their username) or
    an API client (`actor` `api:<name>`, no officer), by the rules above; audits it.

    Raises what `cases.register_victim` raises (a refused KnownVictim is audited, in a
    transaction of its own, before it is raised), NotAllowed when the officer may not see
    the case, and Paused.
    """
    with db.session() as session:
        me = session.get_one(Officer, officer_id) if officer_id is not None else None
        case = cases.find_case(session, case_ref)
        if me is not None:
            access.case_for(session, me, case)
        known = _known(session, payload)
        needs_approval = (
            known is not None and me is not None and not access.may_attach(session, me, known.id)
        )
        if known is None:
            # Audited there, as `actor`'s.
            registration = cases.register_victim(
                session, case.case_ref, payload, audit.Actor(actor, me)
            )
            return Outcome(victim_id=registration.victim.id, registration=registration.as_json())
        known_id = known.id
    _reserve(db, officer_id, actor, known_id, case)
    if needs_approval:
        assert officer_id is not None
        with db.session() as session:
            request = AttachRequest(
                case_id=case.id, victim_id=known_id, officer_id=officer_id, payload=payload
            )
            session.add(request)
            session.flush()
            audit.record(
                session,
                session.get_one(Officer, officer_id),
                AuditAction.REQUEST_ATTACH,
                victim_id=known_id,
                case_id=case.id,
                detail=f"request {request.id}: number already registered, waits for a supervisor",
            )
            return Outcome(request_id=request.id)
    try:
        with db.session() as session:
            by = session.get(Officer, officer_id) if officer_id is not None else None
            registration = cases.register_victim(
                session, case.case_ref, payload, audit.Actor(actor, by)
            )
            outcome = Outcome(
                victim_id=registration.victim.id,
                registration=registration.as_json(),
                known_summary=registration.summary() if registration.known else None,
            )
    except KnownVictim as exc:
        audit.refused(
            db,
            officer_id,
            f"register victim: {exc}",
            actor=actor,
            victim_id=exc.victim_id,
            case_id=case.id,
        )
        raise
    # A registration that went through gives its attempt back: only refusals count.
    throttle.release(db, throttle_key(actor))
    return outcome


def pending(session: Session) -> list[AttachRequest]:
    """Requests waiting for a supervisor, oldest first."""
    return list(
        session.scalars(
            select(AttachRequest)
            .where(AttachRequest.status == AttachStatus.PENDING)
            .order_by(AttachRequest.id)
        )
    )


def decide(session: Session, supervisor: Officer, request_id: int, approve: bool) -> AttachRequest:
    """A supervisor approves (the victim goes on the case, if the name and date of birth
    given match the record) or refuses a request; audited either way."""
    if not supervisor.may(Permission.SUPERVISE):
        raise access.NotAllowed("only a supervisor decides these requests")
    request = session.get(AttachRequest, request_id)
    if request is None:
        raise NotFound(f"no request {request_id}")
    case = session.get_one(Case, request.case_id)
    if request.status is not AttachStatus.PENDING:
        raise Conflict(f"request {request_id} was decided already")
    if approve:
        try:
            # It checks everything before it writes anything: a refusal leaves nothing behind.
            cases.register_victim(
                session, case.case_ref, request.payload, audit.Actor.of(supervisor)
            )
        except (KnownVictim, InvalidField) as exc:
            request.move(AttachStatus.REFUSED, supervisor, str(exc))
            action, detail = AuditAction.REFUSE_ATTACH, f"request {request.id}: {exc}"
        else:
            request.move(AttachStatus.APPROVED, supervisor)
            action, detail = AuditAction.APPROVE_ATTACH, f"request {request.id}"
    else:
        request.move(AttachStatus.REFUSED, supervisor, "refused by a supervisor")
        action, detail = AuditAction.REFUSE_ATTACH, f"request {request.id}"
    # Decided: the name, number and date of birth the officer typed are not kept.
    request.payload = {}
    audit.record(
        session,
        supervisor,
        action,
        victim_id=request.victim_id,
        case_id=request.case_id,
        detail=detail,
    )
    return request
