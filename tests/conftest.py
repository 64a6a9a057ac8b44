"""Shared fixtures: a real database (SQLite file or PostgreSQL), the app, a live server."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from werkzeug.serving import BaseWSGIServer, make_server

from models.migrate import upgrade
from services.runtime import Runtime
from services.settings import Settings
from tests.support.clock import FakeClock
from tests.support.ports import listening_socket, spare_port
from webhooks import create_app

API_TOKEN = "test-api-token"
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")


def postgres_unavailable_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when they can.

    Only an unreachable server is a reason to skip; a missing driver is a broken install,
    and fails.
    """
    engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        return f"no PostgreSQL server answers at {PG_ADMIN_URL} ({str(exc.orig).strip()[:120]})"
    finally:
        engine.dispose()
    return None


def _admin(statement: str) -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def create_pg_database(prefix: str, template: str | None = None) -> tuple[str, str]:
    """A new PostgreSQL database (empty, or a copy of `template`): its name and URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


DATABASES = ("sqlite", "postgresql")


def databases_for(node: pytest.Item | pytest.Function | Any) -> tuple[str, ...]:
    """The databases a test runs on (DEVELOPERS.md, "Tests").

    TEST_DATABASE=sqlite or postgresql runs every test on that one. Unset (what `make test`
    does), a test marked `both_databases` runs on both, one marked `postgresql_only` on
    PostgreSQL, and any other test that uses a database runs on SQLite; a test that uses
    none runs once, whatever is set.
    """
    chosen = os.environ.get("TEST_DATABASE", "")
    if chosen in DATABASES:
        return (chosen,)
    if chosen:
        raise pytest.UsageError(
            f"TEST_DATABASE must be sqlite, postgresql or unset, not {chosen!r}"
        )
    if node.get_closest_marker("postgresql_only"):
        return ("postgresql",)
    if node.get_closest_marker("both_databases"):
        return DATABASES
    return ("sqlite",)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give each test that uses a database the `db_kind`s it runs on (`databases_for`)."""
    if "db_kind" in metafunc.fixturenames:
        metafunc.parametrize(
            "db_kind", databases_for(metafunc.definition), indirect=True, scope="session"
        )


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    """`sqlite` or `postgresql`: the database this test runs on (`databases_for`)."""
    # A fixture asked for by name at run time (request.getfixturevalue) is not
    # parametrized: it gets the first database the test's markers allow.
    kind: str = getattr(request, "param", databases_for(request.node)[0])
    return kind


class TemplateDatabase:
    """A database migrated once per session and database kind, which each test's database
    is copied from.

    Running the migrations for every test cost more than the tests themselves on
    PostgreSQL. The copy is the migrations' own result, so a test still sees exactly what
    an upgraded install has. It is made on first use: a failure fails the test that asked,
    and the next test tries again (a session fixture that raised would fail every later
    test). A PostgreSQL server that does not answer is remembered, and its tests skipped.
    """

    def __init__(self, db_kind: str, folder: Path) -> None:
        self.db_kind = db_kind
        self.folder = folder
        self.made: str | None = None
        self.unavailable: str | None = None

    def get(self) -> str:
        """The template: a SQLite file's path, or a PostgreSQL database's name."""
        if self.made is not None:
            return self.made
        if self.db_kind == "sqlite":
            path = self.folder / "app.db"
            path.unlink(missing_ok=True)
            upgrade(f"sqlite:///{path}")  # disposes its engine: the WAL is folded into the file
            self.made = str(path)
            return self.made
        if self.unavailable is None:
            self.unavailable = postgres_unavailable_reason() or ""
        if self.unavailable:
            pytest.skip(f"PostgreSQL tests skipped: {self.unavailable}")
        name, url = create_pg_database("tmpl")
        try:
            upgrade(url)
        except BaseException:
            drop_pg_database(name)
            raise
        self.made = name
        return name

    def close(self) -> None:
        if self.made is not None and self.db_kind == "postgresql":
            drop_pg_database(self.made)
        self.made = None


@pytest.fixture(scope="session")
def template_database(
    db_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TemplateDatabase]:
    template = TemplateDatabase(db_kind, tmp_path_factory.mktemp("template"))
    yield template
    template.close()


