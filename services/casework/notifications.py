"""Notifications: planning what a victim is told unprompted, and handing it to the outbox.

A notification is planned when its reason arises (a victim registered on a case, a
Victims' Code event recorded) and handed to the outbox by a worker when it is due. It goes
out at `deadlines.next_send_time(now, not_before=created_at, due_by, quiet_start,
quiet_end)`, on the victim's Europe/London quiet hours. The rule that function implements:
send at once unless now is inside the quiet hours; inside them, wait until they end (the
first moment London's clock reads `quiet_end`), unless that is at or after `due_by`
(exclusive): then send at once, inside the quiet hours, because the Code's limit outranks
them. So a notification that would be late if it waited goes now; one that can wait
without being late waits. The time is worked out when the notification is planned and
again when it is handed over, so a victim's quiet hours hold even if the worker was down.

Handing over is one small transaction per notification, and happens exactly once however
many workers run: a conditional UPDATE on the status (`... WHERE status = 'pending'`) is the
first write, and only the worker whose UPDATE changed the row writes the message.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, String, Table, bindparam, cast, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, joinedload

from models import (
    Author,
    Case,
    CaseEvent,
    CaseStatus,
    CaseVictim,
    Channel,
    Conversation,
    HandoffPriority,
    Language,
    Message,
    Notification,
    NotificationKind,
    NotificationStatus,
    ScheduledUpdate,
    SentAs,
    Victim,
    channel_address,
    utcnow,
)
from models.assessments import NeedsAssessment
from models.db import Database, insert_ignoring_duplicate, rows_updated
from models.messaging import NOT_DELIVERED
from models.notifications import may_move
from services.console import handoffs
from services.language import wording
from services.language.texts import TEXTS, text
from services.messaging import inbound, outbox, wake
from services.messaging.segments import MAX_BODY
from services.messaging.templates import Templates, Unfit
from services.victims_code import deadlines, duties

log = logging.getLogger(__name__)

# Bulk goes behind replies: a victim in conversation is answered before news is sent.
BULK_PRIORITY = 1
OPTED_OUT = "not sent: the victim has opted out of messages at this number"
# What tells the victim about their case: a check-in falls due this long after the last.
UPDATES = frozenset(
    {
        NotificationKind.WELCOME,
        NotificationKind.CODE_UPDATE,
        NotificationKind.SCHEDULED,
        NotificationKind.CHECK_IN,
    }
)
# Contact that only matters while the case is open.
ROUTINE = frozenset(
    {NotificationKind.CHECK_IN, NotificationKind.NEEDS_INVITE, NotificationKind.NEEDS_REMINDER}
)


def _plan(
    session: Session,
    victim: Victim,
    case: Case,
    kind: NotificationKind,
    *,
    event: CaseEvent | None = None,
    scheduled: ScheduledUpdate | None = None,
    not_before: dt.datetime | None = None,
    dedupe_key: str | None = None,
    duty: duties.Duty | None = None,
    duty_started: dt.datetime | None = None,
) -> Notification | None:
    """Plan one notification; None when `dedupe_key` shows it was planned already.

    With `duty` (a Code duty it meets), its `due_by` is the duty's limit counted from
    `duty_started` (the event's time for an event; now otherwise)."""
    now = utcnow()
    due_by = None
    if duty is not None:
        started = duty_started or (event.occurred_at if event else now)
        due_by = deadlines.due_by(started, victim.enhanced_rights, duty)
    notification = Notification(
        victim_id=victim.id,
        case_id=case.id,
        event_id=event.id if event else None,
        scheduled_update_id=scheduled.id if scheduled else None,
        dedupe_key=dedupe_key,
        kind=kind,
        due_by=due_by,
        duty=duty.key.value if duty else None,
        send_at=_send_time(victim, now, not_before or now, due_by),
        status=NotificationStatus.PENDING,
        created_at=now,
    )
    if dedupe_key is None:
        session.add(notification)
        return notification
    table = Notification.__table__
    assert isinstance(table, Table)
    values = {c.key: getattr(notification, c.key) for c in table.c if c.key != "id"}
    new_id = insert_ignoring_duplicate(session, table, values)
    # None: planned already, by an earlier run or by another scheduler during a failover.
    return session.get(Notification, new_id) if new_id is not None else None


def _send_time(
    victim: Victim, now: dt.datetime, not_before: dt.datetime, due_by: dt.datetime | None
) -> dt.datetime:
    return deadlines.next_send_time(now, not_before, due_by, victim.quiet_start, victim.quiet_end)


def plan_welcome(
    session: Session, case: Case, victim: Victim, acknowledges_report: bool = False
) -> Notification:
    """The welcome for a victim just put on a case.

    With `acknowledges_report` (the case system says the welcome serves as the Code's Right 3
    written acknowledgement of the report), it carries what the Code lists, within the
    safe-contact rules, and is recorded as that duty's notification with its limit
    (config/victims_code.yml, right_3_acknowledgement)."""
    duty = duties.current()[duties.DutyKey.RIGHT_3_ACKNOWLEDGEMENT] if acknowledges_report else None
    notification = _plan(session, victim, case, NotificationKind.WELCOME, duty=duty)
    assert notification is not None
    session.flush()
    return notification


def plan_for_event(session: Session, event: CaseEvent) -> list[Notification]:
    """One notification per victim on the case for a Code event; none for other events.

    The duty an event starts (Right 6, or its Right to Review offer) and its limit come from
    the Victims' Code file (services/victims_code/duties.py). Events the Code sets no limit
    for are told at the next agreed contact instead.
    """
    duty = duties.current().duty_for_event(event.type)
    if duty is None:
        return []
    case = session.get_one(Case, event.case_id)
    planned = [
        _plan(session, place.victim, case, NotificationKind.CODE_UPDATE, event=event, duty=duty)
        for place in case.victims
    ]
    session.flush()
    return [n for n in planned if n is not None]


def plan_scheduled(session: Session, scheduled: ScheduledUpdate) -> list[Notification]:
    """One notification per victim on the case, at the update's time (quiet hours allowing)."""
    case = session.get_one(Case, scheduled.case_id)
    planned = [
        _plan(
            session,
            place.victim,
            case,
            NotificationKind.SCHEDULED,
            scheduled=scheduled,
            not_before=scheduled.send_at,
        )
        for place in case.victims
    ]
    session.flush()
    return [n for n in planned if n is not None]


def reschedule(scheduled: ScheduledUpdate) -> None:
    """Move the update's waiting notifications to its (changed) time."""
    now = utcnow()
    for notification in scheduled.notifications:
        if notification.status is NotificationStatus.PENDING:
            notification.send_at = _send_time(notification.victim, now, scheduled.send_at, None)


def cancel_pending(session: Session, notifications: list[Notification], reason: str) -> int:
    """Cancel those still waiting; how many were. One already handed over goes ahead."""
    cancelled = 0
    for notification in notifications:
        cancelled += _claim(session, notification.id, NotificationStatus.CANCELLED, reason)
    return cancelled


def plan_closing(session: Session, case: Case) -> list[Notification]:
    """The closing message and satisfaction survey, once per victim on a closed case."""
    planned = [
        _plan(
            session,
            place.victim,
            case,
            NotificationKind.CLOSING_SURVEY,
            dedupe_key=f"closing:{place.id}",
        )
        for place in case.victims
    ]
    session.flush()
    return [n for n in planned if n is not None]


def plan_check_ins(session: Session, now: dt.datetime | None = None) -> int:
    """Plan a check-in for each victim on an open case who has heard nothing for too long.

    "Too long" is the victim's own `update_every_days` since the last update on that case
    was sent (or since they were put on the case); a questionnaire invitation is no update.
    Nothing is planned while another notification on the case waits to go: that one is the
    contact. The key names the day the check-in fell due, so a second run, or a second
    scheduler, plans nothing more. The database picks the due ones: a force has 100,000
    victims on open cases, and few are due at any one time.
    """
    now = now or utcnow()
    last_sent = (
        select(
            Notification.victim_id,
            Notification.case_id,
            func.max(Notification.sent_at).label("last_sent"),
        )
        .where(Notification.sent_at.is_not(None), Notification.kind.in_(UPDATES))
        .group_by(Notification.victim_id, Notification.case_id)
        .subquery()
    )
    waiting = (
        select(Notification.id)
        .where(
            Notification.victim_id == CaseVictim.victim_id,
            Notification.case_id == CaseVictim.case_id,
            Notification.status.in_([NotificationStatus.PENDING, NotificationStatus.QUEUED]),
        )
        .exists()
    )
    since = func.coalesce(last_sent.c.last_sent, CaseVictim.created_at)
    rows = session.execute(
        select(
            CaseVictim.id, CaseVictim.victim_id, CaseVictim.case_id, since, Victim.update_every_days
        )
        .join(Case, Case.id == CaseVictim.case_id)
        .join(Victim, Victim.id == CaseVictim.victim_id)
        .outerjoin(
            last_sent,
            (last_sent.c.victim_id == CaseVictim.victim_id)
            & (last_sent.c.case_id == CaseVictim.case_id),
        )
        .where(
            Case.status == CaseStatus.OPEN,
            _days_have_passed(session, since, Victim.update_every_days, now),
            ~waiting,
        )
    ).all()
    planned = 0
    for place_id, victim_id, case_id, last, every in rows:
        last = _aware(last)
        due = last + dt.timedelta(days=every)
        if due > now:
            continue  # The database's day arithmetic is coarser than ours; ours decides.
        key = f"check_in:{place_id}:{due.astimezone(deadlines.LONDON):%Y-%m-%d}"
        victim, case = session.get_one(Victim, victim_id), session.get_one(Case, case_id)
        planned += (
            _plan(session, victim, case, NotificationKind.CHECK_IN, dedupe_key=key) is not None
        )
    return planned


def _days_have_passed(
    session: Session,
    since: ColumnElement[Any],
    days: InstrumentedAttribute[int],
    now: dt.datetime,
) -> ColumnElement[bool]:
    """SQL for "`days` days have passed since `since`", in each database's own arithmetic."""
    if session.get_bind().dialect.name == "postgresql":
        return since + func.make_interval(0, 0, 0, days) <= now
    # SQLite keeps UTC as naive text (models/base.UTCDateTime); julianday counts in days.
    naive_now = now.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    # julianday is a float: a check-in due to the microsecond could miss by rounding. A
    # minute's slack lets it through; the exact test in Python decides.
    return func.julianday(since) + days <= func.julianday(naive_now) + 1.0 / 1440


def _aware(value: dt.datetime | str) -> dt.datetime:
    # A coalesce() loses the column's type, so SQLite hands back its text.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def plan_needs_invitations(
    session: Session,
    now: dt.datetime | None = None,
    invite_after: dt.timedelta = dt.timedelta(days=2),
    remind_after: dt.timedelta = dt.timedelta(days=3),
) -> int:
    """Invite each victim to the needs questionnaire, and remind them once, until they do it.

    The invitation goes `invite_after` the victim was first put on an open case; the one
    reminder `remind_after` the invitation was sent. A victim who has completed an assessment
    gets neither. Keys per victim make each happen once, whatever runs it how often.
    """
    now = now or utcnow()
    completed = (
        select(NeedsAssessment.id)
        .where(NeedsAssessment.victim_id == Victim.id, NeedsAssessment.completed_at.is_not(None))
        .exists()
    )
    first_place = (
        select(CaseVictim.victim_id, func.min(CaseVictim.id).label("place_id"))
        .join(Case, Case.id == CaseVictim.case_id)
        .where(Case.status == CaseStatus.OPEN)
        .group_by(CaseVictim.victim_id)
        .subquery()
    )
    invites = aliased(Notification)
    reminders = aliased(Notification)
    rows = session.execute(
        select(CaseVictim, invites.id)
        .join(first_place, first_place.c.place_id == CaseVictim.id)
        .join(Victim, Victim.id == CaseVictim.victim_id)
        .outerjoin(invites, invites.dedupe_key == "needs_invite:" + cast(Victim.id, String))
        .outerjoin(reminders, reminders.dedupe_key == "needs_reminder:" + cast(Victim.id, String))
        .where(
            ~completed,
            reminders.id.is_(None),
            or_(
                invites.id.is_(None) & (CaseVictim.created_at <= now - invite_after),
                invites.sent_at <= now - remind_after,
            ),
        )
    ).all()
    planned = 0
    for place, invited in rows:
        if invited is None:
            kind, key = NotificationKind.NEEDS_INVITE, f"needs_invite:{place.victim_id}"
        else:
            kind, key = NotificationKind.NEEDS_REMINDER, f"needs_reminder:{place.victim_id}"
        planned += _plan(session, place.victim, place.case, kind, dedupe_key=key) is not None
    return planned


