"""Requests for a review of a police decision (the Victims' Right to Review, police scheme)."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, CreatedAt, Timestamp, enum_column, utcnow
from models.cases import Case, Victim


class ReviewStatus(enum.StrEnum):
    # The victim asked; an officer must acknowledge it.
    REQUESTED = "requested"
    # Acknowledged; the review must be decided.
    ACKNOWLEDGED = "acknowledged"
    # Decided, and the victim told.
    DECIDED = "decided"


# The only moves a request makes: acknowledged, then decided. A decision also acknowledges one
# not yet acknowledged (the victim has their answer, which says it was received).
TRANSITIONS: dict[ReviewStatus, frozenset[ReviewStatus]] = {
    ReviewStatus.REQUESTED: frozenset({ReviewStatus.ACKNOWLEDGED, ReviewStatus.DECIDED}),
    ReviewStatus.ACKNOWLEDGED: frozenset({ReviewStatus.DECIDED}),
    ReviewStatus.DECIDED: frozenset(),
}


class IllegalReviewMove(ValueError):
    """A review request was asked to move where its rules do not allow."""


class ReviewRequest(Base):
    """A victim's request that a decision to take no further action, or to close the
    investigation, be looked at again; with the scheme's limits to acknowledge and decide it."""

    __tablename__ = "review_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    victim_id: Mapped[int] = mapped_column(ForeignKey("victims.id"), index=True)
    # The victim's case when they are on exactly one; the officer finds it otherwise.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    requested_at: Mapped[Timestamp]
    # The limits (exclusive), from config/victims_code.yml: review_acknowledgement and
    # review_decision.
    acknowledge_by: Mapped[Timestamp]
    decide_by: Mapped[Timestamp]
    status: Mapped[ReviewStatus] = mapped_column(
        enum_column(ReviewStatus), default=ReviewStatus.REQUESTED
    )
    acknowledged_at: Mapped[Timestamp | None]
    decided_at: Mapped[Timestamp | None]
    # Who acknowledged or decided it: "officer:<username>" or "api:<client>".
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    # The handoff that asked an officer to take it on.
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id"))
    created_at: Mapped[CreatedAt]

    victim: Mapped[Victim] = relationship()
    case: Mapped[Case | None] = relationship()

    def move(self, to: ReviewStatus, by: str) -> None:
        """Change status by the rules in TRANSITIONS, recording who and when."""
        if to not in TRANSITIONS[self.status]:
            raise IllegalReviewMove(f"review request {self.id}: {self.status} -> {to}")
        now = utcnow()
        if self.acknowledged_at is None:
            self.acknowledged_at, self.acknowledged_by = now, by
        if to is ReviewStatus.DECIDED:
            self.decided_at, self.decided_by = now, by
        self.status = to
