"""A simulated year of the Victims' Code duties (issue 14): 1,000 victims on 500 cases, English
and Welsh, quiet hours, safe contact, opt-outs, bank holidays and both clock changes; Right 3
acknowledgements, Right 6 updates and Right to Review offers, Right 4 referrals and requests for
a review. The clock is a FakeClock moved from one moment that matters to the next; at each, the
scheduler's own jobs run (hand over due notifications, raise overdue referrals) and the outbox
is drained as a worker drains it, through the real twilio library to the dev phone.

The test keeps its own ledger: each duty's limit counted with its own working-day rule (the
`holidays` library and the London clock, not services/victims_code), and what each handset
received, read from the dev phone. It asserts that every notification went within its limit or
is reported late with its reason, and that the compliance report's figures equal the ledger's.

Both databases: date filters, conditional UPDATEs and a year of timestamps.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time as timer
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, insert, select

from models import (
    Case,
    CaseVictim,
    Channel,
    Conversation,
    DevPhoneMessage,
    Language,
    Notification,
    NotificationStatus,
    Referral,
    ReviewStatus,
    Victim,
)
from scheduler import jobs
from services.assistant import referrals as assistant_referrals
from services.assistant import support
from services.casework import notifications, referrals, reports, reviews
from services.conversations import processing
from services.runtime import Runtime
from services.settings import Settings
from tests.conftest import LiveServer
from tests.support.clock import FakeClock
from workers.worker import due_conversations

# Both databases (date filters, conditional UPDATEs, a year of timestamps); slow: 1,000 victims.
pytestmark = [pytest.mark.both_databases, pytest.mark.slow]

LONDON = ZoneInfo("Europe/London")
START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
FIRST_DAY, LAST_DAY = dt.date(2026, 12, 1), dt.date(2027, 11, 30)
VICTIMS, CASES = (
    int(os.environ.get("SIM_VICTIMS", "1000")),
    int(os.environ.get("SIM_VICTIMS", "1000")) // 2,
)
EVENT_TYPES = [
    "suspect_arrested",
    "suspect_interviewed",
    "suspect_released_on_bail",
    "suspect_released_under_investigation",
    "bail_conditions_changed",
    "suspect_charged",
    "suspect_released_no_further_action",
    "investigation_closed",
]
REVIEW_EVENTS = {"suspect_released_no_further_action", "investigation_closed"}
# Moments that need care, each given to a case's event: bank holidays, a weekend before one,
# and both clock changes (the spring gap and the autumn's doubled hour).
SPECIAL = [
    dt.datetime(2026, 12, 24, 17, 30, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 25, 11, 0, tzinfo=dt.UTC),
    dt.datetime(2027, 1, 1, 0, 30, tzinfo=dt.UTC),
    dt.datetime(2027, 3, 26, 15, 0, tzinfo=dt.UTC),  # Good Friday
    dt.datetime(2027, 3, 28, 0, 59, tzinfo=dt.UTC),  # a minute before the clocks go forward
    dt.datetime(2027, 3, 28, 1, 0, tzinfo=dt.UTC),
    dt.datetime(2027, 5, 28, 22, 0, tzinfo=dt.UTC),  # the Friday before a bank holiday
    dt.datetime(2027, 8, 30, 9, 0, tzinfo=dt.UTC),
    dt.datetime(2027, 10, 31, 0, 30, tzinfo=dt.UTC),  # first 01:30 BST
    dt.datetime(2027, 10, 31, 1, 30, tzinfo=dt.UTC),  # second 01:30, GMT
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # No pacing (the simulation sends a year's messages in seconds), and the service's own
    # SMS number a short code, so that all 1,000 of Ofcom's drama numbers are victims'.
    return dataclasses.replace(settings, send_rate_per_second=0.0, twilio_sms_from="84001")


def _working_day(day: dt.date, bank: holidays.HolidayBase) -> bool:
    return day.weekday() < 5 and day not in bank


def ledger_limit(start: dt.datetime, days: int, bank: holidays.HolidayBase) -> dt.datetime:
    """The test's own reading of a limit: the London date of `start`, then `days` working days
    after it; in time until the London midnight that ends the last of them."""
    day = start.astimezone(LONDON).date()
    while days:
        day += dt.timedelta(days=1)
        days -= _working_day(day, bank)
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), LONDON).astimezone(dt.UTC)


@dataclasses.dataclass
class Person:
    index: int
    phone: str
    language: Language
    enhanced: bool
    quiet: tuple[dt.time, dt.time]
    safe: bool
    opted_out: bool
    acknowledges: bool
    case_index: int
    victim_id: int = 0


@dataclasses.dataclass
class Expected:
    """One duty the ledger expects met: when it started, its limit, and what became of it."""

    duty: str
    victim: int
    started: dt.datetime
    limit: dt.datetime
    done_at: dt.datetime | None = None
    suppressed: bool = False
    recorded_late: bool = False


def _people() -> list[Person]:
    quiet = [(dt.time(20), dt.time(8)), (dt.time(22), dt.time(7)), (dt.time(0), dt.time(0))]
    return [
        Person(
            index=i,
            phone=f"+4477009{i:05d}",
            language=Language.CY if i % 2 else Language.EN,
            enhanced=i % 5 == 0,
            quiet=quiet[i % 3],
            safe=i % 10 == 3,
            opted_out=i % 20 == 7,
            acknowledges=i % 4 == 1,
            case_index=i // 2,
        )
        for i in range(VICTIMS)
    ]


def _registered_at(case_index: int) -> dt.datetime:
    # Spread over the year, at every hour of the day (some inside quiet hours).
    return START + dt.timedelta(hours=case_index * 16 + case_index % 7)


def _event_at(case_index: int) -> tuple[dt.datetime, dt.datetime]:
    """When a case's event happened, and when it was recorded (every 25th a week late)."""
    if case_index < len(SPECIAL):
        happened = SPECIAL[case_index]
    else:
        happened = _registered_at(case_index) + dt.timedelta(days=3 + case_index % 40, hours=5)
    if case_index % 25 == 24:
        return happened, happened + dt.timedelta(days=8)
    if case_index % 25 == 12:
        # Recorded at 22:30 London on the last day of a 1-day limit: inside anyone's quiet
        # hours, where waiting for morning would miss an enhanced victim's limit.
        bank = holidays.country_holidays("GB", subdiv="ENG", years=range(2026, 2029))
        return happened, ledger_limit(happened, 1, bank) - dt.timedelta(minutes=90)
    return happened, happened


