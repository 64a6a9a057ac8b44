"""`GET /metrics` (contract): Prometheus text behind the API's token, with the database's
gauges right at each scrape and the process counters of Rasa and Twilio."""

from __future__ import annotations

import dataclasses

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from models import Channel, Conversation, HandoffPriority, Message, MessageStatus
from services.casework import notifications
from services.console import handoffs
from services.messaging.rasa import RasaClient, RasaUnavailable
from services.messaging.twilio_gateway import SendFailed, TwilioGateway
from services.operations import heartbeats
from services.runtime import Runtime
from services.settings import Settings
from tests.support.clock import FakeClock
from tests.support.factories import (
    NO_QUIET_HOURS,
    inbound_form,
    new_case,
    new_victim,
    signed_post,
)
from webhooks import bearer

CASE = "CR-2026-0700"


def scrape(client: FlaskClient, auth: dict[str, str]) -> dict[tuple[str, tuple[str, ...]], float]:
    """Every sample of /metrics, by name and label values (in label-name order)."""
    answer = client.get("/metrics", headers=auth)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.content_type.startswith("text/plain")
    samples: dict[tuple[str, tuple[str, ...]], float] = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            labels = tuple(v for _, v in sorted(sample.labels.items()))
            samples[(sample.name, labels)] = sample.value
    return samples


def test_metrics_need_the_api_token(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    assert wrong.get_json() == {"error": bearer.UNAUTHENTICATED}


def test_the_database_gauges_follow_what_waits(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    settings: Settings,
    clock: FakeClock,
) -> None:
    empty = scrape(client, auth)
    assert empty[("victimcare_database_up", ())] == 1
    assert empty[("victimcare_oldest_unprocessed_inbound_seconds", ())] == 0
    assert empty[("victimcare_oldest_unsent_outbound_seconds", ())] == 0
    assert empty[("victimcare_handoffs_waiting", ("urgent",))] == 0
    assert empty[("victimcare_scheduler_active", ())] == 0
    assert empty[("victimcare_code_notifications", ("due",))] == 0

    new_case(client, auth, CASE)
    new_victim(client, auth, CASE, quiet_hours=NO_QUIET_HOURS, enhanced_rights=True)
    event = client.post(
        f"/api/cases/{CASE}/events",
        json={
            "type": "suspect_arrested",
            "occurred_at": "2026-12-02T09:00:00Z",
            "summary": "A suspect was arrested.",
        },
        headers=auth,
    )
    assert event.status_code == 201, event.get_json()
    form = inbound_form("+447700900123", "hello")
    assert signed_post(client, settings, "/twilio/messages", form).status_code == 200
    assert notifications.hand_over_due(rt.db, rt.templates) == 2  # the welcome and the news
    with rt.db.session() as session:
        conversation = session.scalars(select(Conversation)).one()
        handoffs.open_handoff(session, conversation, HandoffPriority.URGENT, "danger words")

    clock.advance(seconds=90)
    with rt.db.session() as session:
        heartbeats.beat_standby(session, "standby-1")
    now = scrape(client, auth)
    assert now[("victimcare_messages", ("sms", "inbound", "received"))] == 1
    assert now[("victimcare_messages", ("sms", "outbound", "pending"))] == 2
    assert now[("victimcare_oldest_unprocessed_inbound_seconds", ())] == 90
    assert now[("victimcare_oldest_unsent_outbound_seconds", ())] == 90
    assert now[("victimcare_handoffs_waiting", ("urgent",))] == 1
    assert now[("victimcare_handoff_oldest_wait_seconds", ("urgent",))] == 90
    assert now[("victimcare_handoffs_waiting", ("normal",))] == 0
    # The news is queued but unsent, its limit (1 working day, enhanced rights) ahead.
    assert now[("victimcare_code_notifications", ("due",))] == 1
    assert now[("victimcare_scheduler_active", ())] == 0
    assert now[("victimcare_scheduler_standby", ())] == 1

    with rt.db.session() as session:
        heartbeats.beat(session, heartbeats.SCHEDULER, "active-1")
    clock.advance(days=3)
    later = scrape(client, auth)
    assert later[("victimcare_code_notifications", ("due",))] == 0
    assert later[("victimcare_code_notifications", ("overdue",))] == 1
    # Three days on, neither heartbeat is fresh.
    assert later[("victimcare_scheduler_active", ())] == 0
    assert later[("victimcare_scheduler_standby", ())] == 0


def test_rasa_and_twilio_failures_are_counted(
    client: FlaskClient, auth: dict[str, str], settings: Settings
) -> None:
    before = scrape(client, auth)
    # Nothing listens on port 9 of the loopback (discard): both are refused at once.
    nowhere = dataclasses.replace(
        settings, rasa_url="http://127.0.0.1:9", twilio_api_base_url="http://127.0.0.1:9"
    )
    rasa = RasaClient(nowhere)
    twilio = TwilioGateway(nowhere)
    try:
        try:
            rasa.send("someone", "hello", {})
        except RasaUnavailable:
            pass
        try:
            twilio.send("+447700900123", Channel.SMS, "hello")
        except SendFailed:
            pass
    finally:
        rasa.close()
        twilio.close()
    after = scrape(client, auth)

    def grew(name: str, labels: tuple[str, ...]) -> float:
        return after[(name, labels)] - before.get((name, labels), 0.0)

    assert grew("victimcare_rasa_errors_total", ("unreachable",)) == 1
    assert grew("victimcare_rasa_request_seconds_count", ()) == 1
    assert grew("victimcare_twilio_errors_total", ("none", "true")) == 1


def test_delivery_failures_are_shown_by_twilio_error_code(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, settings: Settings
) -> None:
    new_case(client, auth, CASE)
    new_victim(client, auth, CASE, quiet_hours=NO_QUIET_HOURS)
    assert notifications.hand_over_due(rt.db, rt.templates) == 1
    with rt.db.session() as session:
        welcome = session.scalars(select(Message)).one()
        welcome.twilio_sid = "SM" + "0" * 32
        welcome.status = MessageStatus.ACCEPTED
    # Twilio's status callback: the carrier could not reach the handset.
    callback = {
        "MessageSid": "SM" + "0" * 32,
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
        "AccountSid": settings.twilio_account_sid,
    }
    assert signed_post(client, settings, "/twilio/status", callback).status_code < 300
    now = scrape(client, auth)
    assert now.get(("victimcare_message_errors", ("30003", "undelivered"))) == 1, [
        k for k in now if "error" in k[0] or "messages" in k[0]
    ]