def content(notification: Notification) -> tuple[str, dict[str, str]]:
    """Which message a notification is (a key of services/language/texts.py) and its fields.

    Safe contact: someone else may read the phone, so unsolicited messages name no case and
    carry no news; the victim replies to hear it, after the identity check.
    """
    victim, case = notification.victim, notification.case
    safe = victim.safe_contact
    kind = notification.kind
    duty = (
        duties.current().duties.get(duties.DutyKey(notification.duty))
        if notification.duty
        else None
    )
    if kind is NotificationKind.WELCOME:
        if duty is not None:
            key = duty.message(victim.language.value, safe)
            fields = {} if safe else _acknowledgement_fields(case)
            return key, fields
        return ("welcome_safe", {}) if safe else ("welcome", {"case_ref": case.case_ref})
    if kind is NotificationKind.CHECK_IN:
        if safe:
            return "check_in_safe", {}
        return "check_in", {"case_ref": case.case_ref, "officer": case.officer_in_charge}
    if kind is NotificationKind.NEEDS_INVITE:
        return "needs_invite", {}
    if kind is NotificationKind.NEEDS_REMINDER:
        return "needs_reminder", {}
    if kind is NotificationKind.CLOSING_SURVEY:
        return (
            ("closing_survey_safe", {}) if safe else ("closing_survey", {"case_ref": case.case_ref})
        )
    if kind is NotificationKind.CODE_UPDATE and duty is not None and safe:
        # Safe contact: only that there is an update to ask about (the file's safe key).
        return duty.message(victim.language.value, True), {}
    if safe:
        return "code_update_safe", {}
    if kind is NotificationKind.SCHEDULED:
        scheduled = notification.scheduled_update
        assert scheduled is not None
        return "scheduled", {"case_ref": case.case_ref, "text": _scheduled_text(scheduled, victim)}
    event = notification.event
    assert event is not None
    summary = event.summary
    if victim.language is Language.CY and event.summary_cy:
        summary = event.summary_cy
    fields = {"case_ref": case.case_ref, "summary": summary}
    if duty is None:
        return "code_update", fields
    if duty.request_within_months is not None:
        until = review_request_until(event.occurred_at, duty.request_within_months)
        fields["review_until"] = wording.long_date(until, victim.language)
    return duty.message(victim.language.value, False), fields