def _setup(rt: Runtime, people: list[Person]) -> None:
    """Cases, victims, their places and conversations, in bulk: the registration API would
    cost a transaction each, and is tested elsewhere."""
    with rt.db.session() as session:
        session.execute(
            insert(Case),
            [
                {
                    "case_ref": f"SIM-{c:04d}",
                    "crime_type": "burglary",
                    "officer_in_charge": "PC Ifan Rees",
                    "created_at": _registered_at(c),
                }
                for c in range(CASES)
            ],
        )
        session.execute(
            insert(Victim),
            [
                {
                    "name": f"Person {p.index}",
                    "phone": p.phone,
                    "channel": Channel.SMS,
                    "language": p.language,
                    "date_of_birth": dt.date(1980, 1, 1) + dt.timedelta(days=p.index),
                    "enhanced_rights": p.enhanced,
                    "update_every_days": 365,
                    "quiet_start": p.quiet[0],
                    "quiet_end": p.quiet[1],
                    "safe_contact": p.safe,
                    "created_at": _registered_at(p.case_index),
                }
                for p in people
            ],
        )
        ids = {phone: id_ for phone, id_ in session.execute(select(Victim.phone, Victim.id))}
        cases = {ref: id_ for ref, id_ in session.execute(select(Case.case_ref, Case.id))}
        for p in people:
            p.victim_id = ids[p.phone]
        session.execute(
            insert(CaseVictim),
            [
                {
                    "case_id": cases[f"SIM-{p.case_index:04d}"],
                    "victim_id": p.victim_id,
                    "created_at": _registered_at(p.case_index),
                }
                for p in people
            ],
        )
        session.execute(
            insert(Conversation),
            [
                {
                    "public_id": uuid.uuid4().hex,
                    "address": p.phone,
                    "channel": Channel.SMS,
                    "victim_id": p.victim_id,
                    "opted_out_at": START if p.opted_out else None,
                }
                for p in people
            ],
        )


