"""`make bench`: the message pipeline's figures, measured on the whole real stack.

    .venvs/app/bin/python -m bench.pipeline [--database-url postgresql+psycopg://...]
                                            [--twilio lean|devphone]

Starts the action server, `rasa run` with the trained model, the web app under gunicorn
exactly as `make run` starts it, its workers and the scheduler, on free ports, with
a fresh database in a temporary directory; and, standing in for Twilio, a server of its own
with its own SQLite file, so that its CPU is counted apart from the web app's: by default
bench/lean_twilio.py, a Twilio-compatible API with no checks of its own, as issue 12
measured; with `--twilio devphone` the dev phone, as `make run-prod` runs it
(scripts/twilio_standin.py), checking every request against Twilio's OpenAPI description.
It registers invented victims through the API, then measures:

1. how fast the inbound webhook is acknowledged: one sender at a time, then when 100
   senders post at the same moment, several rounds in a row, while the worker and Rasa are
   still busy with the earlier rounds;
2. end-to-end reply latency and throughput at a fixed concurrency (webhook POST to the
   reply reaching the fake Twilio), against the same messages sent straight to Rasa's REST
   channel at the same concurrency; where a pipeline message's time goes, from the app's
   own timestamps; and the CPU time each process spends per message.

It prints figures and a summary against the targets. Nothing about timing is asserted: a
slow machine gets slow figures and exit status 0. It exits non-zero only when the stack
cannot be started or answers no message at all. Every process is stopped at the end, on
an error, on Ctrl-C and on SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import http.client
import os
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from sqlalchemy import bindparam, create_engine, func, or_, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import aliased
from twilio.request_validator import RequestValidator

from bench import lean_twilio
from models import Conversation, DeliveryEvent, DevPhoneMessage, Direction, Message, MessageStatus
from models.db import Database
from models.migrate import upgrade
from scripts import layout
from services.conversations.processing import REPEAT_LIMIT
from services.settings import DEV_ACCOUNT_SID, DEV_AUTH_TOKEN
from tests.support.factories import inbound_form, message_sid
from tests.support.ports import spare_port
from tests.support.processes import APP_PY, ROOT, Process, base_env, require_built

WEBHOOK_PATH = "/twilio/messages"
FIRST_NUMBER = 900100  # +447700900100 onwards: Ofcom's drama range, nothing else.
MAX_VICTIMS = 100
CASE_REF = "BENCH-0001"

# The same bodies, in the same order, for the pipeline and for Rasa alone: greetings,
# goodbyes and messages the model does not understand (fallbacks). No keyword (STOP, HELP,
# YES, ...) is among them, so every one of them goes to Rasa.
BODIES = (
    "hello",
    "what time does the court open on saturdays",
    "good morning",
    "asdf qwerty zxcv",
    "hi there",
    "can you recommend a good pizza place",
    "bye",
    "my neighbour's cat keeps sitting on my car",
)
# The bursts' bodies, one a round (the first for the one-at-a-time round): none of BODIES,
# and none twice, so no victim sends the same text a fourth time in ten minutes, which the
# service leaves to an officer unanswered (services/conversations/processing.py, the repeat
# rule) and would make those messages cheap.
BURST_BODIES = ("hiya", "hey", "morning", "good evening", "good afternoon", "howdy", "hi")

FIRST_NAMES = (
    "Aled", "Bethan", "Cai", "Dilys", "Elis", "Ffion", "Gethin", "Heledd", "Iolo", "Lowri",
)  # fmt: skip
SURNAMES = (
    "Ashworth", "Bevan", "Caradog", "Dafis", "Edmunds", "Fychan", "Griffudd", "Hopcyn",
    "Ieuan", "Llewelyn",
)  # fmt: skip

# What the processes must not inherit from the shell that runs the bench: real Twilio
# credentials would send real text messages, and the others would change what is measured.
# scripts/layout.commands' name for the stand-in for Twilio: its CPU line says it too.
TWILIO = "twilio-standin"
# Twilio's stand-ins (`--twilio`): bench/lean_twilio.py, or the dev phone.
LEAN, DEVPHONE = "lean", "devphone"

NOT_INHERITED = (
    "APP_ENV",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_SMS_FROM",
    "TWILIO_WHATSAPP_FROM",
    "REDIS_URL",
    "WORKER_THREADS",
    "RASA_TIMEOUT_SECONDS",
    "TWILIO_TIMEOUT_SECONDS",
    "RETRY_BASE_SECONDS",
    "RETRY_CAP_SECONDS",
    "OUTBOUND_MAX_ATTEMPTS",
    "LEASE_SECONDS",
)

T0 = time.monotonic()
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class BenchError(Exception):
    """The stack could not be started, or it answers nothing: there is nothing to measure."""


def say(line: str = "") -> None:
    print(f"[{time.monotonic() - T0:6.1f} s] {line}" if line else "", flush=True)


def load() -> str:
    """The machine's CPU count and 1-minute load: other work on it skews every figure."""
    return f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port outside the ephemeral range (tests/support/ports.py): no outgoing connection
    takes it between the choice and the child's bind."""
    return spare_port(kind)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), interpolated between the closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# --------------------------------------------------------------------------------------
# The stack


@dataclasses.dataclass
class Stack:
    base_url: str
    rasa_url: str
    database_url: str
    api_token: str
    processes: dict[str, Process]
    db: Database
    # Twilio's stand-in (scripts/twilio_standin.py): a server and a database of its own, as
    # Twilio's are apart from ours, so that its CPU is not counted as the web app's.
    twilio_url: str
    twilio_db: Database
    # Where the lean stand-in says it stored a message (UDP on the loopback); the dev phone
    # says nothing, and the ReplyWatcher polls alone.
    notify_port: int = 0

    def tails(self, lines: int = 25) -> str:
        return "\n".join(
            f"--- {name} ({p.log_path}) ---\n{p.tail(lines)}" for name, p in self.processes.items()
        )


