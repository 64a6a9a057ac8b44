"""Dates of birth as people text them: read, found inside a message, and blanked out.

Day first, UK style: "2/3/84", "02.03.1984", "020384", "1984-03-02", "2 March 1984",
"2nd of March '84", "March 2 1984", "2 Mawrth 1984", "2il o Fawrth 1984". A date is found
anywhere in a message ("it's 2/3/84 x"), so that the whole of it can be kept out of storage.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from services.language import wording

# What a stored message says where a date of birth was (docs/SAFETY.md): the console, our
# messages table and Rasa's tracker see this, never the date.
MARK = "[date of birth given]"

_ORDINAL = r"(?:st|nd|rd|th|af|il|ydd|fed|eg)?"
_UNITS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
# The day in words, as some write it: "the second of March 1984", "yr ail o Fawrth 1984".
DAY_WORDS: dict[str, int] = {
    **{word: n for n, word in enumerate(_UNITS, start=1)},
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    **{f"twenty {word}": 20 + n for n, word in enumerate(_UNITS, start=1)},
    **{f"twenty-{word}": 20 + n for n, word in enumerate(_UNITS, start=1)},
    "thirtieth": 30,
    "thirty first": 31,
    "thirty-first": 31,
    # Welsh ordinals (the tenth and below are how dates are said; later days use digits).
    "cyntaf": 1,
    "ail": 2,
    "trydydd": 3,
    "pedwerydd": 4,
    "pumed": 5,
    "chweched": 6,
    "seithfed": 7,
    "wythfed": 8,
    "nawfed": 9,
    "degfed": 10,
}
_DAY = (
    rf"(\d{{1,2}}{_ORDINAL}|"
    + "|".join(sorted((re.escape(w) for w in DAY_WORDS), key=len, reverse=True))
    + ")"
)
_YEAR = r"'?(\d{4}|\d{2})(?!\d)"
_SEP = r"\s*[./\-]\s*"
# Whole dates, most specific first: a span one of them takes is not looked at again.
_WORD_DMY = re.compile(rf"(?<![\w]){_DAY}(?:\s+of|\s+o)?[\s,.]+([a-z]+)\.?[\s,]+{_YEAR}", re.I)
_WORD_MDY = re.compile(rf"\b([a-z]+)\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?[\s,]+{_YEAR}", re.I)
_ISO = re.compile(r"(?<!\d)(\d{4})[./\-](\d{1,2})[./\-](\d{1,2})(?!\d)")
_NUMERIC = re.compile(rf"(?<!\d)(\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d{{4}}|\d{{2}})(?!\d)")
_SPACED = re.compile(r"(?<!\d)(\d{1,2}) (\d{1,2}) (\d{4}|\d{2})(?!\d)")
_DIGITS = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{4}|\d{2})(?!\d)")
# Parts of a date: a day and a month, a month and a year, or a year of birth alone. Not
# dates, but when the date of birth has been asked for they are part of one, and are kept
# out of storage too.
_DAY_MONTH_WORD = re.compile(rf"(?<![\w]){_DAY}(?:\s+of|\s+o)?[\s,.]+([a-z]+)", re.I)
_MONTH_WORD_DAY = re.compile(r"\b([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?!\d)", re.I)
_DAY_MONTH = re.compile(rf"(?<!\d)(\d{{1,2}}){_SEP}(\d{{1,2}})(?![\d./\-])")
_MONTH_YEAR = re.compile(rf"\b([a-z]+)\.?[\s,]+{_YEAR}", re.I)
_BIRTH_YEAR = re.compile(r"(?<!\d)(19\d\d|20\d\d)(?!\d)")


@dataclass(frozen=True)
class Found:
    """A date-like part of a message: where it is, whether it has a day, month and year,
    and the date it is (None when it is no real, past date: "31/02/1984", "March 1984")."""

    start: int
    end: int
    whole: bool
    date: dt.date | None


def _year(text: str, today: dt.date) -> int:
    year = int(text)
    if len(text) == 2:
        # "84" is 1984 and "05" is 2005: a victim is never born in the future.
        year += 2000 if 2000 + year <= today.year else 1900
    return year


def _date(year: int, month: int | None, day: int, today: dt.date) -> dt.date | None:
    if month is None:
        return None
    try:
        born = dt.date(year, month, day)
    except ValueError:
        return None
    return born if born <= today else None


def _day(text: str) -> int:
    words = " ".join(text.lower().split())
    if words in DAY_WORDS:
        return DAY_WORDS[words]
    return int(re.match(r"\d+", text)[0])  # type: ignore[index]


def _whole(match: re.Match[str], today: dt.date) -> dt.date | None:
    """The date a whole-date match names, or None."""
    pattern = match.re
    if pattern is _WORD_DMY:
        month = wording.month_number(match[2])
        return _date(_year(match[3], today), month, _day(match[1]), today)
    if pattern is _WORD_MDY:
        month = wording.month_number(match[1])
        return _date(_year(match[3], today), month, int(match[2]), today)
    if pattern is _ISO:
        return _date(int(match[1]), int(match[2]), int(match[3]), today)
    return _date(_year(match[3], today), int(match[2]), int(match[1]), today)


def find(text: str, today: dt.date, parts: bool = False) -> list[Found]:
    """Every date in `text`, in order; with `parts`, months with a year and years alone too.

    A word-month pattern whose word is no month ("at 10 past 2014") is not a date.
    """
    taken: list[Found] = []

    def free(start: int, end: int) -> bool:
        return all(end <= f.start or start >= f.end for f in taken)

    for pattern in (_WORD_DMY, _WORD_MDY, _ISO, _NUMERIC, _SPACED, _DIGITS):
        for match in pattern.finditer(text):
            word_month = pattern in (_WORD_DMY, _WORD_MDY)
            word = match[2] if pattern is _WORD_DMY else match[1]
            if word_month and wording.month_number(word) is None:
                continue
            if free(match.start(), match.end()):
                taken.append(Found(match.start(), match.end(), True, _whole(match, today)))
    if parts:
        for pattern, month_group in (
            (_MONTH_YEAR, 1),
            (_DAY_MONTH_WORD, 2),
            (_MONTH_WORD_DAY, 1),
            (_DAY_MONTH, None),
            (_BIRTH_YEAR, None),
        ):
            for match in pattern.finditer(text):
                if month_group and wording.month_number(match[month_group]) is None:
                    continue
                if free(match.start(), match.end()):
                    taken.append(Found(match.start(), match.end(), False, None))
    return sorted(taken, key=lambda f: f.start)


def the_date(found: list[Found]) -> dt.date | None:
    """The one date that the whole dates found give: None when there is none, when one is no
    real date, or when they disagree. A message that offers two dates is not an answer, so
    that nobody can try several guesses at once."""
    dates = {f.date for f in found if f.whole}
    if len(dates) != 1:
        return None
    return dates.pop()


def parse_date_of_birth(text: str, today: dt.date | None = None) -> dt.date | None:
    """The date of birth a message gives (see the_date), or None."""
    return the_date(find(text, today or dt.date.today()))


def redact(text: str, found: list[Found]) -> str:
    """`text` with each found part replaced by MARK; just MARK when nothing else was said."""
    out, at = [], 0
    for part in sorted(found, key=lambda f: f.start):
        out.append(text[at : part.start])
        out.append(MARK)
        at = part.end
    out.append(text[at:])
    redacted = "".join(out)
    rest = re.sub(r"[\W_]+", "", redacted.replace(MARK, ""))
    return redacted.strip() if rest else MARK
