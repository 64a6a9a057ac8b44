"""Registering cases and victims and recording case events: one path for API and console."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    AuditAction,
    Case,
    CaseEvent,
    CaseStatus,
    CaseVictim,
    Channel,
    EventType,
    Language,
    Setting,
    Victim,
    utcnow,
)
from services.casework import notifications, protection
from services.casework.protection import QuietHours
from services.console import audit
from services.console.audit import Actor
from services.errors import Conflict, InvalidField, NotFound
from services.messaging import phones

# Characters no person types and a database may refuse: C0 controls other than tab and line
# breaks (PostgreSQL cannot store NUL: the request would fail with a 500 and its data be
# lost), DEL, and lone UTF-16 surrogates (which JSON can carry and UTF-8 cannot encode).
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

# Each setting's field in the payload; the required ones are always asked for.
_FIELD = {
    Setting.CHANNEL: "channel",
    Setting.LANGUAGE: "language",
    Setting.ENHANCED_RIGHTS: "enhanced_rights",
    Setting.FREQUENCY: "update_every_days",
    Setting.QUIET_HOURS: "quiet_hours",
    Setting.SAFE_CONTACT: "safe_contact",
}
_REQUIRED = frozenset({Setting.CHANNEL, Setting.LANGUAGE})


class KnownVictim(Conflict):
    """The phone belongs to a registered victim, and this registration cannot reuse them
    (HTTP 409). `victim_id` names them for the audit trail, never for the caller."""

    def __init__(self, message: str, victim_id: int) -> None:
        super().__init__(message)
        self.victim_id = victim_id


def storable(value: str) -> bool:
    """Whether text can be stored and shown as it is (no control characters, see above)."""
    return _UNSTORABLE.search(value) is None


def text_field(value: Any, name: str, max_len: int = 200) -> str:
    """A required piece of text, stripped; InvalidField names `name` when it is missing,
    blank, longer than `max_len` characters, or holds characters that cannot be stored."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidField(name, "is required and must be a non-empty string")
    if len(value) > max_len:
        raise InvalidField(name, f"must be at most {max_len} characters")
    if not storable(value):
        raise InvalidField(name, "must not hold control characters (tab and new line are fine)")
    return value.strip()


def _text(payload: dict[str, Any], name: str, max_len: int = 200) -> str:
    return text_field(payload.get(name), name, max_len)


def _choice[E: (Channel, Language, EventType)](
    payload: dict[str, Any], name: str, enum_type: type[E], default: E | None = None
) -> E:
    value = payload.get(name)
    if value is None and default is not None:
        return default
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_type)
        raise InvalidField(name, f"must be one of: {allowed}") from None


def _flag(payload: dict[str, Any], name: str) -> bool:
    value = payload.get(name, False)
    if not isinstance(value, bool):
        raise InvalidField(name, "must be true or false")
    return value


def _clock(value: Any, name: str) -> dt.time:
    if isinstance(value, str) and len(value) == 5:
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidField(name, "must be a time as HH:MM")


def moment(raw: Any, name: str) -> dt.datetime:
    """An ISO 8601 time with its UTC offset (a time without one is ambiguous), or InvalidField."""
    try:
        value = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise InvalidField(name, "must be an ISO 8601 time with a UTC offset")
    try:
        # Stored as UTC: a time at the very edge of the calendar (0001-01-01T00:00+01:00)
        # has no UTC form.
        value.astimezone(dt.UTC)
    except OverflowError:
        raise InvalidField(name, "must be a time between the years 1 and 9999 in UTC") from None
    return value


def find_case(session: Session, case_ref: str) -> Case:
    """The case with this reference, or NotFound."""
    if not storable(case_ref):
        # No case can hold such a reference, and PostgreSQL refuses NUL even in a query.
        raise NotFound(f"no case {case_ref!r}")
    case = session.scalar(select(Case).where(Case.case_ref == case_ref))
    if case is None:
        raise NotFound(f"no case {case_ref!r}")
    return case


