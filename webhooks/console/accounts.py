"""Officers' accounts: admins keep admins' accounts and deactivate or unpause any account;
supervisors create and promote officers and supervisors (services/console/access.py)."""

from __future__ import annotations

from flask import flash, render_template
from werkzeug.wrappers import Response as BaseResponse

from models import Officer, OfficerRole, Permission
from services.console import access, officers
from services.errors import InvalidField, NotFound
from webhooks.console.blueprint import back, bp, officer_session, requires
from webhooks.console.forms import OfficerChangeForm, OfficerForm


def _roles(me: Officer) -> list[tuple[str, str]]:
    return [(r.value, r.value) for r in access.grantable_roles(me)]


@bp.get("/accounts")
@requires(Permission.ACCOUNTS, Permission.STAFF)
def accounts() -> str:
    with officer_session() as (db, me):
        everyone = officers.everyone(db)
        paused = {o.id: officers.paused_until(db, o) for o in everyone}
        roles = _roles(me)
        forms = {}
        for o in everyone:
            form = OfficerChangeForm(prefix=f"o{o.id}", role=o.role.value, active=o.active)
            # A role the viewer may not grant is shown, not offered.
            form.role.choices = (
                roles if o.role.value in dict(roles) else [(o.role.value, o.role.value)]
            )
            forms[o.id] = form
        manageable = {
            o.id: {
                "upkeep": access.may_manage(me, o, hands_over=False),
                "hand_over": access.may_manage(me, o, hands_over=True),
            }
            for o in everyone
        }
        create = OfficerForm()
        create.role.choices = roles
        page = render_template(
            "console/accounts.html",
            officers=everyone,
            forms=forms,
            form=create,
            paused=paused,
            manageable=manageable,
            me=me,
        )
    return page


@bp.post("/accounts")
@requires(Permission.ACCOUNTS, Permission.STAFF)
def create_account() -> BaseResponse:
    form = OfficerForm()
    form.role.choices = [(r.value, r.value) for r in OfficerRole]
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
    flash("Account created. The officer sets up their second factor at their first sign-in.")
    return back("console.accounts")


@bp.post("/accounts/<int:officer_id>")
@requires(Permission.ACCOUNTS, Permission.STAFF)
def change_account(officer_id: int) -> BaseResponse:
    form = OfficerChangeForm(prefix=f"o{officer_id}")
    if not form.validate():
        raise InvalidField("form", "check the fields")
    with officer_session() as (db, me):
        officer = db.get(Officer, officer_id)
        if officer is None:
            raise NotFound(f"no officer {officer_id}")
        if officer.id == me.id:
            raise InvalidField("role", "you cannot change your own account here")
        changes = officers.change(
            db,
            officer,
            me,
            role=OfficerRole(form.role.data),
            active=bool(form.active.data),
            password=form.password.data or None,
            unlock=bool(form.unlock.data),
            reset_second_factor=bool(form.reset_second_factor.data),
        )
    flash(f"Account updated: {', '.join(changes)}." if changes else "Nothing changed.")
    return back("console.accounts")
