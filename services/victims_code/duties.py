"""The Victims' Code's duties and their limits, read from configuration (config/victims_code.yml).

A force changes the file, not the code, when the Code's limits change (a new Code was consulted
on in 2026 under the Victims and Prisoners Act 2024). `VICTIMS_CODE_FILE` names another file of
the same shape. The file is read once per process and path (a change takes effect at the next
start); `load` checks it completely, and the app factory, the workers and the scheduler call it
before they start, so a bad file stops start-up with a `VictimsCodeError` naming the file, the
duty and the field.

The shape (docs/VICTIMS_CODE.md has the shipped values and their sources):

    code: <which Code the file encodes>
    duties:
      <duty key>:                  # one of DutyKey: the code knows what each duty does
        right: <the Code's right, e.g. "Right 6">
        starts_on: [<trigger>, ...] # case event types (models.cases.EventType) or TRIGGERS
        working_days: {standard: <int>, enhanced: <int>}   # 1..MAX_WORKING_DAYS
        owed_to: <one of OwedTo>
        messages: {en: {full: <text key>, safe_contact: <text key>}, cy: {...}} or null
        source: <where the limit comes from>
        request_within_months: <int>   # right_to_review_offer only: how long the victim has

Pure: no database. Whether the message keys exist is checked by casework (which owns the
texts), through `message_keys()`.
"""

from __future__ import annotations

import dataclasses
import enum
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from models.cases import EventType

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "config" / "victims_code.yml"
MAX_WORKING_DAYS = 260  # a working year: anything longer is a typing mistake
LANGUAGES = ("en", "cy")
VARIANTS = ("full", "safe_contact")


class VictimsCodeError(ValueError):
    """The Victims' Code file cannot be used; the message names the file, the duty and the
    field. The service refuses to start with it."""


class DutyKey(enum.StrEnum):
    """The duties the service tracks. Each is one thing the code does; the file sets its limits."""

    # Right 3: written acknowledgement of the report (the welcome, when the case system says so).
    RIGHT_3_ACKNOWLEDGEMENT = "right_3_acknowledgement"
    # Right 4: a consented referral reaches the support service.
    RIGHT_4_REFERRAL = "right_4_referral"
    # Right 6: the victim is told of a key decision in the investigation.
    RIGHT_6_UPDATE = "right_6_update"
    # Right 6, the Victims' Right to Review: a decision not to go on comes with the right to ask
    # for a review and how to ask.
    RIGHT_TO_REVIEW_OFFER = "right_to_review_offer"
    # The police scheme's limits on a request for review: acknowledge it, then decide it.
    REVIEW_ACKNOWLEDGEMENT = "review_acknowledgement"
    REVIEW_DECISION = "review_decision"


class OwedTo(enum.StrEnum):
    """Who is owed a duty."""

    EVERY_VICTIM_ON_THE_CASE = "every_victim_on_the_case"
    THE_VICTIM_REGISTERED = "the_victim_registered"
    THE_VICTIM_WHO_CONSENTED = "the_victim_who_consented"
    THE_VICTIM_WHO_ASKED = "the_victim_who_asked"


# What starts a duty, besides a case event: the names the file may use.
TRIGGERS = frozenset({"report_acknowledged", "referral_consented", "review_requested"})
# The duties told by a notification of a case event: each covered event starts exactly one.
EVENT_DUTIES = (DutyKey.RIGHT_6_UPDATE, DutyKey.RIGHT_TO_REVIEW_OFFER)
# The duties whose message the victim receives; the others are met by an officer's act.
MESSAGE_DUTIES = frozenset(
    {DutyKey.RIGHT_3_ACKNOWLEDGEMENT, DutyKey.RIGHT_6_UPDATE, DutyKey.RIGHT_TO_REVIEW_OFFER}
)
_FIELDS = {
    "right",
    "starts_on",
    "working_days",
    "owed_to",
    "messages",
    "source",
    "request_within_months",
}


@dataclasses.dataclass(frozen=True)
class Limit:
    """A limit in working days (services/victims_code/calendar.py), by the victim's rights."""

    standard: int
    enhanced: int

    def days(self, enhanced_rights: bool) -> int:
        return self.enhanced if enhanced_rights else self.standard


@dataclasses.dataclass(frozen=True)
class Duty:
    """One duty of the Code as the file states it."""

    key: DutyKey
    right: str
    starts_on: tuple[str, ...]
    working_days: Limit
    owed_to: OwedTo
    # messages[language][variant] -> a key of services/language/texts.py; empty when none.
    messages: Mapping[str, Mapping[str, str]]
    source: str
    request_within_months: int | None = None

    def events(self) -> frozenset[EventType]:
        """The case event types that start this duty."""
        return frozenset(EventType(s) for s in self.starts_on if s not in TRIGGERS)

    def message(self, language: str, safe_contact: bool) -> str:
        """The text key of this duty's message in `language` (en or cy)."""
        return self.messages[language]["safe_contact" if safe_contact else "full"]


@dataclasses.dataclass(frozen=True)
class VictimsCode:
    """Every duty of one file."""

    path: str
    code: str
    duties: Mapping[DutyKey, Duty]

    def __getitem__(self, key: DutyKey) -> Duty:
        return self.duties[key]

    def code_events(self) -> frozenset[EventType]:
        """The case events a victim must be told of within a limit (Right 6, review offer)."""
        return frozenset().union(*(self.duties[k].events() for k in EVENT_DUTIES))

    def duty_for_event(self, event_type: EventType) -> Duty | None:
        """The duty a case event starts, or None when the Code sets no limit for it."""
        return next((self.duties[k] for k in EVENT_DUTIES if event_type in self[k].events()), None)

    def message_keys(self) -> set[str]:
        """Every text key the file names, for casework's check that each exists."""
        return {
            key
            for duty in self.duties.values()
            for variants in duty.messages.values()
            for key in variants.values()
        }


