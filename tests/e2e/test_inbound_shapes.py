"""The shapes the assistant answers, through the whole pipeline: the dev phone posts
Twilio's signed form (with the shape's own fields), a worker passes the words to the real
Rasa, and the replies come back to the handset. docs/INBOUND.md lists every shape."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from models import Language
from services.language.texts import TEXTS
from tests.conftest import LiveServer
from tests.support.bot import first_reply
from tests.support.chat import Chat
from tests.support.factories import new_case_with_quiet_victim
from tests.support.handset import Handset
from workers.worker import Worker

pytestmark = pytest.mark.e2e

GWEN = "+447700900231"
MEGAN = "+447700900232"
CASE = "CR-E2E-SHAPES"


def _register(client: FlaskClient, auth: dict[str, str], phone: str, language: str) -> None:
    new_case_with_quiet_victim(
        client, auth, CASE, name="Gwen Huws", phone=phone, channel="whatsapp", language=language
    )


def _replies(phone: Handset, seen: int, count: int) -> list[str]:
    received = phone.wait_for(seen + count)
    return [m["body"] for m in received[seen:]]


def test_after_a_location_the_conversation_keeps_working(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker
) -> None:
    # Field case (issue 13): a shared location reached Rasa as an empty text.
    _register(client, auth, GWEN, "cy")
    phone = Handset(live_server.url, GWEN, "whatsapp")
    location = {"MessageType": "location", "Latitude": "52.4153", "Longitude": "-4.0829"}
    assert phone.send("", fields=location)["webhook_status"] == 200
    assert _replies(phone, 0, 1) == [TEXTS["location"][Language.CY]]
    chat = Chat(phone)
    assert chat.say("shwmae") == [first_reply("utter_greet", "cy")]
    [handoff] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    assert handoff["priority"] == "high"


def test_a_quick_reply_button_is_answered_as_the_words_on_it(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker
) -> None:
    _register(client, auth, MEGAN, "en")
    phone = Handset(live_server.url, MEGAN, "whatsapp")
    button = {"MessageType": "button", "ButtonText": "hello", "ButtonPayload": "greeting"}
    assert phone.send("", fields=button)["webhook_status"] == 200
    assert _replies(phone, 0, 1) == [first_reply("utter_greet", "en")]


def test_a_list_choice_is_answered_as_the_item_chosen(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker
) -> None:
    _register(client, auth, GWEN, "cy")
    phone = Handset(live_server.url, GWEN, "whatsapp")
    choice = {"MessageType": "interactive", "ListId": "rights", "ListTitle": "beth yw fy hawliau"}
    assert phone.send("beth yw fy hawliau", fields=choice)["webhook_status"] == 200
    assert _replies(phone, 0, 1) == [first_reply("utter_rights_summary", "cy")]


def test_a_message_from_a_click_to_whatsapp_ad_reaches_the_assistant(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker
) -> None:
    _register(client, auth, MEGAN, "en")
    phone = Handset(live_server.url, MEGAN, "whatsapp")
    advert = {
        "ReferralBody": "Support after a crime, by text",
        "ReferralHeadline": "Victim care",
        "ReferralSourceId": "120200000000000",
        "ReferralSourceType": "ad",
        "ReferralSourceUrl": "https://fb.me/example",
    }
    assert phone.send("hello", fields=advert)["webhook_status"] == 200
    assert _replies(phone, 0, 1) == [first_reply("utter_greet", "en")]


def test_a_picture_with_words_gets_both_answers(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker
) -> None:
    _register(client, auth, MEGAN, "en")
    phone = Handset(live_server.url, MEGAN, "whatsapp")
    assert phone.send("hello", num_media=1)["webhook_status"] == 200
    assert _replies(phone, 0, 2) == [TEXTS["media"][Language.EN], first_reply("utter_greet", "en")]
