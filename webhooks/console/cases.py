"""Cases from the console: register a case and its victims, record events (the API's code)."""

from __future__ import annotations

import datetime as dt

from flask import flash, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from werkzeug.wrappers import Response as BaseResponse

from models import (
    AuditAction,
    Case,
    CaseOfficer,
    Conversation,
    Officer,
    Permission,
    Victim,
    utcnow,
)
from services.casework import attach_requests, cases, referrals, reviews, scheduled_updates
from services.console import access, audit, officers
from services.errors import InvalidField, NotFound
from services.runtime import runtime
from services.victims_code.calendar import LONDON
from webhooks.console.blueprint import back, bp, officer_session, requires
from webhooks.console.conversations import verified, victim_context
from webhooks.console.forms import (
    ActionForm,
    CaseForm,
    CaseOfficerForm,
    EventForm,
    ScheduledUpdateForm,
    SettingsForm,
    VictimForm,
)

PAGE = 50


def _invalid(form: FlaskForm) -> InvalidField:
    field, problems = next(iter(form.errors.items()))
    return InvalidField(str(field), "; ".join(str(p) for p in problems))


@bp.get("/cases")
@requires(Permission.WORK)
def case_list() -> str:
    page = max(1, request.args.get("page", 1, type=int) or 1)
    with officer_session() as (db, me):
        query = select(Case).order_by(Case.id.desc())
        if not me.may(Permission.SUPERVISE):
            query = query.join(CaseOfficer, CaseOfficer.case_id == Case.id).where(
                CaseOfficer.officer_id == me.id
            )
        rows = list(db.scalars(query.offset((page - 1) * PAGE).limit(PAGE + 1)))
    return render_template(
        "console/cases.html",
        cases=rows[:PAGE],
        page=page,
        has_next=len(rows) > PAGE,
        form=CaseForm(),
    )


@bp.post("/cases")
@requires(Permission.WORK)
def create_case() -> BaseResponse | tuple[str, int]:
    form = CaseForm()
    if not form.validate():
        return render_template("console/cases.html", cases=[], page=1, form=form), 400
    with officer_session() as (db, me):
        fields = ("case_ref", "crime_type", "officer_in_charge")
        case = cases.register_case(db, {k: form.data[k] for k in fields})
        access.put_on_case(db, me, case.id)
        audit.record(db, me, AuditAction.REGISTER_CASE, case_id=case.id, detail=case.case_ref)
        case_ref = case.case_ref
    return back("console.case", case_ref=case_ref)


def _case_for(db: Session, me: Officer, case_ref: str) -> Case:
    return access.case_for(db, me, cases.find_case(db, case_ref))


@bp.get("/cases/<case_ref>")
@requires(Permission.WORK)
def case(case_ref: str) -> str:
    with officer_session() as (db, me):
        found = _case_for(db, me, case_ref)
        audit.record(db, me, AuditAction.VIEW_CASE, case_id=found.id, detail=found.case_ref)
        events = list(found.events)
        victims = [link.victim for link in found.victims]
        on_case = list(
            db.scalars(
                select(Officer)
                .join(CaseOfficer, CaseOfficer.officer_id == Officer.id)
                .where(CaseOfficer.case_id == found.id)
                .order_by(Officer.username)
            )
        )
        page = render_template(
            "console/case.html",
            case=found,
            events=events,
            victims=victims,
            on_case=on_case,
            case_officer_form=CaseOfficerForm(),
            supervisor=me.may(Permission.SUPERVISE),
            victim_form=VictimForm(),
            event_form=EventForm(occurred_at=dt.datetime.now(dt.UTC).replace(second=0)),
            scheduled=scheduled_updates.for_case(db, found.case_ref),
            # The Code's duties met by an officer's act, against their limits (read with the
            # case, under its VIEW_CASE audit): Right 4 referrals, requests for a review.
            referrals=referrals.for_case(db, found.case_ref),
            reviews=reviews.for_case(db, found.case_ref),
            now=utcnow(),
            scheduled_status=scheduled_updates.status,
            scheduled_form=ScheduledUpdateForm(
                send_at=utcnow().astimezone(LONDON).replace(tzinfo=None, second=0, microsecond=0)
                + dt.timedelta(hours=1)
            ),
            action_form=ActionForm(),
        )
    return page


