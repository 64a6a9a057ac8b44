"""The handset: a page to text the service as a victim would, and the thread it sees."""

from __future__ import annotations

import re
from typing import Any

import requests
from flask import Blueprint, Response, jsonify, render_template, request
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from models import Channel, Victim, channel_address, utcnow
from models.devphone import DevPhoneMessage
from services.messaging import phones
from services.messaging.segments import segments
from services.messaging.twilio_gateway import sender_address
from services.runtime import runtime
from services.settings import Settings
from webhooks.devphone import control
from webhooks.devphone.resources import API_VERSION, new_sid
from webhooks.devphone.rules import MAX_BODY

bp = Blueprint("handset", __name__)

DRAMA = re.compile(r"\+447700900\d{3}")
SID = re.compile(r"(SM|MM)[0-9a-f]{32}")
MAX_MEDIA = 10


# What `fields` may not change: who sent it, to whom, and which message it is.
FIXED_FIELDS = frozenset(
    {"MessageSid", "SmsSid", "SmsMessageSid", "AccountSid", "From", "To", "NumMedia"}
)
FIELD_NAME = re.compile(r"[A-Z][A-Za-z0-9]{0,39}")
MAX_FIELDS = 40


def handset_address(raw: object, channel: Channel) -> str | None:
    """Who the handset sends as: a drama number, or on SMS a sender that is no one's phone
    (an alphanumeric sender ID such as PARCELCO, or a short code), as Twilio writes it."""
    number = drama_number(raw)
    if number is not None:
        return number
    if channel is Channel.SMS and isinstance(raw, str):
        kind = phones.sender_kind(raw)
        if kind in (phones.SenderKind.ALPHANUMERIC, phones.SenderKind.SHORT_CODE):
            return raw
    return None


def extra_fields(raw: object) -> dict[str, str] | str:
    """The extra webhook fields a send asked for, or what is wrong with them."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > MAX_FIELDS:
        return f"fields must be an object of at most {MAX_FIELDS} names and texts"
    for name, value in raw.items():
        if not FIELD_NAME.fullmatch(name) or name in FIXED_FIELDS:
            return f"fields: {name!r} is not a field the handset may set"
        if not isinstance(value, str) or len(value) > MAX_BODY:
            return f"fields: {name} must be text of at most {MAX_BODY} characters"
    return dict(raw)


def drama_number(raw: object) -> str | None:
    """An Ofcom drama number (+447700900000 to +447700900999) in E.164, or None."""
    if not isinstance(raw, str):
        return None
    compact = re.sub(r"[\s().-]", "", raw)
    if compact.startswith("07700"):
        compact = "+44" + compact[1:]
    elif compact.startswith("447700"):
        compact = "+" + compact  # A "+" left unescaped in a query string arrives as a space.
    return compact if DRAMA.fullmatch(compact) else None


def inbound_form(
    settings: Settings,
    sid: str,
    handset: str,
    channel: Channel,
    body: str,
    num_media: int,
    profile_name: str,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The inbound webhook's form, field for field as Twilio sends it, and then `extra`: a
    location's Latitude and Longitude, a MessageType, a button's ButtonText, and so on."""
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": settings.twilio_account_sid,
        "From": channel_address(channel, handset),
        "To": sender_address(settings, channel),
        "Body": body,
        "NumMedia": str(num_media),
        "NumSegments": "1" if channel is Channel.WHATSAPP else str(segments(body)),
        "SmsStatus": "received",
        "ApiVersion": API_VERSION,
    }
    if channel is Channel.WHATSAPP:
        form |= {
            "ProfileName": profile_name,
            "WaId": handset.removeprefix("+"),
            "MessageType": "image" if num_media else "text",
        }
    base = f"{settings.public_base_url}/devphone/{API_VERSION}/Accounts/"
    for index in range(num_media):
        form[f"MediaUrl{index}"] = (
            f"{base}{settings.twilio_account_sid}/Messages/{sid}/Media/ME{sid[2:]}"
        )
        form[f"MediaContentType{index}"] = "image/png"
    return form | (extra or {})


def _bad(error: str) -> tuple[Response, int]:
    return jsonify(error=error), 400


@bp.get("")
def page() -> str:
    with runtime().db.session() as session:
        # Only drama numbers: the dev phone never pretends to be a real person's phone.
        victims = session.scalars(
            select(Victim).where(Victim.phone.like("+447700900%")).order_by(Victim.name)
        ).all()
        choices = [{"name": v.name, "phone": v.phone, "channel": v.channel.value} for v in victims]
    # ?handset=...&channel=... opens the page on that thread: handy as a link in a demo script.
    channel = request.args.get("channel")
    return render_template(
        "devphone/handset.html",
        victims=choices,
        handset=drama_number(request.args.get("handset", "")) or "",
        channel=channel if channel in ("sms", "whatsapp") else "sms",
    )


