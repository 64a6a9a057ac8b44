"""Retention, erasure and subject access, on SQLite and PostgreSQL, with Rasa's tracker store
written by Rasa's own SQLTrackerStore (tests/support/rasa_tracker.py).

Erasure is checked the way a DPO would: every column of every table, and Rasa's events, are
searched for anything that identifies the victim (name, number, date of birth, what they
wrote, the sender id of their conversations)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text

from models import (
    AttachRequest,
    AuditAction,
    AuditEvent,
    Author,
    Base,
    Case,
    CaseStatus,
    Channel,
    Conversation,
    DeliveryEvent,
    DevPhoneMessage,
    Direction,
    Handoff,
    HandoffPriority,
    Message,
    MessageStatus,
    NeedsAnswer,
    NeedsAssessment,
    NeedsQuestion,
    Notification,
    Officer,
    OfficerNote,
    OfficerRole,
    OfficerSession,
    Referral,
    SurveyResponse,
    Throttle,
    Victim,
    utcnow,
)
from scheduler import jobs
from services.privacy import erasure, retention, tracker
from services.runtime import Runtime
from services.settings import Settings
from tests.support import rasa_tracker
from tests.support.clock import FakeClock
from tests.support.console import login, make_officer, post
from tests.support.factories import inbound_form, new_case, new_victim, signed_post
from webhooks import create_app

RHIANNON = {"name": "Rhiannon Prydderch", "phone": "+447700900601", "date_of_birth": "1984-03-02"}
OWAIN = {"name": "Owain Bevan", "phone": "+447700900602", "date_of_birth": "1979-10-20"}
# What she wrote and what was written about her: none of it may survive her erasure.
WORDS = ["Heol y Felin", "Dafydd Llwyd", "Rhiannon", "Prydderch", "900601", "1984-03-02"]


@dataclasses.dataclass
class Held:
    victim_id: int
    other_id: int
    public_ids: list[str]
    other_public_id: str
    needles: list[str]


def _quiet() -> dict[str, str]:
    return {"start": "00:00", "end": "23:59"}


def _everything_about_rhiannon(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, settings: Settings
) -> Held:
    """Rhiannon on two cases (one shared with Owain), with a row in every table that can
    hold something of hers, and Rasa trackers for her two conversations and Owain's."""
    new_case(client, auth, "CR-RHI-1")
    new_case(client, auth, "CR-SHARED-1")
    victim_id = new_victim(client, auth, "CR-RHI-1", **RHIANNON, quiet_hours=_quiet())
    new_victim(client, auth, "CR-SHARED-1", **RHIANNON, quiet_hours=_quiet())
    other_id = new_victim(client, auth, "CR-SHARED-1", **OWAIN, quiet_hours=_quiet())
    # What she texted, through the signed webhook, as Twilio would post it.
    for body in ("I live at Heol y Felin", "Dafydd Llwyd came round again"):
        form = inbound_form(RHIANNON["phone"], body)
        assert signed_post(client, settings, "/twilio/messages", form).status_code == 200
    signed_post(client, settings, "/twilio/messages", inbound_form(OWAIN["phone"], "hello"))
    now = utcnow()
    with rt.db.session() as session:
        sms = session.scalar(select(Conversation).where(Conversation.address == RHIANNON["phone"]))
        assert sms is not None
        sms.victim_id = victim_id
        whatsapp = Conversation(
            address=f"whatsapp:{RHIANNON['phone']}", channel=Channel.WHATSAPP, victim_id=victim_id
        )
        session.add(whatsapp)
        owain = session.scalar(select(Conversation).where(Conversation.address == OWAIN["phone"]))
        assert owain is not None
        owain.victim_id = other_id
        session.flush()
        reply = Message(
            conversation_id=sms.id,
            direction=Direction.OUTBOUND,
            author=Author.OFFICER,
            body="Rhiannon, PC Ifan here",
            twilio_sid="SM" + "a1" * 16,
            status=MessageStatus.FAILED,
            error_message=f"The 'To' number {RHIANNON['phone']} is not reachable",
        )
        session.add(reply)
        session.add(DeliveryEvent(twilio_sid="SM" + "a1" * 16, status="failed", error_code=30003))
        officer = Officer(
            username="ifan",
            display_name="PC Ifan Rees",
            role=OfficerRole.OFFICER,
            password_hash="x",
        )
        session.add(officer)
        session.flush()
        session.add(
            OfficerNote(
                conversation_id=sms.id, officer_id=officer.id, body="Dafydd Llwyd is the ex"
            )
        )
        rhi_case = session.scalar(select(Case).where(Case.case_ref == "CR-RHI-1"))
        assert rhi_case is not None
        handoff = Handoff(
            conversation_id=sms.id,
            victim_id=victim_id,
            case_id=rhi_case.id,
            priority=HandoffPriority.HIGH,
            reason="asked for an officer",
        )
        session.add(handoff)
        session.flush()
        assessment = NeedsAssessment(victim_id=victim_id, case_id=rhi_case.id)
        session.add(assessment)
        session.flush()
        session.add(
            NeedsAnswer(
                assessment_id=assessment.id,
                question=NeedsQuestion.SAFE_NOW,
                value="not_safe",
                text="not while Dafydd Llwyd knows Heol y Felin",
            )
        )
        session.add(
            Referral(
                victim_id=victim_id,
                case_id=rhi_case.id,
                service="victim_support",
                consent_at=now,
                handoff_id=handoff.id,
            )
        )
        welcome = session.scalars(
            select(Notification).where(Notification.victim_id == victim_id)
        ).first()
        assert welcome is not None
        session.add(
            SurveyResponse(
                notification_id=welcome.id,
                victim_id=victim_id,
                case_id=rhi_case.id,
                score=2,
                comment="Rhiannon here: nobody told me about Dafydd Llwyd",
                answered_at=now,
            )
        )
        session.add(
            DevPhoneMessage(
                sid="SM" + "b2" * 16,
                direction="to_handset",
                handset=RHIANNON["phone"],
                service_number="+447700900000",
                body="Hello Rhiannon",
                status="delivered",
            )
        )
        session.add(
            AttachRequest(
                case_id=rhi_case.id, victim_id=victim_id, officer_id=officer.id, payload=RHIANNON
            )
        )
        session.add(
            AuditEvent(
                at=now,
                officer_id=officer.id,
                actor="ifan",
                action=AuditAction.VIEW_CONVERSATION,
                victim_id=victim_id,
                conversation_id=sms.id,
                case_id=rhi_case.id,
            )
        )
        public_ids = [sms.public_id, whatsapp.public_id]
        other_public_id = owain.public_id
    rasa_tracker.write(
        settings.tracker_url(),
        {
            public_ids[0]: ["I live at Heol y Felin", "it is 1984-03-02"],
            public_ids[1]: ["Dafydd Llwyd came round"],
            other_public_id: ["hello from Owain"],
        },
        utcnow(),
        metadata={"victim_id": victim_id},
    )
    return Held(victim_id, other_id, public_ids, other_public_id, [*WORDS, *public_ids])