def _fail(path: str, duty: str | None, field: str | None, problem: str) -> VictimsCodeError:
    where = path
    if duty:
        where += f": duty {duty!r}"
    if field:
        where += f", field {field!r}"
    return VictimsCodeError(f"Victims' Code file {where}: {problem}")


def _count(path: str, duty: str, field: str, value: Any) -> int:
    # bool is an int to Python; "true" days are a mistake, not 1.
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_WORKING_DAYS:
        raise _fail(path, duty, field, f"must be a whole number from 1 to {MAX_WORKING_DAYS}")
    return value


def _duty(path: str, name: str, raw: Any) -> Duty:
    key = DutyKey(name)
    if not isinstance(raw, dict):
        raise _fail(path, name, None, "must be a mapping of its fields")
    unknown = set(raw) - _FIELDS
    if unknown:
        raise _fail(path, name, sorted(unknown)[0], "is not a field of a duty")
    for field in ("right", "source"):
        if not isinstance(raw.get(field), str) or not raw[field].strip():
            raise _fail(path, name, field, "is required, as text")
    starts_on = raw.get("starts_on")
    if not isinstance(starts_on, list) or not starts_on:
        raise _fail(path, name, "starts_on", "must list at least one event or trigger")
    events = {e.value for e in EventType}
    for trigger in starts_on:
        if trigger not in events and trigger not in TRIGGERS:
            known = ", ".join(sorted(events | TRIGGERS))
            raise _fail(path, name, "starts_on", f"{trigger!r} is not one of: {known}")
    days = raw.get("working_days")
    if not isinstance(days, dict) or set(days) != {"standard", "enhanced"}:
        raise _fail(path, name, "working_days", "must give 'standard' and 'enhanced'")
    limit = Limit(
        standard=_count(path, name, "working_days.standard", days["standard"]),
        enhanced=_count(path, name, "working_days.enhanced", days["enhanced"]),
    )
    try:
        owed_to = OwedTo(str(raw.get("owed_to")))
    except ValueError:
        known = ", ".join(o.value for o in OwedTo)
        raise _fail(path, name, "owed_to", f"must be one of: {known}") from None
    messages = raw.get("messages")
    if key in MESSAGE_DUTIES:
        if not isinstance(messages, dict) or set(messages) != set(LANGUAGES):
            raise _fail(path, name, "messages", "must give 'en' and 'cy'")
        for language in LANGUAGES:
            variants = messages[language]
            if not isinstance(variants, dict) or set(variants) != set(VARIANTS):
                raise _fail(
                    path, name, f"messages.{language}", "must give 'full' and 'safe_contact'"
                )
            for variant in VARIANTS:
                if not isinstance(variants[variant], str) or not variants[variant]:
                    raise _fail(path, name, f"messages.{language}.{variant}", "must be a text key")
    elif messages is not None:
        raise _fail(path, name, "messages", "must be null: an officer's act meets this duty")
    months = raw.get("request_within_months")
    if key is DutyKey.RIGHT_TO_REVIEW_OFFER:
        months = _count(path, name, "request_within_months", months)
    elif months is not None:
        raise _fail(path, name, "request_within_months", "belongs to right_to_review_offer only")
    return Duty(
        key=key,
        right=raw["right"].strip(),
        starts_on=tuple(starts_on),
        working_days=limit,
        owed_to=owed_to,
        messages={lang: dict(v) for lang, v in (messages or {}).items()},
        source=" ".join(raw["source"].split()),
        request_within_months=months,
    )


def parse(path: str, data: Any) -> VictimsCode:
    """The duties of an already-read file; VictimsCodeError names what is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("duties"), dict):
        raise _fail(path, None, "duties", "the file must be a mapping with a 'duties' mapping")
    if not isinstance(data.get("code"), str) or not data["code"].strip():
        raise _fail(path, None, "code", "must name the Code the file encodes")
    raw = data["duties"]
    for name in raw:
        if name not in {k.value for k in DutyKey}:
            known = ", ".join(k.value for k in DutyKey)
            raise _fail(path, str(name), None, f"is not a duty the service knows ({known})")
    for key in DutyKey:
        if key.value not in raw:
            raise _fail(path, key.value, None, "is missing")
    duties = {DutyKey(name): _duty(path, name, value) for name, value in raw.items()}
    seen: dict[EventType, DutyKey] = {}
    for key in EVENT_DUTIES:
        for event in duties[key].events():
            if event in seen:
                raise _fail(
                    path, key.value, "starts_on", f"{event.value} already starts {seen[event]}"
                )
            seen[event] = key
    return VictimsCode(path=path, code=data["code"].strip(), duties=duties)


@cache
def load(path: str | Path) -> VictimsCode:
    """Read and check a Victims' Code file (cached per path for the process's life).

    Raises VictimsCodeError (a file that cannot be read or parsed included)."""
    name = str(path)
    try:
        data = yaml.safe_load(Path(name).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise _fail(name, None, None, f"cannot be read: {exc}") from None
    return parse(name, data)


def configured_file() -> Path:
    """The file in force: `VICTIMS_CODE_FILE`, else config/victims_code.yml."""
    return Path(os.environ.get("VICTIMS_CODE_FILE") or DEFAULT_FILE)


def current() -> VictimsCode:
    """The Code in force for this process (the file `configured_file()` names)."""
    return load(configured_file())
