"""The Code's duties met by an act: Right 4 referrals (limit, marked sent by an officer or a
case system, overdue raises a handoff once) and requests for a review (limits, console), and
the compliance report's figures for them.

Both databases: marking sent and raising overdue are conditional UPDATEs, and the report's
limits are date filters.
"""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import (
    AuditAction,
    AuditEvent,
    Conversation,
    Handoff,
    HandoffPriority,
    HandoffStatus,
    OfficerRole,
    Referral,
    ReviewRequest,
    ReviewStatus,
    Victim,
    utcnow,
)
from scheduler import jobs
from services.assistant import referrals as assistant_referrals
from services.assistant import support
from services.casework import referrals, reports, reviews
from services.messaging import inbound
from services.runtime import Runtime
from tests.support.clock import FakeClock
from tests.support.console import login, post, signed_in
from tests.support.factories import new_case, new_victim, quiet_hours_covering_now

pytestmark = pytest.mark.both_databases

# The clock fixture starts on Wednesday 2 December 2026, 10:00 UTC (London on GMT).
WEDNESDAY = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
# 2 working days after Wednesday: Thursday and Friday, so before Saturday 00:00 London.
RIGHT_4_LIMIT = dt.datetime(2026, 12, 5, 0, 0, tzinfo=dt.UTC)


def _victim(client: FlaskClient, auth: dict[str, str], case_ref: str = "CR-R4-1") -> int:
    new_case(client, auth, case_ref)
    return new_victim(client, auth, case_ref, quiet_hours=quiet_hours_covering_now())


def _refer(rt: Runtime, victim_id: int) -> int:
    with rt.db.session() as session:
        victim = session.get_one(Victim, victim_id)
        talk = session.get_one(Conversation, inbound.conversation_id_for(session, victim.address))
        talk.victim = victim  # as when the victim writes (the assistant answers them)
        referral = assistant_referrals.refer(
            session, talk, victim, support.referral_service(), utcnow()
        )
        return referral.id


def test_a_consented_referral_is_due_within_2_working_days(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, clock: FakeClock
) -> None:
    referral_id = _refer(rt, _victim(client, auth))
    listed = client.get("/api/cases/CR-R4-1/referrals", headers=auth).get_json()
    assert [r["id"] for r in listed] == [referral_id]
    assert listed[0]["due_by"] == "2026-12-05T00:00:00Z"
    assert listed[0]["sent_at"] is None and listed[0]["overdue"] is False
    # A Friday's referral: Monday and Tuesday.
    clock.set(dt.datetime(2026, 12, 4, 16, 0, tzinfo=dt.UTC))
    assert referrals.due_by(clock(), False) == dt.datetime(2026, 12, 9, tzinfo=dt.UTC)


def test_a_case_system_marks_a_referral_sent_once_and_it_is_audited(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, clock: FakeClock
) -> None:
    referral_id = _refer(rt, _victim(client, auth))
    assert [r["id"] for r in client.get("/api/referrals", headers=auth).get_json()] == [referral_id]
    clock.advance(hours=30)
    sent = client.post(f"/api/referrals/{referral_id}/sent", headers=auth)
    assert sent.status_code == 200
    body = sent.get_json()
    assert body["sent_at"] == "2026-12-03T16:00:00Z" and body["within_code"] is True
    again = client.post(f"/api/referrals/{referral_id}/sent", headers=auth)
    assert again.status_code == 409
    assert client.post("/api/referrals/999/sent", headers=auth).status_code == 404
    # Sent ones leave the work list.
    assert client.get("/api/referrals", headers=auth).get_json() == []
    with rt.db.session() as session:
        marks = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.MARK_REFERRAL_SENT)
        ).all()
        assert [(m.actor, m.detail) for m in marks] == [
            ("api:API_TOKEN", f"referral #{referral_id}")
        ]
        assert session.get_one(Referral, referral_id).sent_by == "api:API_TOKEN"


