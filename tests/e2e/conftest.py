"""The real stack for end-to-end tests: Rasa and the action server once per session (each
test points the action server at its own database), the web app, a worker and the
scheduler per test, with the dev phone standing in for Twilio."""

from __future__ import annotations

import dataclasses
import secrets
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from scheduler.service import SchedulerService
from services.messaging import wake
from services.runtime import Runtime
from services.settings import Settings, tracker_store_url
from tests.conftest import (
    create_pg_database,
    drop_pg_database,
    postgres_unavailable_reason,
)
from tests.support import e2e_actions
from tests.support.processes import (
    APP_PY,
    MODEL,
    RASA,
    ROOT,
    Process,
    base_env,
    require_built,
    start_http,
)
from tests.support.proxy import FaultProxy
from workers.worker import Worker


@dataclasses.dataclass
class RasaStack:
    rasa: Process
    proxy: FaultProxy
    # Rasa calls the action server through this proxy, which each test points at an action
    # server of its own (`action_server`): the actions read and write the test's database.
    action_proxy: FaultProxy
    action_url: str
    env: dict[str, str]
    logs: Path
    # Rasa's tracker store, where tests look for what Rasa was told (scripts/rasa_endpoints.py:
    # a SQLite file beside the app's, or the `events` table of Rasa's PostgreSQL database).
    tracker_url: str


class RasaService:
    """`rasa run` with the trained model, started on first use and kept for the session.

    A failed start fails the test that asked for it, and the next test tries again: a
    session fixture that raised would fail every later test that uses it.
    """

    def __init__(self, logs: Path, db_kind: str, action_token: str) -> None:
        self.logs = logs
        self.db_kind = db_kind
        self.action_token = action_token
        self.stack: RasaStack | None = None
        self.pg_name: str | None = None

    def get(self) -> RasaStack:
        if self.stack is not None and self.stack.rasa.popen.poll() is None:
            return self.stack
        self.close()
        require_built()
        tracker_db = f"sqlite:///{self.logs / 'app.db'}"
        if self.db_kind == "postgresql":
            reason = postgres_unavailable_reason()
            if reason:
                pytest.skip(f"PostgreSQL tests skipped: {reason}")
            self.pg_name, tracker_db = create_pg_database("rasa")
        # Nothing listens behind it until a test starts its action server and points it there.
        action_proxy = FaultProxy(0)
        env = base_env(
            DATABASE_URL=tracker_db,
            ACTION_SERVER_URL=f"{action_proxy.url}/webhook",
            # Rasa sends it with every action call; each test's action server requires it.
            ACTION_SERVER_TOKEN=self.action_token,
        )
        endpoints = self.logs / "endpoints.yml"
        subprocess.run(
            [str(APP_PY), "-m", "scripts.rasa_endpoints", str(endpoints)],
            env=env,
            check=True,
            cwd=ROOT,
        )

        def argv(port: int) -> list[str]:
            return [
                str(RASA),
                "run",
                "-m",
                str(MODEL),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(ROOT / "bot/credentials.yml"),
                "--interface",
                "127.0.0.1",
                "--port",
                str(port),
            ]

        try:
            rasa, rasa_port = start_http(
                "rasa", argv, lambda port: f"http://127.0.0.1:{port}/", env, self.logs, 240
            )
        except BaseException:
            action_proxy.close()
            raise
        self.stack = RasaStack(
            rasa=rasa,
            proxy=FaultProxy(rasa_port),
            action_proxy=action_proxy,
            action_url=action_proxy.url,
            env=env,
            logs=self.logs,
            tracker_url=tracker_store_url(tracker_db),
        )
        return self.stack

    def close(self) -> None:
        if self.stack is not None:
            self.stack.proxy.close()
            self.stack.action_proxy.close()
            self.stack.rasa.stop()
            self.stack = None
        if self.pg_name:
            drop_pg_database(self.pg_name)
            self.pg_name = None


@pytest.fixture(scope="session")
def action_token() -> str:
    """The secret Rasa sends the action server. One action server serves the session, and a
    session runs a Rasa per database kind: every one of them must send the same token."""
    return secrets.token_urlsafe(24)


@pytest.fixture(scope="session")
def rasa_service(
    tmp_path_factory: pytest.TempPathFactory, db_kind: str, action_token: str
) -> Iterator[RasaService]:
    service = RasaService(tmp_path_factory.mktemp("rasa"), db_kind, action_token)
    yield service
    service.close()


@pytest.fixture
def rasa_stack(rasa_service: RasaService) -> RasaStack:
    """A real `rasa run` with the trained model (one per session) and its proxies."""
    return rasa_service.get()


def start_action_server(env: dict[str, str], log_dir: Path, name: str = "actions") -> Process:
    """Our action server (`python -m bot.action_server`, as `make run` starts it) on a spare
    port of the loopback, answering /health."""
    actions, _ = start_http(
        name,
        lambda port: [str(APP_PY), "-m", "bot.action_server", "--port", str(port)],
        lambda port: f"http://127.0.0.1:{port}/health",
        env,
        log_dir,
        60,
    )
    return actions


