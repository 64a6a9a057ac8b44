"""Officer, new crime, rights, preferences, language and fallback, through the pipeline."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Language, Victim
from services.runtime import Runtime
from tests.conftest import LiveServer
from tests.support.bot import first_reply, response
from tests.support.chat import Chat
from tests.support.factories import new_case_with_quiet_victim
from tests.support.handset import Handset
from workers.worker import Worker

pytestmark = pytest.mark.e2e

MEGAN = "+447700900241"
GWEN = "+447700900242"


@pytest.mark.parametrize(
    ("phone", "language", "ask", "said"),
    [
        (MEGAN, "en", "can i speak to my officer", "We've asked an officer to contact you."),
        (GWEN, "cy", "ga i siarad â fy swyddog", "Rydym wedi gofyn i swyddog heddlu gysylltu"),
    ],
)
def test_officer_request_opens_a_normal_handoff(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    worker: Worker,
    phone: str,
    language: str,
    ask: str,
    said: str,
) -> None:
    new_case_with_quiet_victim(client, auth, "CR-E2E-OFF", phone=phone, language=language)
    [reply] = Chat(Handset(live_server.url, phone)).say(ask)
    assert reply.startswith(said) and "999" in reply
    [handoff] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    assert handoff["priority"] == "normal" and handoff["case_ref"] == "CR-E2E-OFF"


def test_welsh_rights_new_crime_and_preferences(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker, rt: Runtime
) -> None:
    new_case_with_quiet_victim(client, auth, "CR-E2E-CY", phone=GWEN, language="cy")
    chat = Chat(Handset(live_server.url, GWEN))
    assert chat.say("beth yw fy hawliau") == [first_reply("utter_rights_summary", "cy")]
    assert chat.say("dw i isio riportio trosedd") == [response("utter_new_crime", "cy")]
    # Weekly is more often than every 28 days: more contact lowers protection, so the date
    # of birth comes first (docs/SAFETY.md), and the officer is told.
    assert chat.say("negeseuon unwaith yr wythnos plis") == [
        response("utter_ask_dob_for_change", "cy")
    ]
    assert chat.say("2il o Fawrth 1984", replies=2) == [
        response("utter_pref_frequency", "cy").format(days=7),
        response("utter_pref_officer_told", "cy"),
    ]
    with rt.db.session() as session:
        assert session.scalars(select(Victim)).one().update_every_days == 7


def test_switching_to_welsh_is_stored_and_used_from_then_on(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker, rt: Runtime
) -> None:
    new_case_with_quiet_victim(client, auth, "CR-E2E-LANG", phone=MEGAN, language="en")
    chat = Chat(Handset(live_server.url, MEGAN))
    assert chat.say("hello") == [first_reply("utter_greet", "en")]
    assert chat.say("yn Gymraeg os gwelwch yn dda") == [response("utter_language_switched", "cy")]
    with rt.db.session() as session:
        assert session.scalars(select(Victim)).one().language is Language.CY
    assert chat.say("shwmae") == [response("utter_greet", "cy")]
    assert chat.say("English please") == [response("utter_language_switched", "en")]
    assert chat.say("hello") == [response("utter_greet", "en")]


def test_second_misunderstanding_in_a_row_offers_an_officer(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker
) -> None:
    new_case_with_quiet_victim(client, auth, "CR-E2E-FB", phone=MEGAN, language="en")
    chat = Chat(Handset(live_server.url, MEGAN))
    assert chat.say("qwpoeiru zmxncb lkjh") == [first_reply("utter_default", "en")]
    assert chat.say("zzqx vvbn plmk") == [response("utter_default_offer_officer", "en")]
    [reply] = chat.say("yes")
    assert reply.startswith("We've asked an officer to contact you.")
    [handoff] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    assert handoff["priority"] == "normal"


@pytest.mark.parametrize(
    ("phone", "language", "turns"),
    [
        (
            MEGAN,
            "en",
            [
                ("what are my rights", "utter_rights_summary"),
                ("STATEMENT", "utter_rights_statement"),
                ("how do i report a crime", "utter_new_crime"),
                ("i want to complain", "utter_complaint"),
                ("are you a bot", "utter_iamabot"),
                ("stop messaging me", "utter_opt_out_confirm"),
                ("thank you", "utter_you_are_welcome"),
            ],
        ),
        (
            GWEN,
            "cy",
            [
                ("beth yw fy hawliau", "utter_rights_summary"),
                ("ADFEROL", "utter_rights_restorative"),
                ("sut dw i'n riportio trosedd", "utter_new_crime"),
                ("dw i isio cwyno", "utter_complaint"),
                ("robot wyt ti?", "utter_iamabot"),
                ("stopiwch decstio fi", "utter_opt_out_confirm"),
                ("diolch yn fawr", "utter_you_are_welcome"),
            ],
        ),
    ],
)
def test_rights_crime_complaint_and_small_talk(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    worker: Worker,
    phone: str,
    language: str,
    turns: list[tuple[str, str]],
) -> None:
    new_case_with_quiet_victim(client, auth, "CR-E2E-RT", phone=phone, language=language)
    chat = Chat(Handset(live_server.url, phone))
    for number, (message, expected) in enumerate(turns):
        wanted = first_reply(expected, language) if number == 0 else response(expected, language)
        assert chat.say(message) == [wanted], message
    [handoff] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    assert handoff["reason"] == "complaint"


def test_english_preferences_each_confirmed_and_stored(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker, rt: Runtime
) -> None:
    new_case_with_quiet_victim(client, auth, "CR-E2E-PREF", phone=MEGAN, language="en")
    chat = Chat(Handset(live_server.url, MEGAN))
    assert chat.say("i want to change how you contact me") == [
        first_reply("utter_ask_pref_text", "en")
    ]
    # Both lower protection (more often; quiet hours that do not cover the old ones).
    assert chat.say("every 2 weeks please, and nothing after 9pm") == [
        response("utter_ask_dob_for_change", "en")
    ]
    assert chat.say("02/03/1984", replies=3) == [
        response("utter_pref_frequency", "en").format(days=14),
        response("utter_pref_quiet_hours", "en").format(start="21:00", end="08:00"),
        response("utter_pref_officer_told", "en"),
    ]
    with rt.db.session() as session:
        victim = session.scalars(select(Victim)).one()
        assert victim.update_every_days == 14 and victim.quiet_start.hour == 21


def test_welsh_fallback_twice_offers_an_officer(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker
) -> None:
    new_case_with_quiet_victim(client, auth, "CR-E2E-FBCY", phone=GWEN, language="cy")
    chat = Chat(Handset(live_server.url, GWEN))
    assert chat.say("sdfkj weoiru") == [first_reply("utter_default", "cy")]
    assert chat.say("zzqx vvbn plmk") == [response("utter_default_offer_officer", "cy")]
    assert chat.say("na") == [response("utter_okay", "cy")]
    assert client.get("/api/handoffs?status=open", headers=auth).get_json() == []