@contextlib.contextmanager
def fresh_database(url: str | None, work: Path) -> Iterator[str]:
    """SQLite in `work`, or a new database on the PostgreSQL server of `url`, dropped after."""
    if url is None:
        yield f"sqlite:///{work / 'app.db'}"
        return
    if not url.startswith("postgresql"):
        raise BenchError("--database-url must be a postgresql:// or postgresql+driver:// URL")
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        raise BenchError(f"could not create a database at {url}: {exc}") from exc
    say(f"created PostgreSQL database {name} (dropped at the end)")
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def running_stack(work: Path, database_url: str, twilio: str = LEAN) -> Iterator[Stack]:
    """Web (gunicorn), its workers, the scheduler, Rasa and the action server, as `make run`
    starts them; and a stand-in for Twilio: LEAN (bench/lean_twilio.py, no checks of its
    own, as issue 12 measured) or DEVPHONE (the dev phone, as `make run-prod` starts it)."""
    require_built()
    port, rasa_port, action_port = free_port(), free_port(), free_port()
    twilio_port = free_port()
    twilio_url = f"http://127.0.0.1:{twilio_port}"
    twilio_database_url = f"sqlite:///{work / 'twilio-standin.db'}"
    wake_port = free_port(socket.SOCK_DGRAM)
    notify_port = free_port(socket.SOCK_DGRAM) if twilio == LEAN else 0
    base = f"http://127.0.0.1:{port}"
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    action_url = f"http://127.0.0.1:{action_port}"
    api_token = uuid.uuid4().hex
    say(f"migrating {make_url(database_url).render_as_string(hide_password=True)}")
    try:
        upgrade(database_url)
    except Exception as exc:
        raise BenchError(f"the migrations failed: {exc!r}") from exc
    env = base_env(
        DATABASE_URL=database_url,
        PORT=str(port),
        PUBLIC_BASE_URL=base,
        RASA_URL=rasa_url,
        ACTION_SERVER_URL=f"{action_url}/webhook",
        API_TOKEN=api_token,
        SECRET_KEY=uuid.uuid4().hex,
        ACTION_SERVER_TOKEN=uuid.uuid4().hex,
        WORKER_WAKE_ADDR=f"127.0.0.1:{wake_port}",
        TWILIO_API_BASE_URL=f"{twilio_url}/devphone",
        # Capacity, not Twilio's pace: the per-sender rate limit is off here (bench.dispatch
        # measures it).
        SEND_RATE_PER_SECOND="0",
    )
    for name in NOT_INHERITED:
        env.pop(name, None)
    standin_env = {
        **env,
        "STANDIN_PORT": str(twilio_port),
        "STANDIN_DATABASE_URL": twilio_database_url,
        "SERVICE_URL": base,
        # The credentials the service has when none is given: the dev phone's.
        "TWILIO_ACCOUNT_SID": DEV_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": DEV_AUTH_TOKEN,
        **({"BENCH_NOTIFY_ADDR": f"127.0.0.1:{notify_port}"} if notify_port else {}),
    }
    endpoints = work / "endpoints.yml"
    subprocess.run(
        [str(APP_PY), "-m", "scripts.rasa_endpoints", str(endpoints)],
        env=env,
        check=True,
        cwd=ROOT,
    )
    # The very commands `make run` uses; bound to the loopback whatever HOST says.
    host = os.environ.get("HOST")
    os.environ["HOST"] = "127.0.0.1"
    try:
        # The endpoints file written above is the layout's own (run_dir/endpoints.yml).
        commands = layout.commands(
            dataclasses.replace(
                layout.single_layout(
                    port,
                    rasa_port,
                    f"{action_url}/webhook",
                    work,
                    # The rate its processes get (above): it decides how many workers.
                    send_rate=float(env["SEND_RATE_PER_SECOND"]),
                ),
                standin_port=twilio_port,
            )
        )
    finally:
        if host is None:
            os.environ.pop("HOST", None)
        else:
            os.environ["HOST"] = host
    if twilio == LEAN:
        commands[TWILIO] = shlex.join(lean_twilio.command(twilio_port))
    say(f"web: {commands['web']}")
    say(f"Twilio's stand-in: {'bench/lean_twilio.py' if twilio == LEAN else 'the dev phone'}")
    processes: dict[str, Process] = {}
    db = Database(database_url)
    twilio_db = Database(twilio_database_url)
    try:
        processes[TWILIO] = Process(TWILIO, shlex.split(commands[TWILIO]), standin_env, work)
        for name in ("actions", "rasa", "web", *worker_names(commands), "scheduler"):
            processes[name] = Process(name, shlex.split(commands[name]), env, work)
        stack = Stack(
            base,
            rasa_url,
            database_url,
            api_token,
            processes,
            db,
            twilio_url,
            twilio_db,
            notify_port,
        )
        try:
            processes[TWILIO].wait_http(f"{twilio_url}/devphone/control", timeout=120)
            processes["actions"].wait_http(f"{action_url}/health", timeout=120)
            say("action server answers; waiting for Rasa to load the model")
            processes["rasa"].wait_http(f"{rasa_url}/", timeout=600)
            say("Rasa answers; waiting for /healthz (web, worker, database)")
            processes["web"].wait_http(f"{base}/healthz", timeout=180)
        except RuntimeError as exc:
            raise BenchError(f"the stack did not start: {exc}\n{stack.tails()}") from exc
        yield stack
    finally:
        say("stopping the stack")
        # A second Ctrl-C must not leave processes behind: stopping is not interrupted.
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
        try:
            # The worker first, so that nothing is sent to a web app that is going away.
            for name in ("scheduler", *worker_names(processes), "web", TWILIO, "rasa", "actions"):
                if name in processes:
                    processes[name].stop()
            db.dispose()
            twilio_db.dispose()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


# --------------------------------------------------------------------------------------
# Victims and signed webhooks


@dataclasses.dataclass(frozen=True)
class Victim:
    handset: str
    victim_id: int


def register_victims(stack: Stack, count: int) -> list[Victim]:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {stack.api_token}"
    case = {"case_ref": CASE_REF, "crime_type": "burglary", "officer_in_charge": "PC Ifan Rees"}
    response = http.post(f"{stack.base_url}/api/cases", json=case, timeout=30)
    if response.status_code != 201:
        raise BenchError(f"POST /api/cases answered {response.status_code}: {response.text}")
    victims = []
    for i in range(count):
        handset = f"+447700{FIRST_NUMBER + i}"
        payload = {
            "name": f"{FIRST_NAMES[i // 10 % 10]} {SURNAMES[i % 10]}",
            "phone": handset,
            "channel": "sms",
            "language": "en",
            "date_of_birth": f"{1950 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}",
        }
        response = http.post(
            f"{stack.base_url}/api/cases/{CASE_REF}/victims", json=payload, timeout=30
        )
        if response.status_code != 201:
            raise BenchError(f"POST victims answered {response.status_code}: {response.text}")
        victims.append(Victim(handset, int(response.json()["victim_id"])))
    return victims


