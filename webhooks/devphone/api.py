"""The Twilio-compatible Messages API (create, list, fetch), checked against Twilio's spec."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import struct
import time
import zlib
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import and_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from models import utcnow
from models.devphone import DevPhoneMessage
from services.runtime import runtime
from webhooks.devphone import callbacks, control, openapi, rules
from webhooks.devphone.resources import API_VERSION, error_json, message_json, new_sid

bp = Blueprint("api", __name__, url_prefix=f"/{API_VERSION}/Accounts/<account_sid>")

INVALID_REQUEST = 60701  # Twilio Messaging's generic "invalid request".


@bp.errorhandler(openapi.SpecMissing)
def _spec_missing(exc: openapi.SpecMissing) -> Response:
    # Never answer unvalidated: without the spec the fake would drift from Twilio unnoticed.
    return error_json(20500, 500, message=str(exc))


def _authenticated(account_sid: str, faults: control.Faults | None = None) -> bool:
    """Whether the request carries the account's Basic auth; `faults`: the faults in force,
    when the caller has read them already (they say which Auth Token is the account's)."""
    rt = runtime()
    settings = rt.settings
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return False
    if faults is None:
        with rt.db.session() as session:
            faults = control.current(session)
    token = control.signing_token(settings, faults)
    return (
        hmac.compare_digest(account_sid, settings.twilio_account_sid)
        and hmac.compare_digest(auth.username or "", settings.twilio_account_sid)
        and hmac.compare_digest(auth.password or "", token)
    )


def _unauthorised() -> Response:
    response = error_json(20003, 401)
    response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    return response


def _answer(op: openapi.Operation, status: int, body: dict[str, Any]) -> Response:
    """Answer `body`, but only once the spec agrees that Twilio could have answered it."""
    problems = op.response_errors(status, body)
    if problems:
        return error_json(20500, 500, message="dev phone answer breaks the spec: " + problems[0])
    response = jsonify(body)
    response.status_code = status
    return response


@bp.post("/Messages.json")
def create(account_sid: str) -> Response:
    rt = runtime()
    # The faults are read once a message, and a failure asked for used up only when one is:
    # every create used to take the database's write lock for it (bench/README.md).
    with rt.db.session() as session:
        faults = control.current(session)
    if not _authenticated(account_sid, faults):
        return _unauthorised()
    op = openapi.operation(openapi.MESSAGES, "post")
    failing = False
    if faults.fail_next > 0:
        with rt.db.session() as session:
            failing = control.take_failure(session)
    if failing:
        code = 20429 if faults.fail_status == 429 else 20500
        return error_json(code, faults.fail_status)
    form = openapi.coerce(
        openapi.form_schema(openapi.MESSAGES, "post"), request.form.items(multi=True)
    )
    verdict = rules.check_create(form, rt.settings)
    if isinstance(verdict, rules.Refusal):
        return error_json(verdict.code, verdict.status, **(verdict.details or {}))
    problems = op.form_errors(form)
    if problems:
        code = 21609 if problems[0].startswith("StatusCallback") else INVALID_REQUEST
        return error_json(code, 400, message=f"Invalid parameter {problems[0]}")
    rejected = faults.reject.get(verdict.recipient.removeprefix("whatsapp:"))
    if rejected:
        return error_json(rejected, 400, to=verdict.recipient, from_=verdict.sender)
    media = form.get("MediaUrl") or []
    now = utcnow()
    whatsapp = verdict.recipient.startswith("whatsapp:")
    body = form.get("Body") or ""
    content_sid = form.get("ContentSid")
    if content_sid:
        template = rt.templates.by_sid(content_sid)
        if template is None:
            return error_json(20404, 404, message=f"Content {content_sid} was not found")
        refusal = rules.template_refusal(template.text, form.get("ContentVariables"))
        if refusal == rules.INVALID_CONTENT_VARIABLES:
            return error_json(refusal, 400, message="The ContentVariables Parameter is invalid")
        if refusal is not None:
            # As WhatsApp does: taken, then failed, since its rules for a template's
            # variables are checked after Twilio has the message.
            faults = dataclasses.replace(
                faults, callback_statuses=["failed"], callback_error_code=refusal
            )
        # The handset shows what WhatsApp would: the approved text, filled in.
        body = template.render(form.get("ContentVariables"))
    elif whatsapp:
        with rt.db.session() as session:
            if not rules.whatsapp_window_open(session, verdict.recipient, now):
                # As WhatsApp does: free text outside the 24-hour window is taken, then fails.
                faults = dataclasses.replace(
                    faults,
                    callback_statuses=["failed"],
                    callback_error_code=rules.OUTSIDE_WINDOW,
                )
    if faults.store_delay_seconds:
        # Slow to take it: a client that gives up meanwhile and asks finds nothing yet.
        time.sleep(faults.store_delay_seconds)
        now = utcnow()
    message = DevPhoneMessage(
        sid=new_sid("MM" if media else "SM"),
        direction="to_handset",
        handset=verdict.recipient,
        service_number=verdict.sender,
        body=body,
        num_media=len(media),
        messaging_service_sid=form.get("MessagingServiceSid"),
        content_sid=form.get("ContentSid"),
        content_variables=form.get("ContentVariables"),
        status="queued",
        status_callback=form.get("StatusCallback"),
        created_at=now,
        updated_at=now,
    )
    with rt.db.session() as session:
        session.add(message)
    # Committed: from here on Twilio "has" the message, whatever happens to this answer.
    callbacks.start(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        message.sid,
        faults,
        whatsapp=whatsapp,
    )
    answer = _answer(op, 201, message_json(message, account_sid))
    if faults.delay_seconds:
        # A slow answer to a message already taken: what a client's timeout or crash meets.
        time.sleep(faults.delay_seconds)
    return answer


def _date_bounds(raw: str) -> tuple[dt.datetime, dt.datetime]:
    """The [start, end) a DateSent value covers: a whole day, or one second."""
    if len(raw) == 10:
        day = dt.datetime.combine(dt.date.fromisoformat(raw), dt.time(), tzinfo=dt.UTC)
        return day, day + dt.timedelta(days=1)
    moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    moment = moment.replace(tzinfo=moment.tzinfo or dt.UTC)
    return moment, moment + dt.timedelta(seconds=1)


def _filters(query: dict[str, Any]) -> list[ColumnElement[bool]]:
    outbound = DevPhoneMessage.direction == "to_handset"
    inbound = DevPhoneMessage.direction == "from_handset"
    where: list[ColumnElement[bool]] = []
    if "To" in query:
        where.append(
            or_(
                and_(outbound, DevPhoneMessage.handset == query["To"]),
                and_(inbound, DevPhoneMessage.service_number == query["To"]),
            )
        )
    if "From" in query:
        where.append(
            or_(
                and_(outbound, DevPhoneMessage.service_number == query["From"]),
                and_(inbound, DevPhoneMessage.handset == query["From"]),
            )
        )
    sent = DevPhoneMessage.sent_at
    if "DateSent" in query:
        # "Sent on this day": the twilio library sends a date as midnight, time and all.
        start, end = _date_bounds(query["DateSent"][:10])
        where += [sent >= start, sent < end]
    if "DateSent<" in query:
        where.append(sent < _date_bounds(query["DateSent<"])[1])
    if "DateSent>" in query:
        where.append(sent >= _date_bounds(query["DateSent>"])[0])
    return where


@bp.get("/Messages.json")
def read(account_sid: str) -> Response:
    if not _authenticated(account_sid):
        return _unauthorised()
    op = openapi.operation(openapi.MESSAGES, "get")
    query = openapi.coerce(
        openapi.query_schema(openapi.MESSAGES, "get"), request.args.items(multi=True)
    )
    problems = op.query_errors(query)
    if problems:
        return error_json(INVALID_REQUEST, 400, message=f"Invalid parameter {problems[0]}")
    try:
        where = _filters(query)
    except ValueError:
        return error_json(INVALID_REQUEST, 400, message="Invalid parameter DateSent")
    size, page = query.get("PageSize", 50), query.get("Page", 0)
    with runtime().db.session() as session:
        rows = session.scalars(
            select(DevPhoneMessage)
            .where(*where)
            .order_by(DevPhoneMessage.created_at.desc(), DevPhoneMessage.id.desc())
            .offset(page * size)
            .limit(size + 1)
        ).all()
    kept = {k: v for k, v in request.args.items() if k in ("To", "From") or k.startswith("Date")}
    base = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json?"

    def page_uri(number: int) -> str:
        return base + urlencode({**kept, "PageSize": size, "Page": number})

    body = {
        "messages": [message_json(m, account_sid) for m in rows[:size]],
        "end": page * size + max(len(rows[:size]) - 1, 0),
        "first_page_uri": page_uri(0),
        "next_page_uri": page_uri(page + 1) if len(rows) > size else None,
        "page": page,
        "page_size": size,
        "previous_page_uri": page_uri(page - 1) if page > 0 else None,
        "start": page * size,
        "uri": page_uri(page),
    }
    return _answer(op, 200, body)


@bp.get("/Messages/<sid>.json")
def fetch(account_sid: str, sid: str) -> Response:
    if not _authenticated(account_sid):
        return _unauthorised()
    op = openapi.operation(openapi.MESSAGE, "get")
    with runtime().db.session() as session:
        message = session.scalar(select(DevPhoneMessage).where(DevPhoneMessage.sid == sid))
    if message is None:
        path = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"
        return error_json(20404, 404, path=path)
    return _answer(op, 200, message_json(message, account_sid))


@bp.get("/Messages/<sid>/Media/<media_sid>")
def media(account_sid: str, sid: str, media_sid: str) -> Response:
    """The picture a handset "attached": Twilio's media URLs need no credentials by default."""
    return Response(_picture(), mimetype="image/png")


def _picture(size: int = 32) -> bytes:
    """A small blue square as a PNG, made here so no binary file lives in the repo."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        payload = kind + data
        return struct.pack(">I", len(data)) + payload + struct.pack(">I", zlib.crc32(payload))

    row = b"\x00" + bytes((0x1D, 0x4E, 0xD8)) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )
