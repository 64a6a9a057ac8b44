"""For supervisors: a victim's subject access export (readable HTML, or JSON) and erasure."""

from __future__ import annotations

import json

from flask import Response, flash, render_template
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from models import Permission
from services.privacy import erasure, subject_access
from services.runtime import runtime
from webhooks.console.blueprint import back, bp, officer_session, requires
from webhooks.console.forms import EraseForm


def _export(victim_id: int) -> dict[str, object]:
    with officer_session() as (_db, me):
        officer = me
    return subject_access.export(
        runtime().db,
        victim_id,
        actor=current_user.username,
        officer=officer,
        tracker_url=runtime().settings.tracker_url(),
    )


@bp.get("/victims/<int:victim_id>/export")
@requires(Permission.SUPERVISE)
def victim_export(victim_id: int) -> str:
    """Everything held about the victim, to read (audited as an export)."""
    return render_template("console/export.html", export=_export(victim_id), victim_id=victim_id)


@bp.get("/victims/<int:victim_id>/export.json")
@requires(Permission.SUPERVISE)
def victim_export_json(victim_id: int) -> Response:
    """Everything held about the victim, as a JSON file (audited as an export)."""
    body = json.dumps(_export(victim_id), indent=2, ensure_ascii=False)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename=victim-{victim_id}-export.json"},
    )


@bp.route("/victims/<int:victim_id>/erase", methods=["GET", "POST"])
@requires(Permission.SUPERVISE)
def victim_erase(victim_id: int) -> str | BaseResponse | tuple[str, int]:
    """Erase the victim, after confirmation (and a second one when a case of theirs is open)."""
    form = EraseForm()
    with officer_session() as (db, me):
        erasure.victim(db, victim_id)
        still_open = erasure.open_cases(db, victim_id)
        officer = me
    if form.is_submitted():
        if not form.validate() or (still_open and not form.confirm_open.data):
            flash(
                "Tick the confirmation"
                + (" for the open case as well" if still_open else "")
                + " to erase."
            )
            return render_template(
                "console/erase.html", form=form, victim_id=victim_id, open_cases=still_open
            ), 400
        erased = erasure.erase(
            runtime().db,
            victim_id,
            actor=current_user.username,
            officer=officer,
            tracker_url=runtime().settings.tracker_url(),
            confirm_open=bool(still_open),
        )
        went = ", ".join(f"{k} {v}" for k, v in sorted(erased.counts.items()) if v)
        flash(f"Victim {victim_id} erased ({went or 'their record'}).")
        return back("console.queue")
    return render_template(
        "console/erase.html", form=form, victim_id=victim_id, open_cases=still_open
    )
