"""What a verified victim is told when they ask for news of their case."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Case, CaseEvent, Language, Notification, NotificationStatus, Victim
from models.cases import CaseVictim
from services.language import wording
from services.victims_code.calendar import LONDON

LATEST_EVENTS = 2


def cases_of(session: Session, victim: Victim) -> list[Case]:
    """The victim's cases, oldest first."""
    return list(
        session.scalars(
            select(Case)
            .join(CaseVictim, CaseVictim.case_id == Case.id)
            .where(CaseVictim.victim_id == victim.id)
            .order_by(CaseVictim.id)
        )
    )


def choose(cases: list[Case], text: str) -> Case | None:
    """The case a reply picks: its number in the list we sent, or its reference."""
    cleaned = text.strip().lower()
    for case in cases:
        if case.case_ref.lower() in cleaned:
            return case
    numbers = re.findall(r"\d+", cleaned)
    if len(numbers) == 1 and 1 <= int(numbers[0]) <= len(cases):
        return cases[int(numbers[0]) - 1]
    return None


def choice_list(cases: list[Case]) -> str:
    """'1) CR-1 (burglary)' one a line."""
    return "\n".join(f"{i}) {c.case_ref} ({c.crime_type})" for i, c in enumerate(cases, 1))


def latest_events(session: Session, case: Case, language: Language) -> str:
    """The latest events in the officer's plain words, newest first, dated."""
    events = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id)
        .order_by(CaseEvent.occurred_at.desc(), CaseEvent.id.desc())
        .limit(LATEST_EVENTS)
    ).all()
    lines = []
    for event in events:
        summary = (
            event.summary_cy if language is Language.CY and event.summary_cy else event.summary
        )
        when = wording.short_date(event.occurred_at.astimezone(LONDON).date(), language)
        lines.append(f"{when}: {summary}")
    return "\n".join(lines)


def next_update_due(session: Session, victim: Victim, case: Case, now: dt.datetime) -> dt.date:
    """When the victim will next hear from us about `case`.

    The earliest notification still waiting to go, if any; otherwise their agreed interval
    (update_every_days) after the last thing we sent them about the case, or after they
    were put on it.
    """
    pending = session.scalar(
        select(Notification.send_at)
        .where(
            Notification.victim_id == victim.id,
            Notification.case_id == case.id,
            Notification.status == NotificationStatus.PENDING,
        )
        .order_by(Notification.send_at)
        .limit(1)
    )
    if pending is not None:
        return max(pending, now).astimezone(LONDON).date()
    last_sent = session.scalar(
        select(Notification.sent_at)
        .where(
            Notification.victim_id == victim.id,
            Notification.case_id == case.id,
            Notification.sent_at.is_not(None),
        )
        .order_by(Notification.sent_at.desc())
        .limit(1)
    )
    since = last_sent or session.scalar(
        select(CaseVictim.created_at).where(
            CaseVictim.victim_id == victim.id, CaseVictim.case_id == case.id
        )
    )
    due = (since or now) + dt.timedelta(days=victim.update_every_days)
    return max(due, now).astimezone(LONDON).date()
