"""What a victim needs (the needs questionnaire) and the support referrals they agreed to."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, CreatedAt, Timestamp, enum_column, utcnow
from models.cases import Case, Victim


class AssessmentStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    # The victim said "later": the answers so far are kept and the next start resumes.
    PAUSED = "paused"
    # The victim chose to stop; the answers given are kept for officers.
    STOPPED = "stopped"
    COMPLETED = "completed"


# The only moves an assessment makes. A paused one resumes (back to IN_PROGRESS) or is
# stopped; nothing leaves STOPPED or COMPLETED: a new questionnaire is a new assessment.
TRANSITIONS: dict[AssessmentStatus, frozenset[AssessmentStatus]] = {
    AssessmentStatus.IN_PROGRESS: frozenset(
        {AssessmentStatus.PAUSED, AssessmentStatus.STOPPED, AssessmentStatus.COMPLETED}
    ),
    AssessmentStatus.PAUSED: frozenset({AssessmentStatus.IN_PROGRESS, AssessmentStatus.STOPPED}),
    AssessmentStatus.STOPPED: frozenset(),
    AssessmentStatus.COMPLETED: frozenset(),
}


class IllegalAssessmentMove(ValueError):
    """An assessment was asked to move where its rules do not allow."""


class NeedsQuestion(enum.StrEnum):
    """The questionnaire's questions, in the order they are asked."""

    SAFE_NOW = "safe_now"
    SUPPORT = "support"
    COMMUNICATION = "communication"
    CONTACT = "contact"
    AVOID_TIMES = "avoid_times"


QUESTION_ORDER: tuple[NeedsQuestion, ...] = tuple(NeedsQuestion)


class NeedsAssessment(Base):
    """One run of the needs questionnaire for a victim; officers see it, timestamped."""

    __tablename__ = "needs_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    victim_id: Mapped[int] = mapped_column(ForeignKey("victims.id"), index=True)
    # The victim's case when they are on exactly one.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[AssessmentStatus] = mapped_column(
        enum_column(AssessmentStatus), default=AssessmentStatus.IN_PROGRESS
    )
    started_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    # The scheduler invites victims without a completed assessment: it asks this column.
    completed_at: Mapped[Timestamp | None]

    victim: Mapped[Victim] = relationship()
    case: Mapped[Case | None] = relationship()
    answers: Mapped[list[NeedsAnswer]] = relationship(
        back_populates="assessment", order_by="NeedsAnswer.id", cascade="all, delete-orphan"
    )

    def move(self, to: AssessmentStatus) -> None:
        """Change status by the rules in TRANSITIONS, recording when."""
        if to not in TRANSITIONS[self.status]:
            raise IllegalAssessmentMove(f"assessment {self.id}: {self.status} -> {to}")
        now = utcnow()
        self.status, self.updated_at = to, now
        if to is AssessmentStatus.COMPLETED:
            self.completed_at = now


class NeedsAnswer(Base):
    """One answer, saved the moment it is given (a skipped question is saved as skipped)."""

    __tablename__ = "needs_answers"
    __table_args__ = (UniqueConstraint("assessment_id", "question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("needs_assessments.id"), index=True)
    question: Mapped[NeedsQuestion] = mapped_column(enum_column(NeedsQuestion))
    # What we understood (e.g. "not_safe", "emotional,housing"); None when skipped.
    value: Mapped[str | None] = mapped_column(String(200))
    # The victim's own words, for the officer.
    text: Mapped[str | None] = mapped_column(Text)
    skipped: Mapped[bool] = mapped_column(default=False)
    answered_at: Mapped[Timestamp] = mapped_column(default=utcnow)

    assessment: Mapped[NeedsAssessment] = relationship(back_populates="answers")


class Referral(Base):
    """A referral to a support service that the victim explicitly agreed to."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    victim_id: Mapped[int] = mapped_column(ForeignKey("victims.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # The key of the service in the support data (services/assistant/support.py).
    service: Mapped[str] = mapped_column(String(64))
    consent_at: Mapped[Timestamp]
    created_at: Mapped[CreatedAt]
    # The officer in charge is told through the handoff queue.
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id"))
    told_officer_at: Mapped[Timestamp | None]
    # The Code's Right 4: the referral must reach the service before `due_by` (exclusive; the
    # limit in config/victims_code.yml, right_4_referral). None for a referral recorded before
    # the limit was tracked.
    due_by: Mapped[Timestamp | None] = mapped_column(index=True)
    # When it reached the service, and who said so (an officer in the console, or a case
    # system through the API: "officer:<username>" or "api:<client>").
    sent_at: Mapped[Timestamp | None]
    sent_by: Mapped[str | None] = mapped_column(String(200))
    # The handoff raised once when it went past `due_by` unsent (the scheduler's job).
    overdue_handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id"))

    victim: Mapped[Victim] = relationship()
    case: Mapped[Case | None] = relationship()

    @property
    def within_code(self) -> bool | None:
        """Whether it was sent before its Right 4 limit; None when unsent or without one."""
        if self.due_by is None or self.sent_at is None:
            return None
        return self.sent_at < self.due_by


def answered(assessment: NeedsAssessment) -> dict[NeedsQuestion, NeedsAnswer]:
    """The answers given so far, by question."""
    return {a.question: a for a in assessment.answers}
