"""The Victims' Code time limits and quiet hours, in working days and on London's clock.

Every expected moment is written out in UTC. London is on GMT (UTC+0) from the last Sunday of
October to the last Sunday of March and on BST (UTC+1) otherwise: 2026-10-25 the clocks go back,
2027-03-28 they go forward.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from models.cases import EventType
from services.victims_code.calendar import is_working_day
from services.victims_code.deadlines import code_events, due_by, next_send_time

LONDON = ZoneInfo("Europe/London")
NIGHT = (time(20, 0), time(8, 0))
LUNCH = (time(13, 0), time(14, 0))


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def london(year: int, month: int, day: int, hour: int, minute: int, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON, fold=fold)


def assert_utc(actual: datetime, expected: datetime) -> None:
    assert actual == expected
    assert actual.tzinfo is UTC


# Code events


def test_code_events_are_the_police_decisions_and_nothing_else() -> None:
    CODE_EVENTS = code_events()
    assert CODE_EVENTS == {
        EventType.SUSPECT_ARRESTED,
        EventType.SUSPECT_INTERVIEWED,
        EventType.SUSPECT_RELEASED_ON_BAIL,
        EventType.SUSPECT_RELEASED_UNDER_INVESTIGATION,
        EventType.SUSPECT_RELEASED_NO_FURTHER_ACTION,
        EventType.BAIL_CONDITIONS_CHANGED,
        EventType.SUSPECT_CHARGED,
        EventType.INVESTIGATION_CLOSED,
    }
    # A new event type must be placed on one side or the other on purpose.
    assert set(EventType) - CODE_EVENTS == {
        EventType.COURT_HEARING_SCHEDULED,
        EventType.CASE_OUTCOME,
        EventType.OFFICER_ASSIGNED,
        EventType.GENERAL_UPDATE,
    }


def test_a_non_code_event_has_no_limit_so_quiet_hours_always_win() -> None:
    assert EventType.GENERAL_UPDATE not in code_events()
    sent = next_send_time(utc(2026, 11, 11, 21, 0), utc(2026, 11, 11, 21, 0), None, *NIGHT)
    assert_utc(sent, utc(2026, 11, 12, 8, 0))


# Working days


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 13), True),  # a Friday
        (date(2026, 11, 14), False),  # Saturday
        (date(2026, 11, 15), False),  # Sunday
        (date(2026, 12, 24), True),  # Christmas Eve is not a bank holiday
        (date(2026, 12, 25), False),  # Christmas Day, a Friday
        (date(2026, 12, 28), False),  # Boxing Day (Saturday) moves to Monday
        (date(2026, 12, 29), True),
        (date(2027, 1, 1), False),
        (date(2027, 3, 26), False),  # Good Friday
        (date(2027, 3, 29), False),  # Easter Monday
        (date(2027, 3, 30), True),
        (date(2027, 12, 27), False),  # Christmas Day 2027 is a Saturday
        (date(2027, 12, 28), False),  # and Boxing Day a Sunday
        (date(2022, 1, 3), False),  # New Year's Day 2022 was a Saturday
        (date(2022, 6, 3), False),  # Platinum Jubilee
        (date(2022, 9, 19), False),  # the Queen's state funeral
        (date(2023, 5, 8), False),  # the King's coronation
        (date(2020, 5, 8), False),  # the early May bank holiday, moved for VE Day
        (date(2020, 5, 4), True),  # where it would otherwise have been
    ],
)
def test_working_days_in_england_and_wales(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_is_working_day_refuses_a_datetime() -> None:
    with pytest.raises(TypeError):
        is_working_day(datetime(2026, 12, 25, 12, 0, tzinfo=UTC))


# due_by: the day of the event is day 0; the limit ends at 00:00 London after working day N.


@pytest.mark.parametrize(
    ("occurred_at", "enhanced", "expected"),
    [
        # Wednesday in summer: Thursday is day 1, the next Wednesday day 5; midnight BST.
        (london(2026, 6, 10, 14, 0), True, utc(2026, 6, 11, 23, 0)),
        (london(2026, 6, 10, 14, 0), False, utc(2026, 6, 17, 23, 0)),
        # Friday afternoon, Saturday and Sunday all count Monday 16 November as day 1.
        (london(2026, 11, 13, 16, 30), True, utc(2026, 11, 17, 0, 0)),
        (london(2026, 11, 13, 16, 30), False, utc(2026, 11, 21, 0, 0)),
        (london(2026, 11, 14, 10, 0), True, utc(2026, 11, 17, 0, 0)),
        (london(2026, 11, 14, 10, 0), False, utc(2026, 11, 21, 0, 0)),
        (london(2026, 11, 15, 23, 30), True, utc(2026, 11, 17, 0, 0)),
        (london(2026, 11, 15, 23, 30), False, utc(2026, 11, 21, 0, 0)),
    ],
    ids=[
        "weekday-enhanced",
        "weekday-standard",
        "friday-enhanced",
        "friday-standard",
        "saturday-enhanced",
        "saturday-standard",
        "sunday-enhanced",
        "sunday-standard",
    ],
)
def test_due_by_counts_working_days_after_the_event(
    occurred_at: datetime, enhanced: bool, expected: datetime
) -> None:
    assert_utc(due_by(occurred_at, enhanced), expected)


def test_the_day_of_the_event_is_the_day_on_londons_clock() -> None:
    # 23:30 UTC on Sunday 14 June is 00:30 BST on Monday: day 1 is Tuesday, not Monday.
    assert_utc(due_by(utc(2026, 6, 14, 23, 30), True), utc(2026, 6, 16, 23, 0))
    # Any timezone will do as input; the answer is in UTC.
    in_delhi = datetime(2026, 6, 15, 5, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert_utc(due_by(in_delhi, True), utc(2026, 6, 16, 23, 0))


@pytest.mark.parametrize(
    ("occurred_at", "enhanced", "expected"),
    [
        # Christmas Eve (Thursday): 25, 26-27 (weekend), 28 (Boxing Day moved) are not working
        # days, so Tuesday 29 is day 1; New Year's Day is skipped too, so day 5 is Tuesday 5 Jan.
        (london(2026, 12, 24, 15, 0), True, utc(2026, 12, 30, 0, 0)),
        (london(2026, 12, 24, 15, 0), False, utc(2027, 1, 6, 0, 0)),
        (london(2026, 12, 25, 10, 0), True, utc(2026, 12, 30, 0, 0)),
        (london(2026, 12, 28, 10, 0), False, utc(2027, 1, 6, 0, 0)),
        # Maundy Thursday 2027 (GMT): Good Friday, the weekend (clocks forward on Sunday) and
        # Easter Monday pass; Tuesday 30 March is day 1, Monday 5 April day 5; midnight BST.
        (london(2027, 3, 25, 18, 0), True, utc(2027, 3, 30, 23, 0)),
        (london(2027, 3, 25, 18, 0), False, utc(2027, 4, 5, 23, 0)),
        (london(2027, 3, 26, 9, 0), True, utc(2027, 3, 30, 23, 0)),
    ],
    ids=[
        "christmas-eve-enhanced",
        "christmas-eve-standard",
        "christmas-day",
        "boxing-day-substitute",
        "maundy-thursday-enhanced",
        "maundy-thursday-standard",
        "good-friday",
    ],
)
def test_due_by_skips_bank_holidays(
    occurred_at: datetime, enhanced: bool, expected: datetime
) -> None:
    assert_utc(due_by(occurred_at, enhanced), expected)


@pytest.mark.parametrize(
    ("occurred_at", "enhanced", "expected"),
    [
        # Spring forward. The changeover moment itself, 01:00 UTC on Sunday 28 March 2027:
        # Easter Monday is skipped, day 1 is Tuesday 30 and day 5 Monday 5 April, in BST.
        (utc(2027, 3, 28, 1, 0), True, utc(2027, 3, 30, 23, 0)),
        (utc(2027, 3, 28, 1, 0), False, utc(2027, 4, 5, 23, 0)),
        # Autumn back. Friday 23 October 2026 in BST; the limits end in GMT.
        (london(2026, 10, 23, 17, 0), True, utc(2026, 10, 27, 0, 0)),
        (london(2026, 10, 23, 17, 0), False, utc(2026, 10, 31, 0, 0)),
        # Thursday 22 October: the one-day limit still ends in BST, on Friday night.
        (london(2026, 10, 22, 10, 0), True, utc(2026, 10, 23, 23, 0)),
        # 01:30 comes twice on Sunday 25 October 2026: both are Sunday.
        (london(2026, 10, 25, 1, 30, fold=0), True, utc(2026, 10, 27, 0, 0)),
        (london(2026, 10, 25, 1, 30, fold=1), False, utc(2026, 10, 31, 0, 0)),
    ],
    ids=[
        "spring-enhanced",
        "spring-standard",
        "autumn-enhanced",
        "autumn-standard",
        "before-autumn-enhanced",
        "repeated-hour-first",
        "repeated-hour-second",
    ],
)
def test_due_by_across_the_clock_changes(
    occurred_at: datetime, enhanced: bool, expected: datetime
) -> None:
    assert_utc(due_by(occurred_at, enhanced), expected)


def test_due_by_rejects_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="occurred_at"):
        due_by(datetime(2026, 6, 10, 14, 0), True)


# next_send_time: quiet hours on London's clock, from start (inclusive) to end (exclusive).


@pytest.mark.parametrize(
    ("now", "quiet", "expected"),
    [
        # Overnight window in winter (London is on UTC).
        (utc(2026, 11, 11, 19, 59), NIGHT, utc(2026, 11, 11, 19, 59)),
        (utc(2026, 11, 11, 20, 0), NIGHT, utc(2026, 11, 12, 8, 0)),
        (utc(2026, 11, 11, 23, 59, 59), NIGHT, utc(2026, 11, 12, 8, 0)),
        (utc(2026, 11, 12, 3, 0), NIGHT, utc(2026, 11, 12, 8, 0)),
        (utc(2026, 11, 12, 7, 59, 59), NIGHT, utc(2026, 11, 12, 8, 0)),
        (utc(2026, 11, 12, 8, 0), NIGHT, utc(2026, 11, 12, 8, 0)),
        (utc(2026, 11, 12, 8, 1), NIGHT, utc(2026, 11, 12, 8, 1)),
        # Overnight window in summer: 20:00-08:00 BST is 19:00-07:00 UTC.
        (utc(2026, 6, 10, 18, 59), NIGHT, utc(2026, 6, 10, 18, 59)),
        (utc(2026, 6, 10, 19, 0), NIGHT, utc(2026, 6, 11, 7, 0)),
        (utc(2026, 6, 11, 6, 59), NIGHT, utc(2026, 6, 11, 7, 0)),
        # A window that does not wrap midnight.
        (utc(2026, 11, 11, 12, 59), LUNCH, utc(2026, 11, 11, 12, 59)),
        (utc(2026, 11, 11, 13, 0), LUNCH, utc(2026, 11, 11, 14, 0)),
        (utc(2026, 11, 11, 13, 30), LUNCH, utc(2026, 11, 11, 14, 0)),
        (utc(2026, 11, 11, 14, 0), LUNCH, utc(2026, 11, 11, 14, 0)),
        (utc(2026, 11, 11, 14, 1), LUNCH, utc(2026, 11, 11, 14, 1)),
        (utc(2026, 11, 11, 21, 0), LUNCH, utc(2026, 11, 11, 21, 0)),
        # start == end: no quiet hours at all.
        (utc(2026, 11, 11, 20, 0), (time(20, 0), time(20, 0)), utc(2026, 11, 11, 20, 0)),
        (utc(2026, 11, 12, 3, 0), (time(0, 0), time(0, 0)), utc(2026, 11, 12, 3, 0)),
    ],
)
def test_quiet_hours_at_both_ends(
    now: datetime, quiet: tuple[time, time], expected: datetime
) -> None:
    assert_utc(next_send_time(now, now, None, *quiet), expected)


def test_not_before_holds_a_message_back() -> None:
    now = utc(2026, 11, 11, 10, 0)
    assert_utc(next_send_time(now, utc(2026, 11, 11, 15, 0), None, *NIGHT), utc(2026, 11, 11, 15))
    # Held back into quiet hours, it waits for them to end.
    assert_utc(next_send_time(now, utc(2026, 11, 11, 21, 0), None, *NIGHT), utc(2026, 11, 12, 8))
    # A not_before already past is no reason to wait.
    assert_utc(next_send_time(now, utc(2026, 11, 11, 9, 0), None, *NIGHT), now)


def test_the_answer_is_in_utc_whatever_the_input() -> None:
    now = london(2026, 6, 10, 21, 0)  # 20:00 UTC
    assert_utc(next_send_time(now, now, None, *NIGHT), utc(2026, 6, 11, 7, 0))


@pytest.mark.parametrize(
    ("now", "not_before", "due", "quiet", "expected"),
    [
        # Quiet hours would end in time: wait for them.
        (
            utc(2026, 11, 11, 21, 0),
            utc(2026, 11, 11, 21, 0),
            utc(2026, 11, 12, 8, 0, 1),
            NIGHT,
            utc(2026, 11, 12, 8, 0),
        ),
        # They would end after due_by: the time before them has passed, so send now.
        (
            utc(2026, 11, 11, 21, 0),
            utc(2026, 11, 11, 21, 0),
            utc(2026, 11, 12, 0, 0),
            NIGHT,
            utc(2026, 11, 11, 21, 0),
        ),
        # due_by is exclusive: quiet hours ending at due_by exactly would make it late.
        (
            utc(2026, 11, 11, 21, 0),
            utc(2026, 11, 11, 21, 0),
            utc(2026, 11, 12, 0, 0),
            (time(20, 0), time(0, 0)),
            utc(2026, 11, 11, 21, 0),
        ),
        # Never before not_before, even when 19:59 would have kept the message out of quiet hours.
        (
            utc(2026, 11, 11, 15, 0),
            utc(2026, 11, 11, 21, 0),
            utc(2026, 11, 12, 0, 0),
            NIGHT,
            utc(2026, 11, 11, 21, 0),
        ),
        # Already late and inside quiet hours: send now.
        (
            utc(2026, 11, 11, 22, 0),
            utc(2026, 11, 11, 22, 0),
            utc(2026, 11, 11, 18, 0),
            NIGHT,
            utc(2026, 11, 11, 22, 0),
        ),
        # Already late outside quiet hours: send now.
        (
            utc(2026, 11, 12, 10, 0),
            utc(2026, 11, 12, 10, 0),
            utc(2026, 11, 12, 0, 0),
            NIGHT,
            utc(2026, 11, 12, 10, 0),
        ),
        # Outside quiet hours and in time: due_by changes nothing.
        (
            utc(2026, 11, 11, 19, 59),
            utc(2026, 11, 11, 19, 59),
            utc(2026, 11, 12, 0, 0),
            NIGHT,
            utc(2026, 11, 11, 19, 59),
        ),
    ],
    ids=[
        "waits-when-in-time",
        "sends-now-when-quiet-ends-too-late",
        "due-by-is-exclusive",
        "never-before-not-before",
        "late-inside-quiet",
        "late-outside-quiet",
        "in-time-outside-quiet",
    ],
)
def test_quiet_hours_give_way_to_the_code(
    now: datetime,
    not_before: datetime,
    due: datetime,
    quiet: tuple[time, time],
    expected: datetime,
) -> None:
    assert_utc(next_send_time(now, not_before, due, *quiet), expected)


def test_an_enhanced_victims_update_retried_on_the_last_evening_goes_before_midnight() -> None:
    # Arrest on Thursday 12 November 2026: told by the end of Friday. Sending failed all day
    # Friday; the retry at 21:00 is inside quiet hours, which end on Saturday, too late.
    due = due_by(london(2026, 11, 12, 10, 0), True)
    assert_utc(due, utc(2026, 11, 14, 0, 0))
    retry = utc(2026, 11, 13, 21, 0)
    assert_utc(next_send_time(retry, retry, due, *NIGHT), utc(2026, 11, 13, 21, 0))
    # An arrest on Thursday evening is told on Friday morning, after quiet hours.
    evening = london(2026, 11, 12, 22, 0)
    due = due_by(evening, True)
    assert_utc(next_send_time(evening, evening, due, *NIGHT), utc(2026, 11, 13, 8, 0))


@pytest.mark.parametrize(
    ("now", "quiet", "expected"),
    [
        # Spring forward, Saturday 27 to Sunday 28 March 2027: 20:00 GMT to 08:00 BST.
        (utc(2027, 3, 27, 19, 59), NIGHT, utc(2027, 3, 27, 19, 59)),
        (utc(2027, 3, 27, 21, 0), NIGHT, utc(2027, 3, 28, 7, 0)),
        (utc(2027, 3, 28, 6, 59), NIGHT, utc(2027, 3, 28, 7, 0)),
        (utc(2027, 3, 28, 7, 0), NIGHT, utc(2027, 3, 28, 7, 0)),
        (utc(2027, 3, 28, 19, 0), NIGHT, utc(2027, 3, 29, 7, 0)),
        # Back, Saturday 24 to Sunday 25 October 2026: 20:00 BST to 08:00 GMT.
        (utc(2026, 10, 24, 18, 59), NIGHT, utc(2026, 10, 24, 18, 59)),
        (utc(2026, 10, 24, 19, 0), NIGHT, utc(2026, 10, 25, 8, 0)),
        (utc(2026, 10, 25, 7, 59), NIGHT, utc(2026, 10, 25, 8, 0)),
        (utc(2026, 10, 25, 8, 0), NIGHT, utc(2026, 10, 25, 8, 0)),
        # Quiet hours ending at 01:30, a time the spring clock skips: they end when it jumps
        # from 01:00 GMT to 02:00 BST.
        (utc(2027, 3, 27, 23, 0), (time(22, 0), time(1, 30)), utc(2027, 3, 28, 1, 0)),
        # ... and starting at 01:30: from the jump until 07:00 BST.
        (utc(2027, 3, 28, 0, 59), (time(1, 30), time(7, 0)), utc(2027, 3, 28, 0, 59)),
        (utc(2027, 3, 28, 1, 0), (time(1, 30), time(7, 0)), utc(2027, 3, 28, 6, 0)),
        # Ending at 01:30, which autumn's clock shows twice: the first time (BST) ends them;
        # back in 01:00-01:29 on the second pass they hold again until 01:30 GMT.
        (utc(2026, 10, 24, 22, 0), (time(22, 0), time(1, 30)), utc(2026, 10, 25, 0, 30)),
        (utc(2026, 10, 25, 1, 10), (time(22, 0), time(1, 30)), utc(2026, 10, 25, 1, 30)),
    ],
)
def test_quiet_hours_across_the_clock_changes(
    now: datetime, quiet: tuple[time, time], expected: datetime
) -> None:
    assert_utc(next_send_time(now, now, None, *quiet), expected)


@pytest.mark.parametrize("which", ["now", "not_before", "due_by"])
def test_next_send_time_rejects_naive_datetimes(which: str) -> None:
    moments: dict[str, datetime] = dict.fromkeys(
        ("now", "not_before", "due_by"), utc(2026, 11, 11, 12, 0)
    )
    moments[which] = datetime(2026, 11, 11, 12, 0)
    with pytest.raises(ValueError, match=which):
        next_send_time(moments["now"], moments["not_before"], moments["due_by"], *NIGHT)
