"""For admins: officers' accounts (create, change role, deactivate, unlock, reset password)."""

from __future__ import annotations

from flask import flash, render_template
from werkzeug.wrappers import Response as BaseResponse

from models import Officer, OfficerRole, Permission
from services.console import officers
from services.errors import InvalidField, NotFound
from webhooks.console.blueprint import back, bp, officer_session, requires
from webhooks.console.forms import OfficerChangeForm, OfficerForm


@bp.get("/accounts")
@requires(Permission.ACCOUNTS)
def accounts() -> str:
    with officer_session() as (db, _me):
        everyone = officers.everyone(db)
    forms = {
        o.id: OfficerChangeForm(prefix=f"o{o.id}", role=o.role.value, active=o.active)
        for o in everyone
    }
    return render_template(
        "console/accounts.html", officers=everyone, forms=forms, form=OfficerForm()
    )


@bp.post("/accounts")
@requires(Permission.ACCOUNTS)
def create_account() -> BaseResponse:
    form = OfficerForm()
    if not form.validate():
        raise InvalidField("form", "every field is required")
    with officer_session() as (db, me):
        officers.create(
            db,
            form.username.data or "",
            form.display_name.data or "",
            form.role.data or "",
            form.password.data or "",
            created_by=me,
        )
    flash("Account created.")
    return back("console.accounts")


@bp.post("/accounts/<int:officer_id>")
@requires(Permission.ACCOUNTS)
def change_account(officer_id: int) -> BaseResponse:
    form = OfficerChangeForm(prefix=f"o{officer_id}")
    if not form.validate():
        raise InvalidField("form", "check the fields")
    with officer_session() as (db, me):
        officer = db.get(Officer, officer_id)
        if officer is None:
            raise NotFound(f"no officer {officer_id}")
        if officer.id == me.id and (not form.active.data or form.role.data != me.role.value):
            raise InvalidField("role", "you cannot demote or deactivate your own account")
        officers.change(
            db,
            officer,
            me,
            role=OfficerRole(form.role.data),
            active=bool(form.active.data),
            password=form.password.data or None,
            unlock=bool(form.unlock.data),
        )
    flash("Account updated.")
    return back("console.accounts")