class Signer:
    """Inbound webhooks as Twilio sends them, signed over PUBLIC_BASE_URL + path."""

    def __init__(self, base_url: str) -> None:
        self.url = base_url + WEBHOOK_PATH
        self.validator = RequestValidator(DEV_AUTH_TOKEN)

    def request(self, handset: str, body: str) -> tuple[str, bytes, dict[str, str]]:
        """A new MessageSid, the encoded form and the headers."""
        sid = message_sid()
        form = inbound_form(handset, body, sid)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": self.validator.compute_signature(self.url, form),
        }
        return sid, urlencode(form).encode(), headers


# --------------------------------------------------------------------------------------
# Waiting for the pipeline


def outstanding(db: Database) -> int:
    """Inbound messages not processed yet, and outbound ones not handed to Twilio yet."""
    with db.session() as session:
        count = session.scalar(
            select(func.count())
            .select_from(Message)
            .where(
                or_(
                    (Message.direction == Direction.INBOUND)
                    & (Message.status == MessageStatus.RECEIVED),
                    (Message.direction == Direction.OUTBOUND)
                    & Message.status.in_([MessageStatus.PENDING, MessageStatus.SUBMITTING]),
                )
            )
        )
    return int(count or 0)


def wait_drained(db: Database, timeout: float) -> bool:
    """Wait until nothing is outstanding and the dev phone's status callbacks have settled."""
    deadline = time.monotonic() + timeout
    while outstanding(db):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    # Each send makes the dev phone post status callbacks a few hundred ms apart: let them
    # finish so that they do not load the web app during the next measurement.
    last, stable_since = -1, time.monotonic()
    while time.monotonic() - stable_since < 1.5 and time.monotonic() < deadline:
        with db.session() as session:
            count = session.scalar(select(func.count()).select_from(DeliveryEvent)) or 0
        if count != last:
            last, stable_since = count, time.monotonic()
        time.sleep(0.25)
    return True


@dataclasses.dataclass
class Pending:
    """One message in flight, waiting for its replies to reach the dev phone."""

    sid: str
    handset: str
    started: float  # wall clock, seconds since the epoch, just before the POST
    rows: list[dt.datetime] = dataclasses.field(default_factory=list)
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    reply_at: float | None = None  # the last reply's devphone created_at (wall clock)
    replies: int = 0
    detected: float | None = None


class ReplyWatcher:
    """Reads the dev phone's rows as they appear and matches them to messages in flight.

    A handset has at most one message in flight, so a new "to_handset" row for it belongs
    to that message. The app's own tables say how many replies a message got (they and the
    "processed" mark are written together); the message is answered when that many rows
    have reached the dev phone. Its latency is measured to the last row's created_at.
    """

    FULL_CHECK_SECONDS = 0.5

    def __init__(
        self, db: Database, twilio_db: Database, poll: float, notify_port: int = 0
    ) -> None:
        self.db = db
        self.twilio_db = twilio_db
        self.poll = poll
        # The lean stand-in's datagram after each message it stores: the watcher reads at
        # once instead of at its next poll. Polling alone, a reply was noticed 3.7-5 ms after
        # its row at the median, and each sender waited that long before its next message:
        # the load generator held the pipeline's throughput down, not the service. The poll
        # stays, for the dev phone and a datagram lost.
        self.notified: socket.socket | None = None
        if notify_port:
            self.notified = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.notified.bind(("127.0.0.1", notify_port))
        self.lock = threading.Lock()
        self.pending: dict[str, Pending] = {}
        self.last_id = 0
        self.last_full = 0.0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="reply-watcher", daemon=True)
        self.failure: BaseException | None = None

    def __enter__(self) -> ReplyWatcher:
        with self.twilio_db.session() as session:
            self.last_id = session.scalar(select(func.max(DevPhoneMessage.id))) or 0
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(10)
        if self.notified is not None:
            self.notified.close()

    def _wait(self) -> None:
        """Until the stand-in says it stored a message, or `poll` seconds."""
        if self.notified is None:
            self.stopping.wait(self.poll)
            return
        self.notified.settimeout(self.poll)
        try:
            self.notified.recv(16)
        except TimeoutError:
            return
        # Several stored at once: one read covers them all.
        self.notified.setblocking(False)
        try:
            while True:
                self.notified.recv(16)
        except BlockingIOError:
            pass

    def expect(self, handset: str, sid: str) -> Pending:
        pending = Pending(sid=sid, handset=handset, started=time.time())
        with self.lock:
            if handset in self.pending:
                raise RuntimeError(f"two messages in flight for {handset}")
            self.pending[handset] = pending
        return pending

    def forget(self, handset: str) -> None:
        with self.lock:
            self.pending.pop(handset, None)

    def _run(self) -> None:
        try:
            # One connection for the whole run: a read every few ms must be cheap. Each
            # round ends its transaction, so that the next one sees what was committed since.
            with self.twilio_db.engine.connect() as phone, self.db.engine.connect() as app:
                while not self.stopping.is_set():
                    self._tick(phone, app)
                    phone.rollback()
                    app.rollback()
                    self._wait()
        except BaseException as exc:  # noqa: BLE001 - reported by the senders that wait
            self.failure = exc
            with self.lock:
                for pending in self.pending.values():
                    pending.done.set()

    # Built once: building a statement costs several times more CPU than running it, and the
    # bench shares the machine's CPUs with the stack it measures.
    NEW_ROWS = (
        select(DevPhoneMessage.id, DevPhoneMessage.handset, DevPhoneMessage.created_at)
        .where(DevPhoneMessage.id > bindparam("last"), DevPhoneMessage.direction == "to_handset")
        .order_by(DevPhoneMessage.id)
    )
    _inbound, _reply = aliased(Message), aliased(Message)
    REPLIES = (
        select(_inbound.twilio_sid, _inbound.status, _reply.id, _reply.twilio_sid)
        .select_from(_inbound)
        .outerjoin(_reply, _reply.reply_to_id == _inbound.id)
        .where(_inbound.twilio_sid.in_(bindparam("sids", expanding=True)))
    )
    # In the stand-in's own database: when each reply reached "Twilio".
    TAKEN = select(DevPhoneMessage.sid, DevPhoneMessage.created_at).where(
        DevPhoneMessage.sid.in_(bindparam("sids", expanding=True))
    )

    def _tick(self, phone: Connection, app: Connection) -> None:
        rows = phone.execute(self.NEW_ROWS, {"last": self.last_id}).all()
        now = time.monotonic()
        with self.lock:
            touched: dict[str, Pending] = {}
            for row_id, handset, created_at in rows:
                self.last_id = max(self.last_id, row_id)
                pending = self.pending.get(handset)
                if pending is not None:
                    pending.rows.append(created_at)
                    touched[pending.sid] = pending
            if now - self.last_full >= self.FULL_CHECK_SECONDS:
                # Messages answered with no reply at all, and rows committed out of id order
                # (PostgreSQL), are found here.
                self.last_full = now
                touched.update({p.sid: p for p in self.pending.values()})
        if touched:
            self._check(phone, app, list(touched.values()))

    def _check(self, phone: Connection, app: Connection, candidates: list[Pending]) -> None:
        rows = app.execute(self.REPLIES, {"sids": [p.sid for p in candidates]}).all()
        reply_sids = [reply_sid for *_, reply_sid in rows if reply_sid is not None]
        taken: dict[str, dt.datetime] = {}
        if reply_sids:
            taken = dict(phone.execute(self.TAKEN, {"sids": reply_sids}).tuples().all())
        status: dict[str, MessageStatus] = {}
        replies: dict[str, int] = Counter()
        delivered: dict[str, list[dt.datetime]] = {}
        for sid, inbound_status, reply_id, reply_sid in rows:
            created_at = taken.get(reply_sid) if reply_sid is not None else None
            if sid is None:
                continue
            status[sid] = inbound_status
            if reply_id is not None:
                replies[sid] += 1
                if created_at is not None:
                    delivered.setdefault(sid, []).append(created_at)
        now = time.time()
        with self.lock:
            for pending in candidates:
                if status.get(pending.sid) is not MessageStatus.PROCESSED:
                    continue
                expected = replies.get(pending.sid, 0)
                seen = max(pending.rows, delivered.get(pending.sid, []), key=len)
                if len(seen) < expected:
                    continue
                pending.replies = expected
                pending.reply_at = max(seen[:expected]).timestamp() if expected else None
                pending.detected = now
                self.pending.pop(pending.handset, None)
                pending.done.set()


