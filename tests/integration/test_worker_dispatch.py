"""The worker drains different conversations at the same time, and one conversation once."""

from __future__ import annotations

import threading

import pytest
from flask.testing import FlaskClient

from services.runtime import Runtime
from services.settings import Settings
from tests.support.factories import inbound_form, signed_post
from workers import worker as worker_module
from workers.worker import Worker, due_conversations

# Both databases: leases: conditional UPDATEs across threads.
pytestmark = pytest.mark.both_databases


def _message(client: FlaskClient, settings: Settings, sender: str) -> None:
    assert (
        signed_post(client, settings, "/twilio/messages", inbound_form(sender, "hi")).status_code
        == 200
    )


def test_two_conversations_are_drained_in_parallel(
    client: FlaskClient, settings: Settings, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _message(client, settings, "+447700900501")
    _message(client, settings, "+447700900502")
    _message(client, settings, "+447700900502")
    with rt.db.session() as session:
        due = due_conversations(session)
    assert len(due) == 2  # one entry per conversation, however many messages wait in it

    # Both drains must be inside at once to pass the barrier: run one after the other, and
    # the first waits in vain and raises BrokenBarrierError.
    barrier = threading.Barrier(2, timeout=10)
    release = threading.Event()
    seen: list[int] = []

    def drain(_rt: Runtime, conversation_id: int, _owner: str) -> None:
        seen.append(conversation_id)
        barrier.wait()
        release.wait(10)

    monkeypatch.setattr(worker_module.processing, "drain", drain)
    worker = Worker(rt)
    assert worker.dispatch() == 2
    assert worker.dispatch() == 0  # both still in hand: neither is started twice
    release.set()
    worker.pool.shutdown(wait=True)
    assert sorted(seen) == sorted(conversation_id for conversation_id, _ in due)
    assert not barrier.broken
