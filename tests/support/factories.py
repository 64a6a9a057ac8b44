"""Helpers that register invented people through the real API and sign Twilio webhooks."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from services.settings import Settings

VICTIM = {
    "name": "Rhiannon Prydderch",
    "phone": "07700 900123",
    "channel": "sms",
    "language": "en",
    "date_of_birth": "1984-03-02",
}


# Quiet hours that start and end together: none, so notifications go at once.
NO_QUIET_HOURS = {"start": "00:00", "end": "00:00"}


def quiet_hours_covering_now(hours_ahead: int = 3) -> dict[str, str]:
    """Quiet hours (London clock) that hold now and the next `hours_ahead` hours.

    For tests about something other than notifications: the welcome a registration plans
    then waits, and what the handset receives is only what the test is about.
    """
    now = dt.datetime.now(ZoneInfo("Europe/London"))
    start = now - dt.timedelta(hours=1)
    end = now + dt.timedelta(hours=hours_ahead)
    return {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}


def new_case(client: FlaskClient, auth: dict[str, str], case_ref: str = "CR-2026-0001") -> str:
    response = client.post(
        "/api/cases",
        json={"case_ref": case_ref, "crime_type": "burglary", "officer_in_charge": "PC Ifan Rees"},
        headers=auth,
    )
    assert response.status_code == 201, response.get_json()
    return case_ref


def new_victim(client: FlaskClient, auth: dict[str, str], case_ref: str, **fields: Any) -> int:
    response = client.post(
        f"/api/cases/{case_ref}/victims", json={**VICTIM, **fields}, headers=auth
    )
    assert response.status_code == 201, response.get_json()
    victim_id: int = response.get_json()["victim_id"]
    return victim_id


def new_case_with_quiet_victim(
    client: FlaskClient, auth: dict[str, str], case_ref: str, **fields: Any
) -> int:
    """A case with one victim whose quiet hours hold now.

    Their welcome waits out those hours, so a test about a conversation sees only the
    replies to what it sends. Notifications have tests of their own.
    """
    new_case(client, auth, case_ref)
    return new_victim(client, auth, case_ref, quiet_hours=quiet_hours_covering_now(), **fields)


def message_sid() -> str:
    return "SM" + uuid.uuid4().hex


def inbound_form(sender: str, body: str, sid: str | None = None, **extra: str) -> dict[str, str]:
    """The form Twilio posts for an inbound message."""
    return {
        "MessageSid": sid or message_sid(),
        "AccountSid": "AC" + "de" * 16,
        "From": sender,
        "To": "+447700900000",
        "Body": body,
        "NumMedia": "0",
        **extra,
    }


def signed_post(client: FlaskClient, settings: Settings, path: str, form: dict[str, str]) -> Any:
    """POST `form` to `path` signed as Twilio signs it."""
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(
        settings.public_base_url + path, form
    )
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def mentions(text: str, token: str) -> bool:
    """Whether `token` stands in `text` as a token of its own, not inside a longer run of
    letters and digits: a random id or CSRF token may hold "1984" by chance (one trained
    model's id did, and failed a whole clone's run), and that is not a date of birth."""
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(token)}(?![0-9A-Za-z])", text) is not None
