"""A victim's protective settings: which value of each protects more, changing one (always
audited, with who did it), and the change that waits for an officer.

One set of rules for every way a setting changes: a victim's text (services/assistant/
preferences.py), an officer in the console, the API and the CSV import (registration,
services/casework/cases.py). docs/SAFETY.md, "Protective settings", says why each is where
it is:

- safe contact on, and enhanced rights, protect more than off;
- fewer messages protect more than more (a longer `update_every_days`);
- quiet hours protect more when they cover every minute the old ones covered;
- any other channel lowers protection: the victim chose where messages go;
- the language is neither: it changes how we write, not what a phone shows.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    AuditAction,
    Channel,
    Conversation,
    HandoffPriority,
    Language,
    Officer,
    RequestStatus,
    Setting,
    SettingRequest,
    Victim,
)
from services.console import audit, handoffs
from services.console.audit import Actor
from services.errors import Conflict, NotFound

log = logging.getLogger(__name__)

SAFE_CONTACT_OFF_REASON = "asked by text to turn safe contact off: confirm it another way"
MINUTES_A_DAY = 24 * 60


@dataclass(frozen=True)
class QuietHours:
    """When no unsolicited message goes, on the London clock: start inclusive, end exclusive,
    wrapping midnight; start == end is none at all."""

    start: dt.time
    end: dt.time

    def minutes(self) -> frozenset[int]:
        """The minutes of the day inside, 0 to 1439."""
        first = self.start.hour * 60 + self.start.minute
        last = self.end.hour * 60 + self.end.minute
        length = (last - first) % MINUTES_A_DAY
        return frozenset((first + m) % MINUTES_A_DAY for m in range(length))

    def covers(self, other: QuietHours) -> bool:
        """Whether every quiet minute of `other` is quiet in these too."""
        return other.minutes() <= self.minutes()

    def __str__(self) -> str:
        return f"{self.start.strftime('%H:%M')}-{self.end.strftime('%H:%M')}"


class Effect(enum.StrEnum):
    """What a change would do to the victim's protection."""

    SAME = "same"
    RAISES = "raises"
    LOWERS = "lowers"
    # Neither (the language).
    NEUTRAL = "neutral"


def current(victim: Victim, setting: Setting) -> Any:
    """The value in force."""
    if setting is Setting.QUIET_HOURS:
        return QuietHours(victim.quiet_start, victim.quiet_end)
    if setting is Setting.FREQUENCY:
        return victim.update_every_days
    return getattr(victim, setting.value)


def effect(victim: Victim, setting: Setting, value: Any) -> Effect:
    """Whether setting `value` would raise, lower or keep the victim's protection."""
    old = current(victim, setting)
    if value == old:
        return Effect.SAME
    if setting in (Setting.SAFE_CONTACT, Setting.ENHANCED_RIGHTS):
        return Effect.RAISES if value else Effect.LOWERS
    if setting is Setting.FREQUENCY:
        return Effect.RAISES if value > old else Effect.LOWERS
    if setting is Setting.QUIET_HOURS:
        return Effect.RAISES if value.covers(old) else Effect.LOWERS
    if setting is Setting.CHANNEL:
        return Effect.LOWERS
    return Effect.NEUTRAL


def shown(setting: Setting, value: Any) -> str:
    """A value as the audit trail and the API write it."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, Channel | Language):
        return value.value
    if setting is Setting.FREQUENCY:
        return f"every {value} days"
    return str(value)


def _store(victim: Victim, setting: Setting, value: Any) -> None:
    if setting is Setting.QUIET_HOURS:
        victim.quiet_start, victim.quiet_end = value.start, value.end
    elif setting is Setting.FREQUENCY:
        victim.update_every_days = value
    else:
        setattr(victim, setting.value, value)


def pending(session: Session, victim: Victim) -> list[SettingRequest]:
    """The victim's changes that wait for an officer, oldest first."""
    return list(
        session.scalars(
            select(SettingRequest)
            .where(
                SettingRequest.victim_id == victim.id,
                SettingRequest.status == RequestStatus.PENDING,
            )
            .order_by(SettingRequest.id)
        )
    )


