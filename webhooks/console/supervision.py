"""For supervisors: the audit trail (filter, export), the Victims' Code compliance report,
and officers' requests to put a victim they may not see on their case."""

from __future__ import annotations

from flask import Response, flash, render_template, request
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from models import AuditAction, Case, Permission, Victim
from services.casework import attach_requests as attach_requests_service
from services.casework import reports
from services.console import audit
from services.errors import InvalidField
from webhooks.console.blueprint import back, bp, officer_session, requires
from webhooks.console.forms import ActionForm, AuditFilterForm, PeriodForm


def _filter() -> tuple[AuditFilterForm, audit.AuditFilter]:
    form = AuditFilterForm(formdata=MultiDict(request.args))
    if request.args and not form.validate():
        return form, audit.AuditFilter(actor="\0")  # matches nothing; the form shows why
    action = form.action.data
    return form, audit.AuditFilter(
        actor=(form.actor.data or "").strip().lower() or None,
        action=AuditAction(action) if action else None,
        victim_id=form.victim_id.data,
        since=form.since.data,
        until=form.until.data,
    )


@bp.get("/audit")
@requires(Permission.SUPERVISE)
def audit_trail() -> str:
    form, where = _filter()
    number = max(1, request.args.get("page", 1, type=int) or 1)
    with officer_session() as (db, _me):
        events, has_next = audit.page(db, where, number)
        total = audit.count(db, where)
    query = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "console/audit.html",
        form=form,
        events=events,
        total=total,
        page=number,
        has_next=has_next,
        query=query,
    )


@bp.get("/audit.csv")
@requires(Permission.SUPERVISE)
def audit_export() -> Response:
    _form, where = _filter()
    with officer_session() as (db, me):
        body = audit.export(db, where)
        audit.record(db, me, AuditAction.EXPORT_AUDIT, detail=request.query_string.decode()[:400])
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit.csv"},
    )


@bp.get("/reports/compliance")
@requires(Permission.SUPERVISE)
def compliance() -> Response | str:
    form = PeriodForm(formdata=MultiDict(request.args) if request.args else None)
    report = None
    if request.args and form.validate():
        assert form.start.data is not None and form.end.data is not None
        with officer_session() as (db, me):
            report = reports.compliance(db, form.start.data, form.end.data)
            audit.record(
                db,
                me,
                AuditAction.VIEW_REPORT,
                detail=f"compliance {form.start.data} to {form.end.data}",
            )
        if request.args.get("format") == "csv":
            name = f"compliance-{form.start.data}-{form.end.data}.csv"
            return Response(
                report.as_csv(),
                mimetype="text/csv",
                headers={"Content-Disposition": f"attachment; filename={name}"},
            )
    return render_template(
        "console/compliance.html",
        form=form,
        report=report.as_json() if report is not None else None,
        query=request.args.to_dict(),
    )


@bp.get("/requests")
@requires(Permission.SUPERVISE)
def attach_requests() -> str:
    """Officers' requests to put a victim they may not see on their case."""
    with officer_session() as (db, _me):
        waiting = attach_requests_service.pending(db)
        rows = [
            {
                "request": r,
                "case": db.get_one(Case, r.case_id),
                "victim": db.get_one(Victim, r.victim_id),
                "matches": _matches(db.get_one(Victim, r.victim_id), r.payload),
            }
            for r in waiting
        ]
        page = render_template("console/requests.html", rows=rows, form=ActionForm())
    return page


def _matches(victim: Victim, payload: dict[str, object]) -> bool:
    """Whether the name and date of birth the officer gave are the victim's on record."""
    name = str(payload.get("name") or "").strip().casefold()
    return name == victim.name.casefold() and str(payload.get("date_of_birth")) == str(
        victim.date_of_birth
    )


@bp.post("/requests/<int:request_id>/<any(approve, refuse):decision>")
@requires(Permission.SUPERVISE)
def decide_request(request_id: int, decision: str) -> BaseResponse:
    if not ActionForm().validate():
        raise InvalidField("csrf_token", "the form has expired; reload the page")
    with officer_session() as (db, me):
        decided = attach_requests_service.decide(db, me, request_id, decision == "approve")
        outcome = decided.status.value
    flash(f"Request {request_id}: {outcome}.")
    return back("console.attach_requests")
