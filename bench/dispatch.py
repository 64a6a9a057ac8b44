"""`make bench`: how fast due notifications go out, against the dev phone.

    .venvs/app/bin/python -m bench.dispatch [--notifications 10000] [--rate 100]
                                            [--database-url postgresql+psycopg://...]

Two runs, each with a fresh database, the web app (the dev phone) under gunicorn as
`make run` starts it, and its worker processes (`scripts.layout.worker_count`: two with
the rate limit off, one at a rate, since the bench runs no Redis to share it):

1. **Throughput, rate limit off.** N victims on cases, each with a welcome handed to the
   outbox at once (`hand_over_due`, timed too); then the workers start, and the time until
   Twilio (the dev phone) has taken every message gives messages per second. The dev phone's
   status callbacks are off, so that only the sending side is measured. Target: 200 a second.
2. **A burst at the rate limit.** The same N, at `--rate` messages per second from our one SMS
   number; while it drains, a victim texts HELP every few seconds, and the time to each
   answer shows that replies go ahead of the burst. Prints the rate achieved.

It prints figures and fails nothing on a slow machine; it exits 1 only when it cannot start.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import shlex
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import requests
from sqlalchemy import func, insert, select

from bench import lean_twilio
from bench.pipeline import (
    NOT_INHERITED,
    TWILIO,
    WEBHOOK_PATH,
    Signer,
    free_port,
    fresh_database,
    measure,
    say,
    worker_names,
)
from models import (
    Case,
    CaseVictim,
    Channel,
    Direction,
    Language,
    Message,
    MessageStatus,
    Notification,
    NotificationKind,
    NotificationStatus,
    Victim,
    utcnow,
)
from models.db import Database
from models.migrate import upgrade
from scripts import layout
from services.casework import notifications
from services.settings import DEV_ACCOUNT_SID, DEV_AUTH_TOKEN
from tests.support.processes import Process, base_env

FIRST = 447700900000  # Ofcom's drama range: +447700900000 to +447700900999, nothing else.


def seed(db: Database, count: int) -> None:
    """Victims on a case and `count` welcomes due now, by bulk inserts (the set-up is not what
    is measured). Ofcom's drama range has 1,000 numbers, so at most 1,000 victims; beyond
    that, each victim has several notifications (and the worker drains 1,000 conversations).
    The last number is kept for the victim who texts HELP during the burst."""
    now = utcnow()
    with db.session() as session:
        case_id = session.execute(
            insert(Case)
            .values(
                case_ref="BENCH-DISPATCH",
                crime_type="burglary",
                officer_in_charge="PC Ifan Rees",
                status="open",
            )
            .returning(Case.id)
        ).scalar_one()
        victims = [
            {
                "name": f"Dioddefwr {i}",
                "phone": f"+{FIRST + i}",
                "channel": Channel.SMS,
                "language": Language.EN if i % 2 else Language.CY,
                "date_of_birth": now.date().replace(year=1980),
                "safe_contact": False,
                "enhanced_rights": False,
                "update_every_days": 28,
                # No quiet hours: the bench may run at night.
                "quiet_start": dt.time(0, 0),
                "quiet_end": dt.time(0, 0),
            }
            for i in range(min(count, 999))
        ]
        ids = list(session.scalars(insert(Victim).returning(Victim.id), victims))
        session.execute(insert(CaseVictim), [{"case_id": case_id, "victim_id": v} for v in ids])
        rows = [
            {
                "victim_id": ids[i % len(ids)],
                "case_id": case_id,
                "kind": NotificationKind.WELCOME,
                "send_at": now,
                "status": NotificationStatus.PENDING,
                "created_at": now,
            }
            for i in range(count)
        ]
        session.execute(insert(Notification), rows)


def outstanding(db: Database) -> int:
    with db.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Message)
                .where(
                    Message.direction == Direction.OUTBOUND,
                    Message.status.in_([MessageStatus.PENDING, MessageStatus.SUBMITTING]),
                )
            )
            or 0
        )


@contextlib.contextmanager
def web_and_worker(work: Path, database_url: str, rate: float) -> Iterator[str]:
    """The web app and its workers as `make run` starts them, sending to Twilio's lean
    stand-in (bench/lean_twilio.py) in a process of its own, with its status callbacks off:
    only the sending side is measured, and the stand-in's CPU is not the web app's."""
    port, twilio_port, wake = free_port(), free_port(), free_port(socket.SOCK_DGRAM)
    base = f"http://127.0.0.1:{port}"
    twilio_url = f"http://127.0.0.1:{twilio_port}"
    env = base_env(
        DATABASE_URL=database_url,
        PORT=str(port),
        PUBLIC_BASE_URL=base,
        TWILIO_API_BASE_URL=f"{twilio_url}/devphone",
        API_TOKEN="bench-dispatch",
        SECRET_KEY="bench-dispatch",
        WORKER_WAKE_ADDR=f"127.0.0.1:{wake}",
        SEND_RATE_PER_SECOND=str(rate),
    )
    for name in NOT_INHERITED:
        env.pop(name, None)
    standin_env = {
        **env,
        "STANDIN_DATABASE_URL": f"sqlite:///{work / 'twilio-standin.db'}",
        # The credentials the service has when none is given: the dev phone's.
        "TWILIO_ACCOUNT_SID": DEV_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": DEV_AUTH_TOKEN,
    }
    commands = layout.commands(
        layout.single_layout(
            port,
            free_port(),
            f"http://127.0.0.1:{free_port()}/webhook",
            work / "unused",
            send_rate=rate,
        )
    )
    twilio = Process(TWILIO, lean_twilio.command(twilio_port), standin_env, work)
    try:
        twilio.wait_http(f"{twilio_url}/devphone/control", timeout=120)
        requests.put(f"{twilio_url}/devphone/control", json={"callback_statuses": []}, timeout=10)
        web = Process("web", shlex.split(commands["web"]), env, work)
        try:
            # The web app's own dev phone answers once it is up (it is not what the workers
            # send to); the clock starts as the workers do, as before.
            web.wait_http(f"{base}/devphone/control", timeout=120)
            workers = [
                Process(name, shlex.split(commands[name]), env, work)
                for name in worker_names(commands)
            ]
            try:
                yield base
            finally:
                for worker in workers:
                    worker.stop()
        finally:
            web.stop()
    finally:
        twilio.stop()


def run(work: Path, database_url: str, count: int, rate: float) -> float:
    """Send `count` due notifications at `rate` a second (0: no limit); messages a second."""
    upgrade(database_url)
    db = Database(database_url)
    try:
        seed(db, count)
        started = time.monotonic()
        handed = 0
        while True:
            step = notifications.hand_over_due(db, None, limit=2000)
            if not step:
                break
            handed += step
        took = time.monotonic() - started
        say(
            f"  hand_over_due: {handed} notifications into the outbox in {took:.1f} s "
            f"({handed / took:.0f}/s)"
        )
        with web_and_worker(work, database_url, rate) as base:
            started = time.monotonic()
            replies: list[float] = []
            last_help = started
            while (left := outstanding(db)) > 0:
                if rate and time.monotonic() - last_help > 5:
                    replies.append(ask_help(base, db))
                    last_help = time.monotonic()
                if time.monotonic() - started > 1800:
                    say(f"  gave up after 30 minutes with {left} unsent")
                    break
                time.sleep(0.2)
            took = time.monotonic() - started
        sent = count - outstanding(db)
        label = f"rate limit {rate:g}/s" if rate else "rate limit off"
        say(f"  dispatch ({label}): {sent} messages in {took:.1f} s = {sent / took:.0f} msg/s")
        if replies:
            say("  HELP answered during the burst in: " + ", ".join(f"{r:.2f} s" for r in replies))
        return sent / took
    finally:
        db.dispose()


def _answers(db: Database) -> int:
    with db.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Message)
                .where(
                    Message.direction == Direction.OUTBOUND,
                    Message.reply_to_id.is_not(None),
                    Message.status == MessageStatus.ACCEPTED,
                )
            )
            or 0
        )


def ask_help(base: str, db: Database) -> float:
    """Text HELP from a victim (a signed webhook, as Twilio sends it); seconds until Twilio
    (its stand-in) takes the answer."""
    before, answered = time.monotonic(), _answers(db)
    _sid, body, headers = Signer(base).request(f"+{FIRST + 999}", "HELP")
    response = requests.post(base + WEBHOOK_PATH, data=body, headers=headers, timeout=30)
    if response.status_code != 200:
        say(f"  HELP: the webhook answered {response.status_code}")
        return float("inf")
    while time.monotonic() - before < 60:
        if _answers(db) > answered:
            return time.monotonic() - before
        time.sleep(0.05)
    return float("inf")


def runs(work: Path, database_url: str | None, notifications: int, rate: float) -> list[float]:
    """`notifications` due notifications with the rate limit off, then at `rate` segments a
    second, each on a fresh database (SQLite in `work`, or on `database_url`'s PostgreSQL
    server): the messages a second of each run, in that order."""
    rates = []
    for limit in (0.0, rate):
        run_dir = work / f"dispatch-{limit:g}"
        run_dir.mkdir()
        with fresh_database(database_url, run_dir) as url:
            say(
                f"{notifications} due notifications, "
                f"{'no rate limit' if not limit else f'{limit:g}/s'}:"
            )
            rates.append(run(run_dir, url, notifications, limit))
    return rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument(
        "--rate", type=float, default=100.0, help="messages per second per sender in the second run"
    )
    parser.add_argument(
        "--database-url", default=None, help="a PostgreSQL server URL to run on instead of SQLite"
    )
    args = parser.parse_args(argv)

    def body(work: Path) -> list[str]:
        rates = runs(work, args.database_url, args.notifications, args.rate)
        return [
            f"dispatch: {rates[0]:.0f} msg/s with the rate limit off, "
            f"{rates[1]:.0f} msg/s at {args.rate:g}/s",
            "target: at least 200 messages a second with the rate limit off",
        ]

    return measure("bench-dispatch-", body)


if __name__ == "__main__":
    raise SystemExit(main())
