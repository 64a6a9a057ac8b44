"""Support, referral and the needs questionnaire through the whole pipeline."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import AssessmentStatus, NeedsAssessment, Referral
from services.runtime import Runtime
from tests.conftest import LiveServer
from tests.support.bot import first_reply, response
from tests.support.chat import Chat
from tests.support.factories import new_case_with_quiet_victim
from tests.support.handset import Handset
from workers.worker import Worker

pytestmark = pytest.mark.e2e

MEGAN = "+447700900231"
GWEN = "+447700900232"


def test_support_referral_and_questionnaire_in_english(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker, rt: Runtime
) -> None:
    new_case_with_quiet_victim(client, auth, "CR-E2E-SUP", phone=MEGAN, language="en")
    chat = Chat(Handset(live_server.url, MEGAN))
    services, offer = chat.say("i need some support", replies=2)
    assert "0808 168 9111" in services and "0808 80 10 800" in services
    assert offer.startswith("Would you like us to ask Victim Support")
    assert chat.say("yes", replies=2) == [
        response("utter_referral_done", "en").format(service="Victim Support"),
        response("utter_offer_needs", "en"),
    ]
    assert chat.say("yes please", replies=2) == [
        response("utter_needs_intro", "en"),
        response("utter_ask_needs_safe_now", "en"),
    ]
    assert chat.say("no", replies=2) == [
        response("utter_needs_unsafe", "en"),
        response("utter_ask_needs_support", "en"),
    ]
    [handoff] = client.get("/api/handoffs?status=open", headers=auth).get_json()
    assert handoff["priority"] == "high"
    assert chat.say("emotional and housing") == [response("utter_ask_needs_communication", "en")]
    assert chat.say("skip") == [response("utter_ask_needs_contact", "en")]
    assert chat.say("text, once a week") == [response("utter_ask_needs_avoid_times", "en")]
    assert chat.say("not before 9am") == [response("utter_needs_done", "en")]
    with rt.db.session() as session:
        assessment = session.scalars(select(NeedsAssessment)).one()
        assert assessment.status is AssessmentStatus.COMPLETED and assessment.completed_at
        assert len(assessment.answers) == 5
        assert session.scalars(select(Referral)).one().service == "victim_support"


def test_welsh_questionnaire_paused_and_resumed_where_it_stopped(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker, rt: Runtime
) -> None:
    new_case_with_quiet_victim(client, auth, "CR-E2E-NEEDS", phone=GWEN, language="cy")
    chat = Chat(Handset(live_server.url, GWEN))
    assert chat.say("ga i wneud yr holiadur", replies=2) == [
        response("utter_needs_intro", "cy"),
        first_reply("utter_ask_needs_safe_now", "cy"),
    ]
    assert chat.say("ydw") == [response("utter_ask_needs_support", "cy")]
    assert chat.say("wedyn") == [response("utter_needs_paused", "cy")]
    with rt.db.session() as session:
        assert session.scalars(select(NeedsAssessment)).one().status is AssessmentStatus.PAUSED
    assert chat.say("dechrau'r asesiad", replies=2) == [
        response("utter_needs_resume", "cy"),
        response("utter_ask_needs_support", "cy"),
    ]
    assert chat.say("dim mwy") == [response("utter_needs_stopped", "cy")]
    with rt.db.session() as session:
        assessment = session.scalars(select(NeedsAssessment)).one()
        assert assessment.status is AssessmentStatus.STOPPED
        assert [a.question.value for a in assessment.answers] == ["safe_now"]


def test_welsh_support_referral_declined_shares_nothing(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker, rt: Runtime
) -> None:
    new_case_with_quiet_victim(client, auth, "CR-E2E-SUPCY", phone=GWEN, language="cy")
    chat = Chat(Handset(live_server.url, GWEN))
    services, offer = chat.say("dw i angen help", replies=2)
    assert "Cymorth i Ddioddefwyr: 0808 168 9111" in services and "Samariaid" in services
    assert offer.startswith("Hoffech chi i ni ofyn i'r gwasanaeth Cymorth i Ddioddefwyr gysylltu")
    assert chat.say("na", replies=2) == [
        response("utter_referral_declined", "cy"),
        response("utter_offer_needs", "cy"),
    ]
    assert chat.say("ie", replies=2) == [
        response("utter_needs_intro", "cy"),
        response("utter_ask_needs_safe_now", "cy"),
    ]
    with rt.db.session() as session:
        assert session.scalars(select(Referral)).all() == []
