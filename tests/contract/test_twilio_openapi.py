"""The dev phone answers as Twilio would: Twilio's own OpenAPI description is the oracle."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import func, select
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from models import Channel
from models.devphone import DevPhoneMessage
from models.messaging import TWILIO_STATUSES
from services.messaging.twilio_gateway import SendFailed, TwilioGateway
from services.runtime import Runtime
from services.settings import Settings
from tests.contract.tap import Exchange
from webhooks.devphone import control, openapi

VICTIM = "+447700900123"
WELSH = "Diolch â chroeso, ŵyr. Mae'r swyddog yn ŷd."
BODIES = {
    "plain": "Your case has a new update. Reply NEWS to hear it.",
    "emoji": "Thank you 👍 we have your message 🙏",
    "welsh": WELSH,
    "1600 gsm": ("Your officer will call you. " * 60)[:1600],
    "1600 welsh": (WELSH + " ") * 35 + "â" * (1600 - len(WELSH + " ") * 35),
}


def checked(exchange: Exchange, path: str) -> None:
    """The request validates against the spec's request schema, the answer against its own."""
    op = openapi.operation(path, exchange.method)
    if exchange.method == "POST":
        form = openapi.coerce(openapi.form_schema(path, "post"), exchange.form)
        assert op.form_errors(form) == []
    query = openapi.coerce(openapi.query_schema(path, exchange.method), exchange.query)
    assert op.query_errors(query) == []
    assert op.response_errors(exchange.status, exchange.body) == []


def creates(exchanges: list[Exchange]) -> list[Exchange]:
    return [e for e in exchanges if e.method == "POST" and e.path.endswith("/Messages.json")]


def api_url(settings: Settings) -> str:
    return f"{settings.public_base_url}/devphone/2010-04-01/Accounts/{settings.twilio_account_sid}"


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.WHATSAPP])
@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_sends_through_the_real_library_match_the_spec(
    gateway: TwilioGateway, exchanges: list[Exchange], channel: Channel, body: str
) -> None:
    to = f"whatsapp:{VICTIM}" if channel is Channel.WHATSAPP else VICTIM

    accepted = gateway.send(to, channel, body)

    [exchange] = creates(exchanges)
    checked(exchange, openapi.MESSAGES)
    assert exchange.status == 201
    assert exchange.body["sid"] == accepted.sid
    assert (exchange.body["to"], exchange.body["body"]) == (to, body)
    assert accepted.status == "queued"


def test_the_oracle_is_not_vacuous() -> None:
    op = openapi.operation(openapi.MESSAGES, "post")
    assert op.response_errors(201, {"sid": "XX1", "status": "lost", "error_code": "none"})
    assert op.response_errors(201, {"date_created": "yesterday"})
    assert op.response_errors(400, {})  # The spec documents only 201 for a create.
    assert op.form_errors(openapi.coerce(openapi.form_schema(openapi.MESSAGES, "post"), []))
    typed = openapi.coerce(
        openapi.form_schema(openapi.MESSAGES, "post"),
        [("To", VICTIM), ("ValidityPeriod", "60"), ("SmartEncoded", "true"), ("MediaUrl", "a")],
    )
    assert typed == {"To": VICTIM, "ValidityPeriod": 60, "SmartEncoded": True, "MediaUrl": ["a"]}


def test_lookup_and_fetch_match_the_spec(
    gateway: TwilioGateway, exchanges: list[Exchange], settings: Settings
) -> None:
    import datetime as dt

    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    accepted = gateway.send(VICTIM, Channel.SMS, "Your officer has an update.")

    found = gateway.find_sent(VICTIM, Channel.SMS, "Your officer has an update.", since)
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token)
    client.api.base_url = settings.twilio_api_base_url
    fetched = client.messages(accepted.sid).fetch()

    assert found is not None and found.sid == accepted.sid
    assert fetched.body == "Your officer has an update."
    for exchange in exchanges:
        template = openapi.MESSAGES if exchange.path.endswith("/Messages.json") else openapi.MESSAGE
        checked(exchange, template)
    with pytest.raises(TwilioRestException) as unknown:
        client.messages("SM" + "0" * 32).fetch()
    assert (unknown.value.status, unknown.value.code) == (404, 20404)


