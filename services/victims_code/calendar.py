"""Working days in England and Wales, on the Europe/London clock.

The Victims' Code counts its limits in working days: Monday to Friday, not a bank holiday.
The unit's staffed hours (services/console/staffing.py) use the same calendar. Pure logic:
the bank-holiday calendar is built on first use, one year at a time, and cached.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")


@functools.cache
def _bank_holidays(year: int) -> frozenset[date]:
    # "GB" with subdiv "ENG" is England's calendar, which Wales shares day for day (checked
    # against "WLS" for 1970-2050). "GB" with no subdiv lacks Easter Monday and the May and
    # August bank holidays, which Scotland does not keep. A frozen set per year, not the
    # library's object, because that object adds years to itself on lookup and workers share it.
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    """Whether `day` is a working day in England and Wales: Monday to Friday, not a bank holiday."""
    if isinstance(day, datetime):
        # A datetime is a date to Python but never equal to one, so it would miss every holiday.
        raise TypeError("is_working_day takes a date, not a datetime")
    return day.weekday() < 5 and day not in _bank_holidays(day.year)
