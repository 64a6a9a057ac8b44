"""A lean stand-in for Twilio's Messages API, for the benches only: no checks of its own.

The dev phone (webhooks/devphone) checks every request and answer against Twilio's OpenAPI
description and moves each message through its statuses in a thread of its own: the right
thing for tests, but on this 2-core machine it cost 7 ms of CPU a message in the pipeline
bench, more than half of what Rasa costs, taken from the same two cores as the service
(bench/README.md, "fourth session"). Twilio's own servers are not on the service's machines.
Issue 12 measured with "a Twilio-compatible API that does no validation of its own"; this
is one, so that the bench measures the service and Rasa, not the stand-in.

What it does, as Twilio does for the service:
- `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`: Basic auth with the account's
  SID and Auth Token (401 otherwise), stores the message (the dev phone's table, so that the
  bench reads replies as before) and answers 201 with the Message resource, "queued";
- `GET` of the same: the stored messages to `To` (the outbox's look-up before a resend);
- the status callbacks: "sent" then "delivered" ("read" too on WhatsApp), CALLBACK_INTERVAL
  seconds apart, signed with the Auth Token, from one thread over kept-alive connections;
- `GET /devphone/control` answers 200 (the bench waits for it); `PUT` takes
  `{"callback_statuses": [...]}` only.

Run by bench.pipeline as `gunicorn 'bench.lean_twilio:create_app()'`, with STANDIN_DATABASE_URL,
TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN in its environment.
"""

from __future__ import annotations

import heapq
import hmac
import itertools
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import requests
from sqlalchemy import insert, select
from twilio.request_validator import RequestValidator
from werkzeug.wrappers import Request, Response

from models import utcnow
from models.db import Database
from models.devphone import DevPhoneMessage
from models.migrate import upgrade
from scripts.layout import APP_BIN
from webhooks.devphone.resources import API_VERSION, message_json

CALLBACK_INTERVAL = 0.3  # seconds between a message's callbacks, as the dev phone's default


class Callbacks:
    """Status callbacks, due at their times, posted in order from one thread."""

    def __init__(self, auth_token: str) -> None:
        self.validator = RequestValidator(auth_token)
        self.http = requests.Session()
        self.due: list[tuple[float, int, str, dict[str, str]]] = []
        self.order = itertools.count()
        self.ready = threading.Condition()
        threading.Thread(target=self._run, name="lean-twilio-callbacks", daemon=True).start()

    def plan(self, url: str, statuses: Iterable[str], params: dict[str, str]) -> None:
        start = time.monotonic()
        with self.ready:
            for n, status in enumerate(statuses, start=1):
                form = {**params, "MessageStatus": status, "SmsStatus": status}
                heapq.heappush(
                    self.due, (start + n * CALLBACK_INTERVAL, next(self.order), url, form)
                )
            self.ready.notify()

    def _run(self) -> None:
        while True:
            with self.ready:
                while not self.due or self.due[0][0] > time.monotonic():
                    self.ready.wait(self.due[0][0] - time.monotonic() if self.due else None)
                _, _, url, form = heapq.heappop(self.due)
            signature = self.validator.compute_signature(url, form)
            try:
                self.http.post(
                    url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10
                )
            except requests.RequestException:
                pass  # Twilio too gives up on a callback it cannot deliver.


