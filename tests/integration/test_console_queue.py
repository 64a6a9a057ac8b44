"""The queue: urgent first then oldest, urgent marked, waits shown; overdue handoffs."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Conversation, Handoff, Language, Message, OfficerRole, utcnow
from services.console import handoffs, staffing
from services.language.texts import TEXTS
from services.runtime import Runtime
from tests.support.console import post, signed_in, waiting_victim

# Both databases: the queue's order is SQL's ORDER BY.
pytestmark = pytest.mark.both_databases

CLAIM_WITHIN = dt.timedelta(minutes=15)


def _backdate(rt: Runtime, handoff_id: int, minutes: int) -> None:
    with rt.db.session() as session:
        session.get_one(Handoff, handoff_id).opened_at = utcnow() - dt.timedelta(minutes=minutes)


def test_queue_is_urgent_first_then_oldest_with_waits_shown(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    _, normal_old = waiting_victim(
        client, auth, rt, "+447700900421", priority="normal", name="Ann Old"
    )
    _, urgent_new = waiting_victim(
        client, auth, rt, "+447700900422", priority="urgent", reason="danger words", name="Bet New"
    )
    _, high = waiting_victim(client, auth, rt, "+447700900423", priority="high", name="Cai High")
    _backdate(rt, normal_old, 75)
    _backdate(rt, high, 30)
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    page = client.get("/console/queue").get_data(as_text=True)
    order = re.findall(r'data-id="(\d+)"', page)
    assert order == [str(urgent_new), str(high), str(normal_old)]
    assert f'class="handoff urgent" data-id="{urgent_new}" data-urgent="1"' in page
    assert 'Waiting <span class="waited">1 h 15 min</span>' in page
    assert 'Waiting <span class="waited">30 min</span>' in page
    assert "3</span> waiting" in page


def test_overdue_handoffs_tell_the_victim_once_and_show_to_supervisors(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    conversation_id, late = waiting_victim(client, auth, rt, "+447700900431", language="cy")
    _, fresh = waiting_victim(client, auth, rt, "+447700900432")
    _, claimed = waiting_victim(client, auth, rt, "+447700900433")
    now = utcnow() + dt.timedelta(minutes=20)
    _backdate(rt, fresh, -10)  # opened 10 minutes before `now`
    signed_in(client, rt, "huw", OfficerRole.SUPERVISOR)
    post(client, f"/console/handoffs/{claimed}/claim")

    with rt.db.session() as session:
        flagged = handoffs.flag_overdue(session, now, CLAIM_WITHIN)
        assert [h.id for h in flagged] == [late]
    with rt.db.session() as session:
        assert handoffs.flag_overdue(session, now + dt.timedelta(hours=1), CLAIM_WITHIN) == [
            session.get_one(Handoff, fresh)
        ]
    with rt.db.session() as session:
        assert handoffs.flag_overdue(session, now + dt.timedelta(hours=2), CLAIM_WITHIN) == []
        bodies = list(
            session.scalars(select(Message.body).where(Message.conversation_id == conversation_id))
        )
    expected = TEXTS["handoff_overdue"][Language.CY].format(
        when=staffing.next_contact(now, Language.CY)
    )
    assert bodies == [expected]
    assert "999" in expected and "101" in expected

    page = client.get("/console/queue").get_data(as_text=True)
    assert page.count("OVERDUE") == 2


def test_overdue_for_an_unknown_number_is_bilingual(rt: Runtime) -> None:
    now = utcnow()
    text = handoffs.overdue_text(None, now)
    assert text.startswith("Mae'n ddrwg gennym") and "We're sorry" in text


def test_opted_out_victim_is_not_sent_the_overdue_message(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    conversation_id, handoff_id = waiting_victim(client, auth, rt, "+447700900434")
    with rt.db.session() as session:
        session.get_one(Conversation, conversation_id).opted_out_at = utcnow()
    with rt.db.session() as session:
        [flagged] = handoffs.flag_overdue(session, utcnow() + dt.timedelta(hours=1), CLAIM_WITHIN)
        assert flagged.id == handoff_id and flagged.overdue_at is not None
        assert session.scalars(select(Message)).all() == []
