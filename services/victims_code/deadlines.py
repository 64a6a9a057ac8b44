"""When the Victims' Code says a victim must be told, and when a message may go out.

Pure logic: no database. The limits are read from the Victims' Code file (`duties`, read
once per process); working days and the London clock are in `calendar`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from models.cases import EventType
from services.victims_code import duties
from services.victims_code.calendar import LONDON, is_working_day


def code_events() -> frozenset[EventType]:
    """The case events a victim must be told of within a limit, from the Victims' Code file
    in force (services/victims_code/duties.py: Right 6 and its Right to Review offer).

    In the shipped file: the key police decisions of the Code's Right 6.
    suspect_released_no_further_action is Right 6's release without charge, and
    investigation_closed its decision not to investigate further. Left out: court_hearing_scheduled
    and case_outcome (Rights 8 and 9: told by the Witness Care Unit, not the police, under limits of
    their own); officer_assigned and general_update (not decisions on the investigation: told at
    the next agreed contact).
    """
    return duties.current().code_events()


def due_by(
    occurred_at: datetime, enhanced_rights: bool, duty: duties.Duty | None = None
) -> datetime:
    """The moment by which the Code says a duty started at `occurred_at` must be met, in UTC.

    `duty` defaults to the file's Right 6 (`right_6_update`), whose limits are 5 working days,
    or 1 with enhanced rights, in the shipped file (config/victims_code.yml).

    Rule: take the date of the event on the Europe/London clock. Count working days strictly
    after that date: the duty's limit in working days (enhanced or standard). The victim must be
    told before the start (00:00 London time) of the calendar day after that working day; the
    returned moment is that start, and it is exclusive: a message at exactly `due_by` is late.
    So the whole of the last working day counts, and an event on a Saturday, a Sunday or a bank
    holiday is counted from the next working day in the same way (it is day 1), as is one on a
    Friday: all three have the same `due_by`.
    """
    _require_aware(occurred_at, "occurred_at")
    day = occurred_at.astimezone(LONDON).date()
    duty = duty or duties.current()[duties.DutyKey.RIGHT_6_UPDATE]
    remaining = duty.working_days.days(enhanced_rights)
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    # London's clocks change at 01:00 UTC, so local midnight always exists, exactly once.
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON).astimezone(UTC)


def next_send_time(
    now: datetime,
    not_before: datetime,
    due_by: datetime | None,
    quiet_start: time,
    quiet_end: time,
) -> datetime:
    """The moment a message should go out, in UTC, honouring quiet hours and the Code's limit.

    Rule: start from the later of `now` and `not_before`. Quiet hours are the local (Europe/
    London) wall-clock times from `quiet_start` (inclusive) to `quiet_end` (exclusive); the
    window wraps midnight when start > end, and start == end means no quiet hours. If the start
    moment is outside quiet hours, send then. Otherwise send when that quiet period ends, the
    first moment London's clock reads `quiet_end`, unless that is at or after `due_by`
    (exclusive, as `due_by()` returns it). Then the message should have gone at the last moment
    before that quiet period (its start less a margin); but the period holds the start moment,
    so that moment is already behind us, and since nothing goes earlier than the later of `now`
    and `not_before`, it goes at that moment, inside quiet hours: the Code's limit outranks quiet
    hours. A moment already past `due_by` outside quiet hours also goes at once.
    """
    for value, name in ((now, "now"), (not_before, "not_before"), (due_by, "due_by")):
        if value is not None:
            _require_aware(value, name)
    start = max(now, not_before).astimezone(UTC)
    if quiet_start == quiet_end:
        return start
    local = start.astimezone(LONDON)
    clock = local.time()
    if quiet_start < quiet_end:
        quiet = quiet_start <= clock < quiet_end
        ends_on = local.date()
    else:
        quiet = clock >= quiet_start or clock < quiet_end
        # Before midnight, the quiet period that holds `start` ends tomorrow morning.
        ends_on = local.date() + timedelta(days=1 if clock >= quiet_start else 0)
    if not quiet:
        return start
    quiet_over = _first_moment_reading(ends_on, quiet_end, after=start)
    if due_by is not None and quiet_over >= due_by:
        return start
    return quiet_over


def _first_moment_reading(day: date, wall: time, after: datetime) -> datetime:
    """The first moment after `after` that London's clock on `day` reads `wall` or later, in UTC."""
    naive = datetime.combine(day, wall)
    first, second = (naive.replace(tzinfo=LONDON, fold=f).astimezone(UTC) for f in (0, 1))
    if first.astimezone(LONDON).replace(tzinfo=None) != naive:
        # In spring the clock skips 01:00-01:59, jumping forward at 01:00 UTC on the hour, so
        # the first moment it reads `wall` or later is the top of that hour.
        return first.replace(minute=0, second=0, microsecond=0)
    # In autumn 01:00-01:59 comes twice (fold 0, then fold 1): the first still ahead of us.
    return first if first > after else second


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
