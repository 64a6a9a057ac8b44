"""For supervisors: the audit trail (filter, export) and the Victims' Code compliance report."""

from __future__ import annotations

from flask import Response, render_template, request
from werkzeug.datastructures import MultiDict

from models import AuditAction, Permission
from services.casework import reports
from services.console import audit
from webhooks.console.blueprint import bp, officer_session, requires
from webhooks.console.forms import AuditFilterForm, PeriodForm


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