@pytest.fixture
def migrated_template(template_database: TemplateDatabase) -> str:
    """The session's migrated template (`TemplateDatabase`): a file path or a database name."""
    return template_database.get()


@pytest.fixture
def database_url(db_kind: str, tmp_path: Path, migrated_template: str) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    if db_kind == "sqlite":
        path = tmp_path / "app.db"
        shutil.copyfile(migrated_template, path)
        yield f"sqlite:///{path}"
        return
    name, url = create_pg_database("t", template=migrated_template)
    yield url
    drop_pg_database(name)


@pytest.fixture
def web_socket() -> Iterator[socket.socket]:
    """The web app's listening socket, bound before anything is told its port.

    The live server serves on it (and a test's gunicorn through `fd://`), so the port can
    never be taken between choosing it and serving.
    """
    sock = listening_socket()
    yield sock
    sock.close()


@pytest.fixture
def settings(database_url: str, web_socket: socket.socket) -> Settings:
    """Settings for one test: its own database, ports, and quick retries."""
    port = int(web_socket.getsockname()[1])
    base = f"http://127.0.0.1:{port}"
    return dataclasses.replace(
        Settings.from_env(),
        database_url=database_url,
        port=port,
        public_base_url=base,
        twilio_api_base_url=f"{base}/devphone",
        devphone_enabled=True,
        api_token=API_TOKEN,
        # A worker's wake-up port can only be given as a number: one outside the ephemeral
        # range (tests/support/ports.py). Were it taken, nudges would only be lost, and the
        # worker's one-second poll finds the work all the same.
        worker_wake_addr=("127.0.0.1", spare_port(socket.SOCK_DGRAM)),
        retry_base_seconds=0.2,
        retry_cap_seconds=1.0,
        twilio_timeout=5.0,
        rasa_timeout=float(os.environ.get("TEST_RASA_TIMEOUT", "20")),
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings, TESTING=True)
    yield app
    app.extensions["runtime"].close()


@pytest.fixture
def rt(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions["runtime"]
    return runtime


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    """Every utcnow() in this process reads this clock, which stands still until moved.

    It starts on a Wednesday morning in winter (London on UTC), away from bank holidays.
    """
    fake = FakeClock(dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)).install()
    yield fake
    fake.uninstall()


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_TOKEN}"}


class LiveServer:
    """The app served over real HTTP, in a thread, on a socket the test already holds."""

    def __init__(self, app: Flask, sock: socket.socket) -> None:
        host, port = sock.getsockname()[:2]
        self.app = app
        try:
            self.server: BaseWSGIServer = make_server(
                host, port, app, threaded=True, fd=sock.fileno()
            )
        except SystemExit as exc:
            # werkzeug exits the interpreter when it cannot serve; that must fail this test
            # alone, not stop the session.
            raise RuntimeError(f"the live server could not start on port {port}") from exc
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        # The app's background threads (the dev phone's status callbacks) call this server:
        # they finish while it still answers. Shut down first, their requests would each wait
        # out their timeout on a socket nobody serves (15 s a test, before).
        self.app.extensions["runtime"].wait_for_background()
        self.server.shutdown()
        self.thread.join(5)
        # Waits for request threads still running, so none outlives the test's database.
        self.server.server_close()


@pytest.fixture
def live_server(app: Flask, web_socket: socket.socket) -> Iterator[LiveServer]:
    with LiveServer(app, web_socket) as server:
        yield server


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say at the top which databases the suite runs on, and whether it can."""
    chosen = os.environ.get("TEST_DATABASE", "")
    lines = [
        f"databases: every test on {chosen} (TEST_DATABASE)"
        if chosen
        else "databases: tests marked both_databases on SQLite and PostgreSQL, other tests "
        "that use a database on SQLite, tests that use none once (a fresh database per test)"
    ]
    if chosen != "sqlite":
        reason = postgres_unavailable_reason()
        lines.append(
            f"PostgreSQL tests WILL BE SKIPPED: {reason}"
            if reason
            else f"PostgreSQL at {PG_ADMIN_URL}"
        )
    return lines
