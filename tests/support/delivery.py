"""Doing in a test, in order and at once, what the scheduler and the workers do."""

from __future__ import annotations

from services.casework import notifications
from services.conversations import processing
from services.runtime import Runtime
from workers.worker import due_conversations


def deliver(rt: Runtime) -> None:
    """Hand over due notifications, then drain every conversation with work due (the
    inbound messages, then the outbox) until none has any."""
    notifications.hand_over_due(rt.db, rt.templates)
    while True:
        with rt.db.session() as session:
            due = due_conversations(session)
        if not due:
            return
        for conversation_id, _ in due:
            processing.drain(rt, conversation_id, "test-worker")
