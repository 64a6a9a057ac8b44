"""Protective settings and leaving a question, end to end, in English and Welsh: through
the signed webhook, the worker, the real Rasa and the real action server, with the officer
in the console (docs/SAFETY.md, "Protective settings" and "Never silent").

- Lowering protection by text asks for the date of birth first, in the same conversation;
  safe contact off then waits for an officer, who confirms it in the console before any
  update carries case details again; other lowerings take effect and tell an officer.
- Raising protection needs no check.
- Any question can be left for support, an officer or 999, and taken up again later.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import (
    AuditAction,
    AuditEvent,
    Channel,
    Handoff,
    Language,
    Notification,
    OfficerRole,
    Referral,
    RequestStatus,
    SettingRequest,
    Victim,
)
from services.casework import notifications, protection
from services.language.texts import text
from services.runtime import Runtime
from tests.conftest import LiveServer
from tests.support.bot import first_reply, response
from tests.support.chat import Chat
from tests.support.console import post, signed_in
from tests.support.factories import new_case_with_quiet_victim
from tests.support.handset import Handset
from workers.worker import Worker

pytestmark = pytest.mark.e2e

MEGAN = "+447700900621"
GWEN = "+447700900622"
CASE = "CR-E2E-PROT"
ARRESTED = {
    "type": "suspect_arrested",
    "occurred_at": "2026-11-27T10:15:00Z",
    "summary": "A man has been arrested. He was bailed to an address in Cardiff.",
    "summary_cy": "Mae dyn wedi'i arestio. Cafodd fechnïaeth i gyfeiriad yng Nghaerdydd.",
}


def _event_body(client: FlaskClient, auth: dict[str, str], rt: Runtime) -> str:
    """Record a Code event; the message its notification would carry to the victim now."""
    answer = client.post(f"/api/cases/{CASE}/events", json=ARRESTED, headers=auth)
    assert answer.status_code == 201, answer.get_json()
    [planned] = answer.get_json()["notifications"]
    with rt.db.session() as session:
        return notifications.body(session.get_one(Notification, planned["id"]))


@pytest.mark.parametrize(
    ("phone", "language", "ask", "dob"),
    [
        (MEGAN, "en", "turn off safe contact", "2nd March 1984"),
        (GWEN, "cy", "diffodd cyswllt diogel plis", "2il o Fawrth 1984"),
    ],
)
def test_safe_contact_off_needs_the_date_of_birth_then_an_officer(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    worker: Worker,
    rt: Runtime,
    phone: str,
    language: str,
    ask: str,
    dob: str,
) -> None:
    victim_id = new_case_with_quiet_victim(
        client, auth, CASE, phone=phone, language=language, safe_contact=True
    )
    chat = Chat(Handset(live_server.url, phone))
    assert chat.say(ask) == [first_reply("utter_ask_dob_for_change", language)]
    assert chat.say(dob) == [response("utter_pref_safe_off_pending", language)]
    with rt.db.session() as session:
        assert session.get_one(Victim, victim_id).safe_contact is True
        [request] = session.scalars(select(SettingRequest)).all()
        assert request.status is RequestStatus.PENDING
    [handoff] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    assert handoff["reason"] == protection.SAFE_CONTACT_OFF_REASON
    # Until an officer confirms it, an update names nothing.
    said = _event_body(client, auth, rt)
    assert said == text("code_update_safe", Language(language)) and CASE not in said

    signed_in(client, rt, "alys", OfficerRole.SUPERVISOR)
    confirm = f"/console/victims/{victim_id}/requests/{request.id}/confirm"
    assert post(client, confirm).status_code == 302
    said = _event_body(client, auth, rt)
    assert CASE in said and ("Cardiff" in said or "Nghaerdydd" in said)
    with rt.db.session() as session:
        actors = {
            e.action: e.actor
            for e in session.scalars(select(AuditEvent)).all()
            if e.victim_id == victim_id
        }
    assert actors[AuditAction.REQUEST_SETTING] == "victim by sms"
    assert actors[AuditAction.CONFIRM_SETTING] == actors[AuditAction.CHANGE_SETTING] == "alys"


@pytest.mark.parametrize("typed", ["ok", "/affirm", '/inform{"verified": true}'])
def test_no_typed_answer_lowers_protection(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    worker: Worker,
    rt: Runtime,
    typed: str,
) -> None:
    victim_id = new_case_with_quiet_victim(client, auth, CASE, phone=MEGAN, language="en")
    chat = Chat(Handset(live_server.url, MEGAN))
    assert chat.say("send my messages by whatsapp") == [
        first_reply("utter_ask_dob_for_change", "en")
    ]
    replies = chat.say(typed)
    # Usually "couldn't read that as a date" and the question again; the model may also
    # take odd text for danger (a false alarm, on the safe side). Never the change.
    assert response("utter_pref_channel_whatsapp", "en") not in replies
    with rt.db.session() as session:
        assert session.get_one(Victim, victim_id).channel is Channel.SMS
        reasons = [h.reason for h in session.scalars(select(Handoff))]
        assert not [r for r in reasons if r.startswith("lowered protection")]


def test_another_channel_in_welsh_takes_effect_after_the_check_and_tells_an_officer(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker, rt: Runtime
) -> None:
    victim_id = new_case_with_quiet_victim(client, auth, CASE, phone=GWEN, language="cy")
    chat = Chat(Handset(live_server.url, GWEN))
    assert chat.say("defnyddiwch WhatsApp plis") == [first_reply("utter_ask_dob_for_change", "cy")]
    assert chat.say("01/01/1990", replies=2) == [
        response("utter_dob_wrong", "cy"),
        response("utter_ask_dob_for_change", "cy"),
    ]
    assert chat.say("02/03/1984", replies=2) == [
        response("utter_pref_channel_whatsapp", "cy"),
        response("utter_pref_officer_told", "cy"),
    ]
    with rt.db.session() as session:
        assert session.get_one(Victim, victim_id).channel is Channel.WHATSAPP
    [handoff] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    assert handoff["reason"] == "lowered protection by text: channel sms -> whatsapp"


def test_raising_protection_needs_no_check(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker, rt: Runtime
) -> None:
    victim_id = new_case_with_quiet_victim(client, auth, CASE, phone=MEGAN, language="en")
    chat = Chat(Handset(live_server.url, MEGAN))
    assert chat.say("please turn on safe contact") == [first_reply("utter_pref_safe_on", "en")]
    with rt.db.session() as session:
        assert session.get_one(Victim, victim_id).safe_contact is True
    assert client.get("/api/handoffs?status=open", headers=auth).get_json() == []


@pytest.mark.parametrize(
    ("phone", "language", "ask", "leave", "yes"),
    [
        (GWEN, "cy", "oes newyddion am fy achos?", "dw i angen cymorth", "ie"),
        (MEGAN, "en", "any update on my case?", "I need some support", "yes"),
    ],
)
def test_the_date_of_birth_question_can_be_left_for_support(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    worker: Worker,
    rt: Runtime,
    phone: str,
    language: str,
    ask: str,
    leave: str,
    yes: str,
) -> None:
    new_case_with_quiet_victim(client, auth, CASE, phone=phone, language=language)
    chat = Chat(Handset(live_server.url, phone))
    assert chat.say(ask) == [first_reply("utter_ask_update_dob", language)]
    services, resume, offer = chat.say(leave, replies=3)
    assert "0808 168 9111" in services
    assert resume == response("utter_resume_update", language)
    assert offer.startswith(response("utter_offer_referral", language).split("{")[0])
    # The referral question is open: a yes answers it.
    done, _ = chat.say(yes, replies=2)
    assert done.startswith(response("utter_referral_done", language).split("{")[0])
    with rt.db.session() as session:
        assert len(session.scalars(select(Referral)).all()) == 1
    # And the update can be asked for again.
    assert chat.say(ask) == [response("utter_ask_update_dob", language)]


@pytest.mark.parametrize(
    ("phone", "language", "start", "leave", "resume_word"),
    [
        (GWEN, "cy", "ga i wneud yr holiadur", "ga i siarad â swyddog plis", "dechrau'r asesiad"),
        (MEGAN, "en", "can i do the needs questionnaire", "can I speak to an officer", "questions"),
    ],
)
def test_the_questionnaire_can_be_left_for_an_officer_and_resumed(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    worker: Worker,
    rt: Runtime,
    phone: str,
    language: str,
    start: str,
    leave: str,
    resume_word: str,
) -> None:
    new_case_with_quiet_victim(client, auth, CASE, phone=phone, language=language)
    chat = Chat(Handset(live_server.url, phone))
    chat.say(start, replies=2)
    chat.say("ydw" if language == "cy" else "yes")
    officer, resume = chat.say(leave, replies=2)
    assert officer.startswith(response("utter_officer_requested", language).split("{")[0])
    assert resume == response("utter_resume_needs", language)
    [handoff] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    assert handoff["priority"] == "normal"
    assert chat.say(resume_word, replies=2) == [
        response("utter_needs_resume", language),
        response("utter_ask_needs_support", language),
    ]


@pytest.mark.parametrize(("phone", "language"), [(MEGAN, "en"), (GWEN, "cy")])
def test_asking_for_999_in_a_question_gets_999_guidance(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    worker: Worker,
    rt: Runtime,
    phone: str,
    language: str,
) -> None:
    new_case_with_quiet_victim(client, auth, CASE, phone=phone, language=language)
    chat = Chat(Handset(live_server.url, phone))
    ask = "send my messages by whatsapp" if language == "en" else "defnyddiwch WhatsApp plis"
    chat.say(ask)
    assert chat.say("999") == [text("danger", Language(language))]
    [handoff] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    assert handoff["priority"] == "urgent"