def _scheduled_payload(form: ScheduledUpdateForm) -> dict[str, object]:
    """The API's payload from the console's form; the time is the UK clock's."""
    if not form.validate():
        raise _invalid(form)
    send_at = form.send_at.data
    assert send_at is not None
    return {
        "send_at": send_at.replace(tzinfo=LONDON).isoformat(),
        "text_en": (form.text_en.data or "").strip() or None,
        "text_cy": (form.text_cy.data or "").strip() or None,
        "bilingual": bool(form.bilingual.data),
    }


@bp.post("/cases/<case_ref>/scheduled-updates")
@requires(Permission.WORK)
def schedule_update(case_ref: str) -> BaseResponse:
    payload = _scheduled_payload(ScheduledUpdateForm())
    with officer_session() as (db, me):
        found = _case_for(db, me, case_ref)
        scheduled = scheduled_updates.create(db, found.case_ref, payload, me.display_name)
        audit.record(
            db, me, AuditAction.SCHEDULE_UPDATE, case_id=found.id, detail=f"#{scheduled.id}"
        )
    return back("console.case", case_ref=case_ref)


@bp.post("/cases/<case_ref>/scheduled-updates/<int:update_id>")
@requires(Permission.WORK)
def change_scheduled_update(case_ref: str, update_id: int) -> BaseResponse:
    payload = _scheduled_payload(ScheduledUpdateForm())
    with officer_session() as (db, me):
        found = _case_for(db, me, case_ref)
        scheduled_updates.change(db, found.case_ref, update_id, payload)
        audit.record(
            db, me, AuditAction.CHANGE_SCHEDULED_UPDATE, case_id=found.id, detail=f"#{update_id}"
        )
    return back("console.case", case_ref=case_ref)


@bp.post("/cases/<case_ref>/scheduled-updates/<int:update_id>/cancel")
@requires(Permission.WORK)
def cancel_scheduled_update(case_ref: str, update_id: int) -> BaseResponse:
    if not ActionForm().validate():
        raise InvalidField("csrf_token", "the form has expired; reload the page")
    with officer_session() as (db, me):
        found = _case_for(db, me, case_ref)
        scheduled_updates.cancel(db, found.case_ref, update_id)
        audit.record(
            db, me, AuditAction.CANCEL_SCHEDULED_UPDATE, case_id=found.id, detail=f"#{update_id}"
        )
    return back("console.case", case_ref=case_ref)


@bp.post("/cases/<case_ref>/close")
@requires(Permission.WORK)
def close_case(case_ref: str) -> BaseResponse:
    if not ActionForm().validate():
        raise InvalidField("csrf_token", "the form has expired; reload the page")
    with officer_session() as (db, me):
        found = _case_for(db, me, case_ref)
        cases.close_case(db, found.case_ref)
        audit.record(db, me, AuditAction.CLOSE_CASE, case_id=found.id, detail=found.case_ref)
    return back("console.case", case_ref=case_ref)


@bp.post("/cases/<case_ref>/victims")
@requires(Permission.WORK)
def add_victim(case_ref: str) -> BaseResponse:
    form = VictimForm()
    if not form.validate():
        raise _invalid(form)
    payload = {
        "name": form.name.data,
        "phone": form.phone.data,
        "channel": form.channel.data,
        "language": form.language.data,
        "date_of_birth": form.date_of_birth.data.isoformat() if form.date_of_birth.data else "",
        "enhanced_rights": bool(form.enhanced_rights.data),
        "safe_contact": bool(form.safe_contact.data),
        "update_every_days": form.update_every_days.data,
    }
    # A number already registered to a victim this officer may not see waits for a
    # supervisor; the answer is the same whatever name and date of birth were given.
    outcome = attach_requests.register(
        runtime().db,
        case_ref,
        payload,
        actor=current_user.username,
        officer_id=int(current_user.officer_id),
    )
    if outcome.request_id is not None:
        flash(
            "This number is already registered. A supervisor has been asked to approve "
            "adding this victim to the case."
        )
    else:
        if outcome.known_summary:
            # What the API's 201 says: the stricter settings stay in force, and which differ.
            flash(f"{payload['name']}: {outcome.known_summary}.")
        runtime().waker.nudge()  # the welcome may go now
    return back("console.case", case_ref=case_ref)