def _app_rows(database_url: str) -> dict[str, list[str]]:
    """Every row of every table, each as the text of all its values."""
    engine = create_engine(database_url)
    found: dict[str, list[str]] = {}
    try:
        with engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                rows = connection.execute(select(table)).all()
                found[table.name] = [json.dumps([str(v) for v in row]) for row in rows]
    finally:
        engine.dispose()
    return found


def _tracker_senders(url: str) -> dict[str, list[str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT sender_id, data FROM events")).all()
    finally:
        engine.dispose()
    senders: dict[str, list[str]] = {}
    for sender, data in rows:
        senders.setdefault(sender, []).append(data)
    return senders


def test_every_table_that_points_at_a_victim_is_handled_by_erasure() -> None:
    """A new table with a victim's, a conversation's or a case's rows must be added to the
    erasure (services/privacy/erasure.py), or this fails and names it."""
    parents = {
        "victims",
        "conversations",
        "messages",
        "cases",
        "handoffs",
        "notifications",
        "needs_assessments",
        "case_events",
        "scheduled_updates",
    }
    pointing = {
        table.name
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name in parents
    }
    assert pointing - erasure.HANDLED_TABLES - parents == set()


def test_erasure_leaves_nothing_that_identifies_the_victim(
    app: Flask,
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    settings: Settings,
    database_url: str,
) -> None:
    held = _everything_about_rhiannon(client, auth, rt, settings)
    before = _app_rows(database_url)
    assert any("Heol y Felin" in r for rows in before.values() for r in rows)
    assert set(held.public_ids) <= set(_tracker_senders(settings.tracker_url()))

    result = app.test_cli_runner().invoke(args=["victims", "erase", str(held.victim_id), "--yes"])
    assert result.exit_code == 0, result.output
    assert f"victim {held.victim_id} erased" in result.output

    after = _app_rows(database_url)
    leaks = [
        (table, needle, row)
        for table, rows in after.items()
        for row in rows
        for needle in held.needles
        if needle in row
    ]
    assert leaks == []
    senders = _tracker_senders(settings.tracker_url())
    assert not set(held.public_ids) & set(senders)
    # Owain, on the shared case, keeps everything of his; the shared case stays.
    assert held.other_public_id in senders
    with rt.db.session() as session:
        owain = session.get_one(Victim, held.other_id)
        assert owain.name == OWAIN["name"] and owain.erased_at is None
        assert session.scalar(select(Case).where(Case.case_ref == "CR-SHARED-1")) is not None
        assert session.scalar(select(Case).where(Case.case_ref == "CR-RHI-1")) is None
        erased = session.get_one(Victim, held.victim_id)
        assert erased.erased_at is not None and erased.name == ""
        [event] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.ERASE_VICTIM)
        ).all()
        assert event.actor == "cli" and event.victim_id == held.victim_id
        assert "tracker_events 10" in event.detail and "open cases confirmed: 2" in event.detail
    # Erased is erased: the number may be registered afresh, as a new person.
    assert client.get("/api/cases/CR-SHARED-1/notifications", headers=auth).status_code == 200
    again = new_victim(client, auth, "CR-SHARED-1", **RHIANNON, quiet_hours=_quiet())
    assert again != held.victim_id


