"""What only an officer may do to a victim's protection, in the console: confirm or refuse
safe contact off asked for by text, and unlock an identity check held after a second lock.
Each is audited with the officer's name (webhooks/console/protection.py)."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient
from sqlalchemy import select

from models import (
    AuditAction,
    AuditEvent,
    Conversation,
    OfficerRole,
    RequestStatus,
    SettingRequest,
    Victim,
    utcnow,
)
from services.casework import protection
from services.console.audit import Actor
from services.identity import verification
from services.runtime import Runtime
from tests.support.console import (
    login,
    make_officer,
    post,
    put_on_case,
    signed_in,
    waiting_victim,
)
from tests.support.factories import mentions

MEGAN = "+447700900321"
GWEN = "+447700900322"


def _asked_by_text(rt: Runtime, conversation_id: int) -> tuple[int, int]:
    """Safe contact on, and a verified victim asks by text to turn it off."""
    with rt.db.session() as session:
        conversation = session.get_one(Conversation, conversation_id)
        victim = conversation.victim
        assert victim is not None
        victim.safe_contact = True
        request = protection.request_safe_contact_off(
            session, conversation, victim, Actor.victim_by_text(conversation.channel)
        )
        return victim.id, request.id


def _audit(rt: Runtime, action: AuditAction) -> list[AuditEvent]:
    with rt.db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_safe_contact_stays_on_until_an_officer_confirms(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    conversation_id, _ = waiting_victim(client, auth, rt, MEGAN)
    victim_id, request_id = _asked_by_text(rt, conversation_id)
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    put_on_case(rt, "alys")  # only an officer on the victim's case decides their protection
    page = client.get(f"/console/victims/{victim_id}").get_data(as_text=True)
    assert "Asked by text on" in page and "turn safe contact off" in page
    assert "not by text" in page

    answer = post(client, f"/console/victims/{victim_id}/requests/{request_id}/confirm")
    assert answer.status_code == 302
    with rt.db.session() as session:
        assert session.get_one(Victim, victim_id).safe_contact is False
        request = session.get_one(SettingRequest, request_id)
        assert request.status is RequestStatus.CONFIRMED and request.officer_id is not None
    [confirmed] = _audit(rt, AuditAction.CONFIRM_SETTING)
    [changed] = _audit(rt, AuditAction.CHANGE_SETTING)
    assert confirmed.actor == changed.actor == "alys"
    assert changed.detail == f"safe_contact: on -> off (request {request_id})"
    # Decided once: a second press is refused, and changes nothing.
    again = post(client, f"/console/victims/{victim_id}/requests/{request_id}/confirm")
    assert again.status_code == 409


def test_an_officer_may_keep_safe_contact_on(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    conversation_id, _ = waiting_victim(client, auth, rt, MEGAN)
    victim_id, request_id = _asked_by_text(rt, conversation_id)
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    put_on_case(rt, "alys")  # only an officer on the victim's case decides their protection
    assert post(client, f"/console/victims/{victim_id}/requests/{request_id}/refuse").status_code
    with rt.db.session() as session:
        assert session.get_one(Victim, victim_id).safe_contact is True
        assert session.get_one(SettingRequest, request_id).status is RequestStatus.REFUSED
    [refused] = _audit(rt, AuditAction.REFUSE_SETTING)
    assert refused.actor == "alys" and _audit(rt, AuditAction.CHANGE_SETTING) == []


def test_a_request_is_decided_only_for_its_own_victim_and_by_those_who_may_see_them(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    megan, _ = waiting_victim(client, auth, rt, MEGAN)
    gwen, _ = waiting_victim(client, auth, rt, GWEN)
    megan_id, request_id = _asked_by_text(rt, megan)
    with rt.db.session() as session:
        gwen_id = session.get_one(Conversation, gwen).victim_id
    make_officer(rt, "ifan")
    make_officer(rt, "alys")
    put_on_case(rt, "alys")  # Megan and Gwen are both on her case
    login(client, "alys")
    # Alys may see Gwen, but the request is Megan's.
    wrong = post(client, f"/console/victims/{gwen_id}/requests/{request_id}/confirm")
    assert wrong.status_code == 404
    post(client, "/console/logout")
    # Ifan is not on Megan's case. That her conversation waits in the queue lets him read it,
    # not decide her protection.
    login(client, "ifan")
    refused = post(client, f"/console/victims/{megan_id}/requests/{request_id}/confirm")
    assert refused.status_code == 403
    with rt.db.session() as session:
        assert session.get_one(Victim, megan_id).safe_contact is True


def test_a_held_identity_lock_waits_for_an_officer_to_unlock_it(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    conversation_id, _ = waiting_victim(client, auth, rt, MEGAN)
    with rt.db.session() as session:
        conversation = session.get_one(Conversation, conversation_id)
        victim = conversation.victim
        assert victim is not None
        victim_id = victim.id
        victim.identity_held, victim.identity_locks = True, 2
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    put_on_case(rt, "alys")  # only an officer on the victim's case decides their protection
    page = client.get(f"/console/victims/{victim_id}").get_data(as_text=True)
    assert "Locked until an officer unlocks it" in page
    assert not mentions(page, "1984") and "02/03" not in page  # never the date of birth
    assert post(client, f"/console/victims/{victim_id}/identity/unlock").status_code == 302
    with rt.db.session() as session:
        victim = session.get_one(Victim, victim_id)
        assert not verification.locked(victim, utcnow())
        assert (victim.identity_locks, victim.identity_failures) == (0, 0)
    [unlocked] = _audit(rt, AuditAction.UNLOCK_IDENTITY)
    assert unlocked.actor == "alys" and unlocked.detail.endswith("(was locked held)")
    page = client.get(f"/console/victims/{victim_id}").get_data(as_text=True)
    assert "Locked until" not in page


def test_a_days_lock_shows_when_it_ends(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    conversation_id, _ = waiting_victim(client, auth, rt, MEGAN)
    with rt.db.session() as session:
        victim = session.get_one(Conversation, conversation_id).victim
        assert victim is not None
        victim_id = victim.id
        victim.identity_locks = 1
        victim.identity_locked_until = utcnow() + dt.timedelta(hours=3)
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    put_on_case(rt, "alys")  # only an officer on the victim's case decides their protection
    page = client.get(f"/console/victims/{victim_id}").get_data(as_text=True)
    assert "Locked until " in page and "unlock the identity check" in page


def test_handing_back_or_closing_ends_a_verification(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    """Whoever writes after an officer lets go must prove who they are again."""
    megan, megan_handoff = waiting_victim(client, auth, rt, MEGAN)
    gwen, gwen_handoff = waiting_victim(client, auth, rt, GWEN)
    with rt.db.session() as session:
        for talk in (megan, gwen):
            conversation = session.get_one(Conversation, talk)
            conversation.verified_until = utcnow() + dt.timedelta(minutes=50)
            verification.ask(conversation, utcnow())
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    put_on_case(rt, "alys")  # only an officer on the victim's case decides their protection
    for handoff in (megan_handoff, gwen_handoff):
        assert post(client, f"/console/handoffs/{handoff}/claim").status_code == 302
    assert post(client, f"/console/conversations/{megan}/hand-back").status_code == 302
    assert post(client, f"/console/conversations/{gwen}/close").status_code == 302
    with rt.db.session() as session:
        for talk in (megan, gwen):
            conversation = session.get_one(Conversation, talk)
            assert conversation.verified_until is None and conversation.dob_asked_at is None


def test_an_officer_sets_any_setting_either_way_audited_as_theirs(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    conversation_id, _ = waiting_victim(client, auth, rt, MEGAN)
    victim_id, request_id = _asked_by_text(rt, conversation_id)
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    put_on_case(rt, "alys")  # only an officer on the victim's case decides their protection
    page = client.get(f"/console/victims/{victim_id}").get_data(as_text=True)
    assert "Change settings" in page and "not by text" in page
    form = {
        "channel": "whatsapp",
        "language": "en",
        "update_every_days": "7",
        "quiet_start": "22:00",
        "quiet_end": "07:00",
        # safe_contact left unticked: off, which settles the victim's request
    }
    assert post(client, f"/console/victims/{victim_id}/settings", form).status_code == 302
    with rt.db.session() as session:
        victim = session.get_one(Victim, victim_id)
        assert (victim.channel.value, victim.update_every_days) == ("whatsapp", 7)
        assert (victim.quiet_start, victim.quiet_end) == (dt.time(22), dt.time(7))
        assert victim.safe_contact is False
        assert session.get_one(SettingRequest, request_id).status is RequestStatus.CONFIRMED
    changes = _audit(rt, AuditAction.CHANGE_SETTING)
    assert {e.actor for e in changes} == {"alys"}
    assert {e.detail.split(":")[0] for e in changes} == {
        "channel",
        "frequency",
        "quiet_hours",
        "safe_contact",
    }
    bad = post(client, f"/console/victims/{victim_id}/settings", {**form, "update_every_days": "0"})
    assert bad.status_code == 400