@bp.post("/cases/<case_ref>/officers")
@requires(Permission.SUPERVISE)
def add_case_officer(case_ref: str) -> BaseResponse:
    """A supervisor puts an officer on a case: they then see it and its victims (audited)."""
    form = CaseOfficerForm()
    if not form.validate():
        raise _invalid(form)
    with officer_session() as (db, me):
        found = cases.find_case(db, case_ref)
        officer = officers.by_username(db, form.username.data or "")
        if officer is None or not officer.may(Permission.WORK):
            raise InvalidField("username", "is not an active officer who works cases")
        if access.put_on_case(db, officer, found.id):
            audit.record(
                db, me, AuditAction.GRANT_CASE, case_id=found.id, detail=f"{officer.username}"
            )
    return back("console.case", case_ref=case_ref)


@bp.post("/cases/<case_ref>/officers/<int:officer_id>/remove")
@requires(Permission.SUPERVISE)
def remove_case_officer(case_ref: str, officer_id: int) -> BaseResponse:
    """A supervisor takes an officer off a case (audited)."""
    if not ActionForm().validate():
        raise InvalidField("csrf_token", "the form has expired; reload the page")
    with officer_session() as (db, me):
        found = cases.find_case(db, case_ref)
        place = db.scalar(
            select(CaseOfficer).where(
                CaseOfficer.case_id == found.id, CaseOfficer.officer_id == officer_id
            )
        )
        if place is not None:
            db.delete(place)
            removed = db.get_one(Officer, officer_id)
            audit.record(db, me, AuditAction.REVOKE_CASE, case_id=found.id, detail=removed.username)
    return back("console.case", case_ref=case_ref)


@bp.post("/cases/<case_ref>/events")
@requires(Permission.WORK)
def add_event(case_ref: str) -> BaseResponse:
    form = EventForm()
    if not form.validate():
        raise _invalid(form)
    occurred = form.occurred_at.data
    assert occurred is not None
    payload = {
        "type": form.type.data,
        "occurred_at": occurred.replace(tzinfo=dt.UTC).isoformat(),
        "summary": form.summary.data,
        **({"summary_cy": form.summary_cy.data} if (form.summary_cy.data or "").strip() else {}),
    }
    with officer_session() as (db, me):
        found = _case_for(db, me, case_ref)
        event = cases.record_event(db, found.case_ref, payload, recorded_by=me.display_name)
        audit.record(
            db, me, AuditAction.RECORD_EVENT, case_id=found.id, detail=f"{event.type.value}"
        )
    runtime().waker.nudge()
    return back("console.case", case_ref=case_ref)


@bp.get("/victims/<int:victim_id>")
@requires(Permission.WORK)
def victim(victim_id: int) -> str:
    """The victim's page: all of it for whoever may see the victim; for an officer who sees
    them only through a conversation (in the queue, or claimed), the profile and that
    conversation alone."""
    with officer_session() as (db, me):
        found = db.get(Victim, victim_id)
        if found is None or found.erased_at is not None:
            raise NotFound(f"no victim {victim_id}")
        talks = [
            t
            for t in db.scalars(
                select(Conversation)
                .where(Conversation.victim_id == found.id)
                .options(joinedload(Conversation.victim))
            )
            if access.may_see_conversation(db, me, t)
        ]
        if not talks and not access.may_see_victim(db, me, found.id):
            raise access.NotAllowed("this victim is not on your cases", victim_id=found.id)
        context = victim_context(db, me, found)
        audit.record(db, me, AuditAction.VIEW_PROFILE, victim_id=found.id)
        settings_form = SettingsForm(
            channel=found.channel.value,
            language=found.language.value,
            safe_contact=found.safe_contact,
            enhanced_rights=found.enhanced_rights,
            update_every_days=found.update_every_days,
            quiet_start=found.quiet_start,
            quiet_end=found.quiet_end,
        )
        page = render_template(
            "console/victim.html",
            talks=talks,
            verified=any(verified(t) for t in talks),
            settings_form=settings_form,
            supervisor=me.may(Permission.SUPERVISE),
            **context,
        )
    return page