def register_case(session: Session, payload: dict[str, Any]) -> Case:
    """Create a case; Conflict when the reference exists."""
    case_ref = _text(payload, "case_ref", 64)
    case = Case(
        case_ref=case_ref,
        crime_type=_text(payload, "crime_type"),
        officer_in_charge=_text(payload, "officer_in_charge"),
    )
    if session.scalar(select(Case.id).where(Case.case_ref == case_ref)) is not None:
        raise Conflict(f"case {case_ref!r} exists already")
    session.add(case)
    session.flush()
    return case


def phone_of(payload: dict[str, Any]) -> str:
    """The registration's phone number in E.164, or InvalidField."""
    phone = phones.normalise(payload.get("phone", ""))
    if phone is None:
        raise InvalidField("phone", "must be a phone number in E.164 or UK form")
    return phone


def victim_with_phone(session: Session, phone: str) -> Victim | None:
    """The registered victim with this number (E.164), if any."""
    return session.scalar(select(Victim).where(Victim.phone == phone))


@dataclass(frozen=True)
class Registration:
    """A victim put on a case: who, whether they were known already, and what registering
    did to their settings (docs/SAFETY.md, "Registering someone already known")."""

    victim: Victim
    case: Case
    known: bool
    merged: protection.Merged

    def as_json(self) -> dict[str, Any]:
        """The 201 of POST /api/cases/<ref>/victims: the settings in force, the ones this
        registration raised, and each one asked for that is not the one in force."""
        return {
            "victim_id": self.victim.id,
            "already_registered": self.known,
            "settings": protection.settings_json(self.victim),
            "raised": [s.value for s in self.merged.raised],
            "differences": [d.as_json() for d in self.merged.differences],
        }

    def summary(self) -> str:
        """The same in words, for the console and the import's report (no personal data)."""
        if not self.known:
            return "registered"
        words = ["already registered on another case"]
        if self.merged.raised:
            raised = ", ".join(s.value for s in self.merged.raised)
            words.append(f"raised to the stricter setting: {raised}")
        if self.merged.differences:
            kept = "; ".join(
                f"{d.setting.value} stays {protection.shown(d.setting, d.in_force)}"
                f" (asked {protection.shown(d.setting, d.requested)})"
                for d in self.merged.differences
            )
            words.append(f"kept as in force: {kept}")
        return "; ".join(words)


