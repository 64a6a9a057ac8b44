"""Fault injection: what the fake Twilio should get wrong next, shared by every process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, jsonify, request
from jsonschema import Draft202012Validator
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import utcnow
from models.devphone import DevPhoneControl
from services.runtime import runtime
from services.settings import Settings

bp = Blueprint("control", __name__)

ROW_ID = 1
# Every status Twilio documents for a message (its API's `message_enum_status`).
STATUSES = [
    "accepted",
    "scheduled",
    "canceled",
    "queued",
    "sending",
    "sent",
    "delivered",
    "partially_delivered",
    "undelivered",
    "failed",
    "receiving",
    "received",
    "read",
]

# What PUT /devphone/control accepts; every key is optional and replaces the stored one.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "fail_next": {"type": "integer", "minimum": 0},
        "fail_status": {"enum": [429, 500, 502, 503]},
        "reject": {
            "type": "object",
            "propertyNames": {"pattern": r"^\+[1-9][0-9]{1,14}$"},
            "additionalProperties": {"type": "integer", "minimum": 10000, "maximum": 99999},
        },
        "delay_seconds": {"type": "number", "minimum": 0, "maximum": 60},
        "store_delay_seconds": {"type": "number", "minimum": 0, "maximum": 60},
        "callback_statuses": {"type": "array", "items": {"enum": STATUSES}},
        "callback_interval": {"type": "number", "minimum": 0, "maximum": 10},
        "callback_reverse": {"type": "boolean"},
        "callback_error_code": {"type": "integer", "minimum": 10000, "maximum": 99999},
        "promoted": {"type": "boolean"},
    },
}
VALIDATOR = Draft202012Validator(SCHEMA)


@dataclass(frozen=True)
class Faults:
    """The faults in force (defaults: none, and callbacks a few hundred ms apart)."""

    fail_next: int = 0
    fail_status: int = 500
    reject: dict[str, int] = field(default_factory=dict)
    delay_seconds: float = 0.0
    # Twilio slow to take a message: it is stored only after this long (then answered),
    # so a client that gave up waiting and asks at once finds nothing yet.
    store_delay_seconds: float = 0.0
    # None: the channel's own sequence (sent, delivered, and read on WhatsApp).
    callback_statuses: list[str] | None = None
    callback_interval: float = 0.3
    callback_reverse: bool = False
    callback_error_code: int = 30003
    # Mid-rotation: the secondary Auth Token has been promoted, so the REST API takes only
    # TWILIO_AUTH_TOKEN_SECONDARY and webhooks are signed with it (signing_token).
    promoted: bool = False

    def as_json(self) -> dict[str, Any]:
        """Every setting, defaults included, as GET shows them."""
        return dict(self.__dict__)


def current(session: Session) -> Faults:
    """The faults in force now."""
    row = session.get(DevPhoneControl, ROW_ID)
    if row is None:
        return Faults()
    return Faults(fail_next=row.fail_next, **row.faults)


def signing_token(settings: Settings, faults: Faults) -> str:
    """The Auth Token the fake Twilio account has now: what it signs with and takes."""
    if faults.promoted and settings.twilio_auth_token_secondary:
        return settings.twilio_auth_token_secondary
    return settings.twilio_auth_token


def take_failure(session: Session) -> bool:
    """Use up one of `fail_next`, if any is left; True when this create must fail."""
    # One conditional UPDATE, so that two workers racing never both take the last one.
    result = session.execute(
        update(DevPhoneControl)
        .where(DevPhoneControl.id == ROW_ID, DevPhoneControl.fail_next > 0)
        .values(fail_next=DevPhoneControl.fail_next - 1)
    )
    return bool(getattr(result, "rowcount", 0))


def _row(session: Session) -> DevPhoneControl:
    row = session.scalar(select(DevPhoneControl).where(DevPhoneControl.id == ROW_ID))
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = DevPhoneControl(id=ROW_ID, fail_next=0, faults={})
            session.add(row)
    except IntegrityError:
        # Another process made the row first.
        row = session.get(DevPhoneControl, ROW_ID)
        assert row is not None
    return row


@bp.get("/control")
def show() -> Response:
    with runtime().db.session() as session:
        return jsonify(current(session).as_json())


@bp.put("/control")
def change() -> Response | tuple[Response, int]:
    payload = request.get_json(silent=True)
    errors = [e.message for e in VALIDATOR.iter_errors(payload)] if payload is not None else []
    if payload is None or errors:
        return jsonify(error="; ".join(errors) or "a JSON object is required"), 400
    with runtime().db.session() as session:
        row = _row(session)
        if "fail_next" in payload:
            row.fail_next = payload.pop("fail_next")
        row.faults = {**row.faults, **payload}
        row.updated_at = utcnow()
        session.flush()
        return jsonify(current(session).as_json())


@bp.delete("/control")
def reset() -> Response:
    with runtime().db.session() as session:
        row = _row(session)
        row.fail_next, row.faults, row.updated_at = 0, {}, utcnow()
        session.flush()
        return jsonify(current(session).as_json())