def test_erasure_asks_for_confirmation_when_a_case_is_open(
    app: Flask, client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    new_case(client, auth, "CR-OPEN-1")
    victim_id = new_victim(client, auth, "CR-OPEN-1", **RHIANNON, quiet_hours=_quiet())
    runner = app.test_cli_runner()
    declined = runner.invoke(args=["victims", "erase", str(victim_id)], input="n\n")
    assert declined.exit_code != 0
    assert "open case(s) CR-OPEN-1" in declined.output and "not erased" in declined.output
    with rt.db.session() as session:
        assert session.get_one(Victim, victim_id).erased_at is None
    # The supervisor's page asks twice: erase, and erase although the case is open.
    make_officer(rt, "huw", "supervisor")
    login(client, "huw")
    page = client.get(f"/console/victims/{victim_id}/erase").get_data(as_text=True)
    assert "open case(s) CR-OPEN-1" in page
    once = post(client, f"/console/victims/{victim_id}/erase", {"confirm": "y"})
    assert once.status_code == 400
    with rt.db.session() as session:
        assert session.get_one(Victim, victim_id).erased_at is None
    twice = post(
        client, f"/console/victims/{victim_id}/erase", {"confirm": "y", "confirm_open": "y"}
    )
    assert twice.status_code == 302
    with rt.db.session() as session:
        assert session.get_one(Victim, victim_id).erased_at is not None
        actors = [
            e.actor
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.action == AuditAction.ERASE_VICTIM)
            )
        ]
    assert actors == ["huw"]
    assert runner.invoke(args=["victims", "erase", str(victim_id), "--yes"]).exit_code != 0
    assert runner.invoke(args=["victims", "export", str(victim_id)]).exit_code != 0


