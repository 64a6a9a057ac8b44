"""Delivery status only moves forward, whatever order Twilio's callbacks arrive in; so does a
notification's."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from models.messaging import (
    NOT_DELIVERED,
    STATUS_RANK,
    TWILIO_STATUSES,
    may_advance,
    status_from_callback,
)
from models.messaging import MessageStatus as S
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


def test_every_documented_twilio_status_has_a_rule() -> None:
    # Twilio's Message resource, `message_enum_status` (tests/contract checks this list
    # against the OpenAPI description itself).
    documented = {
        "accepted",
        "scheduled",
        "canceled",
        "queued",
        "sending",
        "sent",
        "failed",
        "delivered",
        "undelivered",
        "receiving",
        "received",
        "read",
        "partially_delivered",
    }
    assert set(TWILIO_STATUSES) == documented


def test_which_callbacks_move_a_message_forward() -> None:
    # Twilio has it but has not sent it: accepted, scheduled, queued are one step.
    assert status_from_callback(S.SUBMITTING, "scheduled") is S.SCHEDULED
    assert status_from_callback(S.ACCEPTED, "scheduled") is None
    assert status_from_callback(S.SCHEDULED, "queued") is None
    assert status_from_callback(S.SCHEDULED, "sending") is S.SENDING
    # Outcomes: none overrides another; "read" comes after any of them.
    assert status_from_callback(S.SENT, "canceled") is S.CANCELED
    assert status_from_callback(S.SENT, "partially_delivered") is S.PARTIALLY_DELIVERED
    assert status_from_callback(S.DELIVERED, "partially_delivered") is None
    assert status_from_callback(S.CANCELED, "sent") is None
    assert status_from_callback(S.PARTIALLY_DELIVERED, "read") is S.READ
    # Statuses of messages that reach Twilio, and ones Twilio adds later, move nothing.
    for reported in ("receiving", "received", "delivered_to_the_moon", ""):
        assert status_from_callback(S.SENT, reported) is None
    # An inbound message is never moved by a delivery report.
    assert status_from_callback(S.RECEIVED, "delivered") is None


def test_what_counts_as_not_delivered() -> None:
    assert {S.FAILED, S.UNDELIVERED, S.CANCELED, S.PARTIALLY_DELIVERED} == NOT_DELIVERED
    assert all(STATUS_RANK[s] == STATUS_RANK[S.DELIVERED] for s in NOT_DELIVERED)