def _acknowledgement_fields(case: Case) -> dict[str, str]:
    # What the Code's Right 3 lists for a written acknowledgement: the crime reference, the
    # basic details of the crime, and who deals with it.
    return {
        "case_ref": case.case_ref,
        "crime_type": case.crime_type,
        "officer": case.officer_in_charge,
    }


def review_request_until(decided_at: dt.datetime, months: int) -> dt.date:
    """The last day (Europe/London) on which a victim may ask for a review of a decision
    made at `decided_at`: the same day `months` calendar months later (the month's last day
    when it has no such day), per the police Victims' Right to Review scheme (3 months)."""
    day = decided_at.astimezone(deadlines.LONDON).date()
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def check_victims_code(code: duties.VictimsCode) -> None:
    """VictimsCodeError unless every text key the file names exists in English and Welsh."""
    for duty in code.duties.values():
        for language, variants in duty.messages.items():
            for variant, key in variants.items():
                if key not in TEXTS or Language(language) not in TEXTS[key]:
                    raise duties.VictimsCodeError(
                        f"Victims' Code file {code.path}: duty {duty.key.value!r}, field "
                        f"'messages.{language}.{variant}': {key!r} is not a text of "
                        "services/language/texts.py in that language"
                    )


def load_victims_code(path: str | Path) -> duties.VictimsCode:
    """Read and check the Victims' Code file a process starts with (the app factory, the
    workers and the scheduler call it); VictimsCodeError names the file, duty and field."""
    code = duties.load(path)
    check_victims_code(code)
    return code