def test_export_holds_everything_about_the_victim(
    app: Flask,
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    settings: Settings,
) -> None:
    held = _everything_about_rhiannon(client, auth, rt, settings)
    result = app.test_cli_runner().invoke(args=["victims", "export", str(held.victim_id)])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["victim"]["name"] == RHIANNON["name"]
    assert body["victim"]["date_of_birth"] == RHIANNON["date_of_birth"]
    assert sorted(c["case_ref"] for c in body["cases"]) == ["CR-RHI-1", "CR-SHARED-1"]
    [sms, whatsapp] = body["conversations"]
    assert [m["body"] for m in sms["messages"]][:2] == [
        "I live at Heol y Felin",
        "Dafydd Llwyd came round again",
    ]
    assert sms["officer_notes"][0]["body"] == "Dafydd Llwyd is the ex"
    assert [e["event"] for e in sms["rasa_tracker_events"]][:3] == [
        "action",
        "session_started",
        "user",
    ]
    assert whatsapp["rasa_tracker_events"][2]["text"] == "Dafydd Llwyd came round"
    assert body["needs_assessments"][0]["answers"][0]["text"].startswith("not while")
    assert body["referrals"] and body["survey_responses"] and body["notifications"]
    assert any(e["action"] == "view_conversation" for e in body["access_log"])
    # Nothing of Owain's.
    assert "Owain" not in result.stdout
    # The supervisor's readable page and JSON, each audited as an export.
    make_officer(rt, "huw", "supervisor")
    login(client, "huw")
    page = client.get(f"/console/victims/{held.victim_id}/export")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Heol y Felin" in html and "Dafydd Llwyd is the ex" in html
    download = client.get(f"/console/victims/{held.victim_id}/export.json")
    assert download.mimetype == "application/json"
    assert json.loads(download.data)["victim"]["phone"] == RHIANNON["phone"]
    with rt.db.session() as session:
        exports = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT_VICTIM)
        ).all()
    assert [e.actor for e in exports] == ["cli", "huw", "huw"]


SCHEDULE = retention.Schedule(
    messages=30,
    notes=60,
    needs_answers=90,
    referrals=120,
    victims=365,
    tracker_events=30,
    unregistered=90,
    delivery_events=30,
    dev_phone=30,
    audit_events=400,
)


def test_purge_deletes_what_has_passed_its_time_and_audits_how_much(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    settings: Settings,
    database_url: str,
    clock: FakeClock,
) -> None:
    held = _everything_about_rhiannon(client, auth, rt, settings)
    start = utcnow()
    # An unregistered number wrote once; Owain is on another case, open throughout.
    new_case(client, auth, "CR-OWAIN-2")
    new_victim(client, auth, "CR-OWAIN-2", **OWAIN, quiet_hours=_quiet())
    signed_post(client, settings, "/twilio/messages", inbound_form("+447700900699", "who is this"))
    # Rhiannon's two cases close; 45 days on she writes again.
    with rt.db.session() as session:
        for ref in ("CR-RHI-1", "CR-SHARED-1"):
            case = session.scalar(select(Case).where(Case.case_ref == ref))
            assert case is not None
            case.status, case.closed_at = CaseStatus.CLOSED, start
    clock.advance(days=45)
    form = inbound_form(RHIANNON["phone"], "any news at all")
    assert signed_post(client, settings, "/twilio/messages", form).status_code == 200
    # (Rasa saves only the events beyond those it has: two more texts, two new events.)
    rasa_tracker.write(
        settings.tracker_url(), {held.other_public_id: ["still here", "and again"]}, utcnow()
    )

    purged = retention.purge(rt.db, SCHEDULE, settings.tracker_url())
    # 45 days after closing: messages (30) older than that go, the new one stays; notes
    # (60), needs (90), referrals (120) and the victim (365) stay; her idle trackers go
    # (30), Owain's fresh one stays; delivery callbacks (30) go.
    with rt.db.session() as session:
        bodies = session.scalars(
            select(Message.body)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.address == RHIANNON["phone"])
        ).all()
        assert bodies == ["any news at all"]
        assert session.scalars(select(OfficerNote)).all()
        assert session.scalars(select(NeedsAnswer)).all()
        assert session.get_one(Victim, held.victim_id).erased_at is None
        assert session.scalars(select(DeliveryEvent)).all() == []
        # Owain's case is open: nothing of his went.
        owain = session.scalars(
            select(Message.body)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.address == OWAIN["phone"])
        ).all()
        assert owain == ["hello"]
    senders = _tracker_senders(settings.tracker_url())
    assert held.other_public_id in senders and not set(held.public_ids) & set(senders)
    assert purged["messages"] >= 3 and purged["tracker_events"] == 10
    assert purged["delivery_events"] == 1

    # 100 days: the unregistered number's conversation (90) and notes (60), needs (90).
    clock.advance(days=55)
    purged = retention.purge(rt.db, SCHEDULE, settings.tracker_url())
    assert purged["unregistered_conversations"] == 1
    assert purged["notes"] == 1 and purged["needs_answers"] == 1
    # A year after closing, she is erased as on request; the audit trail says so.
    clock.advance(days=266)
    purged = retention.purge(rt.db, SCHEDULE, settings.tracker_url())
    assert purged["victims"] == 1
    leaks = [
        (table, row)
        for table, rows in _app_rows(database_url).items()
        for row in rows
        for needle in held.needles
        if needle in row
    ]
    assert leaks == []
    with rt.db.session() as session:
        purges = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.PURGE)
        ).all()
        assert len(purges) == 3 and all(p.actor == "scheduler" for p in purges)
        assert "messages" in purges[0].detail and "victims 1" in purges[2].detail
        [erased] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.ERASE_VICTIM)
        ).all()
        assert erased.detail.startswith("retention")
    # Audit events older than their time (400 days) go too.
    clock.advance(days=40)
    purged = retention.purge(rt.db, SCHEDULE, settings.tracker_url())
    assert purged["audit_events"] > 0


