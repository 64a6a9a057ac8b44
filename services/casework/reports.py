"""The Victims' Code compliance report: how many Code notifications went within their limit.

Which notifications a report covers: those the Code sets a limit for (a `due_by`), whose
limit falls in the period. A limit "falls on" the last calendar day on which telling the
victim is still in time, on the Europe/London clock: `due_by` is exclusive and is the
00:00 London that starts the day after, so a `due_by` of 2026-12-05T00:00 London falls on
4 December. A period from F to T (inclusive) therefore holds the notifications with
00:00 London on F < due_by <= 00:00 London on T+1.

What each one counts as, at the moment the report is made (`now`):

- **within**: sent (Twilio took it) before `due_by`;
- **late**: sent at or after `due_by`, or not sent (pending, queued, failed) when `due_by`
  has passed. How late: `sent_at - due_by`, or `now - due_by` while it is still unsent;
- **open**: not sent yet, and its limit has not passed: neither in time nor late so far;
- **suppressed**: never sent on purpose (the victim opted out): reported, not counted late;
- **excluded**: any other status (a notification withdrawn before it went, for instance),
  which the Code no longer holds the service to.

`share` is within / (within + late): the share of the notifications whose outcome is known
that went in time; None when there are none. Figures are given overall and per event type,
with the late ones listed. The report names no victim and shows no phone number: victims
appear by id only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from models import (
    Case,
    CaseEvent,
    EventType,
    Notification,
    NotificationStatus,
    Referral,
    ReviewRequest,
    utcnow,
)
from services import spreadsheet
from services.casework.notifications import iso
from services.errors import InvalidField
from services.victims_code import deadlines, duties

MAX_DAYS = 366
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Outcome(enum.StrEnum):
    WITHIN = "within"
    LATE = "late"
    OPEN = "open"
    SUPPRESSED = "suppressed"
    EXCLUDED = "excluded"


# Statuses whose notification has not reached the victim and still should have.
_UNSENT = frozenset(
    {NotificationStatus.PENDING, NotificationStatus.QUEUED, NotificationStatus.FAILED}
)


def outcome(
    status: NotificationStatus, due_by: dt.datetime, sent_at: dt.datetime | None, now: dt.datetime
) -> Outcome:
    """What one Code notification counts as in the report, at `now` (rules in the docstring)."""
    return judged(
        status,
        sent=sent_at is not None,
        sent_in_time=sent_at is not None and sent_at < due_by,
        limit_passed=now >= due_by,
    )


def judged(
    status: NotificationStatus, *, sent: bool, sent_in_time: bool, limit_passed: bool
) -> Outcome:
    """`outcome` from the facts it rests on: whether it was sent, in time, and whether its
    limit has passed. The one place the rule is written."""
    if status is NotificationStatus.SENT and sent:
        return Outcome.WITHIN if sent_in_time else Outcome.LATE
    if status is NotificationStatus.SUPPRESSED:
        return Outcome.SUPPRESSED
    if status in _UNSENT or status is NotificationStatus.SENT:
        # (Sent without a time cannot be shown to be in time: it counts as not sent.)
        return Outcome.LATE if limit_passed else Outcome.OPEN
    return Outcome.EXCLUDED


def outcome_counts(session: Session, now: dt.datetime) -> dict[tuple[Outcome, bool], int]:
    """Every Code notification (one with a `due_by`), counted by outcome at `now` and by
    whether it was sent: late and sent is "sent after the limit", late and unsent is
    "overdue". One grouped query, so /metrics can ask it at every scrape."""
    sent = Notification.sent_at.is_not(None)
    in_time = sent & (Notification.sent_at < Notification.due_by)
    passed = Notification.due_by <= now
    rows = session.execute(
        select(
            Notification.status,
            case((sent, True), else_=False),
            case((in_time, True), else_=False),
            case((passed, True), else_=False),
            func.count(),
        )
        .where(Notification.due_by.is_not(None))
        .group_by(Notification.status, sent, in_time, passed)
    ).all()
    counts: dict[tuple[Outcome, bool], int] = {}
    for status, was_sent, was_in_time, has_passed, count in rows:
        result = judged(
            status,
            sent=bool(was_sent),
            sent_in_time=bool(was_in_time),
            limit_passed=bool(has_passed),
        )
        key = (result, status is NotificationStatus.SENT and bool(was_sent))
        counts[key] = counts.get(key, 0) + count
    return counts


@dataclasses.dataclass
class Tally:
    """The counts for one group of notifications (all of them, or one event type)."""

    count: int = 0
    within: int = 0
    late: int = 0
    open: int = 0
    suppressed: int = 0
    excluded: int = 0

    def add(self, result: Outcome) -> None:
        self.count += 1
        setattr(self, result.value, getattr(self, result.value) + 1)

    @property
    def share(self) -> float | None:
        """Within / (within + late), rounded to 4 places; None when neither happened."""
        decided = self.within + self.late
        return round(self.within / decided, 4) if decided else None

    def as_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "share": self.share}


@dataclasses.dataclass(frozen=True)
class LateNotification:
    """One notification that missed its limit; no name or number, the victim by id only."""

    id: int
    case_ref: str
    victim_id: int
    event_type: str | None
    due_by: dt.datetime
    sent_at: dt.datetime | None
    status: str
    late_by: dt.timedelta
    duty: str | None = None
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_ref": self.case_ref,
            "victim_id": self.victim_id,
            "event_type": self.event_type,
            "duty": self.duty,
            "due_by": iso(self.due_by),
            "sent_at": iso(self.sent_at),
            "status": self.status,
            "late_by_seconds": int(self.late_by.total_seconds()),
            "reason": self.reason,
        }


@dataclasses.dataclass(frozen=True)
class LateAct:
    """A duty an officer's act meets (a referral sent, a review acknowledged or decided) that
    missed its limit: the referral or request by id, the victim by id only."""

    duty: str
    id: int
    case_ref: str | None
    victim_id: int
    due_by: dt.datetime
    done_at: dt.datetime | None
    late_by: dt.timedelta

    def as_json(self) -> dict[str, Any]:
        return {
            "duty": self.duty,
            "id": self.id,
            "case_ref": self.case_ref,
            "victim_id": self.victim_id,
            "due_by": iso(self.due_by),
            "done_at": iso(self.done_at),
            "late_by_seconds": int(self.late_by.total_seconds()),
        }


def act_outcome(done_at: dt.datetime | None, due_by: dt.datetime, now: dt.datetime) -> Outcome:
    """What a duty met by an act counts as at `now`: within when done before `due_by`, late
    when done at or after it or still undone once it passed, open otherwise."""
    if done_at is not None:
        return Outcome.WITHIN if done_at < due_by else Outcome.LATE
    return Outcome.LATE if now >= due_by else Outcome.OPEN


def late_reason(
    status: NotificationStatus,
    status_reason: str | None,
    created_at: dt.datetime,
    due_by: dt.datetime,
    sent_at: dt.datetime | None,
) -> str:
    """Why a Code notification is late, in words for the report."""
    if created_at >= due_by:
        return "recorded after its limit had passed"
    if status is NotificationStatus.FAILED:
        return f"failed: {status_reason or 'not delivered'}"
    if sent_at is None:
        return "not sent yet"
    return "sent after its limit"


@dataclasses.dataclass
class ComplianceReport:
    """The report for one period; `as_json()` for the API, `as_csv()` for the console."""

    start: dt.date
    end: dt.date
    generated_at: dt.datetime
    overall: Tally
    by_event_type: dict[str | None, Tally]
    late: list[LateNotification]
    # Every duty of the Victims' Code file, in its order, zeros included: the notifications
    # that meet Rights 3 and 6 and the review offer, the referrals of Right 4, the review
    # requests' acknowledgements and decisions.
    by_duty: dict[str, Tally] = dataclasses.field(default_factory=dict)
    late_acts: list[LateAct] = dataclasses.field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The API's answer (contract; `duties` and `late_acts` added by issue 14)."""
        code = duties.current()
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "generated_at": iso(self.generated_at),
            "overall": self.overall.as_json(),
            "by_event_type": [
                {"event_type": event_type, **tally.as_json()}
                for event_type, tally in self.by_event_type.items()
            ],
            "late": [n.as_json() for n in self.late],
            "duties": [
                {
                    "duty": key,
                    "right": code[duties.DutyKey(key)].right,
                    "working_days": dataclasses.asdict(code[duties.DutyKey(key)].working_days),
                    **tally.as_json(),
                }
                for key, tally in self.by_duty.items()
            ],
            "late_acts": [a.as_json() for a in self.late_acts],
        }

    def as_csv(self) -> str:
        """The console's export: the period, the figures, then the late notifications.

        Through the one CSV writer (services/spreadsheet.py): case references come from
        outside systems, and a spreadsheet would run one that looks like a formula.
        """
        rows: list[list[Any]] = []
        rows.append(["report", "Victims' Code compliance"])
        rows.append(["from", self.start.isoformat()])
        rows.append(["to", self.end.isoformat()])
        rows.append(["generated_at", iso(self.generated_at)])
        rows.append([])
        columns = [f.name for f in dataclasses.fields(Tally)]
        rows.append(["event_type", *columns, "share"])
        groups: list[tuple[str | None, Tally]] = [("all", self.overall)]
        for name, tally in [*groups, *self.by_event_type.items()]:
            share = "" if tally.share is None else f"{tally.share:.4f}"
            rows.append([name or "", *(getattr(tally, c) for c in columns), share])
        rows.append([])
        rows.append(["duty", *columns, "share"])
        for name, tally in self.by_duty.items():
            share = "" if tally.share is None else f"{tally.share:.4f}"
            rows.append([name, *(getattr(tally, c) for c in columns), share])
        rows.append([])
        rows.append(
            [
                "notification_id",
                "case_ref",
                "victim_id",
                "event_type",
                "due_by",
                "sent_at",
                "status",
                "late_by_seconds",
                "late_by_hours",
            ]
        )
        for n in self.late:
            seconds = n.late_by.total_seconds()
            rows.append(
                [
                    n.id,
                    n.case_ref,
                    n.victim_id,
                    n.event_type or "",
                    iso(n.due_by),
                    iso(n.sent_at) or "",
                    n.status,
                    int(seconds),
                    f"{seconds / 3600:.1f}",
                ]
            )
        rows.append([])
        rows.append(["duty", "id", "case_ref", "victim_id", "due_by", "done_at", "late_by_seconds"])
        for a in self.late_acts:
            rows.append(
                [
                    a.duty,
                    a.id,
                    a.case_ref or "",
                    a.victim_id,
                    iso(a.due_by),
                    iso(a.done_at) or "",
                    int(a.late_by.total_seconds()),
                ]
            )
        return spreadsheet.write(rows)


