"""`make run-prod` checks before it starts anything, and says what to fix; `make run` never
seeds demo victims in production."""

from __future__ import annotations

import dataclasses
import subprocess

import pytest
from flask import Flask
from sqlalchemy import func, select

from models import Victim
from services.runtime import Runtime
from services.settings import Settings
from tests.support.ports import listening_socket, spare_port
from tests.support.processes import APP_PY, ROOT, base_env
from webhooks import create_app


def run_prod(**env: str) -> subprocess.CompletedProcess[str]:
    """`python -m scripts.run_service --production`, expected to refuse and stop at once."""
    return subprocess.run(
        [str(APP_PY), "-m", "scripts.run_service", "--production"],
        cwd=ROOT,
        env=base_env(
            API_TOKEN="checks-token",
            SECRET_KEY="checks-secret",
            TWILIO_ACCOUNT_SID="AC" + "ab" * 16,
            TWILIO_AUTH_TOKEN="checks-auth-token",
            # A real Twilio account needs the public https address Twilio calls.
            PUBLIC_BASE_URL="https://victims.example.police.uk",
            **env,
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_sqlite() -> None:
    done = run_prod(DATABASE_URL="sqlite:////tmp/never-created.db", REDIS_URL="redis://x:1/0")
    assert done.returncode == 1
    assert "runs on PostgreSQL: set DATABASE_URL" in done.stderr


def test_a_trial_with_nothing_set_gets_past_the_settings() -> None:
    """On a fresh machine `make run-prod` makes its own secrets and, with no Twilio account
    (the stand-in), is reached on the loopback: the first refusal is a real check."""
    env = base_env(DATABASE_URL="sqlite:////tmp/never-created.db", REDIS_URL="redis://x:1/0")
    for name in (
        "API_TOKEN",
        "SECRET_KEY",
        "ACTION_SERVER_TOKEN",
        "PUBLIC_BASE_URL",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "APP_ENV",
    ):
        env.pop(name, None)
    done = subprocess.run(
        [str(APP_PY), "-m", "scripts.run_service", "--production"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "runs on PostgreSQL: set DATABASE_URL" in done.stderr, done.stderr


@pytest.mark.parametrize(
    "lost",
    [
        {"TWILIO_AUTH_TOKEN": "a-real-token"},  # the account SID was lost
        {"PUBLIC_BASE_URL": "https://victims.example.police.uk"},  # both credentials were
    ],
    ids=["sid-lost", "credentials-lost"],
)
def test_a_lost_twilio_secret_stops_production_instead_of_the_stand_in(
    lost: dict[str, str],
) -> None:
    """The stand-in runs only for a trial: never for a deployment that lost a secret, whose
    victims' messages would then reach no phone."""
    env = base_env(DATABASE_URL="sqlite:////tmp/never-created.db", REDIS_URL="redis://x:1/0")
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL", "APP_ENV"):
        env.pop(name, None)
    env.update(lost)
    done = subprocess.run(
        [str(APP_PY), "-m", "scripts.run_service", "--production"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "cannot start" in done.stderr and "TWILIO" in done.stderr, done.stderr
    assert "runs on PostgreSQL" not in done.stderr  # stopped before any other check


def test_production_says_when_redis_does_not_answer() -> None:
    port = spare_port()  # nothing listens there
    done = run_prod(
        DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/never_created",
        REDIS_URL=f"redis://127.0.0.1:{port}/0",
    )
    assert done.returncode == 1
    assert "Redis at REDIS_URL does not answer" in done.stderr


def test_production_says_which_port_is_taken(db_kind: str, database_url: str) -> None:
    if db_kind != "postgresql":
        pytest.skip("the production layout runs on PostgreSQL")
    taken = listening_socket()
    try:
        port = taken.getsockname()[1]
        done = run_prod(
            DATABASE_URL=database_url,
            REDIS_URL="redis://127.0.0.1:6379/0",
            PORT=str(port),
            RASA_REPLICAS="1",
            STANDIN_PORT=str(spare_port()),
        )
    finally:
        taken.close()
    assert done.returncode == 1
    assert f"port {port} (web, PORT) is in use" in done.stderr


def test_demo_data_is_never_created_in_production(settings: Settings) -> None:
    app: Flask = create_app(dataclasses.replace(settings, production=True))
    rt: Runtime = app.extensions["runtime"]
    try:
        result = app.test_cli_runner().invoke(args=["demo-data"])
        assert result.exit_code == 0
        assert "never created when APP_ENV=production" in result.output
        with rt.db.session() as session:
            assert session.scalar(select(func.count()).select_from(Victim)) == 0
    finally:
        rt.close()
