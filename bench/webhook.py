"""CPU per Twilio webhook in-process, path by path, and a cProfile of one (bench/README.md,
"Profile").

Signed POSTs through the Flask test client to a fresh migrated database, from 50 victims'
numbers (so their conversations exist after the warm-up, as in service):

    .venvs/app/bin/python -m bench.webhook [--database-url URL] [--count 500]
                                          [--profile messages|status] [--top 40]

Prints the CPU time (ms) per request of each path, from the floor up:
- `empty`: a POST of the same form to a view that reads it and answers 200, so Flask's and
  the test client's own work (a few tenths of a ms; gunicorn's is not in any row);
- `signature`: the same view behind the X-Twilio-Signature check;
- `/twilio/messages`: an inbound message to an existing conversation, stored, screened,
  committed, the workers nudged (a UDP datagram to the discard port here);
- `/twilio/status`: a delivery status callback ("sent", then "delivered") for an outbound
  message that holds its SID, applied to it.
Then the profile of `--profile`'s path, by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast
from urllib.parse import urlencode

from flask import Flask, Response, request
from flask.testing import FlaskClient
from sqlalchemy import Table, insert, select
from twilio.request_validator import RequestValidator

from bench.pipeline import fresh_database
from models import Author, Conversation, Direction, Message, MessageStatus, utcnow
from services.runtime import Runtime
from services.settings import DEV_AUTH_TOKEN, Settings
from tests.support.factories import inbound_form, message_sid
from webhooks import create_app
from webhooks.twilio import validate_twilio_request

BASE_URL = "http://127.0.0.1:1"
VICTIMS = 50

Request = tuple[str, str, dict[str, str]]  # path, url-encoded form, headers


def sign(path: str, form: dict[str, str]) -> Request:
    signature = RequestValidator(DEV_AUTH_TOKEN).compute_signature(BASE_URL + path, form)
    headers = {
        "X-Twilio-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return path, urlencode(form), headers


def inbound(path: str, count: int) -> list[Request]:
    """`count` signed inbound webhooks to `path`, from +447700900100 to ...149 in turn."""
    return [
        sign(path, inbound_form(f"+4477009001{i % VICTIMS:02d}", "hello there", message_sid()))
        for i in range(count)
    ]


def callbacks(runtime: Runtime, count: int) -> list[Request]:
    """`count` signed status callbacks: "sent" then "delivered" for count/2 new outbound
    messages, each holding its SID (as a send accepted by Twilio leaves it)."""
    messages = cast(Table, Message.__table__)
    with runtime.db.session() as session:
        conversations = session.scalars(select(Conversation.id).order_by(Conversation.id)).all()
        sids = [message_sid() for _ in range(max(1, count // 2))]
        session.execute(
            insert(messages),
            [
                {
                    "conversation_id": conversations[i % len(conversations)],
                    "direction": Direction.OUTBOUND,
                    "author": Author.BOT,
                    "body": "Thank you.",
                    "twilio_sid": sid,
                    "status": MessageStatus.ACCEPTED,
                    "status_at": utcnow(),
                }
                for i, sid in enumerate(sids)
            ],
        )
    out = []
    for status in ("sent", "delivered"):
        for sid in sids:
            form = {
                "MessageSid": sid,
                "SmsSid": sid,
                "MessageStatus": status,
                "SmsStatus": status,
                "AccountSid": "AC" + "0" * 32,
                "From": "+447700900001",
                "To": "+447700900100",
                "ApiVersion": "2010-04-01",
            }
            out.append(sign("/twilio/status", form))
    return out[:count]


def post_all(client: FlaskClient, requests: list[Request]) -> float:
    """CPU seconds of this process per request; SystemExit on any answer but 2xx."""
    start = time.process_time()
    for path, body, headers in requests:
        answer = client.post(path, data=body, headers=headers)
        if answer.status_code >= 300:
            raise SystemExit(f"{path} answered {answer.status_code}: {answer.data!r}")
    return (time.process_time() - start) / len(requests)


def add_floor_views(app: Flask) -> None:
    """The `empty` and `signature` rows' views, on the app before its first request."""

    def empty() -> Response:
        request.form.get("Body")
        return Response("", status=200)

    app.add_url_rule("/bench/empty", "bench_empty", empty, methods=["POST"])
    app.add_url_rule(
        "/bench/signature",
        "bench_signature",
        validate_twilio_request(empty),
        methods=["POST"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server's URL: a fresh database is made on it, and dropped at the "
        "end (default: SQLite in a temporary directory)",
    )
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--profile", choices=["messages", "status"], default="messages")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bench-webhook-") as work,
        fresh_database(args.database_url, Path(work)) as url,
    ):
        run(url, args.count, args.profile, args.top)


def run(url: str, count: int, profiled_path: str, top: int) -> None:
    """Migrate the database at `url`, then measure and profile (see the module's doc)."""
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
    )
    settings = dataclasses.replace(
        Settings.from_env(),
        database_url=url,
        public_base_url=BASE_URL,
        twilio_auth_token=DEV_AUTH_TOKEN,
        worker_wake_addr=("127.0.0.1", 9),
    )
    app = create_app(settings)
    add_floor_views(app)
    runtime: Runtime = app.extensions["runtime"]
    client = app.test_client()
    post_all(client, inbound("/twilio/messages", VICTIMS))  # warm-up: the conversations
    rows: dict[str, Callable[[], list[Request]]] = {
        "empty": lambda: inbound("/bench/empty", count),
        "signature": lambda: inbound("/bench/signature", count),
        "/twilio/messages": lambda: inbound("/twilio/messages", count),
        "/twilio/status": lambda: callbacks(runtime, count),
    }
    post_all(client, callbacks(runtime, 20))  # warm-up: the status path's statements
    print(f"CPU ms per request, {count} requests each, {url.split(':', 1)[0]}:")
    for name, make in rows.items():
        print(f"  {name:<18} {post_all(client, make()) * 1000:7.3f}")
    profiled = rows["/twilio/status" if profiled_path == "status" else "/twilio/messages"]()
    profile = cProfile.Profile()
    profile.enable()
    under = post_all(client, profiled)
    profile.disable()
    print(f"\n{profiled_path}: {under * 1000:.3f} ms per request under cProfile")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(top)
    runtime.close()


if __name__ == "__main__":
    main()
