"""Leases across processes, PID namespaces and hosts: a lease is taken over at once only
when its owner is known to be dead, on SQLite and PostgreSQL.

A worker in a container of its own is played by a process in a new PID namespace
(`unshare --pid`): its hostname is ours, its PIDs are not.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select, text, update

from models import Channel, Conversation
from services.messaging import leases
from services.runtime import Runtime
from tests.support.processes import ROOT, base_env

LEASE_SECONDS = 60.0

# A worker's claim, in a child process: print the owner once the lease is ours, then live on.
CLAIM = """
import sys, time
from models.db import Database
from services.messaging import leases
db = Database(sys.argv[1])
owner = leases.new_owner(on_database=sys.argv[3] == "db")
presence = leases.Presence(db, owner) if sys.argv[3] == "db" else None
if presence is not None:
    assert presence.hold()
with db.session() as session:
    assert leases.claim(session, int(sys.argv[2]), owner, 60)
print(owner, flush=True)
time.sleep(120)
"""


def _conversation(rt: Runtime) -> int:
    with rt.db.session() as session:
        conversation = Conversation(address="+447700900555", channel=Channel.SMS)
        session.add(conversation)
        session.flush()
        return conversation.id


def _holder(rt: Runtime, conversation_id: int) -> str | None:
    with rt.db.session() as session:
        return session.scalar(
            select(Conversation.lease_owner).where(Conversation.id == conversation_id)
        )


def _claim(rt: Runtime, conversation_id: int) -> bool:
    with rt.db.session() as session:
        return leases.claim(session, conversation_id, leases.new_owner(), LEASE_SECONDS)


def _start_owner(
    rt: Runtime, conversation_id: int, presence: bool, namespace: bool = False
) -> tuple[subprocess.Popen[str], str]:
    argv = [sys.executable, "-c", CLAIM, rt.settings.database_url, str(conversation_id)]
    argv.append("db" if presence else "pid")
    if namespace:
        if shutil.which("unshare") is None:
            pytest.fail("unshare (util-linux) is missing")
        # Some short-lived processes first, so that the worker's PID in its namespace is one
        # that no process has in ours: the old rule would have taken its lease at once.
        burn = 'i=0; while [ $i -lt 150 ]; do /bin/true; i=$((i+1)); done; "$@"'
        argv = ["unshare", "--pid", "--kill-child", "--mount-proc", "sh", "-c", burn, "sh", *argv]
    child = subprocess.Popen(
        argv, cwd=ROOT, env=base_env(), stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert child.stdout is not None
    owner = child.stdout.readline().strip()
    assert owner, f"the owner did not claim the lease (exit {child.poll()})"
    assert _holder(rt, conversation_id) == owner
    return child, owner


def _kill(child: subprocess.Popen[str]) -> None:
    # The whole group: under unshare, the worker is unshare's child.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait(10)
    if child.stdout is not None:
        child.stdout.close()


def test_a_dead_owner_in_our_pid_namespace_loses_its_lease_at_once(rt: Runtime) -> None:
    conversation_id = _conversation(rt)
    child, _owner = _start_owner(rt, conversation_id, presence=False)
    try:
        assert not _claim(rt, conversation_id), "taken from a live owner"
    finally:
        _kill(child)
    assert _claim(rt, conversation_id)


def test_an_owner_in_another_pid_namespace_is_never_judged_by_its_pid(rt: Runtime) -> None:
    conversation_id = _conversation(rt)
    child, owner = _start_owner(rt, conversation_id, presence=False, namespace=True)
    try:
        parsed = leases.Owner.parse(owner)
        assert parsed is not None and parsed.namespace != leases.pid_namespace()
        with pytest.raises(ProcessLookupError):
            os.kill(parsed.pid, 0)  # no such process here: a PID check would call it dead
        # Its PID means nothing here (in its namespace it is 1 or 2): alive or not, the
        # lease waits to run out.
        assert not _claim(rt, conversation_id)
        _kill(child)
        assert not _claim(rt, conversation_id), "taken by a PID from another namespace"
        with rt.db.session() as session:
            session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(lease_until=leases.utcnow())
            )
        time.sleep(0.01)
        assert _claim(rt, conversation_id), "an expired lease must be free"
    finally:
        _kill(child)


@pytest.mark.postgres
def test_on_postgresql_the_database_says_whether_an_owner_lives_wherever_it_runs(
    rt: Runtime, db_kind: str
) -> None:
    if db_kind != "postgresql":
        pytest.skip("the presence lock is PostgreSQL's")
    conversation_id = _conversation(rt)
    child, owner = _start_owner(rt, conversation_id, presence=True, namespace=True)
    try:
        assert leases.Owner.parse(owner) is not None
        assert not _claim(rt, conversation_id), "taken while its presence lock is held"
        _kill(child)
        deadline = time.monotonic() + 10
        # The server notices the dropped connection at once, or within moments.
        while not _claim(rt, conversation_id):
            assert time.monotonic() < deadline, "a dead owner's lease was not taken over"
            time.sleep(0.1)
    finally:
        _kill(child)


@pytest.mark.postgres
def test_a_worker_whose_presence_connection_drops_takes_its_lock_again(
    rt: Runtime, db_kind: str
) -> None:
    if db_kind != "postgresql":
        pytest.skip("the presence lock is PostgreSQL's")
    owner = leases.new_owner(on_database=True)
    presence = leases.Presence(rt.db, owner)
    try:
        assert presence.hold()
        with rt.db.session() as session:
            assert not leases.owner_is_dead(session, owner)
            # The database restarts, or the network drops the connection.
            session.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND objid::bigint = :low AND granted"
                ),
                {"low": leases.advisory_key(owner) & 0xFFFFFFFF},
            )
        time.sleep(0.2)
        with rt.db.session() as session:
            # Until it holds its lock again, its leases are anyone's: it starts no new work.
            assert leases.owner_is_dead(session, owner)
        assert not presence.hold(), "a dropped connection must be noticed"
        assert presence.hold()
        with rt.db.session() as session:
            assert not leases.owner_is_dead(session, owner)
    finally:
        presence.close()