def _agenda(people: list[Person]) -> list[tuple[dt.datetime, str, int]]:
    """What happens when: (moment, what, whose index)."""
    items: list[tuple[dt.datetime, str, int]] = []
    for c in range(CASES):
        items.append((_registered_at(c), "register", c))
        items.append((_event_at(c)[1], "event", c))
    for p in people:
        happened, recorded = _event_at(p.case_index)
        if p.index % 7 == 2 and not p.opted_out:
            items.append((recorded + dt.timedelta(hours=1), "refer", p.index))
        if EVENT_TYPES[p.case_index % len(EVENT_TYPES)] in REVIEW_EVENTS and p.index % 3 == 0:
            items.append((recorded + dt.timedelta(days=2), "ask_review", p.index))
    return sorted(items, key=lambda item: (item[0], item[1], item[2]))


def _drain(rt: Runtime) -> None:
    while True:
        with rt.db.session() as session:
            due = due_conversations(session)
        if not due:
            return
        for conversation_id, _ in due:
            processing.drain(rt, conversation_id, "simulated-year")


def _next_due(rt: Runtime, after: dt.datetime) -> dt.datetime | None:
    with rt.db.session() as session:
        send = session.scalar(
            select(func.min(Notification.send_at)).where(
                Notification.status == NotificationStatus.PENDING
            )
        )
        overdue = session.scalar(
            select(func.min(Referral.due_by)).where(
                Referral.sent_at.is_(None), Referral.overdue_handoff_id.is_(None)
            )
        )
    moments = [m for m in (send, overdue) if m is not None]
    return max(min(moments), after) if moments else None


def _tick(rt: Runtime) -> None:
    jobs.hand_over_due()
    _drain(rt)
    jobs.flag_overdue_referrals()


@pytest.fixture
def bound(rt: Runtime) -> Iterator[Runtime]:
    if rt.db.engine.dialect.name == "postgresql":
        # A year's commits (five a message) each wait for the disk otherwise; what a commit
        # promises after a crash is not what this test is about.
        event.listen(rt.db.engine, "connect", _no_commit_wait)
        rt.db.engine.dispose()
    jobs.bind(rt)
    yield rt
    jobs.bind(None)


