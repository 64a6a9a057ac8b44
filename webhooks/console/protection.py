"""What only an officer may do to a victim's protection: unlock the identity check after
checking with them, confirm (or refuse) a change that waits, such as safe contact off
asked for by text, and set any setting having spoken to the victim. Each is audited
(services/casework/protection.py, services/identity/verification.py)."""

from __future__ import annotations

from flask import flash
from werkzeug.wrappers import Response as BaseResponse

from models import Channel, Language, Permission, Setting
from services.casework import protection
from services.casework.protection import QuietHours
from services.console import access
from services.errors import InvalidField
from services.identity import verification
from webhooks.console.blueprint import back, bp, officer_session, requires
from webhooks.console.forms import SettingsForm


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


@bp.post("/victims/<int:victim_id>/settings")
@requires(Permission.WORK)
def change_settings(victim_id: int) -> BaseResponse:
    form = SettingsForm()
    if not form.validate():
        field, problems = next(iter(form.errors.items()))
        raise InvalidField(str(field), "; ".join(str(p) for p in problems))
    assert form.quiet_start.data is not None and form.quiet_end.data is not None
    values = {
        Setting.CHANNEL: Channel(form.channel.data),
        Setting.LANGUAGE: Language(form.language.data),
        Setting.SAFE_CONTACT: bool(form.safe_contact.data),
        Setting.ENHANCED_RIGHTS: bool(form.enhanced_rights.data),
        Setting.FREQUENCY: form.update_every_days.data,
        Setting.QUIET_HOURS: QuietHours(form.quiet_start.data, form.quiet_end.data),
    }
    with officer_session() as (db, me):
        victim = access.victim_for(db, me, victim_id)
        changed = protection.set_by_officer(db, me, victim, values)
    names = ", ".join(s.value.replace("_", " ") for s in changed) or "nothing"
    flash(f"Settings saved: changed {names}.")
    return back("console.victim", victim_id=victim_id)