def test_an_overdue_referral_raises_one_high_handoff_however_often_the_job_runs(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, clock: FakeClock
) -> None:
    referral_id = _refer(rt, _victim(client, auth))
    jobs.bind(rt)
    try:
        clock.set(RIGHT_4_LIMIT - dt.timedelta(seconds=1))
        jobs.flag_overdue_referrals()
        with rt.db.session() as session:
            assert session.get_one(Referral, referral_id).overdue_handoff_id is None
        clock.set(RIGHT_4_LIMIT)
        jobs.flag_overdue_referrals()
        jobs.flag_overdue_referrals()
        # An officer deals with it and closes the handoff; later runs raise nothing new.
        with rt.db.session() as session:
            for handoff in session.scalars(select(Handoff)):
                handoff.status = HandoffStatus.CLOSED
        clock.advance(minutes=5)
        jobs.flag_overdue_referrals()
    finally:
        jobs.bind(None)
    with rt.db.session() as session:
        referral = session.get_one(Referral, referral_id)
        assert referral.overdue_handoff_id is not None
        raised = session.get_one(Handoff, referral.overdue_handoff_id)
        assert raised.priority is HandoffPriority.HIGH
        assert "Right 4" in raised.reason
        # The handoff that told the officer of the consent is the same conversation's open
        # one: raised to high, not a second one.
        assert session.scalars(select(Handoff.id)).all() == [raised.id]
        assert raised.status is HandoffStatus.CLOSED
    listed = client.get("/api/cases/CR-R4-1/referrals", headers=auth).get_json()
    assert listed[0]["overdue"] is True


def test_an_officer_marks_a_referral_sent_from_the_case_page_only_on_a_case_they_may_see(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, clock: FakeClock
) -> None:
    referral_id = _refer(rt, _victim(client, auth))
    signed_in(client, rt, "gwen", OfficerRole.OFFICER)
    # Not on the case: refused, and nothing marked.
    refused = post(client, f"/console/cases/CR-R4-1/referrals/{referral_id}/sent")
    assert refused.status_code in (403, 404)
    with rt.db.session() as session:
        assert session.get_one(Referral, referral_id).sent_at is None
    signed_in(client, rt, "sian", OfficerRole.SUPERVISOR)
    page = client.get("/console/cases/CR-R4-1").get_data(as_text=True)
    assert f"Mark referral #{referral_id} sent" in page
    done = post(client, f"/console/cases/CR-R4-1/referrals/{referral_id}/sent")
    assert done.status_code == 302
    with rt.db.session() as session:
        referral = session.get_one(Referral, referral_id)
        assert referral.sent_by == "officer:sian" and referral.within_code is True
        audited = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.MARK_REFERRAL_SENT)
        ).all()
        assert [a.actor for a in audited] == ["sian"]


def _request_review(rt: Runtime, victim_id: int) -> tuple[int, bool]:
    with rt.db.session() as session:
        victim = session.get_one(Victim, victim_id)
        talk = session.get_one(Conversation, inbound.conversation_id_for(session, victim.address))
        talk.victim = victim
        review, new = reviews.request(session, talk, victim, utcnow())
        return review.id, new


