"""What the active scheduler runs, and how often.

APScheduler's persistent job store keeps jobs as textual references ("scheduler.jobs:name"),
so each job here is a plain function that finds the process's runtime through bind(). Every
job is safe to run twice, or late, or on two schedulers for a moment during a failover: the
state lives in the database, planners deduplicate by key, and hand-overs are conditional
UPDATEs. A restart therefore loses nothing (what came due meanwhile is found) and doubles
nothing.
"""

from __future__ import annotations

import datetime as dt
import logging

from models import utcnow
from services.casework import notifications, referrals
from services.console import handoffs
from services.operations import heartbeats
from services.privacy import retention
from services.runtime import Runtime

log = logging.getLogger(__name__)

_runtime: Runtime | None = None


def bind(rt: Runtime | None) -> None:
    """Give the jobs this process's runtime (the scheduler service does, when it starts)."""
    global _runtime
    _runtime = rt


def _rt() -> Runtime:
    if _runtime is None:
        raise RuntimeError("scheduler jobs run only inside the scheduler service")
    return _runtime


def heartbeat() -> None:
    """Tell /healthz that the active scheduler is alive."""
    rt = _rt()
    with rt.db.session() as session:
        heartbeats.beat(session, heartbeats.SCHEDULER, owner=rt.owner_name)


def hand_over_due() -> None:
    """Put due notifications in the outbox, then nudge a worker to send them."""
    rt = _rt()
    if notifications.hand_over_due(rt.db, rt.templates):
        rt.waker.nudge()


def plan_check_ins() -> None:
    """Plan a check-in for every victim who has heard nothing for their chosen interval."""
    rt = _rt()
    with rt.db.session() as session:
        planned = notifications.plan_check_ins(session)
    if planned:
        log.info("planned %d check-ins", planned)


def plan_needs_invitations() -> None:
    """Invite victims to the needs questionnaire, and remind them once."""
    rt = _rt()
    days = dt.timedelta(days=1)
    with rt.db.session() as session:
        planned = notifications.plan_needs_invitations(
            session,
            invite_after=days * rt.settings.needs_invite_after_days,
            remind_after=days * rt.settings.needs_remind_after_days,
        )
    if planned:
        log.info("planned %d questionnaire invitations or reminders", planned)


def flag_overdue_handoffs() -> None:
    """Tell victims whose request has waited too long for an officer when to expect contact,
    and mark it overdue for supervisors."""
    rt = _rt()
    with rt.db.session() as session:
        flagged = handoffs.flag_overdue(
            session, utcnow(), dt.timedelta(minutes=rt.settings.handoff_claim_minutes)
        )
    if flagged:
        log.warning("%d handoffs waited too long for an officer", len(flagged))
        rt.waker.nudge()


def flag_overdue_referrals() -> None:
    """Raise a handoff, once, for each consented referral not sent within the Code's Right 4
    limit (services/casework/referrals.py)."""
    rt = _rt()
    with rt.db.session() as session:
        flagged = referrals.flag_overdue(session, utcnow())
    if flagged:
        log.warning("%d support referrals passed their Right 4 limit unsent", len(flagged))


def purge_expired() -> None:
    """Delete what has passed its time in the retention schedule (config/retention.yml),
    Rasa's tracker included; the purge audits how much it deleted."""
    rt = _rt()
    schedule = retention.load(rt.settings.retention_file)
    retention.purge(rt.db, schedule, rt.settings.tracker_url())


def every(rt: Runtime) -> dict[str, float]:
    """Each job's interval in seconds. Hand-over is near real time; planning need not be."""
    planning = rt.settings.planning_interval_seconds
    return {
        "heartbeat": 5.0,
        "hand_over_due": 1.0,
        "plan_check_ins": planning,
        "plan_needs_invitations": planning,
        "flag_overdue_handoffs": 30.0,
        # A referral's limit is a midnight: a minute late at most is enough.
        "flag_overdue_referrals": 60.0,
        # Retention is counted in days: once an hour keeps every limit to within the hour.
        "purge_expired": 3600.0,
    }
