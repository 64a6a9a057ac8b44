"""Issue 13's field cases: ordinary, indirect ways of asking that the assistant misread.

Each goes in as a victim sends it, through the dev phone and our signed webhook, to the real
trained model under `rasa run` and the real action server, in English and in Welsh. None of
these sentences is in the training data: they sit in the hard split (nlu/test/hard/), which
training never reads, so the model is judged on wording it was never shown.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Victim
from services.runtime import Runtime
from tests.conftest import LiveServer
from tests.support.bot import first_reply
from tests.support.chat import Chat
from tests.support.factories import new_case_with_quiet_victim
from tests.support.handset import Handset
from workers.worker import Worker

pytestmark = pytest.mark.e2e

MEGAN = "+447700900251"
GWEN = "+447700900252"
CASE = "CR-E2E-FIELD"
NEWS = {"en": "A man has been arrested.", "cy": "Mae dyn wedi cael ei arestio."}

# Questions about the victim's own case: each must start the case update (the date of
# birth first), never a greeting, a new crime report or the rights summary.
QUESTIONS = {
    "en": ["have they caught him yet", "has someone been arrested", "when does it go to court"],
    "cy": [
        "ydyn nhw wedi'i ddal o eto",
        "oes rhywun wedi cael ei arestio",
        "pryd mae'n mynd i'r llys",
    ],
}
# Frustration with how the police have kept in touch: a complaint for a person to answer,
# not a change of how often to be contacted.
COMPLAINTS = {
    "en": "nobody has bothered to contact me in weeks",
    "cy": "does neb wedi trafferthu cysylltu â fi ers wythnosau",
}


def _register(client: FlaskClient, auth: dict[str, str], phone: str, language: str) -> None:
    new_case_with_quiet_victim(
        client, auth, CASE, name="Megan Price", phone=phone, channel="sms", language=language
    )
    answer = client.post(
        f"/api/cases/{CASE}/events",
        json={
            "type": "general_update",
            "occurred_at": "2026-11-20T10:00:00Z",
            "summary": NEWS["en"],
            "summary_cy": NEWS["cy"],
        },
        headers=auth,
    )
    assert answer.status_code == 201, answer.get_json()


@pytest.mark.parametrize(("phone", "language"), [(MEGAN, "en"), (GWEN, "cy")])
def test_indirect_questions_about_the_case_get_the_case_update(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    worker: Worker,
    phone: str,
    language: str,
) -> None:
    _register(client, auth, phone, language)
    chat = Chat(Handset(live_server.url, phone))
    first, *others = QUESTIONS[language]
    # The update form asks for the date of birth: the model read it as request_update.
    assert chat.say(first) == [first_reply("utter_ask_update_dob", language)], first
    [update] = chat.say("2nd March 1984" if language == "en" else "02/03/84")
    assert NEWS[language] in update and CASE in update
    # Verified for the day, so each further question gets the update itself.
    for question in others:
        [reply] = chat.say(question)
        assert NEWS[language] in reply, (question, reply)
    assert client.get("/api/handoffs?status=open", headers=auth).get_json() == []


@pytest.mark.parametrize(("phone", "language"), [(MEGAN, "en"), (GWEN, "cy")])
def test_frustration_at_not_being_contacted_is_a_complaint(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    worker: Worker,
    rt: Runtime,
    phone: str,
    language: str,
) -> None:
    _register(client, auth, phone, language)
    chat = Chat(Handset(live_server.url, phone))
    assert chat.say(COMPLAINTS[language]) == [first_reply("utter_complaint", language)]
    # A person answers a complaint: a normal handoff, with the reason.
    [handoff] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    assert (handoff["priority"], handoff["reason"]) == ("normal", "complaint")
    # Not read as a preference: how often they hear from us is as registered.
    with rt.db.session() as session:
        assert session.scalars(select(Victim)).one().update_every_days == 28