# --------------------------------------------------------------------------------------
# CPU accounting: on a small machine, who uses the CPU decides the throughput.


PG_PREFIX = "postgres:"


def proc_stats() -> dict[int, tuple[int, float]]:
    """Each live process's session id and CPU seconds so far (Linux's /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            # After the command: state, ppid, pgrp, session, ..., utime (12th), stime (13th).
            stats[int(entry.name)] = (int(fields[3]), (int(fields[11]) + int(fields[12])) / ticks)
        except (OSError, IndexError, ValueError):
            continue
    return stats


# Every CPU's busy time (/proc/stat): each process's and the kernel's own (interrupts, the
# loopback's packets), and any other process on the machine. Reported beside the processes,
# never added to them.
MACHINE = "whole machine"
NOT_OURS = ("rasa", TWILIO, "bench client", MACHINE)


def machine_busy_seconds() -> float:
    """CPU seconds every CPU has spent busy since boot (/proc/stat's first line: all but
    idle and iowait; guest time is inside user time already)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own(used: dict[str, float]) -> float:
    """The CPU ms a message of the service's own processes (web, workers, scheduler, action
    server, and PostgreSQL's backends), out of CpuMeter.usage: what production pays beside
    Rasa, where Twilio is not on the machine."""
    return sum(value for name, value in used.items() if name not in NOT_OURS)


class CpuMeter:
    """CPU time of each process of the stack (with its children) and of the bench itself.

    Each process was started in a session of its own, so its children (gunicorn's workers)
    are counted with it. On PostgreSQL, the server's backends connected to the bench's
    database are counted too, when the server runs on this machine (the bench's own reads
    among them).
    """

    def __init__(self, stack: Stack) -> None:
        self.sessions = {name: p.popen.pid for name, p in stack.processes.items()}
        self.available = Path("/proc/self/stat").exists()
        self.db = stack.db if stack.database_url.startswith("postgresql") else None

    def _backends(self) -> list[int]:
        if self.db is None:
            return []
        with self.db.session() as session:
            rows = session.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            ).all()
        return [int(pid) for (pid,) in rows]

    def snapshot(self) -> dict[str, float]:
        if not self.available:
            return {}
        backends = self._backends()
        stats = proc_stats()
        by_session: dict[int, float] = defaultdict(float)
        for session_id, seconds in stats.values():
            by_session[session_id] += seconds
        snap = {name: by_session.get(sid, 0.0) for name, sid in self.sessions.items()}
        # Per backend: one that ends between two snapshots is lost, one that starts counts
        # from its start.
        snap.update({f"{PG_PREFIX}{pid}": stats[pid][1] for pid in backends if pid in stats})
        usage = resource.getrusage(resource.RUSAGE_SELF)
        snap["bench client"] = usage.ru_utime + usage.ru_stime
        snap[MACHINE] = machine_busy_seconds()
        return snap

    @staticmethod
    def usage(before: dict[str, float], after: dict[str, float], messages: int) -> dict[str, float]:
        """CPU ms per message by process name (PostgreSQL's backends as one, "postgres")."""
        used: dict[str, float] = defaultdict(float)
        if not before or not after or messages <= 0:
            return used
        for key, seconds in after.items():
            name = "postgres" if key.startswith(PG_PREFIX) else key
            used[name] += (seconds - before.get(key, 0.0)) * 1000 / messages
        return used

    @staticmethod
    def report(used: dict[str, float]) -> list[str]:
        """Lines of `used` (CpuMeter.usage), and the throughput the CPUs allow at that cost."""
        if not used:
            return []
        processes = {name: value for name, value in used.items() if name != MACHINE}
        parts = ", ".join(f"{name} {value:.1f}" for name, value in processes.items())
        stack_ms = sum(v for name, v in processes.items() if name != "bench client")
        lines = [
            f"  CPU per message (ms): {parts}",
            f"  the service's own (not Rasa, the stand-in for Twilio or the bench): "
            f"{own(used):.1f} ms/message",
        ]
        if MACHINE in used:
            lines.append(
                f"  the whole machine: {used[MACHINE]:.1f} ms/message busy, of which the "
                f"processes above {sum(processes.values()):.1f}; the rest is the kernel's own "
                f"work (interrupts, the loopback) and other processes"
            )
        if stack_ms > 0:
            cpus = os.cpu_count() or 1
            lines.append(
                f"  stack total {stack_ms:.1f} ms/message: at most {cpus * 1000 / stack_ms:.0f} "
                f"msg/s on {cpus} CPUs with nothing else running"
                + (
                    f"; Rasa (one process, one core) alone caps it at "
                    f"{1000 / used['rasa']:.0f} msg/s"
                    if used.get("rasa")
                    else ""
                )
            )
        return lines


