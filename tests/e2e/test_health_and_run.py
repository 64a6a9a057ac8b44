"""/healthz against the real components, and `make run`'s supervisor from start to Ctrl-C."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient

from scripts.rasa_endpoints import copy_name
from services.settings import Settings
from tests.e2e.conftest import RasaStack
from tests.support.bot import first_reply
from tests.support.factories import quiet_hours_covering_now
from tests.support.handset import Handset
from tests.support.ports import says_address_in_use, spare_port
from tests.support.processes import APP_PY, ROOT, base_env
from workers.worker import Worker

pytestmark = pytest.mark.e2e


def test_healthz_names_every_component_and_answers_200_when_all_are_up(
    client: FlaskClient, worker: Worker
) -> None:
    deadline = time.monotonic() + 15
    while True:
        answer = client.get("/healthz")
        if answer.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    body = answer.get_json()
    assert answer.status_code == 200, body
    assert set(body["components"]) == {"database", "rasa", "action_server", "scheduler", "worker"}
    assert all(c["ok"] for c in body["components"].values())


def test_healthz_is_503_when_rasa_is_down(
    client: FlaskClient, rasa_stack: RasaStack, worker: Worker
) -> None:
    rasa_stack.proxy.mode = "refuse"
    answer = client.get("/healthz")
    assert answer.status_code == 503
    components = answer.get_json()["components"]
    assert components["rasa"]["ok"] is False
    assert components["database"]["ok"] is True


def test_healthz_is_503_without_a_worker_or_a_scheduler(client: FlaskClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 503
    components = answer.get_json()["components"]
    assert components["scheduler"]["ok"] is False
    assert components["worker"]["ok"] is False


class RunService:
    """`scripts/run_service.py` (what `make run` execs) as a child, with its output in a file."""

    def __init__(self, settings: Settings, log_path: Path, database_url: str | None = None) -> None:
        # Web, Rasa and the action server can only be told their ports by number: spare
        # ones, and the whole service again on others if one was taken all the same.
        self.port = spare_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.rasa_port, self.action_port = spare_port(), spare_port()
        self.database_url = database_url or settings.database_url
        env = base_env(
            DATABASE_URL=self.database_url,
            PORT=str(self.port),
            RASA_URL=f"http://127.0.0.1:{self.rasa_port}",
            ACTION_SERVER_URL=f"http://127.0.0.1:{self.action_port}/webhook",
            WORKER_WAKE_ADDR=f"127.0.0.1:{spare_port(socket.SOCK_DGRAM)}",
            API_TOKEN="run-service-token",
        )
        for name in ("PUBLIC_BASE_URL", "TWILIO_API_BASE_URL", "RASA_HOST", "ACTION_SERVER_HOST"):
            env.pop(name, None)
        self.log_path = log_path
        self.log = log_path.open("wb")
        self.popen = subprocess.Popen(
            [str(APP_PY), str(ROOT / "scripts/run_service.py")],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_running(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while "Victim care messaging is running" not in self.output():
            if self.popen.poll() is not None or says_address_in_use(self.output()):
                raise RuntimeError(f"run_service stopped:\n{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"run_service never said it was running:\n{self.output()[-3000:]}"
                )
            time.sleep(0.5)

    def interrupt(self) -> None:
        """Ctrl-C, as a person at the terminal would; kill -9 if it does not stop."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGINT)
        try:
            self.popen.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)
        self.log.close()


