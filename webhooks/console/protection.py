"""What only an officer may do to a victim's protection: unlock the identity check after
checking with them, and confirm (or refuse) a change that waits, such as safe contact off
asked for by text. Each is audited (services/casework/protection.py,
services/identity/verification.py)."""

from __future__ import annotations

from flask import flash
from werkzeug.wrappers import Response as BaseResponse

from models import Permission
from services.casework import protection
from services.console import access
from services.identity import verification
from webhooks.console.blueprint import back, bp, officer_session, requires


@bp.post("/victims/<int:victim_id>/identity/unlock")
@requires(Permission.WORK)
def unlock_identity(victim_id: int) -> BaseResponse:
    with officer_session() as (db, me):
        victim = access.victim_for(db, me, victim_id)
        verification.unlock(db, victim, me)
    flash("Identity check unlocked: the victim can confirm their date of birth by text again.")
    return back("console.victim", victim_id=victim_id)


@bp.post("/victims/<int:victim_id>/requests/<int:request_id>/confirm")
@requires(Permission.WORK)
def confirm_request(victim_id: int, request_id: int) -> BaseResponse:
    with officer_session() as (db, me):
        victim = access.victim_for(db, me, victim_id)
        request = protection.confirm(db, me, victim, request_id)
        what = f"{request.setting.value.replace('_', ' ')} is now {request.value}"
    flash(f"Confirmed: {what}.")
    return back("console.victim", victim_id=victim_id)


@bp.post("/victims/<int:victim_id>/requests/<int:request_id>/refuse")
@requires(Permission.WORK)
def refuse_request(victim_id: int, request_id: int) -> BaseResponse:
    with officer_session() as (db, me):
        victim = access.victim_for(db, me, victim_id)
        request = protection.refuse(db, me, victim, request_id)
        what = request.setting.value.replace("_", " ")
    flash(f"Kept as it was: {what} is unchanged.")
    return back("console.victim", victim_id=victim_id)
