"""Minimise: no message body and no full phone number in any log line, the twilio library's
own request logging included; no bound parameters in database errors; JSON lines with the
request id in production; files under var/ readable by their owner only; security headers on
every console page."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from models import Channel, Victim, utcnow
from models.db import make_engine
from services import logs
from services import settings as settings_module
from services.messaging.twilio_gateway import SendFailed
from services.privacy import tracker
from services.runtime import Runtime
from services.settings import Settings
from tests.conftest import LiveServer
from tests.support.console import signed_in
from tests.support.factories import inbound_form, mentions, signed_post
from webhooks import create_app

NUMBER = "+447700900777"
BODY = "he took my keys and my bank card"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything logged at any level, through the service's own handler and filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    handler.addFilter(logs.RedactingFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # A force debugging a delivery problem might turn the twilio library's logger right up.
    twilio_logger = logging.getLogger("twilio.http_client")
    twilio_level = twilio_logger.level
    twilio_logger.setLevel(logging.DEBUG)
    yield stream
    twilio_logger.setLevel(twilio_level)
    root.setLevel(old_level)
    root.removeHandler(handler)


def test_twilio_library_logs_reach_no_log_with_a_number_or_a_body(
    rt: Runtime, live_server: LiveServer, captured: io.StringIO
) -> None:
    logs.install_redaction()
    sent = rt.twilio.send(NUMBER, Channel.SMS, BODY)
    assert sent.sid
    assert rt.twilio.find_sent(NUMBER, Channel.SMS, BODY, utcnow() - dt.timedelta(hours=1))
    with pytest.raises(SendFailed) as refused:
        rt.twilio.send("+4477009007771234", Channel.SMS, BODY)
    logging.getLogger("services.messaging.outbox").error("message 1 failed: %s", refused.value)
    text = captured.getvalue()
    # The library did log its requests (so the test sees what it would have leaked)...
    assert "Twilio API Request" in text and "Messages.json" in text
    assert "…777" in text
    # ...and nothing of the number or the words is left in them.
    assert "900777" not in text and "%2B447700" not in text
    assert "keys" not in text and "1234" not in text


def test_inbound_webhook_logs_only_the_last_three_digits(
    client: FlaskClient, settings: Settings, captured: io.StringIO
) -> None:
    logs.install_redaction()
    form = inbound_form(NUMBER, BODY)
    assert signed_post(client, settings, "/twilio/messages", form).status_code == 200
    text = captured.getvalue()
    assert "…777" in text and "900777" not in text and "keys" not in text


def test_a_database_error_carries_no_bound_parameters(rt: Runtime, captured: io.StringIO) -> None:
    logs.install_redaction()
    row = {
        "name": "Rhiannon Prydderch",
        "phone": NUMBER,
        "channel": "sms",
        "language": "en",
        "date_of_birth": dt.date(1984, 3, 2),
        "enhanced_rights": False,
        "update_every_days": 28,
        "quiet_start": dt.time(20),
        "quiet_end": dt.time(8),
        "safe_contact": False,
    }
    with pytest.raises(IntegrityError) as failed:
        with rt.db.session() as session:
            session.execute(insert(Victim).values(**row))
            session.execute(insert(Victim).values(**row))
    assert "SQL parameters hidden" in str(failed.value)
    assert "Rhiannon" not in str(failed.value) and not mentions(str(failed.value), "1984")
    # (PostgreSQL's own DETAIL names the key's value: the log filter drops it.)
    logging.getLogger("test").exception("registration failed", exc_info=failed.value)
    logged = captured.getvalue()
    assert "registration failed" in logged and "IntegrityError" in logged
    assert "Rhiannon" not in logged and not mentions(logged, "1984") and "900777" not in logged


def test_the_redaction_filter_on_what_logs_show() -> None:
    assert logs.redact("to +447700900123 and whatsapp:+447700900456") == (
        "to …123 and whatsapp:…456"
    )
    assert logs.redact("To=%2B447700900123&Body=hello+there&From=x") == (
        "To=…123&Body=[redacted]&From=x"
    )
    assert logs.redact("{'Body': 'it\\'s me', 'To': '07700 900321'}") == (
        "{'Body': '[redacted]', 'To': '…321'}"
    )
    assert logs.redact('{"summary": "arrested at 12 Heol y Felin", "type": "x"}') == (
        '{"summary": "[redacted]", "type": "x"}'
    )
    assert logs.redact("DETAIL:  Key (phone)=(+447700900123) already exists.") == (
        "DETAIL:  Key (phone)=([redacted]) already exists."
    )
    for harmless in ("handoff 12 opened", "2026-12-02 10:00:00+00:00", "notification 4567"):
        assert logs.redact(harmless) == harmless


def test_production_logs_are_json_lines_with_the_request_id(
    settings: Settings, captured: io.StringIO
) -> None:
    app = create_app(dataclasses.replace(settings, production=True), TESTING=True)
    try:
        ours = [h for h in logging.getLogger().handlers if getattr(h, "_victim_care", False)]
        assert ours
        stream = io.StringIO()
        old_stream = ours[0].setStream(stream)  # type: ignore[attr-defined]
        try:
            form = inbound_form(NUMBER, BODY)
            client = app.test_client()
            response = signed_post(client, settings, "/twilio/messages", form)
            assert response.status_code == 200
        finally:
            ours[0].setStream(old_stream)  # type: ignore[attr-defined]
        lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
        stored = [line for line in lines if "stored inbound" in line["message"]]
        assert stored and stored[0]["request_id"] == response.headers["X-Request-ID"]
        assert {"time", "level", "logger", "conversation_id"} <= set(stored[0])
        assert "900777" not in stream.getvalue()
    finally:
        app.extensions["runtime"].close()
        logs.configure(False)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "var" / "app.db"
        engine = make_engine(f"sqlite:///{path}")
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (x)")
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
            # While connected, WAL mode keeps its -wal and -shm files beside the database.
            members = [path, path.with_name("app.db-wal"), path.with_name("app.db-shm")]
            assert all(p.exists() for p in members)
            assert [_mode(p) for p in members] == [0o600, 0o600, 0o600]
        engine.dispose()
        assert _mode(path.parent) == 0o700
        # A database made before (world-readable) is put right when opened.
        os.chmod(path, 0o644)
        make_engine(f"sqlite:///{path}").dispose()
        assert _mode(path) == 0o600
        # Rasa's tracker file, which Rasa creates with its own umask, too.
        tracker_file = tmp_path / "rasa_tracker.db"
        tracker_file.touch(mode=0o644)
        tracker.erase(f"sqlite:///{tracker_file}", ["nobody"])
        assert _mode(tracker_file) == 0o600
    finally:
        os.umask(old)


def test_dev_secrets_are_readable_by_their_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings_module, "VAR_DIR", tmp_path / "var")
    old = os.umask(0o022)
    try:
        settings_module._dev_secret("SECRET_KEY")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "var" / "dev-secrets.json") == 0o600
    assert _mode(tmp_path / "var") == 0o700


def test_every_console_page_carries_the_security_headers(
    app: Flask, client: FlaskClient, rt: Runtime
) -> None:
    pages = ["/console/login", "/console/no-such-page", "/console/static/console/console.css"]
    responses = [client.get(p) for p in pages]
    signed_in(client, rt, "huw", "supervisor")
    plain_routes = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("console.")
        and "GET" in (rule.methods or ())
        and not rule.arguments
    ]
    assert len(plain_routes) >= 10
    responses += [client.get(route) for route in plain_routes]
    for response in responses:
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["Cache-Control"] == "no-store"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        response.close()
    # The API is not cached either.
    api = client.get("/api/handoffs?status=open")
    assert api.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in api.headers  # only in production (https)


def test_production_adds_strict_transport_security(settings: Settings) -> None:
    app = create_app(dataclasses.replace(settings, production=True), TESTING=True)
    try:
        response = app.test_client().get("/console/login")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        app.extensions["runtime"].close()
        logs.configure(False)


def test_an_oversized_webhook_is_refused_before_it_is_read(
    client: FlaskClient, settings: Settings
) -> None:
    form = inbound_form(NUMBER, "x" * (settings.max_content_length + 1))
    assert signed_post(client, settings, "/twilio/messages", form).status_code == 413


def test_a_workers_lines_carry_the_conversation_it_is_handling() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter(True))
    log = logging.getLogger("tests.minimise")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        logs.install_redaction()
        with logs.bound(conversation="42"):
            log.info("sent to %s", NUMBER)
        log.info("outside")
    finally:
        log.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["conversation_id"] == "42" and inside["message"] == "sent to …777"
    assert outside["conversation_id"] is None
