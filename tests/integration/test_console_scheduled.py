"""Scheduled updates and closing a case from the console: the API's service code, audited."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient
from sqlalchemy import select

from models import AuditAction, AuditEvent, Notification, NotificationStatus, OfficerRole
from services.runtime import Runtime
from tests.support.clock import FakeClock
from tests.support.console import post, signed_in

CASE = "CR-FORM-9"


def _case_with_victim(client: FlaskClient) -> None:
    assert (
        post(
            client,
            "/console/cases",
            {"case_ref": CASE, "crime_type": "burglary", "officer_in_charge": "DC Rees"},
        ).status_code
        == 302
    )
    victim = post(
        client,
        f"/console/cases/{CASE}/victims",
        {
            "name": "Nia Rowlands",
            "phone": "07700 900442",
            "channel": "sms",
            "language": "cy",
            "date_of_birth": "1992-07-09",
            "update_every_days": "14",
        },
    )
    assert victim.status_code == 302


def _scheduled(rt: Runtime) -> list[Notification]:
    with rt.db.session() as session:
        return list(
            session.scalars(
                select(Notification).where(Notification.scheduled_update_id.is_not(None))
            )
        )


def test_an_officer_schedules_changes_and_cancels_an_update(
    client: FlaskClient, rt: Runtime, clock: FakeClock
) -> None:
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    _case_with_victim(client)
    # 15:30 on the UK clock in winter is 15:30 UTC.
    made = post(
        client,
        f"/console/cases/{CASE}/scheduled-updates",
        {"send_at": "2026-12-02T15:30", "text_cy": "Mae'r heddlu wedi siarad â'r tyst."},
    )
    assert made.status_code == 302, made.get_data(as_text=True)
    [notification] = _scheduled(rt)
    assert notification.send_at == dt.datetime(2026, 12, 2, 15, 30, tzinfo=dt.UTC)
    page = client.get(f"/console/cases/{CASE}").get_data(as_text=True)
    assert "Mae&#39;r heddlu wedi siarad â&#39;r tyst." in page and "scheduled" in page

    update_id = notification.scheduled_update_id
    changed = post(
        client,
        f"/console/cases/{CASE}/scheduled-updates/{update_id}",
        {"send_at": "2026-12-03T09:00", "text_cy": "Newid bach."},
    )
    assert changed.status_code == 302
    [notification] = _scheduled(rt)
    assert notification.send_at == dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)

    cancelled = post(client, f"/console/cases/{CASE}/scheduled-updates/{update_id}/cancel")
    assert cancelled.status_code == 302
    [notification] = _scheduled(rt)
    assert notification.status is NotificationStatus.CANCELLED
    # Too late to cancel twice: the console says so, with 409.
    again = post(client, f"/console/cases/{CASE}/scheduled-updates/{update_id}/cancel")
    assert again.status_code == 409

    with rt.db.session() as session:
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {
        AuditAction.SCHEDULE_UPDATE,
        AuditAction.CHANGE_SCHEDULED_UPDATE,
        AuditAction.CANCEL_SCHEDULED_UPDATE,
    } <= actions


def test_a_blank_update_is_refused_and_nothing_is_scheduled(
    client: FlaskClient, rt: Runtime, clock: FakeClock
) -> None:
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    _case_with_victim(client)
    answer = post(
        client, f"/console/cases/{CASE}/scheduled-updates", {"send_at": "2026-12-02T15:30"}
    )
    assert answer.status_code == 400
    assert _scheduled(rt) == []


def test_closing_a_case_from_the_console_sends_the_survey(
    client: FlaskClient, rt: Runtime, clock: FakeClock
) -> None:
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    _case_with_victim(client)
    assert post(client, f"/console/cases/{CASE}/close").status_code == 302
    with rt.db.session() as session:
        kinds = [
            n.kind.value for n in session.scalars(select(Notification).order_by(Notification.id))
        ]
        actions = set(session.scalars(select(AuditEvent.action)))
    assert kinds == ["welcome", "closing_survey"]
    assert AuditAction.CLOSE_CASE in actions
    page = client.get(f"/console/cases/{CASE}").get_data(as_text=True)
    assert "Schedule an update" not in page  # a closed case takes none


def test_an_admin_may_not_schedule_updates(client: FlaskClient, rt: Runtime) -> None:
    signed_in(client, rt, "root", OfficerRole.ADMIN)
    answer = post(
        client, f"/console/cases/{CASE}/scheduled-updates", {"send_at": "2026-12-02T15:30"}
    )
    assert answer.status_code == 403
