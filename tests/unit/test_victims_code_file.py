"""The Victims' Code file (config/victims_code.yml): the shipped limits, and a bad file refused
with an error naming the file, the duty and the field."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from models.cases import EventType
from services.casework import notifications
from services.victims_code import deadlines, duties
from services.victims_code.duties import DutyKey, OwedTo, VictimsCodeError

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "victims_code.yml"


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    return data


def test_the_shipped_file_encodes_the_2020_code() -> None:
    code = duties.load(SHIPPED)
    assert "November 2020" in code.code
    limits = {k: (d.working_days.standard, d.working_days.enhanced) for k, d in code.duties.items()}
    assert limits == {
        DutyKey.RIGHT_3_ACKNOWLEDGEMENT: (5, 5),
        DutyKey.RIGHT_4_REFERRAL: (2, 2),
        DutyKey.RIGHT_6_UPDATE: (5, 1),
        DutyKey.RIGHT_TO_REVIEW_OFFER: (5, 1),
        DutyKey.REVIEW_ACKNOWLEDGEMENT: (10, 10),
        DutyKey.REVIEW_DECISION: (30, 30),
    }
    assert code[DutyKey.RIGHT_TO_REVIEW_OFFER].request_within_months == 3
    assert code[DutyKey.RIGHT_4_REFERRAL].owed_to is OwedTo.THE_VICTIM_WHO_CONSENTED
    for duty in code.duties.values():
        assert duty.right.startswith("Right ")
        assert "Code 2020" in duty.source or "2020" in duty.source
    # Together the two event duties are the police decisions of Right 6, each in one duty.
    assert code[DutyKey.RIGHT_TO_REVIEW_OFFER].events() == {
        EventType.SUSPECT_RELEASED_NO_FURTHER_ACTION,
        EventType.INVESTIGATION_CLOSED,
    }
    assert code.code_events() == deadlines.code_events()
    # Every text it names exists in English and Welsh.
    notifications.check_victims_code(code)


def test_a_duty_counts_its_own_working_days() -> None:
    code = duties.load(SHIPPED)
    # Friday 27 November 2026, 10:15 UTC: 2 working days are Monday and Tuesday.
    friday = dt.datetime(2026, 11, 27, 10, 15, tzinfo=dt.UTC)
    referral = deadlines.due_by(friday, False, code[DutyKey.RIGHT_4_REFERRAL])
    assert referral == dt.datetime(2026, 12, 2, 0, 0, tzinfo=dt.UTC)
    # 10 working days, across nothing but weekends: Friday 11 December, so midnight after it.
    ack = deadlines.due_by(friday, False, code[DutyKey.REVIEW_ACKNOWLEDGEMENT])
    assert ack == dt.datetime(2026, 12, 12, 0, 0, tzinfo=dt.UTC)
    # 30 working days skip Christmas Day, Boxing Day's substitute (Monday 28 December) and New
    # Year's Day: 19 in December to the 24th, 3 more to the 31st, 5 to 8 January, then the
    # 11th, 12th and 13th. Wednesday 13 January 2027 is the last day.
    decision = deadlines.due_by(friday, False, code[DutyKey.REVIEW_DECISION])
    assert decision == dt.datetime(2027, 1, 14, 0, 0, tzinfo=dt.UTC)


def _mutate(path: list[str], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(_raw())
    target = data
    for step in path[:-1]:
        target = target[step]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()

BAD = [
    # (where, the value, the duty named, the field named)
    (
        ["duties", "right_6_update", "working_days", "standard"],
        0,
        "right_6_update",
        "working_days.standard",
    ),
    (
        ["duties", "right_6_update", "working_days", "enhanced"],
        "one",
        "right_6_update",
        "working_days.enhanced",
    ),
    (
        ["duties", "right_4_referral", "working_days", "standard"],
        True,
        "right_4_referral",
        "working_days.standard",
    ),
    (
        ["duties", "right_4_referral", "working_days"],
        {"standard": 2},
        "right_4_referral",
        "working_days",
    ),
    (["duties", "review_decision", "owed_to"], "the_officer", "review_decision", "owed_to"),
    (["duties", "right_6_update", "starts_on"], ["suspect_arested"], "right_6_update", "starts_on"),
    (["duties", "right_6_update", "starts_on"], [], "right_6_update", "starts_on"),
    (["duties", "right_6_update", "source"], _DELETE, "right_6_update", "source"),
    (["duties", "right_6_update", "right"], "", "right_6_update", "right"),
    (["duties", "right_6_update", "messages", "cy"], _DELETE, "right_6_update", "messages"),
    (
        ["duties", "right_3_acknowledgement", "messages", "en", "safe_contact"],
        _DELETE,
        "right_3_acknowledgement",
        "messages.en",
    ),
    (["duties", "right_4_referral", "messages"], {"en": "x"}, "right_4_referral", "messages"),
    (
        ["duties", "right_to_review_offer", "request_within_months"],
        _DELETE,
        "right_to_review_offer",
        "request_within_months",
    ),
    (["duties", "right_6_update", "limit"], 5, "right_6_update", "limit"),
    (["duties", "review_decision"], _DELETE, "review_decision", None),
    (["duties", "right_7_statement"], {}, "right_7_statement", None),
    # An event in two duties would be told twice under two limits.
    (
        ["duties", "right_to_review_offer", "starts_on"],
        ["suspect_charged"],
        "right_to_review_offer",
        "starts_on",
    ),
    (["code"], "", None, "code"),
]


@pytest.mark.parametrize(("where", "value", "duty", "field"), BAD)
def test_a_bad_file_is_refused_naming_the_file_the_duty_and_the_field(
    tmp_path: Path, where: list[str], value: Any, duty: str | None, field: str | None
) -> None:
    path = tmp_path / "victims_code.yml"
    path.write_text(yaml.safe_dump(_mutate(where, value)), encoding="utf-8")
    with pytest.raises(VictimsCodeError) as raised:
        duties.load(path)
    message = str(raised.value)
    assert str(path) in message
    if duty:
        assert f"duty {duty!r}" in message
    if field:
        assert f"field {field!r}" in message


@pytest.mark.parametrize("content", ["duties: [", "", "just text", "\xff"])
def test_a_file_that_is_not_yaml_or_not_a_mapping_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "victims_code.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(VictimsCodeError, match=str(path)):
        duties.load(path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VictimsCodeError, match="cannot be read"):
        duties.load(tmp_path / "absent.yml")


def test_a_message_key_that_is_not_a_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "victims_code.yml"
    data = _mutate(["duties", "right_6_update", "messages", "cy", "full"], "code_updat")
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(VictimsCodeError) as raised:
        notifications.load_victims_code(path)
    assert "duty 'right_6_update', field 'messages.cy.full'" in str(raised.value)
    assert str(path) in str(raised.value)


def test_a_review_may_be_asked_for_until_the_same_day_three_months_on() -> None:
    london_evening = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)  # 30 Nov in London
    assert notifications.review_request_until(london_evening, 3) == dt.date(2027, 2, 28)
    summer = dt.datetime(2026, 7, 31, 23, 30, tzinfo=dt.UTC)  # 1 August in London (BST)
    assert notifications.review_request_until(summer, 3) == dt.date(2026, 11, 1)
