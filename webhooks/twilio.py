"""Twilio's webhooks (contract): inbound messages and delivery status callbacks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, request
from twilio.request_validator import RequestValidator

from services.casework import notifications
from services.conversations import arrival
from services.errors import InvalidField
from services.identity import verification
from services.messaging import inbound, wake
from services.runtime import runtime

bp = Blueprint("twilio", __name__, url_prefix="/twilio")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def validate_twilio_request[F: Callable[..., Any]](view: F) -> F:
    """Refuse (403) a request whose X-Twilio-Signature does not match PUBLIC_BASE_URL + path,
    signed with TWILIO_AUTH_TOKEN or, while it is set, TWILIO_AUTH_TOKEN_SECONDARY."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        settings = runtime().settings
        url = settings.public_base_url + request.path
        if request.query_string:
            url += "?" + request.query_string.decode()
        signature = request.headers.get("X-Twilio-Signature", "")
        # During an Auth Token rotation Twilio signs with whichever token is its primary at
        # that moment: both are ours until the rotation is over (README.md).
        tokens = [settings.twilio_auth_token, settings.twilio_auth_token_secondary]
        if not signature or not any(
            RequestValidator(token).validate(url, request.form, signature)
            for token in tokens
            if token
        ):
            abort(403)
        return view(*args, **kwargs)

    return checked  # type: ignore[return-value]


def _twiml() -> Response:
    return Response(EMPTY_TWIML, status=200, mimetype="text/xml")


@bp.errorhandler(InvalidField)
def _invalid(exc: InvalidField) -> Response:
    return Response(f"bad request: {exc}", status=400, mimetype="text/plain")


@bp.post("/messages")
@validate_twilio_request
def messages() -> Response:
    rt = runtime()
    with rt.db.session() as session:
        stored = inbound.store_message(
            session, request.form, screen=verification.on_arrival(rt.settings)
        )
        if stored.message_id is not None:
            # Danger and the carrier keywords are dealt with now, in the same transaction:
            # the 999 guidance and the urgent handoff never wait for the message's turn.
            arrival.screen_stored(
                session, stored.message_id, stored.body, request.form.get("OptOutType")
            )
    # Stored and committed: only now do we answer 2xx. The replies go out by the REST API
    # once a worker has sent them (an urgent one by the first worker free).
    if not stored.duplicate:
        rt.waker.nudge()
    return _twiml()


@bp.post("/status")
@validate_twilio_request
def status() -> Response:
    rt = runtime()
    with rt.db.session() as session:
        inbound.record_status(session, request.form, notifications.settle)
    # A failure may have written work for the workers (news going again by SMS when WhatsApp
    # did not deliver it): committed, they are woken for it, as for an inbound message.
    if wake.take_new_work(session):
        rt.waker.nudge()
    return Response("", status=204)
