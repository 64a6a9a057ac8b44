"""Words of danger through the whole pipeline: 999 guidance at once and an urgent handoff."""

from __future__ import annotations

import time

import pytest
from flask.testing import FlaskClient

from models import Language
from services.conversations.consent import OPTED_OUT_REASON
from services.language.texts import TEXTS
from tests.conftest import LiveServer
from tests.support.bot import first_reply
from tests.support.factories import new_case_with_quiet_victim
from tests.support.handset import Handset
from workers.worker import Worker

pytestmark = pytest.mark.e2e

MEGAN = "+447700900211"
GWEN = "+447700900212"


def _register(client: FlaskClient, auth: dict[str, str], **victim: str) -> None:
    new_case_with_quiet_victim(client, auth, "CR-E2E-DANGER", **victim)


def _open_handoffs(client: FlaskClient, auth: dict[str, str]) -> list[dict[str, object]]:
    answer = client.get("/api/handoffs?status=open", headers=auth)
    assert answer.status_code == 200
    body: list[dict[str, object]] = answer.get_json()
    return body


def _wait_for_handoffs(
    client: FlaskClient, auth: dict[str, str], timeout: float = 30.0
) -> list[dict[str, object]]:
    # Nothing reaches the handset to wait for when the number has opted out: poll the API.
    deadline = time.monotonic() + timeout
    while not (handoffs := _open_handoffs(client, auth)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return handoffs


@pytest.mark.parametrize(
    ("phone", "language", "danger"),
    [(MEGAN, "en", "hes outside my house pls help"), (GWEN, "cy", "mae o tu allan, dw i ofn")],
)
def test_danger_words_get_999_in_their_language_and_an_urgent_handoff(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    worker: Worker,
    phone: str,
    language: str,
    danger: str,
) -> None:
    _register(client, auth, name="Megan Price", phone=phone, channel="sms", language=language)
    handset = Handset(live_server.url, phone)
    handset.send(danger)
    received = handset.settle(quiet=2)
    assert [m["body"] for m in received] == [TEXTS["danger"][Language(language)]]
    [handoff] = _open_handoffs(client, auth)
    assert handoff["priority"] == "urgent" and handoff["reason"] == "danger words"
    assert handoff["case_ref"] == "CR-E2E-DANGER" and handoff["victim_id"] is not None

    # The conversation waits for an officer, and the bot still answers until one claims it.
    handset.send("hello" if language == "en" else "shwmae")
    assert handset.wait_for(2)[1]["body"] == first_reply("utter_greet", language)


def test_opted_out_number_in_danger_is_sent_nothing_but_an_officer_is_asked(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker
) -> None:
    _register(client, auth, name="Megan Price", phone=MEGAN, channel="sms", language="en")
    handset = Handset(live_server.url, MEGAN)
    handset.send("STOP")
    assert handset.wait_for(1)[0]["body"] == TEXTS["opted_out"][Language.EN]
    # The officer in charge is asked to agree another way to keep them informed.
    [opted_out] = _open_handoffs(client, auth)
    assert opted_out["priority"] == "normal" and opted_out["reason"] == OPTED_OUT_REASON
    handset.send("he's at the door, going to kill me")
    deadline = time.monotonic() + 30
    while _open_handoffs(client, auth)[0]["priority"] != "urgent":
        assert time.monotonic() < deadline, "the danger words raised no urgent handoff"
        time.sleep(0.2)
    [handoff] = _open_handoffs(client, auth)  # the same one, raised: one per conversation
    assert len(handset.settle(quiet=2)) == 1  # carriers require silence after STOP
    assert handoff["priority"] == "urgent" and handoff["reason"] == "danger words"
