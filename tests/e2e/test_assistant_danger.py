"""Danger the model recognises (beyond the safety net's words): 999 guidance at once and an
urgent handoff, also in the middle of a form, whose answers are kept."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from models import Language
from services.conversations import safety
from services.language.texts import text
from tests.conftest import LiveServer
from tests.support.bot import first_reply, response
from tests.support.chat import Chat
from tests.support.factories import new_case_with_quiet_victim
from tests.support.handset import Handset
from workers.worker import Worker

pytestmark = pytest.mark.e2e

MEGAN = "+447700900251"
GWEN = "+447700900252"
# Words the safety net has no phrase for, which the model takes for report_danger (the net
# grew in issue 10, and took veiled threats such as "you'll pay for this" in the issue 13
# follow-up: a threat made without words is still left to the model).
EN_DANGER = "he sent a photo of my front door with no words"
CY_DANGER = "gyrrodd o lun o'n drws ffrynt i fi heb ddim gair"
MID_FORM_DANGER = "he said he'd make me pay"


def _handoffs(client: FlaskClient, auth: dict[str, str]) -> list[dict[str, object]]:
    body: list[dict[str, object]] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    return body


@pytest.mark.parametrize(
    ("phone", "language", "words"), [(MEGAN, "en", EN_DANGER), (GWEN, "cy", CY_DANGER)]
)
def test_model_danger_gets_999_and_an_urgent_handoff(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    worker: Worker,
    phone: str,
    language: str,
    words: str,
) -> None:
    assert not safety.in_danger(words)  # this is the model's catch, not the safety net's
    new_case_with_quiet_victim(client, auth, "CR-E2E-MD", phone=phone, language=language)
    chat = Chat(Handset(live_server.url, phone))
    danger = text("danger", Language(language))
    assert chat.say(words) == [f"{danger}\n\n{text('language_hint', Language(language))}"]
    [handoff] = _handoffs(client, auth)
    assert handoff["priority"] == "urgent" and handoff["reason"] == "danger (assistant)"


def test_danger_in_the_middle_of_the_questionnaire_keeps_the_form_going(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker
) -> None:
    new_case_with_quiet_victim(client, auth, "CR-E2E-MDF", phone=MEGAN, language="en")
    chat = Chat(Handset(live_server.url, MEGAN))
    assert chat.say("i want to do the needs assessment", replies=2) == [
        response("utter_needs_intro", "en"),
        first_reply("utter_ask_needs_safe_now", "en"),
    ]
    assert chat.say("yes") == [response("utter_ask_needs_support", "en")]
    assert not safety.in_danger(MID_FORM_DANGER)  # the model's catch, inside the form
    assert chat.say(MID_FORM_DANGER, replies=2) == [
        text("danger", Language.EN),
        response("utter_ask_needs_support", "en"),
    ]
    [handoff] = _handoffs(client, auth)
    assert handoff["priority"] == "urgent"
    assert chat.say("housing") == [response("utter_ask_needs_communication", "en")]
