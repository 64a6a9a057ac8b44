"""Delivery status only moves forward, whatever order Twilio's callbacks arrive in; so does a
notification's."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from models.messaging import MessageStatus as S
from models.messaging import may_advance
from models.notifications import IllegalTransition, Notification, NotificationStatus, may_move


def test_forward_moves_are_allowed() -> None:
    path = [S.PENDING, S.SUBMITTING, S.ACCEPTED, S.SENDING, S.SENT, S.DELIVERED, S.READ]
    for current, new in itertools.pairwise(path):
        assert may_advance(current, new), (current, new)


def test_late_callbacks_never_move_backwards() -> None:
    assert not may_advance(S.DELIVERED, S.SENT)
    assert not may_advance(S.DELIVERED, S.QUEUED)
    assert not may_advance(S.READ, S.DELIVERED)
    assert not may_advance(S.SENT, S.SENT)


def test_one_outcome_never_overrides_another() -> None:
    for a, b in itertools.permutations([S.DELIVERED, S.UNDELIVERED, S.FAILED], 2):
        assert not may_advance(a, b)
    assert may_advance(S.SENT, S.FAILED)
    assert may_advance(S.SENT, S.UNDELIVERED)


def test_inbound_statuses_are_not_delivery_statuses() -> None:
    assert not may_advance(S.RECEIVED, S.DELIVERED)
    assert not may_advance(S.PROCESSED, S.SENT)


def test_a_notification_moves_only_forward_and_is_handed_over_once() -> None:
    pending, queued, sent = (
        NotificationStatus.PENDING,
        NotificationStatus.QUEUED,
        NotificationStatus.SENT,
    )
    assert may_move(pending, queued) and may_move(pending, NotificationStatus.SUPPRESSED)
    assert may_move(queued, sent) and may_move(queued, NotificationStatus.FAILED)
    assert not may_move(pending, sent)  # only through the outbox
    assert not may_move(queued, pending)  # never handed over twice
    # A scheduled one may be cancelled while it waits, and only then.
    assert may_move(pending, NotificationStatus.CANCELLED)
    assert not may_move(queued, NotificationStatus.CANCELLED)
    # Undelivered on WhatsApp: back to queued for the SMS fallback, or failed.
    assert {to for to in NotificationStatus if may_move(sent, to)} == {
        queued,
        NotificationStatus.FAILED,
    }
    for final in (
        NotificationStatus.SUPPRESSED,
        NotificationStatus.CANCELLED,
        NotificationStatus.FAILED,
    ):
        assert not any(may_move(final, to) for to in NotificationStatus)
    notification = Notification(status=queued)
    with pytest.raises(IllegalTransition):
        notification.move(pending)


def test_within_code_needs_a_limit_and_a_send() -> None:
    due = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assert Notification(due_by=None, sent_at=due).within_code is None
    assert Notification(due_by=due, sent_at=None).within_code is None
    assert Notification(due_by=due, sent_at=due - dt.timedelta(seconds=1)).within_code is True
    assert Notification(due_by=due, sent_at=due).within_code is False  # due_by is exclusive
