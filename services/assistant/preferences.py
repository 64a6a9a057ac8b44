"""A victim's contact preferences, changed by text: how often, quiet hours, channel,
language and safe-contact mode. Each change is stored on the Victim, which everything else
(notifications, the scheduler, the assistant) reads."""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass

from models import Channel, Language, Victim
from services.language import phrases

MIN_DAYS, MAX_DAYS = 1, 90


class Setting(enum.StrEnum):
    FREQUENCY = "frequency"
    QUIET_HOURS = "quiet_hours"
    CHANNEL = "channel"
    SAFE_CONTACT = "safe_contact"
    LANGUAGE = "language"


@dataclass(frozen=True)
class Change:
    setting: Setting
    value: object


_EVERY_N_DAYS = re.compile(r"\b(?:every|bob)\s+(\d{1,2})\s+(?:days?|diwrnod)\b")
_EVERY_N_WEEKS = re.compile(r"\b(?:every|bob)\s+(\d{1,2})\s+(?:weeks?|wythnos)\b")
_FREQUENCY_WORDS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (1, ("daily", "every day", "each day", "bob dydd", "pob dydd", "yn ddyddiol")),
    (14, ("fortnightly", "every fortnight", "every two weeks", "every 2 weeks", "bob pythefnos")),
    (
        7,
        (
            "weekly",
            "every week",
            "once a week",
            "each week",
            "bob wythnos",
            "unwaith yr wythnos",
            "yn wythnosol",
        ),
    ),
    (
        28,
        (
            "monthly",
            "every month",
            "once a month",
            "each month",
            "bob mis",
            "unwaith y mis",
            "yn fisol",
        ),
    ),
)
_TIME = r"(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|yb|yh)?"
_RANGE = re.compile(rf"{_TIME}\s*(?:-|to|till|until|and|a|tan|hyd)\s*{_TIME}")
_NOT_AFTER = re.compile(rf"(?:after|ar ol|wedi)\s+{_TIME}")
_SAFE_ON = (
    "safe contact on",
    "safe contact mode",
    "turn on safe contact",
    "use safe contact",
    "no details in messages",
    "someone else reads my phone",
    "someone reads my phone",
    "dont put details",
    "cyswllt diogel",
    "cyswllt diogel ymlaen",
    "dim manylion",
)
_SAFE_OFF = (
    "safe contact off",
    "turn off safe contact",
    "stop safe contact",
    "no safe contact",
    "cyswllt diogel i ffwrdd",
    "diffodd cyswllt diogel",
)
_WHATSAPP = ("whatsapp", "whats app", "watsapp", "wattsapp", "wa")
_SMS = (
    "sms",
    "text",
    "texts",
    "text message",
    "normal texts",
    "neges destun",
    "negeseuon testun",
    "tecst",
)
_WELSH = ("welsh", "cymraeg", "in welsh", "yn gymraeg", "gymraeg", "cymreig")
_ENGLISH = ("english", "saesneg", "in english", "yn saesneg", "susneg", "eng")


def _hour(hour: str, minute: str | None, meridian: str | None) -> dt.time | None:
    h, m = int(hour), int(minute or 0)
    if meridian in ("pm", "yh") and h < 12:
        h += 12
    elif meridian in ("am", "yb") and h == 12:
        h = 0
    if not (0 <= h < 24 and 0 <= m < 60):
        return None
    return dt.time(h, m)


def language_from(text: str) -> Language | None:
    """The language a message names, if it names exactly one."""
    welsh, english = phrases.contains(text, _WELSH), phrases.contains(text, _ENGLISH)
    if welsh != english:
        return Language.CY if welsh else Language.EN
    return None


def parse(text: str) -> list[Change]:
    """Every preference change the message asks for (none when it names no setting)."""
    norm = phrases.normalise(text)
    changes: list[Change] = []
    days: int | None = None
    if m := _EVERY_N_DAYS.search(norm):
        days = int(m[1])
    elif m := _EVERY_N_WEEKS.search(norm):
        days = int(m[1]) * 7
    else:
        for value, words in _FREQUENCY_WORDS:
            if phrases.contains(text, words):
                days = value
                break
    if days is not None and MIN_DAYS <= days <= MAX_DAYS:
        changes.append(Change(Setting.FREQUENCY, days))
    raw = text.lower()
    quiet: tuple[dt.time, dt.time] | None = None
    if m := _RANGE.search(raw):
        start, end = _hour(m[1], m[2], m[3]), _hour(m[4], m[5], m[6])
        if start and end is not None and start != end:
            quiet = (start, end)
    elif (m := _NOT_AFTER.search(raw)) and (start := _hour(m[1], m[2], m[3] or "pm")):
        quiet = (start, dt.time(8, 0))
    if quiet is not None:
        changes.append(Change(Setting.QUIET_HOURS, quiet))
    if phrases.contains(text, _SAFE_OFF):
        changes.append(Change(Setting.SAFE_CONTACT, False))
    elif phrases.contains(text, _SAFE_ON):
        changes.append(Change(Setting.SAFE_CONTACT, True))
    if phrases.contains(text, _WHATSAPP):
        changes.append(Change(Setting.CHANNEL, Channel.WHATSAPP))
    elif phrases.contains(text, _SMS) and not quiet and days is None:
        # "text" is also how people say "message": only a channel when nothing else is asked.
        changes.append(Change(Setting.CHANNEL, Channel.SMS))
    language = language_from(text)
    if language is not None:
        changes.append(Change(Setting.LANGUAGE, language))
    return changes


def apply(victim: Victim, change: Change) -> None:
    """Store one change on the victim."""
    if change.setting is Setting.FREQUENCY:
        assert isinstance(change.value, int)
        victim.update_every_days = change.value
    elif change.setting is Setting.QUIET_HOURS:
        assert isinstance(change.value, tuple)
        victim.quiet_start, victim.quiet_end = change.value
    elif change.setting is Setting.CHANNEL:
        assert isinstance(change.value, Channel)
        victim.channel = change.value
    elif change.setting is Setting.SAFE_CONTACT:
        victim.safe_contact = bool(change.value)
    elif change.setting is Setting.LANGUAGE:
        assert isinstance(change.value, Language)
        victim.language = change.value