def _scheduled_text(scheduled: ScheduledUpdate, victim: Victim) -> str:
    # The victim's language when the writer gave it, else the one they gave; both (Welsh
    # first, as the Welsh Language Standards ask) when the writer asked for both.
    en, cy = scheduled.text_en, scheduled.text_cy
    if scheduled.bilingual and en and cy:
        return f"{cy} / {en}"
    if victim.language is Language.CY:
        return cy or en or ""
    return en or cy or ""


def body(notification: Notification) -> str:
    """The message for a notification, in its victim's language, as safe contact allows."""
    key, fields = content(notification)
    return text(key, notification.victim.language, **fields)


def _claim(
    session: Session, notification_id: int, to: NotificationStatus, reason: str | None = None
) -> bool:
    """Move a pending notification to `to`; False when another worker moved it first."""
    assert may_move(NotificationStatus.PENDING, to)
    return bool(
        rows_updated(
            session,
            update(Notification)
            .where(
                Notification.id == notification_id,
                Notification.status == NotificationStatus.PENDING,
            )
            .values(status=to, status_reason=reason),
        )
    )


def _enqueue(
    session: Session,
    conversation: Conversation,
    notification: Notification,
    templates: Templates | None,
    sent_as: SentAs | None = None,
) -> Message:
    """Write a notification's message to the outbox, with its WhatsApp template if it fits.

    Outside WhatsApp's 24-hour window a message goes in its approved template, or else by
    SMS (outbox.route). The template's fields are cleaned to WhatsApp's rules; a message
    they still do not fit (Template.fill), or one too long for one message (written in
    parts), goes without it, and `no_template_reason` on the message says why.
    """
    key, fields = content(notification)
    language = notification.victim.language
    body = text(key, language, **fields)
    message = outbox.enqueue(session, conversation, body, Author.SYSTEM, priority=BULK_PRIORITY)
    template = templates.get(key, language) if templates is not None else None
    if template is not None and conversation.channel is Channel.WHATSAPP:
        filled = template.fill(fields)
        if len(body) > MAX_BODY:
            filled = Unfit(f"{len(body):,} characters: sent as numbered parts, without it")
        if isinstance(filled, Unfit):
            message.no_template_reason = f"not in its WhatsApp template: {filled.reason}"[:300]
            log.info("notification %s: %s", notification.id, message.no_template_reason)
        else:
            message.content_sid = template.content_sid
            message.content_variables = filled
    message.sent_as = sent_as
    for later in outbox.parts(session, message)[1:]:
        later.sent_as = sent_as
    return message