def parse_period(start: str | None, end: str | None) -> tuple[dt.date, dt.date]:
    """The `from` and `to` of a query as dates; InvalidField names the one that is wrong."""
    dates = []
    for name, raw in (("from", start), ("to", end)):
        if not raw:
            raise InvalidField(name, "is required, as a date YYYY-MM-DD")
        try:
            if not _DATE.fullmatch(raw):
                raise ValueError(raw)
            dates.append(dt.date.fromisoformat(raw))
        except ValueError:
            raise InvalidField(name, "must be a date as YYYY-MM-DD") from None
    check_period(dates[0], dates[1])
    return dates[0], dates[1]


def check_period(start: dt.date, end: dt.date) -> None:
    """InvalidField unless `start` <= `end` and the period is at most MAX_DAYS days."""
    if start > end:
        raise InvalidField("from", "must be on or before 'to'")
    if end >= dt.date.max:
        # The period ends at midnight after `to`, which must be a day of the calendar.
        raise InvalidField("to", "must be before 9999-12-31")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidField("to", f"the period must be at most {MAX_DAYS} days")


def _london_midnight(day: dt.date) -> dt.datetime:
    # Local midnight always exists exactly once in London (clocks change at 01:00 UTC).
    return dt.datetime.combine(day, dt.time(0), tzinfo=deadlines.LONDON).astimezone(dt.UTC)