# --------------------------------------------------------------------------------------
# Measurements


@dataclasses.dataclass
class BurstResult:
    latencies: list[float]
    per_round: list[list[float]]
    statuses: Counter[str]
    start_spread: list[float]  # per round: last request start minus first, seconds
    sids: list[str]
    started: float  # wall clock of the first request
    wall: float  # seconds from the first request of round 1 to the last answer


def post_webhook(
    host: str, port: int, body: bytes, headers: dict[str, str]
) -> tuple[float, float, str]:
    """POST one signed webhook: (perf_counter at the start, seconds to the answer, status).

    A new connection per request, as Twilio mostly makes: the time includes the TCP
    connect, as Twilio's does.
    """
    conn = http.client.HTTPConnection(host, port, timeout=60)
    start = time.perf_counter()
    try:
        conn.request("POST", WEBHOOK_PATH, body, headers)
        response = conn.getresponse()
        response.read()
        status = str(response.status)
    except OSError as exc:
        status = type(exc).__name__
    finally:
        conn.close()
    return start, time.perf_counter() - start, status


def host_port(url: str) -> tuple[str, int]:
    split = urlsplit(url)
    return split.hostname or "127.0.0.1", split.port or 80


def one_at_a_time(stack: Stack, victims: list[Victim]) -> list[float]:
    """One webhook per victim, each after the previous one's answer: the service time."""
    signer = Signer(stack.base_url)
    host, port = host_port(stack.base_url)
    latencies = []
    for victim in victims:
        _, body, headers = signer.request(victim.handset, BURST_BODIES[0])
        _, elapsed, status = post_webhook(host, port, body, headers)
        if status == "200":
            latencies.append(elapsed)
    return latencies