def register_victim(
    session: Session, case_ref: str, payload: dict[str, Any], by: Actor = audit.API
) -> Registration:
    """Put a victim on a case; a phone already registered to the same person is reused.

    A person already known keeps the stricter of their settings and those asked for (safe
    contact and enhanced rights only go up; services/casework/protection.stricter), each
    change audited as `by`'s. The API, the console and the CSV import all come here. Who
    may reuse a registered victim is the caller's to decide first (an officer only one they
    may see: services/casework/attach_requests.py). `acknowledges_report: true` makes the
    welcome the Code's Right 3 acknowledgement (notifications.plan_welcome). Raises
    InvalidField, NotFound (the case)
    and KnownVictim (another person's phone, or on the case already).
    """
    case = find_case(session, case_ref)
    name = _text(payload, "name")
    phone = phone_of(payload)
    try:
        date_of_birth = dt.date.fromisoformat(payload.get("date_of_birth") or "")
    except (TypeError, ValueError):
        raise InvalidField("date_of_birth", "must be a date as YYYY-MM-DD") from None
    if date_of_birth > dt.date.today():
        raise InvalidField("date_of_birth", "must not be in the future")
    every = payload.get("update_every_days", 28)
    if not isinstance(every, int) or isinstance(every, bool) or not 1 <= every <= 365:
        raise InvalidField("update_every_days", "must be a whole number of days from 1 to 365")
    quiet = payload.get("quiet_hours", {"start": "20:00", "end": "08:00"})
    if not isinstance(quiet, dict):
        raise InvalidField("quiet_hours", 'must be {"start": "HH:MM", "end": "HH:MM"}')
    quiet_hours = QuietHours(
        _clock(quiet.get("start"), "quiet_hours.start"),
        _clock(quiet.get("end"), "quiet_hours.end"),
    )
    settings: dict[Setting, Any] = {
        Setting.CHANNEL: _choice(payload, "channel", Channel),
        Setting.LANGUAGE: _choice(payload, "language", Language),
        Setting.ENHANCED_RIGHTS: _flag(payload, "enhanced_rights"),
        Setting.FREQUENCY: every,
        Setting.QUIET_HOURS: quiet_hours,
        Setting.SAFE_CONTACT: _flag(payload, "safe_contact"),
    }
    # The Code's Right 3: the welcome is the written acknowledgement of the report.
    acknowledges_report = _flag(payload, "acknowledges_report")
    # What the caller asked for; a setting left out asks for nothing.
    asked = {s: v for s, v in settings.items() if _FIELD[s] in payload or s in _REQUIRED}

    victim = victim_with_phone(session, phone)
    merged = protection.Merged([], [])
    if victim is None:
        victim = Victim(
            name=name,
            phone=phone,
            date_of_birth=date_of_birth,
            channel=settings[Setting.CHANNEL],
            language=settings[Setting.LANGUAGE],
            enhanced_rights=settings[Setting.ENHANCED_RIGHTS],
            update_every_days=every,
            quiet_start=quiet_hours.start,
            quiet_end=quiet_hours.end,
            safe_contact=settings[Setting.SAFE_CONTACT],
        )
        session.add(victim)
        session.flush()
        known = False
    elif victim.date_of_birth != date_of_birth or victim.name.casefold() != name.casefold():
        # A shared phone: case details must never reach another person's handset, so a
        # second person cannot be registered on a number that belongs to someone else.
        raise KnownVictim("phone is registered to another victim", victim.id)
    elif session.scalar(
        select(CaseVictim.id).where(
            CaseVictim.case_id == case.id, CaseVictim.victim_id == victim.id
        )
    ):
        raise KnownVictim("this victim is on this case already", victim.id)
    else:
        # Known already: the stricter of each protective setting stays in force; the rest
        # stay as the victim has them (they may have changed them by text), and are reported.
        known = True
        merged = protection.merge(
            session, victim, asked, by, why=f" (registered on case {case.case_ref})"
        )
    session.add(CaseVictim(case_id=case.id, victim_id=victim.id))
    session.flush()
    registration = Registration(victim, case, known, merged)
    audit.record_by(
        session,
        by,
        AuditAction.REGISTER_VICTIM,
        victim_id=victim.id,
        case_id=case.id,
        detail=registration.summary(),
    )
    # Welcomed once per case: each welcome names its own case (unless safe contact is on).
    notifications.plan_welcome(session, case, victim, acknowledges_report)
    return registration


def record_event(
    session: Session, case_ref: str, payload: dict[str, Any], recorded_by: str | None = None
) -> CaseEvent:
    """Store a case event and its plain-language summary; plan the notifications it needs."""
    case = find_case(session, case_ref)
    event_type = _choice(payload, "type", EventType)
    occurred_at = moment(payload.get("occurred_at"), "occurred_at")
    event = CaseEvent(
        case_id=case.id,
        type=event_type,
        occurred_at=occurred_at,
        summary=_text(payload, "summary", 1000),
        summary_cy=_text(payload, "summary_cy", 1000) if "summary_cy" in payload else None,
        recorded_by=recorded_by,
    )
    session.add(event)
    session.flush()
    notifications.plan_for_event(session, event)
    return event


def close_case(session: Session, case_ref: str) -> Case:
    """Close a case; each victim on it gets the closing message and satisfaction survey.

    Closing twice is harmless: the second changes nothing and plans nothing.
    """
    case = find_case(session, case_ref)
    if case.status is CaseStatus.CLOSED:
        return case
    case.status = CaseStatus.CLOSED
    case.closed_at = utcnow()
    # Routine contact about a closed case is pointless; news (a Code decision, an update a
    # person wrote) still goes, before the closing message.
    routine = [n for n in notifications.for_case(session, case) if n.kind in notifications.ROUTINE]
    notifications.cancel_pending(session, routine, "the case closed before it went")
    notifications.plan_closing(session, case)
    return case
