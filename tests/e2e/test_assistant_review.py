"""Asking for a review of a decision (the Victims' Right to Review), in both languages, through
the real model under `rasa run`, the real action server, a worker and the dev phone."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import LiveServer
from tests.support.chat import Chat
from tests.support.factories import new_case_with_quiet_victim
from tests.support.handset import Handset
from workers.worker import Worker

pytestmark = pytest.mark.e2e

NO_FURTHER_ACTION = {
    "type": "suspect_released_no_further_action",
    "occurred_at": "2026-11-27T10:15:00Z",
    "summary": "The suspect has been released with no further action.",
}


@pytest.mark.parametrize(
    ("phone", "language", "ask", "said"),
    [
        (
            "+447700900243",
            "en",
            "i want that decision looked at again",
            "We've passed your request for a review to an officer.",
        ),
        (
            "+447700900244",
            "cy",
            "hoffwn i gael adolygiad o'r penderfyniad plis",
            "Rydym wedi rhoi eich cais am adolygiad i swyddog heddlu.",
        ),
    ],
)
def test_a_victim_asks_for_a_review_and_it_is_recorded_with_its_limits(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    worker: Worker,
    phone: str,
    language: str,
    ask: str,
    said: str,
) -> None:
    case_ref = "CR-E2E-VRR"
    new_case_with_quiet_victim(client, auth, case_ref, phone=phone, language=language)
    assert (
        client.post(
            f"/api/cases/{case_ref}/events", json=NO_FURTHER_ACTION, headers=auth
        ).status_code
        == 201
    )
    [reply] = Chat(Handset(live_server.url, phone)).say(ask)
    # Not verified: the request is taken, and the answer names no date (the dates would tell
    # whoever holds the phone that a review was asked for, and when).
    assert reply.startswith(said) and "999" in reply
    assert not any(ch.isdigit() for ch in reply.replace("999", ""))
    [review] = client.get(f"/api/cases/{case_ref}/reviews", headers=auth).get_json()
    assert review["status"] == "requested"
    assert review["acknowledge_by"] < review["decide_by"]
    [handoff] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    assert handoff["priority"] == "normal" and "review" in handoff["reason"]