def listening_on(port: int) -> set[str]:
    """The local addresses with a TCP socket listening on `port` (Linux's /proc/net/tcp*)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state != "0A" or int(hex_port, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            # The kernel writes each 32-bit word in host (little-endian) order.
            words = [raw[i : i + 4][::-1] for i in range(0, len(raw), 4)]
            found.add(
                str(ipaddress.ip_address(b"".join(words)))
                if width == 32
                else str(ipaddress.ip_address(words[0]))
            )
    return found


def start_run_service(
    settings: Settings, tmp_path: Path, database_url: str | None = None, name: str = "run"
) -> RunService:
    """The service started and answering, on ports nothing else held (three tries)."""
    for attempt in range(3):
        run = RunService(settings, tmp_path / f"{name}{attempt}.log", database_url)
        try:
            run.wait_until_running(240)
            return run
        except RuntimeError as exc:
            run.interrupt()
            if not says_address_in_use(str(exc)):
                raise
    raise RuntimeError("every set of ports tried was taken")


def test_run_service_starts_everything_answers_hello_and_stops_on_ctrl_c(
    settings: Settings, tmp_path: Path
) -> None:
    run = start_run_service(settings, tmp_path)
    base = run.base
    try:
        banner = run.output()
        assert f"{base}/devphone" in banner and "run-service-token" in banner
        headers = {"Authorization": "Bearer run-service-token"}
        assert (
            requests.post(
                f"{base}/api/cases",
                json={
                    "case_ref": "CR-RUN-1",
                    "crime_type": "assault",
                    "officer_in_charge": "PC Hughes",
                },
                headers=headers,
                timeout=10,
            ).status_code
            == 201
        )
        assert (
            requests.post(
                f"{base}/api/cases/CR-RUN-1/victims",
                json={
                    "name": "Dylan Rowlands",
                    "phone": "+447700900401",
                    "channel": "sms",
                    "language": "en",
                    "date_of_birth": "1970-01-30",
                    # The welcome waits out these: the handset gets the reply only.
                    "quiet_hours": quiet_hours_covering_now(),
                },
                headers=headers,
                timeout=10,
            ).status_code
            == 201
        )
        phone = Handset(base, "+447700900401")
        phone.send("hello")
        assert [m["body"] for m in phone.wait_for(1)] == [first_reply("utter_greet", "en")]
        # Rasa and the action server listen on the loopback only (issue 10): nothing else on
        # the network may reach them. The action server also wants Rasa's token.
        assert listening_on(run.rasa_port) == {"127.0.0.1"}
        assert listening_on(run.action_port) == {"127.0.0.1"}
        actions = f"http://127.0.0.1:{run.action_port}"
        assert requests.get(f"{actions}/actions", timeout=5).status_code == 401
    finally:
        run.interrupt()
    assert run.popen.returncode is not None
    stopped = run.output()
    assert "Stopped after" in stopped, stopped[-2000:]


def _hello(base: str, case_ref: str, phone: str) -> list[str]:
    """Register an invented victim on a new case at `base`, text hello, return the replies."""
    headers = {"Authorization": "Bearer run-service-token"}
    case = {"case_ref": case_ref, "crime_type": "assault", "officer_in_charge": "PC Hughes"}
    assert requests.post(f"{base}/api/cases", json=case, headers=headers, timeout=10).ok
    victim = {
        "name": "Dylan Rowlands",
        "phone": phone,
        "channel": "sms",
        "language": "en",
        "date_of_birth": "1970-01-30",
        "quiet_hours": quiet_hours_covering_now(),
    }
    answer = requests.post(
        f"{base}/api/cases/{case_ref}/victims", json=victim, headers=headers, timeout=10
    )
    assert answer.status_code == 201, answer.text
    handset = Handset(base, phone)
    handset.send("hello")
    return [m["body"] for m in handset.wait_for(1)]


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_two_copies_on_one_host_keep_their_own_ports_tracker_and_run_files(
    settings: Settings, tmp_path: Path, db_kind: str
) -> None:
    if db_kind != "sqlite":
        pytest.skip("the tracker file beside the database is SQLite's")
    # Two databases in one folder: the case that used to share one tracker file.
    first = settings.database_url
    second_path = Path(first.removeprefix("sqlite:///")).with_name("other.db")
    shutil.copyfile(first.removeprefix("sqlite:///"), second_path)
    second = f"sqlite:///{second_path}"
    one = start_run_service(settings, tmp_path, first, "one")
    two: RunService | None = None
    try:
        two = start_run_service(settings, tmp_path, second, "two")
        greeting = [first_reply("utter_greet", "en")]
        assert _hello(one.base, "CR-ONE-1", "+447700900411") == greeting
        assert _hello(two.base, "CR-TWO-1", "+447700900412") == greeting
        # kill -9 of the second copy's supervisor alone: its processes go with it.
        children = [int(pid) for pid in re.findall(r"started \(pid=(\d+)\)", two.output())]
        assert len(children) == 5, two.output()[-2000:]
        os.kill(two.popen.pid, signal.SIGKILL)
        two.popen.wait(10)
        deadline = time.monotonic() + 30
        while [pid for pid in children if _running(pid)]:
            assert time.monotonic() < deadline, f"orphans: {two.output()[-1500:]}"
            time.sleep(0.5)
        # ... and its port is free for the next start.
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", two.port))
        # The first copy never noticed.
        assert requests.get(f"{one.base}/healthz", timeout=10).status_code == 200
    finally:
        one.interrupt()
        if two is not None:
            two.interrupt()
    folder = second_path.parent
    assert (folder / "app.rasa_tracker.db").exists()
    assert (folder / "other.rasa_tracker.db").exists()
    assert not (folder / "rasa_tracker.db").exists()
    run_dirs = [ROOT / "var" / "run" / copy_name(run.database_url, run.port) for run in (one, two)]
    try:
        assert all((d / "endpoints.yml").exists() for d in run_dirs)
        assert run_dirs[0] != run_dirs[1]
    finally:
        for d in run_dirs:
            shutil.rmtree(d, ignore_errors=True)
