"""A clock the tests move by hand: deadlines and check-ins are days apart, tests are not."""

from __future__ import annotations

import datetime as dt
import threading

from models.base import set_clock


class FakeClock:
    """Stands still until moved; every utcnow() in this process reads it while installed."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware start")
        self._now = start.astimezone(dt.UTC)
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> dt.datetime:
        with self._lock:
            self._now += dt.timedelta(**delta)
            return self._now

    def set(self, moment: dt.datetime) -> None:
        with self._lock:
            self._now = moment.astimezone(dt.UTC)

    def install(self) -> FakeClock:
        set_clock(self)
        return self

    @staticmethod
    def uninstall() -> None:
        set_clock(None)
