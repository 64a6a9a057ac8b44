"""Dates and times as a victim reads them, in English or Welsh."""

from __future__ import annotations

import datetime as dt

from models import Language

_DAYS = {
    Language.EN: ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    Language.CY: (
        "dydd Llun",
        "dydd Mawrth",
        "dydd Mercher",
        "dydd Iau",
        "dydd Gwener",
        "dydd Sadwrn",
        "dydd Sul",
    ),
}
_MONTHS = {
    Language.EN: (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    Language.CY: (
        "Ionawr",
        "Chwefror",
        "Mawrth",
        "Ebrill",
        "Mai",
        "Mehefin",
        "Gorffennaf",
        "Awst",
        "Medi",
        "Hydref",
        "Tachwedd",
        "Rhagfyr",
    ),
}


def day(value: dt.date, language: Language) -> str:
    """'Monday 1 December' or 'dydd Llun 1 Rhagfyr'."""
    return f"{_DAYS[language][value.weekday()]} {value.day} {_MONTHS[language][value.month - 1]}"


def short_date(value: dt.date, language: Language) -> str:
    """'1 December' or '1 Rhagfyr'."""
    return f"{value.day} {_MONTHS[language][value.month - 1]}"


def long_date(value: dt.date, language: Language) -> str:
    """'1 December 2026' or '1 Rhagfyr 2026'."""
    return f"{short_date(value, language)} {value.year}"


def clock(value: dt.time) -> str:
    """24-hour clock, as UK public services write it: '08:00'."""
    return value.strftime("%H:%M")


def month_number(word: str) -> int | None:
    """1-12 for an English or Welsh month name or its first letters (3 or more), else None.

    Welsh months may come mutated after "o" ("o Fawrth", "o Orffennaf", "o Ragfyr"), so the
    soft mutation is undone before matching.
    """
    word = word.lower().strip(".")
    candidates = [word]
    if word.startswith("f"):
        candidates.append("m" + word[1:])
    if word.startswith("d") and not word.startswith("dd"):
        candidates.append("t" + word[1:])
    if word.startswith("r") and not word.startswith("rh"):
        candidates.append("rh" + word[1:])
    candidates.append("g" + word)
    for candidate in candidates:
        for names in _MONTHS.values():
            for number, name in enumerate(names, start=1):
                name = name.lower()
                if candidate == name or (len(candidate) >= 3 and name.startswith(candidate)):
                    return number
    return None
