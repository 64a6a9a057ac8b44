"""The real stack for end-to-end tests: Rasa and the action server once per session,
the web app and a worker per test, with the dev phone standing in for Twilio."""

from __future__ import annotations

import dataclasses
import subprocess
import threading
from collections.abc import Iterator

import pytest
from flask import Flask

from scheduler.worker import Worker
from services.runtime import Runtime
from services.settings import Settings
from tests.conftest import (
    create_pg_database,
    drop_pg_database,
    free_port,
    postgres_unavailable_reason,
)
from tests.support.processes import APP_PY, MODEL, RASA, ROOT, Process, base_env, require_built
from tests.support.proxy import FaultProxy


@dataclasses.dataclass
class RasaStack:
    rasa: Process
    actions: Process
    proxy: FaultProxy
    action_url: str


@pytest.fixture(scope="session")
def rasa_stack(tmp_path_factory: pytest.TempPathFactory, db_kind: str) -> Iterator[RasaStack]:
    """A real `rasa run` with the trained model and the real action server."""
    require_built()
    logs = tmp_path_factory.mktemp("rasa")
    tracker_db = f"sqlite:///{logs / 'app.db'}"
    pg_name = None
    if db_kind == "postgresql":
        reason = postgres_unavailable_reason()
        if reason:
            pytest.skip(f"PostgreSQL tests skipped: {reason}")
        pg_name, tracker_db = create_pg_database("rasa")
    action_port, rasa_port = free_port(), free_port()
    action_url = f"http://127.0.0.1:{action_port}"
    env = base_env(DATABASE_URL=tracker_db, ACTION_SERVER_URL=f"{action_url}/webhook")
    endpoints = logs / "endpoints.yml"
    subprocess.run(
        [str(APP_PY), str(ROOT / "scripts/rasa_endpoints.py"), str(endpoints)], env=env, check=True
    )
    actions = Process(
        "actions",
        [str(APP_PY), "-m", "rasa_sdk", "--actions", "bot.actions", "--port", str(action_port)],
        env,
        logs,
    )
    rasa = Process(
        "rasa",
        [
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
            str(rasa_port),
        ],
        env,
        logs,
    )
    proxy = FaultProxy(rasa_port)
    try:
        actions.wait_http(f"{action_url}/health", timeout=60)
        rasa.wait_http(f"http://127.0.0.1:{rasa_port}/", timeout=240)
        yield RasaStack(rasa=rasa, actions=actions, proxy=proxy, action_url=action_url)
    finally:
        proxy.close()
        rasa.stop()
        actions.stop()
        if pg_name:
            drop_pg_database(pg_name)


@pytest.fixture
def settings(settings: Settings, rasa_stack: RasaStack) -> Settings:
    """The test's settings, pointed at the real Rasa (through the fault proxy)."""
    rasa_stack.proxy.mode = "pass"
    return dataclasses.replace(
        settings, rasa_url=rasa_stack.proxy.url, action_server_url=rasa_stack.action_url
    )


class WorkerThread:
    """The worker loop, in this process, for one test."""

    def __init__(self, rt: Runtime) -> None:
        self.worker = Worker(rt)
        self.thread = threading.Thread(target=self.worker.run, daemon=True)

    def __enter__(self) -> Worker:
        self.thread.start()
        return self.worker

    def __exit__(self, *exc: object) -> None:
        self.worker.stop()
        self.thread.join(30)


@pytest.fixture
def worker(app: Flask, live_server: object) -> Iterator[Worker]:
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
        **extra,
    )