def test_a_body_over_1600_characters_is_refused(gateway: TwilioGateway) -> None:
    with pytest.raises(SendFailed) as refused:
        gateway.send(VICTIM, Channel.SMS, "a" * 1601)
    assert (refused.value.code, refused.value.retry) == (21617, False)


def test_a_create_without_to_is_refused(settings: Settings, live_server: object) -> None:
    answer = requests.post(
        f"{api_url(settings)}/Messages.json",
        data={"From": settings.twilio_sms_from, "Body": "Hello"},
        auth=(settings.twilio_account_sid, settings.twilio_auth_token),
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == 21604


def test_wrong_credentials_get_401(settings: Settings, live_server: object) -> None:
    wrong = TwilioGateway(dataclasses.replace(settings, twilio_auth_token="not-the-token"))
    with pytest.raises(SendFailed) as refused:
        wrong.send(VICTIM, Channel.SMS, "Hello")
    assert (refused.value.code, refused.value.retry) == (20003, False)
    answer = requests.get(f"{api_url(settings)}/Messages.json", timeout=5)
    assert answer.status_code == 401
    assert answer.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


@pytest.mark.parametrize("to", ["07700 900123", "+44 7700 900123", "whatsapp:07700900123"])
def test_a_to_that_is_not_e164_is_refused(gateway: TwilioGateway, to: str) -> None:
    channel = Channel.WHATSAPP if to.startswith("whatsapp:") else Channel.SMS
    with pytest.raises(SendFailed) as refused:
        gateway.send(to, channel, "Hello")
    assert (refused.value.code, refused.value.retry) == (21211, False)


def post_create(settings: Settings, data: list[tuple[str, str]]) -> requests.Response:
    """A create sent by hand, for what the library would not send."""
    return requests.post(
        f"{api_url(settings)}/Messages.json",
        data=data,
        auth=(settings.twilio_account_sid, settings.twilio_auth_token),
        timeout=5,
    )


OURS_SMS, OURS_WHATSAPP = "+447700900000", "whatsapp:+447700900001"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ([("To", VICTIM), ("From", "+447700900999"), ("Body", "Hi")], 21606),
        ([("To", f"whatsapp:{VICTIM}"), ("From", "whatsapp:+447700900999"), ("Body", "Hi")], 63007),
        ([("To", f"whatsapp:{VICTIM}"), ("From", OURS_SMS), ("Body", "Hi")], 21910),
        ([("To", VICTIM), ("From", OURS_WHATSAPP), ("Body", "Hi")], 21910),
        ([("To", VICTIM), ("Body", "Hi")], 21603),
        ([("To", VICTIM), ("From", OURS_SMS)], 21602),
        (
            [("To", VICTIM), ("From", OURS_SMS), ("Body", "Hi"), ("StatusCallback", "nowhere")],
            21609,
        ),
        ([("To", VICTIM), ("From", OURS_SMS), ("Body", "Hi"), ("SmartEncoded", "maybe")], 60701),
    ],
)
def test_twilios_own_rules_are_applied(
    settings: Settings, live_server: object, data: list[tuple[str, str]], code: int
) -> None:
    assert settings.twilio_sms_from == OURS_SMS
    assert f"whatsapp:{settings.twilio_whatsapp_from}" == OURS_WHATSAPP

    answer = post_create(settings, data)

    assert (answer.status_code, answer.json()["code"]) == (400, code)


