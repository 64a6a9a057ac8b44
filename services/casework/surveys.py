"""The closing survey's answers: a score from 1 to 5 by text, then a comment if they like.

The closing message asks for them (services/casework/notifications.py, CLOSING_SURVEY). A reply is
taken as the answer only while the survey is open (SURVEY_OPEN for its score, COMMENT_OPEN
after the score for the comment) and only in the shape asked for, so that an ordinary
message after a case closes still reaches the assistant. Danger words and STOP are dealt
with before this is ever asked (services/conversations/processing.py).
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from models import (
    Notification,
    NotificationKind,
    NotificationStatus,
    SurveyResponse,
    Victim,
)

SURVEY_OPEN = dt.timedelta(days=14)
COMMENT_OPEN = dt.timedelta(hours=24)
MAX_COMMENT = 2000

# "4", "4/5", "4 out of 5", "5 - very helpful, thank you": a score first, anything after is
# the comment.
SCORE = re.compile(
    r"^\s*([1-5])(?:\s*(?:/|out of|allan o)\s*5)?(?![\d.,]\d)\s*[.!,:;-]*\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)


# Built once: every message a registered victim sends that needs no keyword comes here,
# and building the statement cost more CPU than running it (bench/README.md, "Profile").
_OPEN_SURVEY = (
    select(Notification)
    .where(
        Notification.victim_id == bindparam("victim_id"),
        Notification.kind == NotificationKind.CLOSING_SURVEY,
        Notification.status == NotificationStatus.SENT,
        Notification.sent_at >= bindparam("since", type_=Notification.sent_at.type),
    )
    .order_by(Notification.sent_at.desc())
    .limit(1)
)


def take_answer(session: Session, victim: Victim, body: str, now: dt.datetime) -> str | None:
    """Store `body` as a survey answer if it is one; the key of the thanks to send, or None."""
    survey = session.scalar(_OPEN_SURVEY, {"victim_id": victim.id, "since": now - SURVEY_OPEN})
    if survey is None:
        return None
    response = session.scalar(
        select(SurveyResponse).where(SurveyResponse.notification_id == survey.id)
    )
    if response is None:
        match = SCORE.match(body)
        if match is None:
            return None
        comment = match.group(2).strip()[:MAX_COMMENT] or None
        session.add(
            SurveyResponse(
                notification_id=survey.id,
                victim_id=victim.id,
                case_id=survey.case_id,
                score=int(match.group(1)),
                comment=comment,
                answered_at=now,
                commented_at=now if comment else None,
            )
        )
        return "survey_comment_thanks" if comment else "survey_thanks"
    if response.comment is None and now - response.answered_at < COMMENT_OPEN and body.strip():
        response.comment = body.strip()[:MAX_COMMENT]
        response.commented_at = now
        return "survey_comment_thanks"
    return None
