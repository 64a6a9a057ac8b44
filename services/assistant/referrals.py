"""Referrals to support services, made only with the victim's explicit consent."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session

from models import Conversation, HandoffPriority, Referral, Victim
from services.assistant.support import SupportService
from services.casework import referrals as code_referrals
from services.console import handoffs

log = logging.getLogger(__name__)


def refer(
    session: Session,
    conversation: Conversation,
    victim: Victim,
    service: SupportService,
    consent_at: dt.datetime,
) -> Referral:
    """Record a referral the victim agreed to, and tell the officer in charge.

    The officer is told through the handoff queue (normal priority): that is where officers
    look, and the referral itself is theirs (or the unit's) to send on, within the Code's
    Right 4 limit (`due_by`: 2 working days after the consent in the shipped Victims' Code
    file; services/casework/referrals.py tracks it).
    """
    handoff = handoffs.open_handoff(
        session, conversation, HandoffPriority.NORMAL, f"support referral agreed: {service.key}"
    )
    session.flush()
    cases = victim.cases
    referral = Referral(
        victim_id=victim.id,
        case_id=cases[0].case_id if len(cases) == 1 else None,
        service=service.key,
        consent_at=consent_at,
        handoff_id=handoff.id,
        told_officer_at=consent_at,
        due_by=code_referrals.due_by(consent_at, victim.enhanced_rights),
    )
    session.add(referral)
    session.flush()
    log.info("referral %s recorded for victim %s", referral.id, victim.id)
    return referral