@pytest.mark.parametrize(
    "data",
    [
        [("To", VICTIM), ("MessagingServiceSid", "MG" + "ab" * 16), ("Body", "Hi")],
        [
            ("To", VICTIM),
            ("From", OURS_SMS),
            ("MediaUrl", "https://example.org/a.png"),
            ("MediaUrl", "https://example.org/b.png"),
        ],
        [
            ("To", f"whatsapp:{VICTIM}"),
            ("From", OURS_WHATSAPP),
            # The welcome's approved template (config/whatsapp_templates.json).
            ("ContentSid", "HX3d862ff3e0b9e58014cb5f827f9cc654"),
            ("ContentVariables", '{"1": "CR-2026-0001"}'),
        ],
    ],
    ids=["messaging service", "two pictures", "whatsapp template"],
)
def test_other_valid_creates_match_the_spec(
    settings: Settings, live_server: object, exchanges: list[Exchange], data: list[tuple[str, str]]
) -> None:
    answer = post_create(settings, data)

    assert answer.status_code == 201, answer.text
    [exchange] = creates(exchanges)
    checked(exchange, openapi.MESSAGES)


def test_a_value_the_schema_rejects_is_refused(settings: Settings, live_server: object) -> None:
    answer = requests.post(
        f"{api_url(settings)}/Messages.json",
        data={
            "To": VICTIM,
            "From": settings.twilio_sms_from,
            "Body": "Hi",
            "ValidityPeriod": "soon",
        },
        auth=(settings.twilio_account_sid, settings.twilio_auth_token),
        timeout=5,
    )
    assert answer.status_code == 400
    assert "ValidityPeriod" in answer.json()["message"]


def test_a_rejected_recipient_fails_for_good(
    gateway: TwilioGateway, client: FlaskClient, rt: Runtime
) -> None:
    client.put("/devphone/control", json={"reject": {VICTIM: 21610}})

    with pytest.raises(SendFailed) as refused:
        gateway.send(VICTIM, Channel.SMS, "Hello")

    assert (refused.value.code, refused.value.retry) == (21610, False)
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(DevPhoneMessage)) == 0


@pytest.mark.parametrize(("status", "code"), [(500, 20500), (429, 20429)])
def test_an_injected_failure_is_worth_retrying(
    gateway: TwilioGateway, client: FlaskClient, rt: Runtime, status: int, code: int
) -> None:
    client.put("/devphone/control", json={"fail_next": 1, "fail_status": status})

    with pytest.raises(SendFailed) as failed:
        gateway.send(VICTIM, Channel.SMS, "Hello")
    again = gateway.send(VICTIM, Channel.SMS, "Hello")

    assert (failed.value.code, failed.value.retry) == (code, True)
    with rt.db.session() as session:
        assert session.scalars(select(DevPhoneMessage.sid)).all() == [again.sid]


def test_a_missing_spec_answers_500_saying_run_make(
    settings: Settings, live_server: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(openapi, "SPEC_PATH", tmp_path / "absent.json")

    answer = requests.post(
        f"{api_url(settings)}/Messages.json",
        data={"To": VICTIM, "From": settings.twilio_sms_from, "Body": "Hello"},
        auth=(settings.twilio_account_sid, settings.twilio_auth_token),
        timeout=5,
    )

    assert answer.status_code == 500
    assert "run `make`" in answer.json()["message"]


@pytest.mark.parametrize(
    ("body", "count"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("[" * 80, 1),  # Extension characters take two septets each.
        ("[" * 81, 2),
        ("â" * 70, 1),  # "â" is not GSM-7 ("à" is): UCS-2, 70 in one segment.
        ("â" * 71, 2),
        ("ŵ" * 134, 2),  # 67 a segment once split.
        ("ŵ" * 135, 3),
        ("👍" * 35, 1),  # Each emoji is two UTF-16 units.
        ("👍" * 36, 2),
    ],
)
def test_segments_follow_gsm7_and_ucs2(body: str, count: int) -> None:
    from services.messaging.segments import segments

    assert segments(body) == count


def test_every_status_twilio_documents_has_a_rule_and_the_dev_phone_can_report_it() -> None:
    documented = set(openapi.load_spec()["components"]["schemas"]["message_enum_status"]["enum"])
    assert set(TWILIO_STATUSES) == documented
    assert set(control.STATUSES) == documented
