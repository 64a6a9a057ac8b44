"""When the victim care unit is staffed, and what to tell a victim about when we'll be in touch.

STAFFED_HOURS (environment) lists the staffed times on the Europe/London clock, e.g.
"Mon-Fri 08:00-18:00, Sat 09:00-13:00" (the default is "Mon-Fri 08:00-18:00"). Bank holidays
in England and Wales are unstaffed. The officers' console uses `next_contact` too.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass

from models import Language
from services.language import wording
from services.victims_code.calendar import LONDON, is_working_day

DEFAULT_STAFFED_HOURS = "Mon-Fri 08:00-18:00"
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC = re.compile(
    r"^\s*(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)


@dataclass(frozen=True)
class Shift:
    """Staffed from `start` to `end` (local time) on the given weekdays (0 = Monday)."""

    weekdays: frozenset[int]
    start: dt.time
    end: dt.time


def parse(spec: str) -> tuple[Shift, ...]:
    """The shifts in a STAFFED_HOURS value; ValueError names what is wrong."""
    shifts = []
    for part in spec.split(","):
        match = _SPEC.match(part.strip().lower())
        if not match:
            raise ValueError(f"STAFFED_HOURS: cannot read {part.strip()!r}")
        first = _DAY_NAMES.index(match["first"]) if match["first"] in _DAY_NAMES else -1
        last_name = match["last"] or match["first"]
        last = _DAY_NAMES.index(last_name) if last_name in _DAY_NAMES else -1
        if first < 0 or last < 0 or last < first:
            raise ValueError(f"STAFFED_HOURS: bad days in {part.strip()!r}")
        start = dt.time.fromisoformat(match["start"].zfill(5))
        end = dt.time.fromisoformat(match["end"].zfill(5))
        if end <= start:
            raise ValueError(f"STAFFED_HOURS: {part.strip()!r} ends before it starts")
        shifts.append(Shift(frozenset(range(first, last + 1)), start, end))
    return tuple(shifts)


def configured() -> tuple[Shift, ...]:
    """The shifts from STAFFED_HOURS, or the default."""
    return parse(os.environ.get("STAFFED_HOURS") or DEFAULT_STAFFED_HOURS)


def _staffed_day(day: dt.date) -> bool:
    # A weekday that is not a working day is a bank holiday: nobody is in.
    return not (day.weekday() < 5 and not is_working_day(day))


def shift_now(now: dt.datetime, shifts: tuple[Shift, ...]) -> Shift | None:
    """The shift that holds `now`, if any."""
    local = now.astimezone(LONDON)
    if not _staffed_day(local.date()):
        return None
    for shift in shifts:
        if local.weekday() in shift.weekdays and shift.start <= local.time() < shift.end:
            return shift
    return None


def next_opening(now: dt.datetime, shifts: tuple[Shift, ...]) -> dt.datetime:
    """The next moment (after `now`) a shift starts, as an aware London time."""
    local = now.astimezone(LONDON)
    for offset in range(0, 15):
        day = local.date() + dt.timedelta(days=offset)
        if not _staffed_day(day):
            continue
        starts = sorted(s.start for s in shifts if day.weekday() in s.weekdays)
        for start in starts:
            moment = dt.datetime.combine(day, start, tzinfo=LONDON)
            if moment > local:
                return moment
    raise ValueError("STAFFED_HOURS: no staffed time in the next two weeks")


def next_contact(now: dt.datetime, language: Language) -> str:
    """One honest sentence on when an officer will be in touch, in `language`."""
    shifts = configured()
    shift = shift_now(now, shifts)
    if shift is not None:
        until = wording.clock(shift.end)
        if language is Language.CY:
            return f"Mae'r uned ar agor nawr, a bydd swyddog yn cysylltu â chi heddiw cyn {until}."
        return f"The unit is open now, and an officer will contact you today before {until}."
    opening = next_opening(now, shifts)
    local = now.astimezone(LONDON)
    when = wording.clock(opening.time())
    if opening.date() == local.date():
        day_en, day_cy = "today", "heddiw"
    elif opening.date() == local.date() + dt.timedelta(days=1):
        day_en, day_cy = "tomorrow", "yfory"
    else:
        day_en = wording.day(opening.date(), Language.EN)
        day_cy = wording.day(opening.date(), Language.CY)
    if language is Language.CY:
        return (
            f"Mae'r uned ar gau nawr. Bydd swyddog yn cysylltu â chi pan fydd yn agor "
            f"eto, {day_cy} am {when}."
        )
    return f"The unit is closed now. An officer will contact you when it opens, {day_en} at {when}."