def _no_commit_wait(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET synchronous_commit TO OFF")
    cursor.close()


def test_a_year_of_duties_each_met_in_time_or_reported_late_with_its_reason(
    client: FlaskClient,
    auth: dict[str, str],
    bound: Runtime,
    live_server: LiveServer,
    clock: FakeClock,
) -> None:
    rt = bound
    began = timer.monotonic()
    bank = holidays.country_holidays("GB", subdiv="ENG", years=range(2026, 2029))
    people = _people()
    by_case: dict[int, list[Person]] = defaultdict(list)
    for p in people:
        by_case[p.case_index].append(p)
    clock.set(START)
    # Twilio's status callbacks move nothing the Code counts (a notification is sent when
    # Twilio takes it): the dev phone sends none, which halves the simulation's time.
    control = client.put("/devphone/control", json={"callback_statuses": []})
    assert control.status_code == 200, control.get_json()
    _setup(rt, people)
    expected: list[Expected] = []
    referral_of: dict[int, int] = {}
    review_of: dict[int, int] = {}
    acts: list[tuple[dt.datetime, str, int]] = []

    agenda = _agenda(people)
    ticks = 0
    while agenda or acts:
        upcoming = min([a[0] for a in agenda[:1]] + [a[0] for a in acts])
        moment = _next_due(rt, clock()) or upcoming
        moment = min(moment, upcoming)
        clock.set(max(moment, clock()))
        now = clock()
        while agenda and agenda[0][0] <= now:
            _, what, index = agenda.pop(0)
            _happen(
                client,
                auth,
                rt,
                what,
                index,
                by_case,
                people,
                expected,
                referral_of,
                review_of,
                acts,
                bank,
                now,
            )
        acts.sort()
        while acts and acts[0][0] <= now:
            _, what, index = acts.pop(0)
            _act(rt, what, index, referral_of, review_of, expected, now)
        _tick(rt)
        ticks += 1
    # Run on until nothing waits: the last notifications, the last referrals' limits.
    while (last := _next_due(rt, clock())) is not None:
        clock.set(max(last, clock()))
        _tick(rt)
        ticks += 1
    end = clock()

    _observe(rt, people, expected)
    counted = _counted(expected, end)
    with rt.db.session() as session:
        report = reports.compliance(session, FIRST_DAY, LAST_DAY, now=end).as_json()
        late = {row["id"]: row for row in report["late"]}
        notes = session.execute(
            select(
                Notification.id, Notification.duty, Notification.status, Notification.status_reason
            ).where(Notification.duty.is_not(None))
        ).all()
    reported = {
        d["duty"]: {k: d[k] for k in ("within", "late", "open", "suppressed")}
        for d in report["duties"]
    }
    assert reported == counted, (reported, counted)
    # Late only for the reason the simulation gave (recorded after the limit), and said so.
    assert {row["reason"] for row in report["late"]} == {"recorded after its limit had passed"}
    assert len(late) == sum(
        e.recorded_late and not e.suppressed and e.duty in NOTIFIED
        for e in expected
        if _in_period(e.limit)
    )
    assert late  # the simulation records some events after their limit
    # Opted-out victims were told nothing, and each such notification says why.
    suppressed = [n for n in notes if n.status is NotificationStatus.SUPPRESSED]
    assert suppressed and all(n.status_reason == notifications.OPTED_OUT for n in suppressed)
    # The Code's 1-day limit outranked quiet hours: enhanced victims were sometimes told inside
    # them, and never late for it.
    inside_quiet = [
        e
        for e in expected
        if e.done_at is not None
        and not e.recorded_late
        and e.duty == "right_6_update"
        and _quiet(people_by_id(people)[e.victim], e.done_at)
    ]
    assert inside_quiet and all(e.done_at is not None and e.done_at < e.limit for e in inside_quiet)
    assert all(
        e.done_at < e.limit
        for e in expected
        if e.done_at is not None and not e.recorded_late and e.duty in NOTIFIED
    )
    seconds = timer.monotonic() - began
    print(f"\nsimulated year: {ticks} ticks, {len(expected)} duties, {seconds:.1f} s")


NOTIFIED = {"right_3_acknowledgement", "right_6_update", "right_to_review_offer"}


def people_by_id(people: list[Person]) -> dict[int, Person]:
    return {p.victim_id: p for p in people}


def _quiet(person: Person, moment: dt.datetime) -> bool:
    start, end = person.quiet
    if start == end:
        return False
    clock = moment.astimezone(LONDON).time()
    return start <= clock < end if start < end else clock >= start or clock < end


def _happen(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    what: str,
    index: int,
    by_case: dict[int, list[Person]],
    people: list[Person],
    expected: list[Expected],
    referral_of: dict[int, int],
    review_of: dict[int, int],
    acts: list[tuple[dt.datetime, str, int]],
    bank: holidays.HolidayBase,
    now: dt.datetime,
) -> None:
    if what == "register":
        # Right 3: the welcome acknowledges the report for those the case system says so.
        with rt.db.session() as session:
            case = session.scalars(select(Case).where(Case.case_ref == f"SIM-{index:04d}")).one()
            for p in by_case[index]:
                if p.acknowledges:
                    victim = session.get_one(Victim, p.victim_id)
                    notifications.plan_welcome(session, case, victim, acknowledges_report=True)
                    expected.append(
                        Expected(
                            "right_3_acknowledgement",
                            p.victim_id,
                            now,
                            ledger_limit(now, 5, bank),
                            suppressed=p.opted_out,
                        )
                    )
    elif what == "event":
        happened, recorded = _event_at(index)
        kind = EVENT_TYPES[index % len(EVENT_TYPES)]
        response = client.post(
            f"/api/cases/SIM-{index:04d}/events",
            json={"type": kind, "occurred_at": happened.isoformat(), "summary": "News."},
            headers=auth,
        )
        assert response.status_code == 201, response.get_json()
        duty = "right_to_review_offer" if kind in REVIEW_EVENTS else "right_6_update"
        for p in by_case[index]:
            limit = ledger_limit(happened, 1 if p.enhanced else 5, bank)
            expected.append(
                Expected(
                    duty,
                    p.victim_id,
                    happened,
                    limit,
                    suppressed=p.opted_out,
                    recorded_late=recorded >= limit,
                )
            )
    elif what == "refer":
        p = people[index]
        with rt.db.session() as session:
            victim = session.get_one(Victim, p.victim_id)
            talk = session.scalars(
                select(Conversation).where(Conversation.victim_id == p.victim_id)
            ).one()
            referral = assistant_referrals.refer(
                session, talk, victim, support.referral_service(), now
            )
            referral_of[index] = referral.id
        limit = ledger_limit(now, 2, bank)
        expected.append(Expected("right_4_referral", p.victim_id, now, limit))
        # In time, two days late, or never (then the scheduler raises it).
        if index % 3 == 0:
            acts.append((now + dt.timedelta(hours=20), "send_referral", index))
        elif index % 3 == 1:
            acts.append((limit + dt.timedelta(days=2), "send_referral", index))
    elif what == "ask_review":
        p = people[index]
        with rt.db.session() as session:
            victim = session.get_one(Victim, p.victim_id)
            talk = session.scalars(
                select(Conversation).where(Conversation.victim_id == p.victim_id)
            ).one()
            review, _ = reviews.request(session, talk, victim, now)
            review_of[index] = review.id
        ack, decide = ledger_limit(now, 10, bank), ledger_limit(now, 30, bank)
        expected.append(Expected("review_acknowledgement", p.victim_id, now, ack))
        expected.append(Expected("review_decision", p.victim_id, now, decide))
        in_time = index % 2 == 0
        acts.append((now + dt.timedelta(days=5 if in_time else 20), "acknowledge", index))
        acts.append((now + dt.timedelta(days=25 if in_time else 60), "decide", index))


def _act(
    rt: Runtime,
    what: str,
    index: int,
    referral_of: dict[int, int],
    review_of: dict[int, int],
    expected: list[Expected],
    now: dt.datetime,
) -> None:
    with rt.db.session() as session:
        if what == "send_referral":
            referral = referrals.mark_sent(session, referral_of[index], "officer:sim")
            duty, victim = "right_4_referral", referral.victim_id
        else:
            to = ReviewStatus.ACKNOWLEDGED if what == "acknowledge" else ReviewStatus.DECIDED
            review = reviews.move(session, review_of[index], to, "officer:sim")
            duty = "review_acknowledgement" if what == "acknowledge" else "review_decision"
            victim = review.victim_id
    entry = next(e for e in expected if e.duty == duty and e.victim == victim and e.done_at is None)
    entry.done_at = now


def _observe(rt: Runtime, people: list[Person], expected: list[Expected]) -> None:
    """When each victim's handset received each message, from the dev phone's own record."""
    with rt.db.session() as session:
        received: dict[str, list[dt.datetime]] = defaultdict(list)
        for handset, at in session.execute(
            select(DevPhoneMessage.handset, DevPhoneMessage.created_at)
            .where(DevPhoneMessage.direction == "to_handset")
            .order_by(DevPhoneMessage.created_at, DevPhoneMessage.id)
        ):
            received[handset].append(at)
    phones = {p.victim_id: p.phone for p in people}
    mine: dict[int, list[Expected]] = defaultdict(list)
    for e in expected:
        if e.duty in NOTIFIED and not e.suppressed:
            mine[e.victim].append(e)
    for victim, entries in mine.items():
        got = received.get(phones[victim], [])
        # One message per duty, in the order the duties started.
        assert len(got) == len(entries), (victim, got, entries)
        for entry, at in zip(sorted(entries, key=lambda e: e.started), got, strict=True):
            # Each went after its duty started, within days (a late record adds 8).
            assert entry.started <= at < entry.started + dt.timedelta(days=10), (victim, entry, got)
            entry.done_at = at


def _in_period(limit: dt.datetime) -> bool:
    lower = dt.datetime.combine(FIRST_DAY, dt.time(0), LONDON).astimezone(dt.UTC)
    upper = dt.datetime.combine(LAST_DAY + dt.timedelta(days=1), dt.time(0), LONDON)
    return lower < limit <= upper.astimezone(dt.UTC)


def _counted(expected: list[Expected], now: dt.datetime) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {
        duty: Counter()
        for duty in (
            "right_3_acknowledgement",
            "right_4_referral",
            "right_6_update",
            "right_to_review_offer",
            "review_acknowledgement",
            "review_decision",
        )
    }
    for e in expected:
        if not _in_period(e.limit):
            continue
        if e.suppressed:
            outcome = "suppressed"
        elif e.done_at is not None:
            outcome = "within" if e.done_at < e.limit else "late"
        else:
            outcome = "late" if now >= e.limit else "open"
        counts[e.duty][outcome] += 1
    return {
        duty: {k: c[k] for k in ("within", "late", "open", "suppressed")}
        for duty, c in counts.items()
    }
