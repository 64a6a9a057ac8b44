"""Delivery status only moves forward, whatever order Twilio's callbacks arrive in."""

from __future__ import annotations

import itertools

from models.messaging import MessageStatus as S
from models.messaging import may_advance


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