def burst(stack: Stack, victims: list[Victim], rounds: int, pause: float) -> BurstResult:
    """Each round: one thread per victim, all released at once, each posting one webhook."""
    signer = Signer(stack.base_url)
    host, port = host_port(stack.base_url)
    result = BurstResult([], [], Counter(), [], [], time.time(), 0.0)
    to_wall = time.time() - time.perf_counter()
    t_first = 0.0
    for number in range(rounds):
        barrier = threading.Barrier(len(victims))
        answers: list[tuple[float, float, str] | None] = [None] * len(victims)

        def send(i: int, barrier: threading.Barrier, answers: list[Any], text: str) -> None:
            sid, body, headers = signer.request(victims[i].handset, text)
            result.sids.append(sid)
            barrier.wait()
            answers[i] = post_webhook(host, port, body, headers)

        threads = [
            threading.Thread(
                target=send,
                args=(i, barrier, answers, BURST_BODIES[(number + 1) % len(BURST_BODIES)]),
                daemon=True,
            )
            for i in range(len(victims))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done = [a for a in answers if a is not None]
        latencies = [elapsed for _, elapsed, _ in done]
        result.per_round.append(latencies)
        result.latencies += latencies
        result.statuses.update(status for _, _, status in done)
        starts = [start for start, _, _ in done]
        result.start_spread.append(max(starts) - min(starts))
        if number == 0:
            t_first = min(starts)
            result.started = t_first + to_wall
        result.wall = max(start + elapsed for start, elapsed, _ in done) - t_first
        say(
            f"  round {number + 1}: p50 {ms(percentile(latencies, 50))}, "
            f"max {ms(max(latencies))}, {outstanding(stack.db)} outstanding in the pipeline"
        )
        if number + 1 < rounds:
            time.sleep(pause)
    return result


@dataclasses.dataclass(frozen=True)
class Job:
    handset: str
    victim_id: int
    body: str


def lane_jobs(messages: int, concurrency: int, lane: int) -> int:
    """How many of `messages` the sender `lane` of `concurrency` sends."""
    return messages // concurrency + (1 if lane < messages % concurrency else 0)


def most_per_victim(victims: int, messages: int, concurrency: int) -> int:
    """The most messages `plan` gives one victim."""
    return max(
        -(-lane_jobs(messages, concurrency, lane) // len(range(lane, victims, concurrency)))
        for lane in range(concurrency)
    )


# How many messages one victim may send in a run, so that no text of BODIES comes a fourth
# time within ten minutes, which the service leaves unanswered (the repeat rule,
# services/conversations/processing.py). One turn of BODIES is left for the warm-up.
MOST_PER_VICTIM = len(BODIES) * (REPEAT_LIMIT - 1)


def plan(victims: list[Victim], messages: int, concurrency: int) -> list[list[Job]]:
    """One list of jobs per concurrent sender; no two senders share a victim.

    Each victim's messages go through BODIES in turn, so no text comes a fourth time from
    one victim while it sends up to MOST_PER_VICTIM (the warm-up's included). The bodies
    once followed the sender's job number instead: where a sender had 12 victims (12 = 4
    mod 8), each victim got two bodies turn and turn about, so from 900 messages 160 were a
    repeat that the service rightly left to an officer unanswered. The pipeline then made
    740 calls to Rasa against Rasa alone's 900, and each unanswered message held its sender
    until the watcher's full check (up to FULL_CHECK_SECONDS) found it: the load generator,
    not the service, set part of the figure. ValueError when a victim would get more than
    MOST_PER_VICTIM.
    """
    if most_per_victim(len(victims), messages, concurrency) > MOST_PER_VICTIM:
        raise ValueError(
            f"{messages} messages from {len(victims)} victims would send one victim the same "
            f"text more than {REPEAT_LIMIT} times, which the service leaves unanswered"
        )
    lanes: list[list[Job]] = []
    for lane in range(concurrency):
        own = victims[lane::concurrency]
        count = lane_jobs(messages, concurrency, lane)
        jobs = []
        for j in range(count):
            victim, turn = j % len(own), j // len(own)
            body = BODIES[(lane + victim + turn) % len(BODIES)]
            jobs.append(Job(own[victim].handset, own[victim].victim_id, body))
        lanes.append(jobs)
    return lanes


@dataclasses.dataclass
class Outcome:
    sid: str | None
    started: float  # wall clock just before the request
    latency: float | None  # seconds; None when no answer came
    error: str | None = None
    detect_lag: float | None = None  # pipeline: seen by the watcher minus the reply's time
    replies: int = 0


def run_lanes(
    lanes: list[list[Job]], sender: Callable[[list[Job]], list[Outcome]]
) -> list[Outcome]:
    outcomes: list[list[Outcome]] = [[] for _ in lanes]
    failures: list[BaseException] = []

    def lane(index: int) -> None:
        try:
            outcomes[index] = sender(lanes[index])
        except BaseException as exc:  # noqa: BLE001 - raised again in the main thread
            failures.append(exc)

    threads = [threading.Thread(target=lane, args=(i,), daemon=True) for i in range(len(lanes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise BenchError(f"a sender failed: {failures[0]!r}") from failures[0]
    return [o for lane_outcomes in outcomes for o in lane_outcomes]


def pipeline_sender(
    stack: Stack, watcher: ReplyWatcher, timeout: float
) -> Callable[[list[Job]], list[Outcome]]:
    signer = Signer(stack.base_url)
    url = stack.base_url + WEBHOOK_PATH

    def send(jobs: list[Job]) -> list[Outcome]:
        http = requests.Session()
        outcomes = []
        for job in jobs:
            sid, body, headers = signer.request(job.handset, job.body)
            pending = watcher.expect(job.handset, sid)
            error: str | None = None
            try:
                response = http.post(url, data=body, headers=headers, timeout=30)
                if response.status_code != 200:
                    error = f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                error = type(exc).__name__
            if error is not None:
                watcher.forget(job.handset)
                outcomes.append(Outcome(sid, pending.started, None, error))
                continue
            if not pending.done.wait(timeout) or pending.detected is None:
                watcher.forget(job.handset)
                outcomes.append(Outcome(sid, pending.started, None, "no reply in time"))
                continue
            if pending.reply_at is None:
                outcomes.append(Outcome(sid, pending.started, None, "answered with no reply"))
                continue
            outcomes.append(
                Outcome(
                    sid,
                    pending.started,
                    pending.reply_at - pending.started,
                    detect_lag=pending.detected - pending.reply_at,
                    replies=pending.replies,
                )
            )
        return outcomes

    return send


def rasa_sender(stack: Stack, senders: dict[str, str]) -> Callable[[list[Job]], list[Outcome]]:
    url = f"{stack.rasa_url}/webhooks/rest/webhook"

    def send(jobs: list[Job]) -> list[Outcome]:
        http = requests.Session()
        outcomes = []
        for job in jobs:
            # What the worker sends: the conversation's public id and the same metadata.
            payload = {
                "sender": senders.get(job.handset) or f"bench-{job.handset}",
                "message": job.body,
                "metadata": {"victim_id": job.victim_id, "channel": "sms", "language": "en"},
            }
            started = time.time()
            start = time.perf_counter()
            try:
                response = http.post(url, json=payload, timeout=60)
                elapsed = time.perf_counter() - start
            except requests.RequestException as exc:
                outcomes.append(Outcome(None, started, None, type(exc).__name__))
                continue
            if response.status_code != 200:
                outcomes.append(Outcome(None, started, None, f"HTTP {response.status_code}"))
                continue
            replies = len(response.json())
            outcomes.append(Outcome(None, started, elapsed, replies=replies))
        return outcomes

    return send


@dataclasses.dataclass
class Run:
    name: str
    outcomes: list[Outcome]
    wall: float

    @property
    def latencies(self) -> list[float]:
        return [o.latency for o in self.outcomes if o.latency is not None]

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall if self.wall > 0 else float("nan")

    @property
    def errors(self) -> Counter[str]:
        return Counter(o.error for o in self.outcomes if o.error)


def measure_pipeline(
    stack: Stack, lanes: list[list[Job]], poll: float, timeout: float, name: str = "pipeline"
) -> Run:
    with ReplyWatcher(stack.db, stack.twilio_db, poll, stack.notify_port) as watcher:
        outcomes = run_lanes(lanes, pipeline_sender(stack, watcher, timeout))
    if watcher.failure is not None:
        raise BenchError(f"reading the dev phone's messages failed: {watcher.failure!r}")
    answered = [o for o in outcomes if o.latency is not None]
    first = min(o.started for o in outcomes)
    # To the moment the last reply reached the dev phone (its own timestamp).
    last = max((o.started + (o.latency or 0.0) for o in answered), default=first)
    return Run(name, outcomes, last - first)


def measure_rasa(stack: Stack, lanes: list[list[Job]], senders: dict[str, str]) -> Run:
    start = time.perf_counter()
    outcomes = run_lanes(lanes, rasa_sender(stack, senders))
    return Run("Rasa alone", outcomes, time.perf_counter() - start)


def conversation_ids(db: Database) -> dict[str, str]:
    """Each handset's conversation public id: the sender id the worker gives Rasa."""
    with db.session() as session:
        rows = session.execute(select(Conversation.address, Conversation.public_id)).all()
    return {address: public_id for address, public_id in rows}


def breakdown(stack: Stack, run: Run) -> list[tuple[str, list[float]]]:
    """Where a message's time goes, from the app's own timestamps and the stand-in's
    (first reply only)."""
    inbound, reply = aliased(Message), aliased(Message)
    started = {o.sid: o.started for o in run.outcomes if o.sid and o.latency is not None}
    with stack.db.session() as session:
        ours = session.execute(
            select(
                inbound.twilio_sid,
                inbound.created_at,
                inbound.processed_at,
                reply.submitted_at,
                reply.twilio_sid,
            )
            .select_from(inbound)
            .join(reply, (reply.reply_to_id == inbound.id) & (reply.reply_seq == 0))
            .where(inbound.twilio_sid.in_(list(started)))
        ).all()
    with stack.twilio_db.session() as session:
        taken = dict(
            session.execute(
                select(DevPhoneMessage.sid, DevPhoneMessage.created_at).where(
                    DevPhoneMessage.sid.in_([row[-1] for row in ours if row[-1]])
                )
            )
            .tuples()
            .all()
        )
    rows = [(*row[:-1], taken[row[-1]]) for row in ours if row[-1] in taken]
    parts: dict[str, list[float]] = {
        "webhook POST start -> inbound row": [],
        "inbound row -> processed (queue, pick-up, Rasa, commit)": [],
        "processed -> reply marked submitting (outbox pick-up)": [],
        "submitting -> dev phone row (twilio client, API checks)": [],
    }
    for sid, *moments in rows:
        if sid is None:
            continue
        points = [started[sid]] + [m.timestamp() if m else None for m in moments]
        for i, values in enumerate(parts.values()):
            a, b = points[i], points[i + 1]
            if a is not None and b is not None:
                values.append(b - a)
    return list(parts.items())


# --------------------------------------------------------------------------------------
# Reporting


def latency_line(label: str, values: Sequence[float], points: Sequence[float]) -> str:
    figures = ", ".join(f"p{p:g} {ms(percentile(values, p))}" for p in points)
    return f"{label}: {figures}, max {ms(max(values)) if values else 'n/a'} (n={len(values)})"


def compare(pipeline: Run, rasa: Run) -> list[str]:
    p, r = pipeline.latencies, rasa.latencies
    rows = [("", "pipeline", "Rasa alone", "difference")]
    for q in (50, 90, 99):
        a, b = percentile(p, q), percentile(r, q)
        rows.append((f"p{q} latency", ms(a), ms(b), f"{(a - b) * 1000:+.1f} ms"))
    rows.append(
        (
            "throughput",
            f"{pipeline.throughput:.2f} msg/s",
            f"{rasa.throughput:.2f} msg/s",
            f"x{pipeline.throughput / rasa.throughput:.3f}" if rasa.throughput else "n/a",
        )
    )
    rows.append(("answered", str(len(p)), str(len(r)), ""))
    rows.append(("wall time", f"{pipeline.wall:.2f} s", f"{rasa.wall:.2f} s", ""))
    return [f"  {a:<14}{b:>16}{c:>16}{d:>16}" for a, b, c, d in rows]


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    goal: str
    measured: str
    meets: bool | None


def summary(targets: list[Target]) -> list[str]:
    lines = [f"  {'target':<44}{'goal':<12}{'measured':<22}verdict"]
    for t in targets:
        verdict = "n/a" if t.meets is None else ("meets" if t.meets else "misses")
        lines.append(f"  {t.name:<44}{t.goal:<12}{t.measured:<22}{verdict}")
    return lines


# --------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pipeline",
        description="The message pipeline's figures, measured on the whole real stack.",
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL URL (postgresql+psycopg://user@host/db): the bench creates a fresh "
        "database on that server, and drops it at the end (default: SQLite in a temp dir)",
    )
    parser.add_argument("--victims", type=int, default=100, help="1 to 100 (default 100)")
    parser.add_argument("--rounds", type=int, default=5, help="burst rounds (default 5)")
    parser.add_argument(
        "--pause", type=float, default=1.0, help="seconds between burst rounds (default 1)"
    )
    parser.add_argument(
        "--messages",
        type=int,
        default=900,
        help=f"messages per latency run (default 900, at most {MOST_PER_VICTIM} a victim)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="conversations at once (default 8)"
    )
    parser.add_argument(
        "--poll", type=float, default=0.005, help="seconds between reads of the dev phone's rows"
    )
    parser.add_argument(
        "--no-status-callbacks",
        action="store_true",
        help="tell the dev phone to send no delivery status callbacks (Twilio sends two or "
        "three a message; without them the web app does a third of the work)",
    )
    parser.add_argument(
        "--twilio",
        choices=[LEAN, DEVPHONE],
        default=LEAN,
        help="Twilio's stand-in: lean (bench/lean_twilio.py: no checks of its own, as issue 12 "
        "measured; default) or devphone (the dev phone, checking every request against "
        "Twilio's OpenAPI description, at about 7 ms of CPU a message)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp dir (logs, database) and print it"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.victims <= MAX_VICTIMS:
        parser.error(f"--victims must be 1 to {MAX_VICTIMS} (drama numbers 900100-900199)")
    if not 1 <= args.concurrency <= args.victims:
        parser.error("--concurrency must be between 1 and --victims")
    if args.rounds < 1 or args.messages < 1:
        parser.error("--rounds and --messages must be at least 1")
    if most_per_victim(args.victims, args.messages, args.concurrency) > MOST_PER_VICTIM:
        parser.error(
            f"--messages {args.messages} from --victims {args.victims} would send one victim "
            f"the same text more than {REPEAT_LIMIT} times in ten minutes, which the service "
            f"leaves to an officer unanswered: at most {MOST_PER_VICTIM} messages a victim"
        )
    return args


def worker_names(names: Iterable[str]) -> list[str]:
    """The worker processes among `names` (scripts/layout.commands: "worker", or "worker1"
    and on when there are more than one: scripts.layout.worker_count)."""
    return sorted(name for name in names if name.startswith("worker"))


def terminate(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def bench(args: argparse.Namespace, work: Path) -> list[Target]:
    with (
        fresh_database(args.database_url, work) as database_url,
        running_stack(work, database_url, args.twilio) as stack,
    ):
        kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
        say(f"stack is up on {stack.base_url} ({kind}); {load()}")
        say(f"registering {args.victims} victims")
        victims = register_victims(stack, args.victims)
        if args.no_status_callbacks:
            response = requests.put(
                f"{stack.twilio_url}/devphone/control", json={"callback_statuses": []}, timeout=30
            )
            if response.status_code != 200:
                raise BenchError(f"PUT /devphone/control answered {response.status_code}")
            say("the dev phone sends no status callbacks (--no-status-callbacks)")

        say("warming up: Rasa directly, then the pipeline")
        warm = requests.Session()
        for i, body in enumerate(BODIES * 2):
            warm.post(
                f"{stack.rasa_url}/webhooks/rest/webhook",
                json={"sender": f"bench-warmup-{i % 4}", "message": body},
                timeout=120,
            )
        warmup = measure_pipeline(
            stack, plan(victims[:4], 16, min(4, len(victims))), args.poll, 120, "warm-up"
        )
        if not warmup.latencies:
            raise BenchError(
                f"the pipeline answered none of the warm-up messages ({dict(warmup.errors)})\n"
                + stack.tails()
            )
        wait_drained(stack.db, 120)

        meter = CpuMeter(stack)

        # 1. Webhook acknowledgement: one sender at a time, then bursts.
        print()
        say(f"1. webhook acknowledgement; {load()}")
        say(f"   one sender at a time: {len(victims)} signed POSTs {WEBHOOK_PATH}")
        single = one_at_a_time(stack, victims)
        wait_drained(stack.db, 300)
        say(
            f"   bursts: {args.rounds} rounds of {len(victims)} concurrent signed POSTs "
            f"({args.pause:g} s apart)"
        )
        before = meter.snapshot()
        result = burst(stack, victims, args.rounds, args.pause)
        say("   waiting for the pipeline to answer every burst message")
        drained = wait_drained(stack.db, 900)
        burst_cpu = CpuMeter.report(CpuMeter.usage(before, meter.snapshot(), len(result.sids)))
        with stack.twilio_db.session() as session:
            last_reply = session.scalar(
                select(func.max(DevPhoneMessage.created_at)).where(
                    DevPhoneMessage.direction == "to_handset"
                )
            )
        non_200 = sum(n for status, n in result.statuses.items() if status != "200")
        print()
        print(latency_line("  one sender at a time", single, (50, 95, 99)))
        print(latency_line("  burst, HTTP answer time", result.latencies, (50, 95, 99)))
        for number, latencies in enumerate(result.per_round, 1):
            print(latency_line(f"    round {number}", latencies, (50, 95, 99)))
        print(f"  answers: {dict(result.statuses)}; non-200: {non_200}")
        spread = max(result.start_spread)
        print(f"  client: requests of one round started within {ms(spread)} of each other")
        backlog = len(result.sids)
        if drained and last_reply is not None:
            span = last_reply.timestamp() - result.started
            print(
                f"  backlog: all {backlog} burst messages answered {span:.1f} s after the first "
                f"POST ({backlog / span:.1f} msg/s with every conversation waiting)"
            )
        else:
            print(f"  backlog: NOT drained within 900 s ({outstanding(stack.db)} outstanding)")
        for line in burst_cpu:
            print(line)
        ack_p99 = percentile(result.latencies, 99)

        # 2. End-to-end latency and throughput against Rasa alone.
        lanes = plan(victims, args.messages, args.concurrency)
        print()
        say(
            f"2. end to end: {args.messages} messages from {len(victims)} victims, "
            f"{args.concurrency} conversations at once; then the same straight to Rasa"
        )
        say(f"   {load()}")
        before = meter.snapshot()
        pipeline = measure_pipeline(stack, lanes, args.poll, 120)
        say(f"   pipeline done in {pipeline.wall:.1f} s; waiting for the outbox to settle")
        wait_drained(stack.db, 300)
        after = meter.snapshot()
        pipeline_used = CpuMeter.usage(before, after, len(pipeline.outcomes))
        pipeline_cpu = CpuMeter.report(pipeline_used)
        parts = breakdown(stack, pipeline)
        senders = conversation_ids(stack.db)
        before = meter.snapshot()
        rasa = measure_rasa(stack, lanes, senders)
        after = meter.snapshot()
        rasa_used = CpuMeter.usage(before, after, len(rasa.outcomes))
        rasa_cpu = CpuMeter.report(rasa_used)
        say(f"   Rasa alone done in {rasa.wall:.1f} s; {load()}")
        print()
        for line in compare(pipeline, rasa):
            print(line)
        for run in (pipeline, rasa):
            if run.errors:
                print(f"  {run.name} errors: {dict(run.errors)}")
        lags = [o.detect_lag for o in pipeline.outcomes if o.detect_lag is not None]
        if lags:
            print(
                f"  (the bench saw each reply {ms(percentile(lags, 50))} after its dev phone row "
                f"at the median; latency is measured to the row's own timestamp)"
            )
        print()
        print("  where a pipeline message's time goes (median, p90; first reply):")
        for name, values in parts:
            if values:
                print(
                    f"    {name:<58}{ms(percentile(values, 50)):>11}"
                    f"{ms(percentile(values, 90)):>11}"
                )
        rasa_p50 = percentile(rasa.latencies, 50)
        print(f"    {'(Rasa alone, HTTP round trip)':<58}{ms(rasa_p50):>11}")
        for label, lines in (("pipeline", pipeline_cpu), ("Rasa alone", rasa_cpu)):
            if lines:
                print(f"\n  {label}:")
                for line in lines:
                    print(line)

    ratio = pipeline.throughput / rasa.throughput if rasa.throughput else float("nan")
    diff = percentile(pipeline.latencies, 50) - rasa_p50
    throughputs = f"{pipeline.throughput:.1f}, {rasa.throughput:.1f}"
    medians = f"{ms(percentile(pipeline.latencies, 50))}, {ms(rasa_p50)}"
    single_p99 = percentile(single, 99)
    return [
        Target("(webhook ack p99, one sender at a time)", "-", ms(single_p99), None),
        Target(
            f"webhook ack p99, {len(victims)} concurrent senders",
            "< 50 ms",
            ms(ack_p99),
            ack_p99 < 0.05,
        ),
        Target("webhook non-200 answers", "0", str(non_200), non_200 == 0),
        Target("throughput, pipeline / Rasa alone", ">= 0.90", f"{ratio:.3f}", ratio >= 0.90),
        Target("median latency, pipeline - Rasa alone", "<= 20 ms", ms(diff), diff <= 0.020),
        Target("(throughput: pipeline, Rasa alone, msg/s)", "-", throughputs, None),
        Target("(median latency: pipeline, Rasa alone)", "-", medians, None),
        # Where the CPU goes, end to end (bench/README.md, "Profile").
        *(
            Target(f"(CPU ms/message, {name})", "-", f"{used:.1f}", None)
            for name, used in pipeline_used.items()
            if name != "scheduler"
        ),
        Target(
            "(CPU ms/message, rasa, Rasa alone)", "-", f"{rasa_used.get('rasa', 0.0):.1f}", None
        ),
        Target("(CPU ms/message, the service's own)", "-", f"{own(pipeline_used):.1f}", None),
    ]


def measure(prefix: str, body: Callable[[Path], list[str]], keep: bool = False) -> int:
    """Run `body` in a fresh working directory and print the lines it returns.

    The one way every bench entry point starts and stops: Ctrl-C and SIGTERM both stop
    everything started (even where the shell started us with SIGINT ignored, as it does for
    a background job). Returns the exit status: 0 with figures, 1 when a stack cannot be
    started (the directory is kept for its logs), 130 when interrupted.
    """
    for sig in STOP_SIGNALS:
        signal.signal(sig, terminate)
    work = Path(tempfile.mkdtemp(prefix=prefix))
    say(f"working in {work}")
    try:
        lines = body(work)
    except BenchError as exc:
        print(f"\nbench: cannot measure: {exc}", file=sys.stderr, flush=True)
        keep = True
        return 1
    except KeyboardInterrupt:
        print("\nbench: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    finally:
        if keep:
            say(f"kept {work} (process logs and database)")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print()
    for line in lines:
        print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return measure(
        "bench-pipeline-",
        lambda work: [
            "Summary (informative; nothing here fails the run):",
            *summary(bench(args, work)),
        ],
        keep=args.keep,
    )


if __name__ == "__main__":
    raise SystemExit(main())