class LeanTwilio:
    """The WSGI app."""

    def __init__(
        self,
        database_url: str,
        account_sid: str,
        auth_token: str,
        notify: tuple[str, int] | None = None,
    ) -> None:
        self.db = Database(database_url)
        # Where to say "a message was stored" (bench.pipeline's ReplyWatcher), so that the
        # bench need not poll to learn of a reply: one datagram after each commit.
        self.notify = notify
        self.notifier = socket.socket(socket.AF_INET, socket.SOCK_DGRAM) if notify else None
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.callbacks = Callbacks(auth_token)
        self.statuses: list[str] | None = None  # None: the channel's own sequence
        self.messages_path = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self.route(request)
        return response(environ, start_response)

    def route(self, request: Request) -> Response:
        if request.path == "/devphone/control":
            if request.method == "PUT":
                body = request.get_json(silent=True) or {}
                if set(body) != {"callback_statuses"}:
                    return _json({"message": "only callback_statuses here"}, 400)
                self.statuses = list(body["callback_statuses"])
            return _json({"callback_statuses": self.statuses}, 200)
        path = request.path.removeprefix("/devphone")
        if path != self.messages_path:
            return _json({"code": 20404, "message": "not found", "status": 404}, 404)
        if not self._authenticated(request):
            return _json({"code": 20003, "message": "Authenticate", "status": 401}, 401)
        if request.method == "POST":
            return self._create(request)
        return self._list(request)

    def _authenticated(self, request: Request) -> bool:
        auth = request.authorization
        return (
            auth is not None
            and hmac.compare_digest(auth.username or "", self.account_sid)
            and hmac.compare_digest(auth.password or "", self.auth_token)
        )

    def _create(self, request: Request) -> Response:
        form = request.form
        to, sender = form.get("To", ""), form.get("From", "")
        if not to or not sender:
            return _json(
                {"code": 21604, "message": "'To' and 'From' are required", "status": 400}, 400
            )
        sid = "SM" + uuid.uuid4().hex
        url = form.get("StatusCallback")
        row: dict[str, Any] = {
            "sid": sid,
            "direction": "to_handset",
            "handset": to,
            "service_number": sender,
            "body": form.get("Body", ""),
            "content_sid": form.get("ContentSid"),
            "content_variables": form.get("ContentVariables"),
            "status": "queued",
            "status_callback": url,
            "created_at": utcnow(),
        }
        with self.db.session() as session:
            session.execute(insert(DevPhoneMessage), row)
        if self.notifier is not None and self.notify is not None:
            try:
                self.notifier.sendto(b"m", self.notify)
            except OSError:
                pass  # the bench's poll finds the row anyway
        if url:
            whatsapp = to.startswith("whatsapp:")
            statuses = self.statuses
            if statuses is None:
                statuses = ["sent", "delivered", "read"] if whatsapp else ["sent", "delivered"]
            params = {
                "MessageSid": sid,
                "SmsSid": sid,
                "AccountSid": self.account_sid,
                "From": sender,
                "To": to,
                "ApiVersion": API_VERSION,
            }
            self.callbacks.plan(url, statuses, params)
        return _json(message_json(DevPhoneMessage(**row, num_media=0), self.account_sid), 201)

    def _list(self, request: Request) -> Response:
        to = request.args.get("To", "")
        with self.db.session() as session:
            rows = session.scalars(
                select(DevPhoneMessage)
                .where(DevPhoneMessage.handset == to, DevPhoneMessage.direction == "to_handset")
                .order_by(DevPhoneMessage.id.desc())
                .limit(50)
            ).all()
            messages = [message_json(row, self.account_sid) for row in rows]
        page = {
            "messages": messages,
            "uri": self.messages_path,
            "first_page_uri": self.messages_path,
            "next_page_uri": None,
            "previous_page_uri": None,
            "page": 0,
            "page_size": 50,
            "start": 0,
            "end": max(0, len(messages) - 1),
        }
        return _json(page, 200)


def _json(body: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def command(port: int) -> list[str]:
    """The command that serves it on the loopback at `port`, as the dev phone's stand-in is
    served (scripts/layout.py)."""
    return [
        str(APP_BIN / "gunicorn"),
        "--workers",
        "1",
        "--threads",
        "8",
        "--bind",
        f"127.0.0.1:{port}",
        "bench.lean_twilio:create_app()",
    ]


def create_app() -> LeanTwilio:
    """The app, from the environment bench.pipeline gives it; its database migrated."""
    url = os.environ["STANDIN_DATABASE_URL"]
    upgrade(url)
    host, _, port = os.environ.get("BENCH_NOTIFY_ADDR", "").rpartition(":")
    return LeanTwilio(
        url,
        os.environ["TWILIO_ACCOUNT_SID"],
        os.environ["TWILIO_AUTH_TOKEN"],
        (host, int(port)) if host else None,
    )
