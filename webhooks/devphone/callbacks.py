"""Status callbacks after a create: Twilio's delivery reports, signed, a little apart."""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any, cast

import requests
from flask import Flask
from requests.adapters import HTTPAdapter
from sqlalchemy import Table, bindparam, func, update
from sqlalchemy.sql.dml import UpdateBase
from twilio.request_validator import RequestValidator
from urllib3.util.retry import Retry

from models import utcnow
from models.devphone import DevPhoneMessage
from services.runtime import Runtime, runtime
from webhooks.devphone import control
from webhooks.devphone.control import Faults
from webhooks.devphone.resources import API_VERSION

log = logging.getLogger(__name__)

FAILED = {"failed", "undelivered"}
SENT_OR_LATER = {"sent", "delivered", "partially_delivered", "read", "undelivered"}


def plan(faults: Faults, whatsapp: bool) -> list[str]:
    """The statuses a message goes through after "queued"."""
    if faults.callback_statuses is not None:
        return list(faults.callback_statuses)
    return ["sent", "delivered", "read"] if whatsapp else ["sent", "delivered"]


def start(app: Flask, sid: str, faults: Faults, whatsapp: bool) -> threading.Thread:
    """Deliver `sid` in the background: advance its stored status and call its callback."""
    statuses = plan(faults, whatsapp)
    rt: Runtime = app.extensions["runtime"]
    return rt.in_background(
        _deliver, app, sid, statuses, faults, name=f"devphone-callbacks-{sid[-6:]}"
    )


def _deliver(app: Flask, sid: str, statuses: list[str], faults: Faults) -> None:
    # The stored status moves forward in order, as Twilio's own record would; with
    # callback_reverse only the reports arrive out of order, as they can from Twilio.
    reports = list(reversed(statuses)) if faults.callback_reverse else statuses
    try:
        with app.app_context():
            rt = runtime()
            for stored, reported in zip(statuses, reports, strict=True):
                time.sleep(faults.callback_interval)
                with rt.db.session() as session:
                    found = session.execute(_advance(sid, stored, faults)).one_or_none()
                if found is None:
                    return  # Gone: the dev phone was reset meanwhile.
                url, service_number, handset = found
                params = {
                    "MessageSid": sid,
                    "SmsSid": sid,
                    "MessageStatus": reported,
                    "SmsStatus": reported,
                    "AccountSid": rt.settings.twilio_account_sid,
                    "From": service_number,
                    "To": handset,
                    "ApiVersion": API_VERSION,
                }
                if reported in FAILED:
                    params["ErrorCode"] = str(faults.callback_error_code)
                if url:
                    post(url, params, control.signing_token(rt.settings, faults))
    except Exception:
        # A background thread has no one to raise to; say so in the log instead.
        log.exception("dev phone: delivering %s stopped", sid)


@functools.cache
def _http() -> requests.Session:
    """One HTTP session for every callback this process sends, made on first use.

    A session (and a connection) per callback cost the web app a connection set-up at both
    ends, twice a message, which production does not pay (bench/README.md, "Profile"). The
    pool blocks rather than opening more than 16 connections. One more try on a connection
    the server closed as it was reused: a callback sent twice is harmless (both are kept;
    the second moves nothing), one lost would leave a message short of its final status.
    """
    adapter = HTTPAdapter(
        pool_connections=4,
        pool_maxsize=16,
        pool_block=True,
        max_retries=Retry(total=1, connect=1, read=1, status=0, allowed_methods=None),
    )
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _advance(sid: str, stored: str, faults: Faults) -> UpdateBase:
    """One UPDATE that moves the stored status on and returns what the callback needs (its
    URL, the service's number, the handset): a status change is one statement, not an ORM
    load and flush (bench/README.md)."""
    table = cast(Table, DevPhoneMessage.__table__)
    now = bindparam("now", utcnow(), type_=table.c.updated_at.type)
    values: dict[str, Any] = {"status": stored, "updated_at": now}
    if stored in SENT_OR_LATER:
        values["sent_at"] = func.coalesce(table.c.sent_at, now)
    if stored in FAILED:
        values["error_code"] = faults.callback_error_code
    return (
        update(table)
        .where(table.c.sid == sid)
        .values(**values)
        .returning(table.c.status_callback, table.c.service_number, table.c.handset)
    )


def post(url: str, params: dict[str, str], auth_token: str) -> int | None:
    """POST a signed form as Twilio does; the HTTP status, or None when it could not connect."""
    signature = RequestValidator(auth_token).compute_signature(url, params)
    headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
    try:
        response = _http().post(url, data=params, headers=headers, timeout=10)
    except requests.RequestException as exc:
        # Twilio too just gives up on a callback it cannot deliver.
        log.warning("dev phone: status callback to %s failed: %s", url, type(exc).__name__)
        return None
    if response.status_code >= 400:
        log.warning("dev phone: status callback to %s answered %s", url, response.status_code)
    return response.status_code
