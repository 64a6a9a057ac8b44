"""The worker drains different conversations at the same time, and one conversation once."""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from flask.testing import FlaskClient
from psycopg import pq
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Author, Conversation, Direction, Message, MessageStatus, utcnow
from services.conversations import processing
from services.messaging import leases, outbox
from services.runtime import Runtime
from services.settings import Settings
from tests.support.factories import inbound_form, signed_post
from tests.support.statements import recorded
from workers import worker as worker_module
from workers.worker import Worker, due_conversations

# Both databases: leases: conditional UPDATEs across threads.
pytestmark = pytest.mark.both_databases


def _message(client: FlaskClient, settings: Settings, sender: str) -> None:
    assert (
        signed_post(client, settings, "/twilio/messages", inbound_form(sender, "hi")).status_code
        == 200
    )


def _dead_owner() -> str:
    """An owner id of a process of ours that has exited: judged dead by its PID."""
    exited = subprocess.Popen(["true"])  # noqa: S607 - only its pid, once it has exited
    exited.wait()
    return f"elsewhere:{exited.pid}:{leases.pid_namespace()}:0badf00d"


def _lease(session: Session, conversation_id: int, owner: str | None) -> None:
    """Give the conversation's lease to `owner` for five minutes (None: let it go)."""
    until = utcnow() + dt.timedelta(minutes=5) if owner else None
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(lease_owner=owner, lease_until=until)
    )


def test_two_conversations_are_drained_in_parallel(
    client: FlaskClient, settings: Settings, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _message(client, settings, "+447700900501")
    _message(client, settings, "+447700900502")
    _message(client, settings, "+447700900502")
    with rt.db.session() as session:
        due = due_conversations(session)
    assert len(due) == 2  # one entry per conversation, however many messages wait in it

    # Both drains must be inside at once to pass the barrier: run one after the other, and
    # the first waits in vain and raises BrokenBarrierError.
    barrier = threading.Barrier(2, timeout=10)
    release = threading.Event()
    seen: list[int] = []

    def drain(_rt: Runtime, conversation_id: int, _owner: str, **_: object) -> None:
        seen.append(conversation_id)
        barrier.wait()
        release.wait(10)

    monkeypatch.setattr(worker_module.processing, "drain", drain)
    worker = Worker(rt)
    assert worker.dispatch() == 2
    assert worker.dispatch() == 0  # both still in hand: neither is started twice
    release.set()
    worker.pool.shutdown(wait=True)
    assert sorted(seen) == sorted(conversation_id for conversation_id, _ in due)
    assert not barrier.broken


def test_a_worker_passes_over_conversations_another_live_worker_is_draining(
    client: FlaskClient, settings: Settings, rt: Runtime
) -> None:
    """Two workers must not both start the same first conversations of the list: the one
    that lost each lease looked again at once, and two workers sent half as fast as one."""
    senders = [f"+4477009005{i:02d}" for i in range(11, 16)]
    for sender in senders:
        _message(client, settings, sender)
    with rt.db.session() as session:
        conversation_of = {
            sender: session.scalar(
                select(Conversation.id).where(Conversation.address.endswith(sender))
            )
            for sender in senders
        }
    me, other = leases.new_owner(), leases.new_owner()  # both alive: this process's pid
    exited = subprocess.Popen(["true"])  # noqa: S607 - only its pid, once it has exited
    exited.wait()
    dead = f"elsewhere:{exited.pid}:{leases.pid_namespace()}:0badf00d"
    now = utcnow()
    held = {
        senders[0]: (other, now + dt.timedelta(minutes=5)),  # a live worker is draining it
        senders[1]: (dead, now + dt.timedelta(minutes=5)),  # its worker died: take it over
        senders[2]: (other, now - dt.timedelta(seconds=1)),  # the lease ran out
        senders[3]: (me, now + dt.timedelta(minutes=5)),  # ours already
        # senders[4]: no lease at all
    }
    with rt.db.session() as session:
        for sender, (owner, until) in held.items():
            session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_of[sender])
                .values(lease_owner=owner, lease_until=until)
            )
    with rt.db.session() as session:
        everyone = {c for c, _ in due_conversations(session)}
        mine = {c for c, _ in due_conversations(session, owner=me)}
        theirs = {c for c, _ in due_conversations(session, owner=other)}
    assert everyone == set(conversation_of.values())  # without an owner: all, as before
    assert mine == everyone - {conversation_of[senders[0]]}
    # The other worker is passed over by nobody for its own, and passes over ours.
    assert theirs == everyone - {conversation_of[senders[3]]}


