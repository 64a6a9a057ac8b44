"""Two complete nodes of the production layout on one PostgreSQL and one Redis: one is killed
outright mid-burst, and the other answers every message once and sends every notification
once.

Each node is `scripts/run_service.py --production` with its own ports and its own wake-up
address: web (gunicorn), a worker, a scheduler (one node's is active, the other's stands
by), Rasa with the Redis lock store, and its action server. One Rasa per node here (two
in `make run-prod`): four would not load in reasonable time on the project's 2-core
machine. Twilio is the stand-in `make run-prod` uses (scripts/twilio_standin.py), served
by the test; the Redis is the test's own.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from models import Direction, Message, MessageStatus, Notification, NotificationStatus
from models.db import Database
from models.devphone import DevPhoneMessage
from models.migrate import upgrade
from scripts.twilio_standin import standin_settings
from tests.conftest import LiveServer
from tests.support.factories import NO_QUIET_HOURS, inbound_form
from tests.support.ports import listening_socket, says_address_in_use, spare_port
from tests.support.processes import APP_PY, ROOT, base_env, require_built
from tests.support.redis_server import RedisServer, start_redis
from webhooks import create_app

pytestmark = pytest.mark.e2e

API_TOKEN = "two-nodes-api-token"
SID, TOKEN = "AC" + "7e" * 16, "two-nodes-auth-token"
CASE = "CR-2026-0800"
VICTIMS = 16


def _descendants(pid: int) -> list[int]:
    """`pid` and every process below it (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


class Node:
    """One node: `run_service.py --production` on spare ports, its output in a file."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.port = spare_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{name}.log"
        node_env = base_env(
            **env,
            PORT=str(self.port),
            PUBLIC_BASE_URL=self.url,
            RASA_URL=f"http://127.0.0.1:{spare_port()}",
            ACTION_SERVER_URL=f"http://127.0.0.1:{spare_port()}/webhook",
            WORKER_WAKE_ADDR=f"127.0.0.1:{spare_port(socket.SOCK_DGRAM)}",
            RUN_DIR=str(workdir / f"run-{name}"),
            RASA_REPLICAS="1",
            WORKERS="1",
            SCHEDULERS="1",
            WEB_WORKERS="2",
        )
        self.log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            [str(APP_PY), "-m", "scripts.run_service", "--production"],
            cwd=ROOT,
            env=node_env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.popen.poll() is not None or says_address_in_use(self.output()):
                raise RuntimeError(f"node {self.name} stopped:\n{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"node {self.name}: no {text!r}:\n{self.output()[-3000:]}")
            time.sleep(0.5)

    def kill_outright(self) -> list[int]:
        """kill -9 of every process of the node at once, as when its host dies."""
        pids = _descendants(self.popen.pid)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.popen.wait(10)
        return pids

    def stop(self) -> None:
        """Ctrl-C; kill -9 of everything left if it does not stop."""
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGINT)
            try:
                self.popen.wait(40)
            except subprocess.TimeoutExpired:
                self.kill_outright()
        self.log.close()


def start_node(name: str, env: dict[str, str], workdir: Path, ready: str) -> Node:
    """A node on spare ports, started again on others if one was taken (three tries)."""
    for _ in range(3):
        node = Node(name, env, workdir)
        try:
            node.wait_for(ready, 300)
            return node
        except RuntimeError as exc:
            node.stop()
            if not says_address_in_use(str(exc)) and "is in use" not in str(exc):
                raise
    raise RuntimeError("every set of ports tried was taken")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = start_redis(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[tuple[LiveServer, Database]]:
    """The Twilio stand-in, with its own SQLite file, serving until the test ends."""
    sock = listening_socket()
    url = f"sqlite:///{tmp_path / 'standin.db'}"
    upgrade(url)
    settings = standin_settings(
        {
            "STANDIN_PORT": str(sock.getsockname()[1]),
            "STANDIN_DATABASE_URL": url,
            "SERVICE_URL": "http://127.0.0.1:9",  # the test posts the victims' texts itself
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": TOKEN,
        }
    )
    app = create_app(settings)
    with LiveServer(app, sock) as server:
        yield server, app.extensions["runtime"].db
    app.extensions["runtime"].close()
    sock.close()


def _post_api(node: Node, path: str, body: dict[str, object]) -> dict[str, object]:
    answer = requests.post(
        f"{node.url}/api{path}",
        json=body,
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    result: dict[str, object] = answer.json()
    return result


def _text(node: Node, phone: str, body: str) -> None:
    form = inbound_form(phone, body)
    url = f"{node.url}/twilio/messages"
    signature = RequestValidator(TOKEN).compute_signature(url, form)
    answer = requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=30)
    assert answer.status_code == 200, answer.text


@pytest.mark.postgresql_only  # several nodes on one database: make test runs it
def test_a_node_killed_mid_burst_loses_nothing_and_doubles_nothing(
    db_kind: str,
    database_url: str,
    redis_server: RedisServer,
    standin: tuple[LiveServer, Database],
    tmp_path: Path,
) -> None:
    if db_kind != "postgresql":
        pytest.skip("several nodes share one PostgreSQL (TEST_DATABASE=sqlite asked for SQLite)")
    require_built()
    standin_server, standin_db = standin
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_server.url,
        "API_TOKEN": API_TOKEN,
        "SECRET_KEY": "two-nodes-secret-key",
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_BASE_URL": f"{standin_server.url}/devphone",
        "RETRY_BASE_SECONDS": "0.5",
        "RETRY_CAP_SECONDS": "2",
        "RASA_TIMEOUT_SECONDS": "30",
    }
    started = time.monotonic()
    # A first, so that its scheduler is the active one: killing A makes B's take over.
    a = start_node("a", env, tmp_path, "is the active scheduler")
    b: Node | None = None
    try:
        b = start_node("b", env, tmp_path, "standing by for the lock")
        a.wait_for("Victim care messaging is running", 300)
        b.wait_for("Victim care messaging is running", 300)
        ready_after = time.monotonic() - started

        _post_api(
            a,
            "/cases",
            {"case_ref": CASE, "crime_type": "burglary", "officer_in_charge": "PC Ifan Rees"},
        )
        phones = [f"+447700900{700 + i:03d}" for i in range(VICTIMS)]
        for i, phone in enumerate(phones):
            _post_api(
                a if i % 2 else b,
                f"/cases/{CASE}/victims",
                {
                    "name": f"Dioddefwr {i}",
                    "phone": phone,
                    "channel": "sms",
                    "language": "en",
                    "date_of_birth": "1980-01-01",
                    "enhanced_rights": True,
                    "quiet_hours": NO_QUIET_HOURS,
                },
            )
        # The victims write at once, half to each node.
        for i, phone in enumerate(phones):
            _text(a if i % 2 else b, phone, "hello")

        # Mid-burst: once a few messages have reached the stand-in, node A dies.
        deadline = time.monotonic() + 120
        while _sent_count(standin_db) < VICTIMS // 2:
            assert time.monotonic() < deadline, "the burst did not start"
            time.sleep(0.1)
        killed = a.kill_outright()
        killed_at = time.monotonic()
        at_kill = _sent_count(standin_db)
        # News after the kill: only B's scheduler, standby until now, can hand it over.
        _post_api(
            b,
            f"/cases/{CASE}/events",
            {
                "type": "suspect_arrested",
                "occurred_at": "2026-11-30T09:00:00Z",
                "summary": "A suspect was arrested.",
            },
        )

        db = Database(database_url)
        try:
            deadline = time.monotonic() + 180
            while not _all_done(db):
                assert time.monotonic() < deadline, f"not all done: {_states(db)}"
                time.sleep(0.5)
            _check_once(db, standin_db)
            metrics = requests.get(
                f"{b.url}/metrics", headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=30
            ).text
        finally:
            db.dispose()
        done_after = time.monotonic() - started
    finally:
        a.stop()
        if b is not None:
            b.stop()

    assert not [pid for pid in killed if Path(f"/proc/{pid}").exists() and _alive(pid)]
    assert at_kill < 3 * VICTIMS, "node A was killed after the burst, not during it"
    # Node B's /metrics adds up its processes: its worker's calls to Rasa are counted.
    count = re.search(r"^victimcare_rasa_request_seconds_count (\S+)$", metrics, re.M)
    assert count and float(count.group(1)) > 0, metrics[:2000]
    assert re.search(r"^victimcare_scheduler_active 1\.0$", metrics, re.M)
    print(
        f"nodes ready after {ready_after:.0f} s; node A killed with {at_kill} of "
        f"{3 * VICTIMS} messages sent; all done {done_after - (killed_at - started):.0f} s "
        f"after the kill, {done_after:.0f} s after the start"
    )


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _sent_count(standin_db: Database) -> int:
    with standin_db.session() as session:
        return len(
            session.scalars(
                select(DevPhoneMessage.id).where(DevPhoneMessage.direction == "to_handset")
            ).all()
        )


def _states(db: Database) -> dict[str, object]:
    with db.session() as session:
        messages = Counter(
            (m.direction.value, m.status.value) for m in session.scalars(select(Message))
        )
        notes = Counter(n.status.value for n in session.scalars(select(Notification)))
    return {"messages": dict(messages), "notifications": dict(notes)}


def _all_done(db: Database) -> bool:
    with db.session() as session:
        notes = session.scalars(select(Notification)).all()
        messages = session.scalars(select(Message)).all()
    # Every victim's welcome and news, every message processed, every reply taken by Twilio.
    return (
        len(notes) == 2 * VICTIMS
        and all(n.status is NotificationStatus.SENT for n in notes)
        and len([m for m in messages if m.direction is Direction.INBOUND]) == VICTIMS
        and all(
            m.status is MessageStatus.PROCESSED
            for m in messages
            if m.direction is Direction.INBOUND
        )
        and all(m.twilio_sid for m in messages if m.direction is Direction.OUTBOUND)
    )


def _check_once(db: Database, standin_db: Database) -> None:
    with db.session() as session:
        inbound = session.scalars(
            select(Message).where(Message.direction == Direction.INBOUND)
        ).all()
        outbound = session.scalars(
            select(Message).where(Message.direction == Direction.OUTBOUND)
        ).all()
    with standin_db.session() as session:
        delivered = session.execute(
            select(DevPhoneMessage.sid, DevPhoneMessage.handset, DevPhoneMessage.body).where(
                DevPhoneMessage.direction == "to_handset"
            )
        ).all()
    # Every victim's message answered, and by the assistant exactly once.
    replies = Counter(m.reply_to_id for m in outbound if m.reply_to_id is not None)
    assert all(replies[m.id] == 1 for m in inbound), replies
    # Everything we wrote reached "Twilio" once; nothing reached it that we did not write.
    assert sorted(m.twilio_sid or "" for m in outbound) == sorted(sid for sid, _, _ in delivered)
    # Each victim's welcome, news and reply are different texts: none may arrive twice.
    sent = Counter((handset, body) for _, handset, body in delivered)
    assert len(sent) == 3 * VICTIMS and max(sent.values()) == 1, sent.most_common(3)
