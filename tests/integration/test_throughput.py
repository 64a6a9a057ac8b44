"""A burst of notifications goes at the sender's rate, and a victim who writes during it is
answered ahead of it. Real worker, real dev phone; the rate is low so the burst is short."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Author, Message, MessageStatus
from models.devphone import DevPhoneMessage
from services.casework import notifications
from services.runtime import Runtime
from services.settings import Settings
from tests.conftest import LiveServer
from tests.support.factories import NO_QUIET_HOURS, inbound_form, new_case, new_victim, signed_post
from workers.worker import Worker

RATE = 10.0
BURST = 40
CASE = "CR-2026-0500"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, send_rate_per_second=RATE, worker_threads=4)


def _sent_times(rt: Runtime) -> list[tuple[float, str]]:
    with rt.db.session() as session:
        rows = session.execute(
            select(DevPhoneMessage.created_at, DevPhoneMessage.body)
            .where(DevPhoneMessage.direction == "to_handset")
            .order_by(DevPhoneMessage.id)
        ).all()
    return [(created.timestamp(), body) for created, body in rows]


def test_a_burst_drains_at_the_rate_and_a_reply_jumps_the_queue(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    settings: Settings,
    live_server: LiveServer,
) -> None:
    new_case(client, auth, CASE)
    # Registered first, with no worker running, then released at once as one burst.
    for i in range(BURST):
        new_victim(
            client,
            auth,
            CASE,
            name=f"Dioddefwr {i}",
            phone=f"+447700900{900 + i:03d}",
            quiet_hours=NO_QUIET_HOURS,
        )
    assert notifications.hand_over_due(rt.db, rt.templates) == BURST
    worker = Worker(rt)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(_sent_times(rt)) < 5:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # A victim writes mid-burst; HELP is answered without the assistant.
        form = inbound_form("+447700900900", "HELP")
        assert signed_post(client, settings, "/twilio/messages", form).status_code == 200
        while True:
            with rt.db.session() as session:
                pending = session.scalars(
                    select(Message).where(
                        Message.author == Author.SYSTEM,
                        Message.status.in_([MessageStatus.PENDING, MessageStatus.SUBMITTING]),
                    )
                ).all()
            if not pending:
                break
            assert time.monotonic() < deadline + 30, "the burst did not drain"
            time.sleep(0.2)
    finally:
        worker.stop()
        thread.join(30)

    sent = _sent_times(rt)
    assert len(sent) == BURST + 1
    help_at = next(i for i, (_, body) in enumerate(sent) if "STOP" in body and "101" in body)
    # The reply went out within a few sends of arriving, not behind the rest of the burst.
    assert help_at <= 5 + 4, [body[:20] for _, body in sent]
    # Never faster than the rate: any RATE + 1 consecutive sends span at least ~a second.
    stamps = [t for t, _ in sent]
    spans = [b - a for a, b in zip(stamps, stamps[int(RATE) :], strict=False)]
    assert min(spans) >= 0.9, min(spans)