def change(
    session: Session,
    victim: Victim,
    setting: Setting,
    value: Any,
    by: Actor,
    conversation_id: int | None = None,
    why: str = "",
) -> bool:
    """Store one setting, audited with who changed it; False when it was so already.

    Asking for safe contact on withdraws a pending request to turn it off, since the victim
    has changed their mind (it was still on: nothing else changes).
    """
    if setting is Setting.SAFE_CONTACT and value:
        for request in pending(session, victim):
            if request.setting is Setting.SAFE_CONTACT:
                request.move(RequestStatus.WITHDRAWN)
                audit.record_by(
                    session,
                    by,
                    AuditAction.WITHDRAW_SETTING,
                    victim_id=victim.id,
                    conversation_id=conversation_id,
                    detail=f"request {request.id}: safe_contact off withdrawn",
                )
    old = current(victim, setting)
    if value == old:
        return False
    _store(victim, setting, value)
    audit.record_by(
        session,
        by,
        AuditAction.CHANGE_SETTING,
        victim_id=victim.id,
        conversation_id=conversation_id,
        detail=f"{setting.value}: {shown(setting, old)} -> {shown(setting, value)}{why}",
    )
    log.info("victim %s: %s changed by %s", victim.id, setting.value, by.name)
    return True


def request_safe_contact_off(
    session: Session, conversation: Conversation, victim: Victim, by: Actor
) -> SettingRequest:
    """Safe contact off, asked for by text: nothing changes until an officer confirms it with
    the victim another way (`confirm`). A normal handoff asks them to; asking again while one
    waits adds nothing."""
    for request in pending(session, victim):
        if request.setting is Setting.SAFE_CONTACT:
            return request
    request = SettingRequest(
        victim_id=victim.id,
        conversation_id=conversation.id,
        setting=Setting.SAFE_CONTACT,
        value=shown(Setting.SAFE_CONTACT, False),
        status=RequestStatus.PENDING,
    )
    session.add(request)
    session.flush()
    handoffs.open_handoff(session, conversation, HandoffPriority.NORMAL, SAFE_CONTACT_OFF_REASON)
    audit.record_by(
        session,
        by,
        AuditAction.REQUEST_SETTING,
        victim_id=victim.id,
        conversation_id=conversation.id,
        detail=f"request {request.id}: safe_contact off, waits for an officer",
    )
    return request


def _pending_request(session: Session, request_id: int, victim_id: int) -> SettingRequest:
    request = session.get(SettingRequest, request_id)
    if request is None or request.victim_id != victim_id:
        raise NotFound(f"no request {request_id} for victim {victim_id}")
    if request.status is not RequestStatus.PENDING:
        raise Conflict(f"request {request_id} is {request.status.value} already")
    return request


def confirm(session: Session, officer: Officer, victim: Victim, request_id: int) -> SettingRequest:
    """An officer has confirmed the change with the victim another way: it takes effect now.

    NotFound for another victim's request; Conflict when it was decided already.
    """
    request = _pending_request(session, request_id, victim.id)
    by = Actor.of(officer)
    # Requests are for settings that are on or off (safe contact, today).
    value = {"on": True, "off": False}[request.value]
    request.move(RequestStatus.CONFIRMED)
    request.officer_id = officer.id
    audit.record_by(
        session,
        by,
        AuditAction.CONFIRM_SETTING,
        victim_id=victim.id,
        detail=f"request {request.id}: {request.setting.value} {request.value} confirmed",
    )
    change(session, victim, request.setting, value, by, why=f" (request {request.id})")
    return request


