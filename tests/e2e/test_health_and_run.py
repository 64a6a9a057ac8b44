"""/healthz against the real components, and `make run`'s supervisor from start to Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient

from scheduler.worker import Worker
from services.settings import Settings
from tests.conftest import free_port
from tests.e2e.conftest import RasaStack
from tests.support.bot import first_reply
from tests.support.factories import quiet_hours_covering_now
from tests.support.handset import Handset
from tests.support.processes import APP_PY, ROOT, base_env

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


def test_run_service_starts_everything_answers_hello_and_stops_on_ctrl_c(
    settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = base_env(
        DATABASE_URL=settings.database_url,
        PORT=str(port),
        RASA_URL=f"http://127.0.0.1:{free_port()}",
        ACTION_SERVER_URL=f"http://127.0.0.1:{free_port()}/webhook",
        WORKER_WAKE_ADDR=f"127.0.0.1:{free_port()}",
        API_TOKEN="run-service-token",
    )
    env.pop("PUBLIC_BASE_URL", None)
    env.pop("TWILIO_API_BASE_URL", None)
    log = (tmp_path / "run.log").open("wb")
    run = subprocess.Popen(
        [str(APP_PY), str(ROOT / "scripts/run_service.py")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while "Victim care messaging is running" not in (tmp_path / "run.log").read_text():
            assert run.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()[-3000:]
            time.sleep(0.5)
        banner = (tmp_path / "run.log").read_text()
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
    finally:
        os.killpg(run.pid, signal.SIGINT)
        try:
            run.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait(10)
        log.close()
    assert run.returncode is not None
    stopped = (tmp_path / "run.log").read_text()
    assert "Stopped after" in stopped, stopped[-2000:]