def port_of(process: Process) -> int:
    """The port a server started by `start_http` was given (the last argument)."""
    args = process.popen.args
    assert isinstance(args, list)
    return int(args[-1])


class ActionService:
    """Our real action server (`python -m bot.action_server`), started on first use and kept
    for the session.

    Each test points it at its own database (`tests/support/e2e_actions.py`), which takes
    milliseconds; starting a server took 2-3 s a test. A failed start fails the test that
    asked for it, and the next test tries again.
    """

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.process: Process | None = None
        self.port = 0
        self.token = ""

    def get(self, env: dict[str, str]) -> tuple[Process, int]:
        if self.process is not None and self.process.popen.poll() is None:
            return self.process, self.port
        self.close()
        # Rasa sends this token with every action call; the server refuses calls without it.
        self.token = env["ACTION_SERVER_TOKEN"]
        self.process, self.port = start_http(
            "actions",
            lambda port: [
                str(APP_PY),
                "-m",
                "bot.action_server",
                "--actions",
                "tests.support.e2e_actions",
                "--port",
                str(port),
            ],
            lambda port: f"http://127.0.0.1:{port}/health",
            # No database until a test names one.
            {**env, "DATABASE_URL": "sqlite:///:memory:"},
            self.logs,
            60,
        )
        return self.process, self.port

    def use_database(self, database_url: str) -> None:
        response = requests.post(
            f"http://127.0.0.1:{self.port}/webhook",
            params={"token": self.token},
            json=e2e_actions.use_database_call(database_url),
            timeout=30,
        )
        if response.status_code != 200:
            raise RuntimeError(f"the action server refused {database_url}: {response.text}")

    def close(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


@pytest.fixture(scope="session")
def action_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionService]:
    service = ActionService(tmp_path_factory.mktemp("actions"))
    yield service
    service.close()


@pytest.fixture
def action_server(
    database_url: str, rasa_stack: RasaStack, action_service: ActionService
) -> Iterator[Process]:
    """The real action server, on this test's database, where Rasa's action proxy points.

    One server serves the session (started on first use); it is pointed at each test's
    database before the test and let go of it after, so the database can be dropped.
    """
    actions, port = action_service.get(rasa_stack.env)
    action_service.use_database(database_url)
    try:
        rasa_stack.action_proxy.target_port = port
        rasa_stack.action_proxy.mode = "pass"
        yield actions
    finally:
        if actions.popen.poll() is None:
            action_service.use_database("sqlite:///:memory:")


@pytest.fixture
def settings(settings: Settings, rasa_stack: RasaStack, action_server: Process) -> Settings:
    """The test's settings, pointed at the real Rasa (through the fault proxy)."""
    rasa_stack.proxy.mode = "pass"
    return dataclasses.replace(
        settings,
        rasa_url=rasa_stack.proxy.url,
        action_server_url=rasa_stack.action_url,
        action_server_token=rasa_stack.env["ACTION_SERVER_TOKEN"],
        rasa_tracker_url=rasa_stack.tracker_url,
    )


class WorkerThread:
    """The worker loop and the (active) scheduler, in this process, for one test."""

    def __init__(self, rt: Runtime) -> None:
        self.worker = Worker(rt)
        self.scheduler = SchedulerService(rt)
        self.threads = [
            threading.Thread(target=self.worker.run, daemon=True),
            threading.Thread(target=self.scheduler.run, daemon=True),
        ]

    def __enter__(self) -> Worker:
        for thread in self.threads:
            thread.start()
        if not self.scheduler.active.wait(30):
            raise RuntimeError("the scheduler did not become active")
        return self.worker

    def __exit__(self, *exc: object) -> None:
        self.worker.stop()
        # The worker waits up to its one-second poll for a wake-up; give it one now.
        wake.nudge(self.worker.rt.settings.worker_wake_addr)
        self.scheduler.stop()
        for thread in self.threads:
            thread.join(30)


@pytest.fixture
def worker(app: Flask, live_server: object) -> Iterator[Worker]:
    """A worker and the active scheduler: everything that runs in the background."""
    rt: Runtime = app.extensions["runtime"]
    with WorkerThread(rt) as running:
        yield running


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that makes a child process use this test's settings."""
    return base_env(
        DATABASE_URL=settings.database_url,
        PORT=str(settings.port),
        PUBLIC_BASE_URL=settings.public_base_url,
        RASA_URL=settings.rasa_url,
        ACTION_SERVER_URL=settings.action_server_url,
        TWILIO_API_BASE_URL=settings.twilio_api_base_url,
        API_TOKEN=settings.api_token,
        WORKER_WAKE_ADDR=f"{settings.worker_wake_addr[0]}:{settings.worker_wake_addr[1]}",
        RETRY_BASE_SECONDS=str(settings.retry_base_seconds),
        RETRY_CAP_SECONDS=str(settings.retry_cap_seconds),
        TWILIO_TIMEOUT_SECONDS=str(settings.twilio_timeout),
        RASA_TIMEOUT_SECONDS=str(settings.rasa_timeout),
        ACTION_SERVER_TOKEN=settings.action_server_token,
        **extra,
    )