def test_the_shipped_schedule_loads_and_a_bad_one_stops_the_start(
    settings: Settings, tmp_path: Path
) -> None:
    shipped = retention.load(settings.retention_file)
    assert shipped.victims == 365 and shipped.audit_events == 2190
    bad: dict[str, Any] = {
        "missing": "messages: 30\n",
        "words": "\n".join(f"{k}: 30" for k in retention.KINDS).replace("notes: 30", "notes: lots"),
        "unknown": "\n".join(f"{k}: 30" for k in retention.KINDS) + "\nforever: 1\n",
        "zero": "\n".join(f"{k}: 0" for k in retention.KINDS),
        "not yaml": "messages: [",
    }
    for name, content in bad.items():
        path = tmp_path / f"{name.replace(' ', '_')}.yml"
        path.write_text(content)
        with pytest.raises(retention.RetentionError):
            create_app(dataclasses.replace(settings, retention_file=path), TESTING=True)


def test_the_scheduler_runs_the_purge_hourly(rt: Runtime) -> None:
    assert jobs.every(rt)["purge_expired"] == 3600.0
    jobs.bind(rt)
    try:
        jobs.purge_expired()  # nothing is due in a new database: it runs, and purges nothing
    finally:
        jobs.bind(None)


def test_no_tracker_yet_is_nothing_to_purge(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rasa_tracker.db'}"
    assert tracker.erase(url, ["abc"]) == 0
    assert tracker.purge_idle(url, utcnow()) == 0
    assert not (tmp_path / "rasa_tracker.db").exists()


def test_erase_of_unknown_victim_is_a_clear_error(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["victims", "erase", "99999", "--yes"])
    assert result.exit_code != 0 and "no victim 99999" in result.output


def test_sign_in_throttles_and_ended_sessions_do_not_pile_up(
    client: FlaskClient, rt: Runtime, settings: Settings, clock: FakeClock
) -> None:
    """Usernames and client addresses in throttles go two days after their last attempt;
    an ended session's row a month after it ended."""
    make_officer(rt, "alys")
    login(client, "nobody", "wrong password 123", code="")
    login(client, "alys")
    post(client, "/console/logout")
    with rt.db.session() as session:
        assert session.scalars(select(Throttle)).all()
        assert session.scalars(select(OfficerSession)).all()
    clock.advance(days=31)
    purged = retention.purge(rt.db, retention.load(settings.retention_file), settings.tracker_url())
    assert purged["sign_in_throttles"] >= 3 and purged["ended_sessions"] == 1
    with rt.db.session() as session:
        assert session.scalars(select(Throttle)).all() == []
        assert session.scalars(select(OfficerSession)).all() == []