def refuse(session: Session, officer: Officer, victim: Victim, request_id: int) -> SettingRequest:
    """An officer keeps the setting as it is (the victim did not confirm it, say)."""
    request = _pending_request(session, request_id, victim.id)
    request.move(RequestStatus.REFUSED)
    request.officer_id = officer.id
    audit.record_by(
        session,
        Actor.of(officer),
        AuditAction.REFUSE_SETTING,
        victim_id=victim.id,
        detail=f"request {request.id}: {request.setting.value} {request.value} refused",
    )
    return request


def set_by_officer(
    session: Session, officer: Officer, victim: Victim, values: dict[Setting, Any]
) -> list[Setting]:
    """An officer, having spoken to the victim another way, sets any setting either way;
    each change audited as theirs. Safe contact off settles a request for it that waits.
    The settings changed, in order."""
    by = Actor.of(officer)
    if values.get(Setting.SAFE_CONTACT) is False:
        for request in pending(session, victim):
            if request.setting is Setting.SAFE_CONTACT and victim.safe_contact:
                request.move(RequestStatus.CONFIRMED)
                request.officer_id = officer.id
                audit.record_by(
                    session,
                    by,
                    AuditAction.CONFIRM_SETTING,
                    victim_id=victim.id,
                    detail=f"request {request.id}: safe_contact off confirmed",
                )
    return [s for s, value in values.items() if change(session, victim, s, value, by)]


def stricter(setting: Setting, old: Any, new: Any) -> Any:
    """Of two values for a person already known, the one a registration leaves in force.

    Safe contact and enhanced rights only go up; fewer messages and quiet hours that cover
    the old ones are kept; the channel and the language stay as the victim has them (they
    may have changed them by text, and neither is more protective than the other).
    """
    if setting in (Setting.SAFE_CONTACT, Setting.ENHANCED_RIGHTS):
        return old or new
    if setting is Setting.FREQUENCY:
        return max(old, new)
    if setting is Setting.QUIET_HOURS:
        return new if new.covers(old) else old
    return old


@dataclass(frozen=True)
class Difference:
    """A setting a registration asked for that is not the one in force."""

    setting: Setting
    requested: Any
    in_force: Any

    def as_json(self) -> dict[str, Any]:
        return {
            "field": self.setting.value,
            "requested": as_json_value(self.setting, self.requested),
            "in_force": as_json_value(self.setting, self.in_force),
        }


@dataclass(frozen=True)
class Merged:
    """What registering a person already known did to their settings."""

    raised: list[Setting]
    differences: list[Difference]


def merge(
    session: Session,
    victim: Victim,
    requested: dict[Setting, Any],
    by: Actor,
    why: str = "",
) -> Merged:
    """Keep the stricter of each setting in force and `requested` (`stricter`), audited;
    report every requested value that is not the one now in force."""
    raised, differences = [], []
    for setting, value in requested.items():
        old = current(victim, setting)
        keep = stricter(setting, old, value)
        if keep != old:
            change(session, victim, setting, keep, by, why=why)
            raised.append(setting)
        if value != keep:
            differences.append(Difference(setting, value, keep))
    return Merged(raised, differences)


def as_json_value(setting: Setting, value: Any) -> Any:
    """A setting's value as the API shows it."""
    if setting is Setting.QUIET_HOURS:
        return {"start": value.start.strftime("%H:%M"), "end": value.end.strftime("%H:%M")}
    if isinstance(value, Channel | Language):
        return value.value
    return value


def settings_json(victim: Victim) -> dict[str, Any]:
    """The settings in force, as the API shows them (the 201 of a registration)."""
    return {
        "channel": victim.channel.value,
        "language": victim.language.value,
        "safe_contact": victim.safe_contact,
        "enhanced_rights": victim.enhanced_rights,
        "update_every_days": victim.update_every_days,
        "quiet_hours": as_json_value(Setting.QUIET_HOURS, current(victim, Setting.QUIET_HOURS)),
    }
