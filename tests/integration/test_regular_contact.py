"""Regular contact: check-ins, questionnaire invitations, the closing survey, opt-outs,
WhatsApp templates and the SMS fallback; sent for real through the dev phone."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import (
    Conversation,
    Handoff,
    HandoffPriority,
    Language,
    Message,
    MessageStatus,
    Notification,
    NotificationKind,
    NotificationStatus,
    SentAs,
    SurveyResponse,
)
from models.assessments import NeedsAssessment
from models.devphone import DevPhoneMessage
from services.casework import notifications
from services.conversations import processing
from services.conversations.consent import OPTED_OUT_REASON
from services.language.texts import text
from services.runtime import Runtime
from services.settings import Settings
from tests.conftest import LiveServer
from tests.support.clock import FakeClock
from tests.support.factories import (
    NO_QUIET_HOURS,
    inbound_form,
    new_case,
    new_victim,
    signed_post,
)
from workers.worker import due_conversations

# Both databases: dialect-specific date filters (julianday on SQLite).
pytestmark = pytest.mark.both_databases

CASE = "CR-2026-0200"
SMS_PHONE = "+447700900601"
WA_PHONE = "+447700900602"


def _victim(client: FlaskClient, auth: dict[str, str], **fields: Any) -> int:
    return new_victim(
        client, auth, CASE, **{"phone": SMS_PHONE, "quiet_hours": NO_QUIET_HOURS, **fields}
    )


def _deliver(rt: Runtime) -> None:
    """What the scheduler and a worker do: hand over what is due, then send the outbox."""
    notifications.hand_over_due(rt.db, rt.templates)
    while True:
        with rt.db.session() as session:
            due = due_conversations(session)
        if not due:
            return
        for conversation_id, _ in due:
            processing.drain(rt, conversation_id, "test-worker")


def _kinds(rt: Runtime, status: NotificationStatus | None = None) -> list[NotificationKind]:
    with rt.db.session() as session:
        query = select(Notification.kind).order_by(Notification.id)
        if status is not None:
            query = query.where(Notification.status == status)
        return list(session.scalars(query))


def _handset(rt: Runtime, address: str) -> list[DevPhoneMessage]:
    with rt.db.session() as session:
        return list(
            session.scalars(
                select(DevPhoneMessage)
                .where(
                    DevPhoneMessage.handset == address, DevPhoneMessage.direction == "to_handset"
                )
                .order_by(DevPhoneMessage.id)
            )
        )


def _eventually(check: Any, timeout: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return bool(check())


# --- check-ins -----------------------------------------------------------------------------


def test_a_check_in_comes_after_the_victims_interval_with_no_other_update(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    clock: FakeClock,
    live_server: LiveServer,
) -> None:
    new_case(client, auth, CASE)
    _victim(client, auth, update_every_days=7)
    _deliver(rt)  # the welcome, sent now
    with rt.db.session() as session:
        assert notifications.plan_check_ins(session) == 0
    clock.advance(days=6, hours=23)
    with rt.db.session() as session:
        assert notifications.plan_check_ins(session) == 0
    clock.advance(hours=1)
    with rt.db.session() as session:
        assert notifications.plan_check_ins(session) == 1
        # A second run (or a second scheduler in a failover) plans nothing more.
        assert notifications.plan_check_ins(session) == 0
    _deliver(rt)
    [_, check_in] = _handset(rt, SMS_PHONE)
    assert check_in.body == text("check_in", Language.EN, case_ref=CASE, officer="PC Ifan Rees")
    # The interval starts again from the check-in.
    clock.advance(days=6)
    with rt.db.session() as session:
        assert notifications.plan_check_ins(session) == 0
    clock.advance(days=1)
    with rt.db.session() as session:
        assert notifications.plan_check_ins(session) == 1


def test_any_other_update_resets_the_check_in_interval(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    clock: FakeClock,
    live_server: LiveServer,
) -> None:
    new_case(client, auth, CASE)
    _victim(client, auth, update_every_days=7, safe_contact=True)
    _deliver(rt)
    clock.advance(days=5)
    client.post(
        f"/api/cases/{CASE}/events",
        json={
            "type": "suspect_arrested",
            "occurred_at": clock().isoformat(),
            "summary": "A man was arrested.",
        },
        headers=auth,
    )
    _deliver(rt)
    clock.advance(days=6)
    with rt.db.session() as session:
        assert notifications.plan_check_ins(session) == 0
    clock.advance(days=1)
    with rt.db.session() as session:
        assert notifications.plan_check_ins(session) == 1
    _deliver(rt)
    # Safe contact: the check-in names no case and no officer.
    assert _handset(rt, SMS_PHONE)[-1].body == text("check_in_safe", Language.EN)


# --- needs questionnaire ---------------------------------------------------------------------


def test_questionnaire_invitation_after_two_days_and_one_reminder(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    clock: FakeClock,
    live_server: LiveServer,
) -> None:
    new_case(client, auth, CASE)
    _victim(client, auth, language="cy")
    _deliver(rt)

    def plan() -> int:
        with rt.db.session() as session:
            return notifications.plan_needs_invitations(session)

    clock.advance(days=1, hours=23)
    assert plan() == 0
    clock.advance(hours=1)
    assert plan() == 1
    assert plan() == 0
    _deliver(rt)
    assert _handset(rt, SMS_PHONE)[-1].body == text("needs_invite", Language.CY)
    clock.advance(days=2, hours=23)
    assert plan() == 0
    clock.advance(hours=1)
    assert plan() == 1
    _deliver(rt)
    assert _handset(rt, SMS_PHONE)[-1].body == text("needs_reminder", Language.CY)
    clock.advance(days=30)
    assert plan() == 0  # one reminder, never more
    assert _kinds(rt).count(NotificationKind.NEEDS_REMINDER) == 1


def test_no_invitation_once_the_questionnaire_is_done(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, clock: FakeClock
) -> None:
    new_case(client, auth, CASE)
    victim_id = _victim(client, auth)
    with rt.db.session() as session:
        session.add(NeedsAssessment(victim_id=victim_id, completed_at=clock()))
    clock.advance(days=3)
    with rt.db.session() as session:
        assert notifications.plan_needs_invitations(session) == 0


# --- closing and the survey ----------------------------------------------------------------


def _text_in(client: FlaskClient, settings: Settings, rt: Runtime, body: str) -> None:
    assert (
        signed_post(client, settings, "/twilio/messages", inbound_form(SMS_PHONE, body)).status_code
        == 200
    )
    _deliver(rt)


def test_closing_sends_the_survey_and_stores_score_and_comment(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    settings: Settings,
    clock: FakeClock,
    live_server: LiveServer,
) -> None:
    new_case(client, auth, CASE)
    _victim(client, auth)
    _deliver(rt)
    clock.advance(days=1)
    closed = client.post(f"/api/cases/{CASE}/close", headers=auth)
    assert closed.status_code == 200
    assert closed.get_json()["status"] == "closed"
    assert [n["kind"] for n in closed.get_json()["notifications"]] == ["closing_survey"]
    # Closing twice changes nothing.
    again = client.post(f"/api/cases/{CASE}/close", headers=auth)
    assert len(again.get_json()["notifications"]) == 1
    _deliver(rt)
    assert _handset(rt, SMS_PHONE)[-1].body == text("closing_survey", Language.EN, case_ref=CASE)

    _text_in(client, settings, rt, "4")
    assert _handset(rt, SMS_PHONE)[-1].body == text("survey_thanks", Language.EN)
    _text_in(client, settings, rt, "Kept me informed 😊 but slow at first")
    assert _handset(rt, SMS_PHONE)[-1].body == text("survey_comment_thanks", Language.EN)
    with rt.db.session() as session:
        [answer] = session.scalars(select(SurveyResponse)).all()
        assert answer.score == 4
        assert answer.comment == "Kept me informed 😊 but slow at first"

    # Routine contact stops with the case.
    clock.advance(days=60)
    with rt.db.session() as session:
        assert notifications.plan_check_ins(session) == 0
        assert notifications.plan_needs_invitations(session) == 0


def test_score_and_comment_in_one_message(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    settings: Settings,
    clock: FakeClock,
    live_server: LiveServer,
) -> None:
    new_case(client, auth, CASE)
    _victim(client, auth)
    client.post(f"/api/cases/{CASE}/close", headers=auth)
    _deliver(rt)
    _text_in(client, settings, rt, "5/5 - diolch, very helpful")
    with rt.db.session() as session:
        [answer] = session.scalars(select(SurveyResponse)).all()
        assert (answer.score, answer.comment) == (5, "diolch, very helpful")


# --- opting out ----------------------------------------------------------------------------


def test_stop_tells_the_officer_and_suppresses_what_was_waiting(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    settings: Settings,
    clock: FakeClock,
    live_server: LiveServer,
) -> None:
    new_case(client, auth, CASE)
    _victim(client, auth, quiet_hours={"start": "09:00", "end": "18:00"})  # welcome waits
    _text_in(client, settings, rt, "STOP")
    assert _handset(rt, SMS_PHONE)[-1].body == text("opted_out", Language.EN)
    handoffs = client.get("/api/handoffs?status=open", headers=auth).get_json()
    assert [(h["priority"], h["reason"], h["case_ref"]) for h in handoffs] == [
        ("normal", OPTED_OUT_REASON, CASE)
    ]
    clock.advance(hours=9)
    _deliver(rt)
    with rt.db.session() as session:
        [welcome] = session.scalars(select(Notification)).all()
        assert welcome.status is NotificationStatus.SUPPRESSED
        assert "opted out" in (welcome.status_reason or "")
    assert [m.body for m in _handset(rt, SMS_PHONE)] == [text("opted_out", Language.EN)]


# --- WhatsApp: templates, the 24-hour window, and the SMS fallback -----------------------


def test_whatsapp_outside_the_window_uses_the_template_inside_it_free_text(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    settings: Settings,
    clock: FakeClock,
    live_server: LiveServer,
) -> None:
    new_case(client, auth, CASE)
    _victim(client, auth, phone=WA_PHONE, channel="whatsapp", language="cy")
    _deliver(rt)
    [welcome] = _handset(rt, f"whatsapp:{WA_PHONE}")
    template = rt.templates.get("welcome", Language.CY)
    assert template is not None and welcome.content_sid == template.content_sid
    assert welcome.body == text("welcome", Language.CY, case_ref=CASE)
    assert _eventually(lambda: _message_statuses(rt) == [MessageStatus.READ])

    # The victim writes: the window opens, and the next update goes as free text.
    client.post(
        "/devphone/send", json={"handset": WA_PHONE, "channel": "whatsapp", "body": "diolch"}
    )
    with rt.db.session() as session:
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.last_inbound_at is not None
        # The assistant is not under test here: the message is put aside.
        for message in session.scalars(select(Message).where(Message.author == "victim")):
            message.status = MessageStatus.PROCESSED
    client.post(
        f"/api/cases/{CASE}/events",
        json={
            "type": "suspect_charged",
            "occurred_at": clock().isoformat(),
            "summary": "He was charged.",
            "summary_cy": "Cafodd ei gyhuddo.",
        },
        headers=auth,
    )
    _deliver(rt)
    update = _handset(rt, f"whatsapp:{WA_PHONE}")[-1]
    assert update.content_sid is None
    assert update.body == text(
        "code_update", Language.CY, case_ref=CASE, summary="Cafodd ei gyhuddo."
    )
    with rt.db.session() as session:
        sent_as = list(session.scalars(select(Message.sent_as).where(Message.author == "system")))
    assert sent_as == [SentAs.TEMPLATE, SentAs.TEXT]


def _message_statuses(rt: Runtime) -> list[MessageStatus]:
    with rt.db.session() as session:
        return list(
            session.scalars(
                select(Message.status).where(Message.author == "system").order_by(Message.id)
            )
        )


def test_whatsapp_failure_falls_back_to_sms(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    clock: FakeClock,
    live_server: LiveServer,
) -> None:
    # WhatsApp takes the template, then reports it undelivered (the phone has no WhatsApp).
    client.put("/devphone/control", json={"callback_statuses": ["sent", "undelivered"]})
    new_case(client, auth, CASE)
    _victim(client, auth, phone=WA_PHONE, channel="whatsapp")
    _deliver(rt)
    assert _eventually(lambda: MessageStatus.UNDELIVERED in _message_statuses(rt))
    client.delete("/devphone/control")
    _deliver(rt)
    [sms] = _handset(rt, WA_PHONE)
    assert sms.body == text("welcome", Language.EN, case_ref=CASE)
    assert _eventually(lambda: _message_statuses(rt)[-1] is MessageStatus.DELIVERED)
    with rt.db.session() as session:
        welcome = session.scalars(select(Notification)).one()
        assert welcome.status is NotificationStatus.SENT and welcome.fell_back_at is not None
        assert welcome.message is not None and welcome.message.sent_as is SentAs.SMS
        assert session.scalars(select(Handoff)).all() == []


def test_a_notification_that_cannot_be_delivered_at_all_finds_an_officer(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    clock: FakeClock,
    live_server: LiveServer,
) -> None:
    # Both channels refuse the number for good (21610: the recipient has opted out at the
    # carrier), so retrying cannot help.
    client.put("/devphone/control", json={"reject": {WA_PHONE: 21610}})
    new_case(client, auth, CASE)
    _victim(client, auth, phone=WA_PHONE, channel="whatsapp")
    _deliver(rt)
    with rt.db.session() as session:
        welcome = session.scalars(select(Notification)).one()
        assert welcome.status is NotificationStatus.FAILED
        assert welcome.fell_back_at is not None  # WhatsApp first, then SMS
        [handoff] = session.scalars(select(Handoff)).all()
        assert handoff.priority is HandoffPriority.HIGH
        assert handoff.reason == notifications.FAILED_REASON
    assert _handset(rt, WA_PHONE) == []


def test_stop_by_sms_also_stops_whatsapp_notifications(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    settings: Settings,
    clock: FakeClock,
    live_server: LiveServer,
) -> None:
    new_case(client, auth, CASE)
    # The welcome waits out quiet hours; meanwhile the phone says STOP by SMS.
    quiet = {"start": "09:00", "end": "18:00"}
    _victim(client, auth, phone=WA_PHONE, channel="whatsapp", quiet_hours=quiet)
    form = inbound_form(WA_PHONE, "STOP")
    assert signed_post(client, settings, "/twilio/messages", form).status_code == 200
    _deliver(rt)
    clock.advance(hours=9)
    _deliver(rt)
    with rt.db.session() as session:
        welcome = session.scalars(select(Notification)).one()
        assert welcome.status is NotificationStatus.SUPPRESSED
    assert _handset(rt, f"whatsapp:{WA_PHONE}") == []
