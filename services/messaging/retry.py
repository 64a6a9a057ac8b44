"""Backoff with jitter, the one rule for every retry in the pipeline."""

from __future__ import annotations

import datetime as dt
import random

from models import utcnow


def backoff(attempts: int, base: float, cap: float) -> dt.timedelta:
    """How long to wait after `attempts` failures: exponential, capped, with full jitter."""
    ceiling = min(cap, base * (2 ** max(attempts - 1, 0)))
    # Jitter spreads retries out, so that a recovering Rasa or Twilio is not hit by every
    # waiting message in the same instant. Never less than half the step, to keep it a backoff.
    return dt.timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def next_attempt(attempts: int, base: float, cap: float) -> dt.datetime:
    """When to try again after `attempts` failures."""
    return utcnow() + backoff(attempts, base, cap)