def compliance(
    session: Session, start: dt.date, end: dt.date, now: dt.datetime | None = None
) -> ComplianceReport:
    """The compliance report for the Code limits that fall from `start` to `end` (inclusive)."""
    check_period(start, end)
    now = now or utcnow()
    lower = _london_midnight(start)
    upper = _london_midnight(end + dt.timedelta(days=1))
    rows = session.execute(
        select(
            Notification.id,
            Notification.victim_id,
            Notification.status,
            Notification.due_by,
            Notification.sent_at,
            Case.case_ref,
            CaseEvent.type,
            Notification.duty,
            Notification.status_reason,
            Notification.created_at,
        )
        .join(Case, Case.id == Notification.case_id)
        .outerjoin(CaseEvent, CaseEvent.id == Notification.event_id)
        .where(
            Notification.due_by.is_not(None),
            Notification.due_by > lower,
            Notification.due_by <= upper,
        )
        .order_by(Notification.due_by, Notification.id)
    )
    overall = Tally()
    # Every event type the Code covers is shown, with zeros when it had none.
    by_type: dict[str | None, Tally] = {
        t.value: Tally() for t in EventType if t in deadlines.code_events()
    }
    by_duty: dict[str, Tally] = {key.value: Tally() for key in duties.current().duties}
    late: list[LateNotification] = []
    for row in rows:
        id_, victim_id, status, due_by, sent_at, case_ref, event_type, duty, why, created = row
        assert due_by is not None  # the query asked for a limit
        result = outcome(status, due_by, sent_at, now)
        type_name = event_type.value if event_type is not None else None
        overall.add(result)
        if type_name is not None or duty is None:
            by_type.setdefault(type_name, Tally()).add(result)
        if duty is not None:
            by_duty.setdefault(duty, Tally()).add(result)
        if result is Outcome.LATE:
            late.append(
                LateNotification(
                    id=id_,
                    case_ref=case_ref,
                    victim_id=victim_id,
                    event_type=type_name,
                    due_by=due_by,
                    sent_at=sent_at,
                    status=status.value,
                    late_by=(sent_at or now) - due_by,
                    duty=duty,
                    reason=late_reason(status, why, created, due_by, sent_at),
                )
            )
    late_acts = _acts(session, lower, upper, now, by_duty)
    return ComplianceReport(start, end, now, overall, by_type, late, by_duty, late_acts)


