"""A victim's contact preferences, changed by text: how often, quiet hours, channel,
language and safe-contact mode. Each change is stored on the Victim, which everything else
(notifications, the scheduler, the assistant) reads, and audited as the victim's.

Whoever holds the phone may raise protection at once. A change that lowers it (safe contact
off, another channel, shorter or no quiet hours, more frequent contact: the rules are in
services/casework/protection.py) needs the conversation verified, checked here at the
moment of the change; it then tells an officer, and safe contact off waits for an officer to
confirm it another way (docs/SAFETY.md, "Protective settings").
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from models import Channel, Conversation, HandoffPriority, Language, Setting, Victim
from services.casework import protection
from services.casework.protection import Effect, QuietHours
from services.console import handoffs
from services.console.audit import Actor
from services.identity import verification
from services.identity.verification import IdentityState
from services.language import phrases

MIN_DAYS, MAX_DAYS = 1, 90
LOWERED_REASON = "lowered protection by text"


@dataclass(frozen=True)
class Change:
    """One change a message asks for; QUIET_HOURS values are protection.QuietHours."""

    setting: Setting
    value: object


class Outcome(enum.StrEnum):
    """What became of one asked-for change."""

    # Stored (or it was so already).
    DONE = "done"
    # Stored; it lowered protection, so an officer has been told.
    TOLD_OFFICER = "told_officer"
    # Safe contact off: it waits for an officer to confirm it another way.
    AWAITS_OFFICER = "awaits_officer"
    # It lowers protection and the conversation is not verified: the date of birth first.
    NEEDS_IDENTITY = "needs_identity"
    # It lowers protection and the identity check is locked: not by text now.
    LOCKED = "locked"


@dataclass(frozen=True)
class Applied:
    change: Change
    outcome: Outcome
    # Whether anything changed, or was asked of an officer (False: it was so already).
    changed: bool = True


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
        changes.append(Change(Setting.QUIET_HOURS, QuietHours(*quiet)))
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


def lowers(victim: Victim, changes: list[Change]) -> bool:
    """Whether any of the changes would lower the victim's protection."""
    return any(protection.effect(victim, c.setting, c.value) is Effect.LOWERS for c in changes)


def apply(
    session: Session,
    conversation: Conversation,
    victim: Victim,
    changes: list[Change],
    now: dt.datetime,
) -> list[Applied]:
    """Make the changes a victim asked for by text, each as far as the rules allow.

    Verification is read from the database now, for this conversation. Every change made
    is audited as "victim by sms" (or whatsapp).
    """
    state = verification.state(conversation, victim, now)
    by = Actor.victim_by_text(conversation.channel)
    done = []
    for change in changes:
        effect = protection.effect(victim, change.setting, change.value)
        if effect is Effect.LOWERS and state is not IdentityState.VERIFIED:
            locked = state is IdentityState.LOCKED
            done.append(Applied(change, Outcome.LOCKED if locked else Outcome.NEEDS_IDENTITY))
            continue
        if effect is Effect.LOWERS and change.setting is Setting.SAFE_CONTACT:
            protection.request_safe_contact_off(session, conversation, victim, by)
            done.append(Applied(change, Outcome.AWAITS_OFFICER))
            continue
        old = protection.shown(change.setting, protection.current(victim, change.setting))
        changed = protection.change(
            session, victim, change.setting, change.value, by, conversation.id
        )
        if effect is Effect.LOWERS:
            new = protection.shown(change.setting, change.value)
            reason = f"{LOWERED_REASON}: {change.setting.value} {old} -> {new}"
            handoffs.open_handoff(session, conversation, HandoffPriority.NORMAL, reason)
            done.append(Applied(change, Outcome.TOLD_OFFICER))
        else:
            done.append(Applied(change, Outcome.DONE, changed))
    return done