def test_a_drain_that_ends_looks_again_only_when_work_was_left_waiting(
    client: FlaskClient, settings: Settings, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Looking after every drain cost a look a message; but work left waiting by the last
    look (its conversation in hand, bulk beyond its threads) must be looked for at once, not
    at the next poll."""
    _message(client, settings, "+447700900521")
    release = threading.Event()

    def drain(_rt: Runtime, _conversation_id: int, _owner: str, **_: object) -> None:
        release.wait(10)  # leaves the message due: the next worker finds it again

    monkeypatch.setattr(worker_module.processing, "drain", drain)

    alone = Worker(rt)
    assert alone.dispatch() == 1
    alone.wakeups.clear()
    release.set()
    alone.pool.shutdown(wait=True)
    assert not alone.wakeups.is_set(), "nothing was left waiting: no look is needed"

    release.clear()
    busy = Worker(rt)
    assert busy.dispatch() == 1
    assert busy.dispatch() == 0  # more for the same conversation while it is drained
    busy.wakeups.clear()
    release.set()
    busy.pool.shutdown(wait=True)
    assert busy.wakeups.is_set(), "work left waiting must be looked for when the drain ends"


def test_a_drain_that_let_go_after_a_look_read_took_what_it_saw(
    client: FlaskClient, settings: Settings, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A look finds a conversation in hand nearly every time, for the very message its drain
    is answering: looking again after each such drain cost about a look a message. A drain
    that let the lease go in a transaction begun after the look had read saw all it saw, and
    let go only with nothing due; any other end (lease lost, an error, let go before the
    look read) still looks again."""
    _message(client, settings, "+447700900525")
    release = threading.Event()
    let_go_at: list[float | None] = []  # what the drain answers; empty: the time it ends

    def drain(_rt: Runtime, _conversation_id: int, _owner: str, **_: object) -> float | None:
        release.wait(10)
        return let_go_at[0] if let_go_at else time.monotonic()

    monkeypatch.setattr(worker_module.processing, "drain", drain)
    before_look = time.monotonic()
    cases: list[tuple[str, list[float | None], bool]] = [
        ("let go after the look read", [], False),
        ("let go before the look read", [before_look], True),
        ("did not let go", [None], True),
    ]
    for let_go, answer, needs_a_look in cases:
        release.clear()
        let_go_at[:] = answer
        worker = Worker(rt)
        assert worker.dispatch() == 1
        assert worker.dispatch() == 0  # the look finds it in hand
        worker.wakeups.clear()
        release.set()
        worker.pool.shutdown(wait=True)
        assert worker.wakeups.is_set() is needs_a_look, let_go


def test_a_drain_that_dies_of_anything_leaves_its_conversation_free_to_start_again(
    client: FlaskClient, settings: Settings, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever ends a drain, its conversation leaves the worker's hands: one kept there
    would never be started again by this worker (with one worker, never at all)."""
    _message(client, settings, "+447700900527")

    def drain(_rt: Runtime, _conversation_id: int, _owner: str, **_: object) -> float | None:
        raise SystemExit("not an Exception: _drain does not catch it")

    monkeypatch.setattr(worker_module.processing, "drain", drain)
    worker = Worker(rt)
    assert worker.dispatch() == 1
    deadline = time.monotonic() + 10
    while worker.inflight and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not worker.inflight
    monkeypatch.setattr(worker_module.processing, "drain", lambda *_, **__: None)
    assert worker.dispatch() == 1  # started again
    worker.pool.shutdown(wait=True)


def test_a_drain_says_when_the_transaction_that_let_its_lease_go_began(
    client: FlaskClient, settings: Settings, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the worker's rule above rests on (processing.drain's return): the time is taken
    before that transaction began, never after (a look that read during it would be taken
    for one that read before), and after every earlier one; the lease is then free. Both
    ways a drain lets go: after a send (`release_if`), and finding nothing due."""
    _message(client, settings, "+447700900526")
    with rt.db.session() as session:
        conversation = session.scalars(select(Conversation)).one()
        session.execute(update(Message).values(status=MessageStatus.PROCESSED))
        outbox.enqueue(session, conversation, "Thank you.", Author.BOT)
        conversation_id = conversation.id
    began: list[float] = []
    session_of = rt.db.session

    @contextlib.contextmanager
    def timed() -> Iterator[Session]:
        began.append(time.monotonic())
        with session_of() as session:
            yield session

    monkeypatch.setattr(rt.db, "session", timed)
    for transactions in (2, 1):  # the reply sent, then let go; then nothing due at all
        began.clear()
        let_go_at = processing.drain(rt, conversation_id, leases.new_owner())
        assert len(began) == transactions
        assert let_go_at is not None and let_go_at <= began[-1]
        assert transactions == 1 or began[-2] < let_go_at
        with session_of() as session:
            assert session.get_one(Conversation, conversation_id).lease_owner is None


def test_bulk_beyond_its_threads_is_started_as_threads_free_up(
    client: FlaskClient, settings: Settings, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(3):
        _message(client, settings, f"+4477009005{30 + i}")
    release = threading.Event()

    def drain(_rt: Runtime, _conversation_id: int, _owner: str, **_: object) -> None:
        release.wait(10)

    monkeypatch.setattr(worker_module.processing, "drain", drain)
    # Every due conversation counts as bulk here, and only one bulk thread is free.
    monkeypatch.setattr(worker_module, "BULK_PRIORITY", 0)
    worker = Worker(rt)
    worker.bulk_slots = 1
    assert worker.dispatch() == 1
    worker.wakeups.clear()
    release.set()
    worker.pool.shutdown(wait=True)
    assert worker.wakeups.is_set(), "the rest of the burst must start as soon as a thread frees"


def test_work_a_drain_will_not_take_up_wakes_its_worker_as_it_commits(
    client: FlaskClient, settings: Settings, rt: Runtime
) -> None:
    """An urgent message (999 guidance) is sent only by a look, never by the conversation's
    drain: written by a worker, it must not wait for the next poll."""
    _message(client, settings, "+447700900541")
    worker = Worker(rt)
    with rt.db.session() as session:
        conversation = session.scalars(select(Conversation)).one()
        outbox.enqueue(session, conversation, "Thank you.", Author.BOT)  # the drain sends it
    assert not worker.wakeups.is_set(), "a drain's own reply needs no look"
    with rt.db.session() as session:
        conversation = session.scalars(select(Conversation)).one()
        outbox.enqueue(session, conversation, "Call 999.", Author.SYSTEM, priority=outbox.URGENT)
        assert not worker.wakeups.is_set(), "not before it is committed: a look would miss it"
    assert worker.wakeups.is_set()
    worker.wakeups.clear()
    with rt.db.session() as session:
        processing._wake_waiting(session)  # Rasa is back: other conversations' messages due
    assert worker.wakeups.is_set()


def test_dispatch_passes_over_a_conversation_another_live_worker_holds(
    client: FlaskClient, settings: Settings, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _message(client, settings, "+447700900551")
    monkeypatch.setattr(worker_module.processing, "drain", lambda *_, **__: None)
    with rt.db.session() as session:
        session.execute(
            update(Conversation).values(
                lease_owner=leases.new_owner(), lease_until=utcnow() + dt.timedelta(minutes=5)
            )
        )
    worker = Worker(rt)
    assert worker.dispatch() == 0, "another live worker is draining it"
    with rt.db.session() as session:
        session.execute(update(Conversation).values(lease_owner=None, lease_until=None))
    assert worker.dispatch() == 1
    worker.pool.shutdown(wait=True)


def test_a_look_is_one_query_and_still_starts_every_urgent_message(
    client: FlaskClient, settings: Settings, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Urgent messages (999 guidance) were asked for apart at every look, which nearly always
    found none: the look counts them now, and asks for them only when it saw one. Every one
    must still be started, a claim run out mid-send included."""
    _message(client, settings, "+447700900561")  # "hi": work for the lease, nothing urgent
    monkeypatch.setattr(worker_module.processing, "drain", lambda *_, **__: None)
    sent: list[int] = []
    monkeypatch.setattr(
        worker_module.processing,
        "send_urgent",
        lambda _rt, message_id, _owner: sent.append(message_id),
    )
    worker = Worker(rt)
    with recorded(rt.db.engine) as statements:
        assert worker.dispatch() == 1
        assert len(statements) == 1, statements  # the look alone
        with rt.db.session() as session:
            conversation = session.scalars(select(Conversation)).one()
            urgent = outbox.enqueue(
                session, conversation, "Call 999.", Author.SYSTEM, priority=outbox.URGENT
            ).id
        worker.pool.shutdown(wait=True)
        worker.pool = worker_module.ThreadPoolExecutor(1)
        statements.clear()
        assert worker.dispatch() == 2  # the conversation again, and its urgent message
        worker.urgent_pool.shutdown(wait=True)
        assert sent == [urgent]
        assert len(statements) == 2, statements  # the look, then outbox.due_urgent
    worker.pool.shutdown(wait=True)

    # Only urgent work left, left mid-send by a claim that ran out: found, and never drained.
    with rt.db.session() as session:
        session.execute(
            update(Message)
            .where(Message.direction == Direction.INBOUND)
            .values(status=MessageStatus.PROCESSED)
        )
        session.execute(
            update(Message)
            .where(Message.id == urgent)
            .values(
                status=MessageStatus.SUBMITTING,
                claim_owner="gone-host:1:x:0",
                claim_until=utcnow() - dt.timedelta(seconds=1),
            )
        )
        found = worker_module.look(session)
    assert found.urgent and found.due == []
    sent.clear()
    worker = Worker(rt)
    worker.urgent_inflight.clear()
    assert worker.dispatch() == 1
    worker.urgent_pool.shutdown(wait=True)
    assert sent == [urgent]


def test_a_live_worker_is_asked_after_once_a_second_and_a_dead_one_every_look(
    client: FlaskClient, settings: Settings, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether the worker holding a lease lives was asked at every look; it is taken for
    alive for ALIVE_SECONDS once shown so. Dead is never remembered: a worker whose presence
    lock dropped takes it again."""
    _message(client, settings, "+447700900571")
    _message(client, settings, "+447700900572")
    other = leases.new_owner()  # alive: this process's pid
    dead = _dead_owner()
    with rt.db.session() as session:
        first, second = session.scalars(select(Conversation.id).order_by(Conversation.id))
        _lease(session, first, other)
        _lease(session, second, dead)
    asked: list[str] = []
    real = leases.owner_is_dead

    def owner_is_dead(session: Session, owner: str) -> bool:
        asked.append(owner)
        return real(session, owner)

    monkeypatch.setattr(worker_module.leases, "owner_is_dead", owner_is_dead)
    me = leases.new_owner()
    alive: dict[str, float] = {}
    with rt.db.session() as session:
        for _ in range(3):
            assert worker_module.look(session, owner=me, alive=alive).due == [(second, 0)]
    assert asked.count(other) == 1
    assert asked.count(dead) == 3
    alive[other] = 0.0  # its second has passed
    with rt.db.session() as session:
        assert worker_module.look(session, owner=me, alive=alive).due == [(second, 0)]
    assert asked.count(other) == 2


def test_a_drain_that_lost_a_free_lease_to_another_worker_gives_up_in_one_statement(
    client: FlaskClient, settings: Settings, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A NOTIFY wakes every worker (PostgreSQL), so on every message all but one lose the
    claim of a lease their look found free. The loser asked who held it and whether that
    owner lived (`pg_locks`): now only a lease the look saw a dead owner hold is taken over
    by the drain, and every other lost claim is one statement. A dead owner's lease is still
    taken over, by the look that sees it."""
    _message(client, settings, "+447700900581")
    _message(client, settings, "+447700900582")
    dead = _dead_owner()
    me = leases.new_owner()
    with rt.db.session() as session:
        free, held = session.scalars(select(Conversation.id).order_by(Conversation.id))
        _lease(session, held, dead)
        found = worker_module.look(session, owner=me)
    assert sorted(found.due) == [(free, 0), (held, 0)]
    assert found.orphaned == {held}

    # The race lost: between the look and the drain, the free lease went to another worker
    # (here one that has died since, so that a drain that asked would take it over).
    with rt.db.session() as session:
        _lease(session, free, dead)
    with recorded(rt.db.engine) as statements:
        # None: it did not let the lease go (its worker then looks again, if a look saw
        # work in the conversation meanwhile).
        assert processing.drain(rt, free, me, take_over=False) is None
    assert len(statements) == 1, statements  # the claim's UPDATE, and nothing more
    with rt.db.session() as session:
        assert session.get_one(Conversation, free).lease_owner == dead
        assert session.scalars(
            select(Message.status).where(Message.conversation_id == free)
        ).all() == [MessageStatus.RECEIVED]

    # What the worker passes on: only the conversation the look saw a dead owner hold is
    # taken over by its drain; the next look takes the other over too.
    started: list[tuple[int, bool]] = []

    def drain(_rt: Runtime, conversation_id: int, _owner: str, take_over: bool) -> None:
        started.append((conversation_id, take_over))

    monkeypatch.setattr(worker_module.processing, "drain", drain)
    with rt.db.session() as session:
        _lease(session, free, None)
    worker = Worker(rt)
    assert worker.dispatch() == 2
    worker.pool.shutdown(wait=True)
    assert sorted(started) == [(free, False), (held, True)]
    # A drain that waited for a thread longer than the look's word holds asks again.
    started.clear()
    worker._drain(free, False, time.monotonic())
    worker._drain(free, False, time.monotonic() - worker_module.ALIVE_SECONDS - 0.1)
    assert started == [(free, False), (free, True)]
    with rt.db.session() as session:
        assert leases.claim(session, held, me, 60, take_over=False) is False
        assert leases.claim(session, held, me, 60) is True


def _in_transaction(session: Session) -> bool:
    """Whether the session's database connection has a transaction open at the server."""
    dbapi = session.connection().connection.dbapi_connection
    if isinstance(dbapi, psycopg.Connection):
        return dbapi.info.transaction_status is not pq.TransactionStatus.IDLE
    return bool(dbapi.in_transaction)  # type: ignore[union-attr]


def test_a_look_for_work_opens_no_transaction(
    client: FlaskClient, settings: Settings, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every worker looks at every wake-up (a NOTIFY wakes them all). In a transaction, a
    look was three round trips to PostgreSQL (BEGIN, the SELECT, COMMIT); it is one."""
    _message(client, settings, "+447700900591")
    with rt.db.session() as session:
        assert worker_module.look(session).due
        # Python's sqlite3 begins a transaction at the first write: on SQLite a look never
        # had one.
        assert _in_transaction(session) is (rt.db.engine.dialect.name == "postgresql")
    with rt.db.reads() as session:
        assert worker_module.look(session).due
        assert not _in_transaction(session)
        reader = session.connection().connection.dbapi_connection
    # The connection goes back to the pool as it was: a write after it is in a transaction.
    with rt.db.session() as session:
        assert session.connection().connection.dbapi_connection is reader
        session.execute(update(Conversation).values(lease_owner=None))
        assert _in_transaction(session)
    monkeypatch.setattr(worker_module.processing, "drain", lambda *_, **__: None)
    worker = Worker(rt)

    def no_transaction() -> None:
        raise AssertionError("a look opened a transaction")

    monkeypatch.setattr(rt.db, "session", no_transaction)
    assert worker.dispatch() == 1
    worker.pool.shutdown(wait=True)


def test_a_look_on_sqlite_is_its_one_statement(
    client: FlaskClient, settings: Settings, rt: Runtime
) -> None:
    """What SQLite's driver runs for a look, as it runs it (its trace, which sees what
    SQLAlchemy's dialect sends outside the engine's events too): the SELECT and nothing else.
    Switching a SQLite connection to autocommit for the look cost a `PRAGMA
    read_uncommitted` at each checkout, at every wake-up of every worker."""
    if rt.db.engine.dialect.name != "sqlite":
        pytest.skip("on PostgreSQL autocommit is the driver's own setting, no statement")
    _message(client, settings, "+447700900592")
    traced: list[str] = []
    for _ in range(2):  # the second time on a connection given back to the pool
        with rt.db.reads() as session:
            dbapi = session.connection().connection.dbapi_connection
            dbapi.set_trace_callback(traced.append)  # type: ignore[union-attr]
            assert worker_module.look(session).due
        # After the session gave the connection back: what the pool ran then is traced too.
        dbapi.set_trace_callback(None)  # type: ignore[union-attr]
    assert [statement.split()[0] for statement in traced] == ["SELECT", "SELECT"]
