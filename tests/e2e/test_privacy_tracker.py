"""Retention against the tracker a real `rasa run` writes: an idle conversation's tracker goes
whole, a live one stays (the purge's SQL, on Rasa's own schema, on SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import time

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Conversation
from services.privacy import retention, tracker
from services.runtime import Runtime
from services.settings import Settings
from tests.conftest import LiveServer
from tests.support.clock import FakeClock
from tests.support.factories import new_case_with_quiet_victim
from tests.support.handset import Handset
from workers.worker import Worker

pytestmark = pytest.mark.e2e

MEGAN = "+447700900531"


def _sender(rt: Runtime, number: str) -> str:
    with rt.db.session() as session:
        talk = session.scalar(select(Conversation).where(Conversation.address == number))
        assert talk is not None
        return talk.public_id


def test_an_idle_conversations_real_tracker_is_purged_whole(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    settings: Settings,
    live_server: LiveServer,
    worker: Worker,
    clock: FakeClock,
) -> None:
    new_case_with_quiet_victim(client, auth, "CR-TRACK-1", phone=MEGAN, name="Megan Price")
    Handset(live_server.url, MEGAN).send("hello")
    Handset(live_server.url, MEGAN).wait_for(1)
    megan = _sender(rt, MEGAN)
    # Rasa may commit its tracker a moment after its answer reached us (seen once in a dozen
    # runs once the worker sent replies a commit sooner): wait for it, up to 10 s.
    deadline = time.monotonic() + 10
    while True:
        written = tracker.events_of(settings.tracker_url(), [megan])[megan]
        if any(e.get("text") == "hello" for e in written) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert any(e.get("text") == "hello" for e in written)
    schedule = dataclasses.replace(retention.load(settings.retention_file), tracker_events=30)

    # Today the tracker is live: the purge leaves it.
    retention.purge(rt.db, schedule, settings.tracker_url())
    assert tracker.events_of(settings.tracker_url(), [megan])[megan] == written
    # Thirty-one days on (Rasa stamps its events with the real time), it goes, whole.
    clock.advance(days=31)
    purged = retention.purge(rt.db, schedule, settings.tracker_url())
    assert tracker.events_of(settings.tracker_url(), [megan])[megan] == []
    assert purged["tracker_events"] >= len(written)