def hand_over(session: Session, notification_id: int, templates: Templates | None = None) -> bool:
    """Put one due notification in the outbox (or suppress it); True when this call did."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.status is not NotificationStatus.PENDING:
        return False
    victim = notification.victim
    now = utcnow()
    send_at = deadlines.next_send_time(
        now,
        max(notification.created_at, notification.send_at)
        if notification.kind is NotificationKind.SCHEDULED
        else notification.created_at,
        notification.due_by,
        victim.quiet_start,
        victim.quiet_end,
    )
    if send_at > now:
        # Quiet hours began while it waited (or the victim changed them): wait them out.
        rows_updated(
            session,
            update(Notification)
            .where(
                Notification.id == notification_id,
                Notification.status == NotificationStatus.PENDING,
            )
            .values(send_at=send_at),
        )
        return False
    conversation = session.get_one(
        Conversation, inbound.conversation_id_for(session, victim.address)
    )
    if _opted_out(session, victim):
        if _claim(session, notification_id, NotificationStatus.SUPPRESSED, OPTED_OUT):
            log.info("notification %s suppressed: opted out", notification_id)
            return True
        return False
    if not _claim(session, notification_id, NotificationStatus.QUEUED):
        return False
    message = _enqueue(session, conversation, notification, templates)
    rows_updated(
        session,
        update(Notification)
        .where(Notification.id == notification_id)
        .values(message_id=message.id),
    )
    log.info("notification %s queued as message %s", notification_id, message.id)
    return True


def _opted_out(session: Session, victim: Victim) -> bool:
    """Whether the victim has said STOP on either channel of their phone.

    A person who stops our texts has asked us to stop, whichever channel they said it on;
    and an SMS fallback would otherwise reach a phone that said STOP by SMS.
    """
    addresses = [channel_address(channel, victim.phone) for channel in Channel]
    return (
        session.scalar(
            select(Conversation.id)
            .where(Conversation.address.in_(addresses), Conversation.opted_out_at.is_not(None))
            .limit(1)
        )
        is not None
    )


FAILED_REASON = "a notification could not be delivered: tell the victim another way"


# Built once: settle runs for every message sent (bench/README.md, "Profile").
_CARRIED_BY = select(Notification).where(Notification.message_id == bindparam("message_id"))


def settle(session: Session, message: Message) -> None:
    """Bring the notification a message carries (if any) into line with the message's outcome.

    A notification that WhatsApp failed to deliver (any of models.messaging.NOT_DELIVERED)
    goes again, once, by SMS to the same phone. One that still fails opens a high-priority
    handoff, so that an officer tells the victim another way.
    """
    if message.author is not Author.SYSTEM:
        # Only the service's own messages carry notifications (`_enqueue`); the assistant's
        # and officers' replies never do, and are most of what is sent: no query for them.
        return
    # A text sent in parts is the notification's through its first part: a later part that
    # fails fails the notification too.
    first_id = message.part_of_id or message.id
    if message.status not in NOT_DELIVERED:
        # Sent, or suppressed: one UPDATE, no load (`Notification.following`).
        following = Notification.following(first_id, message)
        if following is not None:
            session.execute(following)
        return
    notification = session.scalar(_CARRIED_BY, {"message_id": first_id})
    if notification is None:
        return
    conversation = message.conversation
    if (
        conversation.channel is Channel.WHATSAPP
        and message.sent_as is not SentAs.SMS
        and notification.fell_back_at is None
        and notification.status in (NotificationStatus.QUEUED, NotificationStatus.SENT)
    ):
        if notification.status is NotificationStatus.SENT:
            notification.move(NotificationStatus.QUEUED, "WhatsApp failed; going by SMS")
        fallback = _enqueue(session, conversation, notification, None, sent_as=SentAs.SMS)
        notification.message_id = fallback.id
        notification.fell_back_at = utcnow()
        # Written by a status callback (the web app) into a conversation no drain may hold:
        # the workers are woken as it commits, not left to their poll (webhooks/twilio.py).
        wake.note_new_work(session)
        log.warning("notification %s: WhatsApp failed, falling back to SMS", notification.id)
        return
    if notification.status in (NotificationStatus.QUEUED, NotificationStatus.SENT):
        notification.move(NotificationStatus.FAILED, message.error_message or "not delivered")
        handoffs.open_handoff(session, conversation, HandoffPriority.HIGH, FAILED_REASON)
        log.error("notification %s failed for good; handoff opened", notification.id)


def due(session: Session, limit: int = 500) -> list[int]:
    """Pending notifications whose time has come, oldest first."""
    return list(
        session.scalars(
            select(Notification.id)
            .where(
                Notification.status == NotificationStatus.PENDING,
                Notification.send_at <= utcnow(),
            )
            .order_by(Notification.send_at, Notification.id)
            .limit(limit)
        )
    )


def hand_over_due(
    db: Database, templates: Templates | None = None, limit: int = 500, batch: int = 100
) -> int:
    """Hand every due notification to the outbox; how many this call handed over.

    A batch at a time in one transaction: a burst of thousands must not cost a commit each.
    Each notification is still claimed by its own conditional UPDATE, so however many
    schedulers run, each goes once. Should a batch fail, its notifications are tried one
    transaction each, so that one bad notification holds back no other.
    """
    with db.session() as session:
        ids = due(session, limit)
    handed = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        try:
            with db.session() as session:
                loaded = _load(session, chunk)  # held: the session only keeps weak references
                handed += sum(hand_over(session, n.id, templates) for n in loaded)
        except Exception:
            log.exception("notifications %s..%s: hand-over failed; one by one", chunk[0], chunk[-1])
            for notification_id in chunk:
                try:
                    with db.session() as session:
                        handed += hand_over(session, notification_id, templates)
                except Exception:
                    # Tried again at the next turn; the others go meanwhile.
                    log.exception("notification %s: hand-over failed", notification_id)
    return handed


def _load(session: Session, ids: list[int]) -> list[Notification]:
    """Load a batch with what its messages need, in a few queries instead of a few per row."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.id.in_(ids))
            .options(
                joinedload(Notification.victim),
                joinedload(Notification.case),
                joinedload(Notification.event),
                joinedload(Notification.scheduled_update),
            )
            .order_by(Notification.send_at, Notification.id)
        )
    )


def for_case(session: Session, case: Case) -> list[Notification]:
    """A case's notifications, oldest first."""
    return list(
        session.scalars(
            select(Notification).where(Notification.case_id == case.id).order_by(Notification.id)
        )
    )


def for_event(session: Session, event: CaseEvent) -> list[Notification]:
    """An event's notifications, one per victim on its case (none for a non-Code event)."""
    return list(
        session.scalars(
            select(Notification).where(Notification.event_id == event.id).order_by(Notification.id)
        )
    )


def as_json(notification: Notification) -> dict[str, Any]:
    """A notification as the API shows it (contract)."""
    n = notification
    return {
        "id": n.id,
        "victim_id": n.victim_id,
        "event_id": n.event_id,
        "kind": n.kind.value,
        "due_by": iso(n.due_by),
        "sent_at": iso(n.sent_at),
        "status": n.status.value,
        "within_code": n.within_code,
    }


def iso(value: dt.datetime | None) -> str | None:
    # Stored and read back as aware UTC (UTCDateTime): ISO 8601 with a Z.
    return None if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