def _acts(
    session: Session,
    lower: dt.datetime,
    upper: dt.datetime,
    now: dt.datetime,
    by_duty: dict[str, Tally],
) -> list[LateAct]:
    """Tally the duties met by an act whose limit falls in the period (lower, upper]: Right 4
    referrals, review acknowledgements and decisions; the late ones, by limit."""
    late: list[LateAct] = []
    referrals = session.execute(
        select(Referral.id, Referral.victim_id, Referral.due_by, Referral.sent_at, Case.case_ref)
        .outerjoin(Case, Case.id == Referral.case_id)
        .where(Referral.due_by > lower, Referral.due_by <= upper)
    ).all()
    facts: list[tuple[str, int, int, dt.datetime, dt.datetime | None, str | None]] = [
        (duties.DutyKey.RIGHT_4_REFERRAL.value, id_, victim_id, due, sent, ref)
        for id_, victim_id, due, sent, ref in referrals
        if due is not None  # (the query asked for a limit)
    ]
    for key, limit, done in (
        (
            duties.DutyKey.REVIEW_ACKNOWLEDGEMENT,
            ReviewRequest.acknowledge_by,
            ReviewRequest.acknowledged_at,
        ),
        (duties.DutyKey.REVIEW_DECISION, ReviewRequest.decide_by, ReviewRequest.decided_at),
    ):
        found = session.execute(
            select(ReviewRequest.id, ReviewRequest.victim_id, limit, done, Case.case_ref)
            .outerjoin(Case, Case.id == ReviewRequest.case_id)
            .where(limit > lower, limit <= upper)
        ).all()
        facts += [(key.value, *row) for row in found]
    for duty, id_, victim_id, due_by, done_at, case_ref in facts:
        result = act_outcome(done_at, due_by, now)
        by_duty.setdefault(duty, Tally()).add(result)
        if result is Outcome.LATE:
            late.append(
                LateAct(duty, id_, case_ref, victim_id, due_by, done_at, (done_at or now) - due_by)
            )
    late.sort(key=lambda a: (a.due_by, a.duty, a.id))
    return late