@bp.post("/send")
def send() -> Response | tuple[Response, int]:
    payload: Any = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _bad("send a JSON object: handset, channel, body, num_media, fields")
    if payload.get("channel") not in ("sms", "whatsapp"):
        return _bad("channel must be sms or whatsapp")
    channel = Channel(payload["channel"])
    handset = handset_address(payload.get("handset"), channel)
    if handset is None:
        return _bad(
            "handset must be a drama number, +447700900000 to +447700900999 (or, on SMS, "
            "an alphanumeric sender ID or a short code)"
        )
    extra = extra_fields(payload.get("fields"))
    if isinstance(extra, str):
        return _bad(extra)
    body, num_media = payload.get("body", ""), payload.get("num_media", 0)
    if (
        not isinstance(num_media, int)
        or isinstance(num_media, bool)
        or not (0 <= num_media <= MAX_MEDIA)
    ):
        return _bad(f"num_media must be a whole number from 0 to {MAX_MEDIA}")
    if not isinstance(body, str) or len(body) > MAX_BODY:
        return _bad(f"body must be text of at most {MAX_BODY} characters")
    if not body.strip() and not num_media and not extra:
        return _bad("body is required (or attach a picture, or give fields)")
    sid = payload.get("sid") or new_sid("MM" if num_media else "SM")
    if not isinstance(sid, str) or not SID.fullmatch(sid):
        return _bad("sid must be SM or MM and 32 lowercase hex digits")
    rt = runtime()
    address = channel_address(channel, handset)
    with rt.db.session() as session:
        victim = session.scalar(select(Victim).where(Victim.phone == handset))
        profile_name = victim.name if victim else "Dev phone"
        # A resend (Twilio retrying its webhook) is the same message: the handset shows it once.
        if session.scalar(select(DevPhoneMessage.id).where(DevPhoneMessage.sid == sid)) is None:
            now = utcnow()
            session.add(
                DevPhoneMessage(
                    sid=sid,
                    direction="from_handset",
                    handset=address,
                    service_number=sender_address(rt.settings, channel),
                    body=body,
                    num_media=num_media,
                    status="sending",
                    created_at=now,
                    sent_at=now,
                    updated_at=now,
                )
            )
    form = inbound_form(rt.settings, sid, handset, channel, body, num_media, profile_name, extra)
    with rt.db.session() as session:
        token = control.signing_token(rt.settings, control.current(session))
    webhook_status = _post_webhook(rt.settings, form, token)
    with rt.db.session() as session:
        message = session.scalar(select(DevPhoneMessage).where(DevPhoneMessage.sid == sid))
        if message is not None:
            ok = webhook_status is not None and webhook_status < 300
            message.status = "received" if ok else "failed"
            # 11200: Twilio's "HTTP retrieval failure", what its debugger shows for a bad webhook.
            message.error_code = None if ok else 11200
            message.updated_at = utcnow()
    if webhook_status is None:
        return jsonify(sid=sid, webhook_status=None, error="our webhook did not answer"), 502
    return jsonify(sid=sid, webhook_status=webhook_status)


def _post_webhook(settings: Settings, form: dict[str, str], token: str) -> int | None:
    """POST the form, signed with `token`, to our inbound webhook over real HTTP; its
    status or None."""
    url = settings.public_base_url + "/twilio/messages"
    signature = RequestValidator(token).compute_signature(url, form)
    headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
    try:
        with requests.Session() as http:
            return http.post(url, data=form, headers=headers, timeout=15).status_code
    except requests.RequestException:
        return None


@bp.get("/thread")
def thread() -> Response | tuple[Response, int]:
    channel = request.args.get("channel", "sms")
    if channel not in ("sms", "whatsapp"):
        return _bad("give handset (a drama number) and channel (sms or whatsapp)")
    handset = handset_address(request.args.get("handset", ""), Channel(channel))
    if handset is None:
        return _bad("give handset (a drama number) and channel (sms or whatsapp)")
    address = channel_address(Channel(channel), handset)
    with runtime().db.session() as session:
        messages = session.scalars(
            select(DevPhoneMessage)
            .where(DevPhoneMessage.handset == address)
            .order_by(DevPhoneMessage.created_at, DevPhoneMessage.id)
        ).all()
        return jsonify(
            [
                {
                    "sid": m.sid,
                    "direction": m.direction,
                    "body": m.body,
                    "status": m.status,
                    "error_code": m.error_code,
                    "num_media": m.num_media,
                    "created_at": m.created_at.isoformat(),
                }
                for m in messages
            ]
        )