def test_a_review_request_has_its_two_limits_and_is_shown_against_them(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, clock: FakeClock
) -> None:
    victim_id = _victim(client, auth, "CR-VRR-1")
    review_id, new = _request_review(rt, victim_id)
    assert new
    # Asking again while it is undecided is the same request: no second clock.
    assert _request_review(rt, victim_id) == (review_id, False)
    [shown] = client.get("/api/cases/CR-VRR-1/reviews", headers=auth).get_json()
    # 10 working days from Wednesday 2 December: Wednesday 16 December is the last.
    assert shown["acknowledge_by"] == "2026-12-17T00:00:00Z"
    # 30 working days, past Christmas, Boxing Day's substitute and New Year's Day.
    assert shown["decide_by"] == "2027-01-19T00:00:00Z"
    assert shown["acknowledged_within_limit"] is None and shown["status"] == "requested"
    with rt.db.session() as session:
        review = session.get_one(ReviewRequest, review_id)
        assert review.handoff_id is not None
    signed_in(client, rt, "sian", OfficerRole.SUPERVISOR)
    page = client.get("/console/cases/CR-VRR-1").get_data(as_text=True)
    assert f"Acknowledge request #{review_id}" in page
    # (Each move of the clock outlasts a console session: sign in again after it.)
    clock.set(dt.datetime(2026, 12, 17, 9, 0, tzinfo=dt.UTC))  # a day late
    assert login(client, "sian").status_code == 302
    acknowledged = post(client, f"/console/cases/CR-VRR-1/reviews/{review_id}/acknowledge")
    assert acknowledged.headers["Location"].endswith("/console/cases/CR-VRR-1")
    clock.set(dt.datetime(2027, 1, 5, 9, 0, tzinfo=dt.UTC))
    assert login(client, "sian").status_code == 302
    decided = post(client, f"/console/cases/CR-VRR-1/reviews/{review_id}/decide")
    assert decided.headers["Location"].endswith("/console/cases/CR-VRR-1")
    assert post(client, f"/console/cases/CR-VRR-1/reviews/{review_id}/decide").status_code == 409
    with rt.db.session() as session:
        review = session.get_one(ReviewRequest, review_id)
        assert (review.acknowledged_by, review.decided_by) == ("officer:sian", "officer:sian")
    [shown] = client.get("/api/cases/CR-VRR-1/reviews", headers=auth).get_json()
    assert shown["status"] == ReviewStatus.DECIDED.value
    assert shown["acknowledged_within_limit"] is False and shown["decided_within_limit"] is True
    with rt.db.session() as session:
        report = reports.compliance(session, dt.date(2026, 12, 1), dt.date(2027, 1, 31)).as_json()
    duties_ = {d["duty"]: d for d in report["duties"]}
    assert (
        duties_["review_acknowledgement"]["late"],
        duties_["review_acknowledgement"]["within"],
    ) == (1, 0)
    assert (duties_["review_decision"]["late"], duties_["review_decision"]["within"]) == (0, 1)
    assert [a["duty"] for a in report["late_acts"]] == ["review_acknowledgement"]


def test_the_compliance_report_counts_right_4_by_its_limit(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, clock: FakeClock
) -> None:
    in_time = _refer(rt, _victim(client, auth, "CR-R4-A"))
    late = _refer(
        rt,
        new_victim(
            client,
            auth,
            "CR-R4-A",
            name="Owain Bevan",
            phone="+447700900126",
            date_of_birth="1960-01-01",
            quiet_hours=quiet_hours_covering_now(),
        ),
    )
    unsent = _refer(
        rt,
        new_victim(
            client,
            auth,
            "CR-R4-A",
            name="Cerys Lloyd",
            phone="+447700900127",
            date_of_birth="1970-01-01",
            quiet_hours=quiet_hours_covering_now(),
        ),
    )
    assert client.post(f"/api/referrals/{in_time}/sent", headers=auth).status_code == 200
    clock.set(RIGHT_4_LIMIT + dt.timedelta(hours=1))
    assert client.post(f"/api/referrals/{late}/sent", headers=auth).status_code == 200
    response = client.get("/api/reports/compliance?from=2026-12-01&to=2026-12-31", headers=auth)
    assert response.status_code == 200
    body = response.get_json()
    right_4 = next(d for d in body["duties"] if d["duty"] == "right_4_referral")
    assert (right_4["within"], right_4["late"], right_4["open"]) == (1, 2, 0)
    assert right_4["working_days"] == {"standard": 2, "enhanced": 2}
    assert sorted(a["id"] for a in body["late_acts"]) == sorted([late, unsent])
    # Outside the period: nothing.
    response = client.get("/api/reports/compliance?from=2026-11-01&to=2026-11-30", headers=auth)
    right_4 = next(d for d in response.get_json()["duties"] if d["duty"] == "right_4_referral")
    assert right_4["count"] == 0
