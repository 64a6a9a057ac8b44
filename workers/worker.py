"""The worker loop: finds conversations with due work and drains each under its lease.

Any number of these may run, on any number of machines: leases keep each conversation
with one worker at a time. The web app wakes the workers when a message arrives, and the
scheduler when it hands notifications to the outbox (services/messaging/wake.py: NOTIFY on
PostgreSQL, reaching every host; UDP on the loopback with SQLite); without a wake-up, a
worker still looks for work every POLL_SECONDS. Time-driven work (what is due when) is the
scheduler's (scheduler/service.py), not the worker's.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import Integer, bindparam, case, event, func, or_, select
from sqlalchemy.orm import Session

from models import Conversation, Direction, Message, MessageStatus, utcnow
from services import logs
from services.casework import notifications
from services.casework.notifications import BULK_PRIORITY
from services.conversations import processing
from services.messaging import leases, outbox, wake
from services.messaging.wake import WakeListener
from services.operations import heartbeats
from services.runtime import Runtime
from services.settings import Settings

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 5.0
# Threads a burst of bulk notifications may never take: a victim who writes during the
# burst is answered at once, not after it.
RESERVED_FOR_REPLIES = 2
# Conversations one look returns at most.
DUE_LIMIT = 500
# Threads only for urgent messages (999 guidance): every drain thread may be waiting on Rasa.
URGENT_THREADS = 2


# Built once (the worker looks for work at every wake-up): the time and the limit are
# parameters. Each conversation comes with its lease, so that a worker passes over those
# another live worker is draining (`due_conversations`). Urgent messages are counted too,
# though never drained through the lease (outbox.claim_urgent): `most_urgent` tells the
# worker when to ask outbox.due_urgent for them, so that a look is one query, not two, on
# the nearly every look that finds none (bench/README.md, "fourth session").
_PRIORITY = func.min(case((Message.priority > outbox.URGENT, Message.priority)))
_MOST_URGENT = func.min(Message.priority)
_DUE_CONVERSATIONS = (
    select(
        Message.conversation_id,
        _PRIORITY,
        _MOST_URGENT,
        Conversation.lease_owner,
        Conversation.lease_until,
    )
    .join(Conversation, Conversation.id == Message.conversation_id)
    .where(
        or_(
            (Message.direction == Direction.INBOUND)
            & (Message.status == MessageStatus.RECEIVED)
            & (Message.next_attempt_at <= bindparam("now")),
            # Urgent ones included: outbox.due_urgent's rows are a subset of these two.
            (Message.direction == Direction.OUTBOUND)
            & (Message.status == MessageStatus.PENDING)
            & (Message.next_attempt_at <= bindparam("now")),
            # Left mid-send by a worker that may have died; the lease (or claim) tells.
            (Message.direction == Direction.OUTBOUND)
            & (Message.status == MessageStatus.SUBMITTING),
        )
    )
    .group_by(Message.conversation_id, Conversation.lease_owner, Conversation.lease_until)
    # Conversations with an urgent message first, so that a full look never cuts them off.
    .order_by(_MOST_URGENT, Message.conversation_id)
    .limit(bindparam("limit", type_=Integer))
)

# How long a worker takes another for alive, once the database showed it so, before asking
# again (seconds). Only ever a delay: a worker that died meanwhile has its conversations
# taken over up to this much later (its leases run out after LEASE_SECONDS anyway); a dead
# verdict is never remembered, since a worker whose presence lock dropped takes it again.
ALIVE_SECONDS = POLL_SECONDS


@dataclass
class Look:
    """What one look for work found."""

    # (conversation id, the most urgent priority of its due messages, replies (0) first);
    # only conversations with work the lease drains.
    due: list[tuple[int, int]]
    cut: bool  # the look stopped at its limit: more may be due
    urgent: bool  # an urgent message may be waiting: ask outbox.due_urgent
    # Those of `due` whose lease an owner found dead still holds: their drains take it over.
    # The others' leases were free, ours or run out, so a claim that fails for them lost to
    # a worker that has just taken the lease (processing.drain's `take_over`).
    orphaned: frozenset[int] = frozenset()


def due_conversations(
    session: Session, limit: int = DUE_LIMIT, owner: str | None = None
) -> list[tuple[int, int]]:
    """Conversations with an inbound message to process or an outbound one to send, with the
    most urgent priority among their due messages; replies (0) before bulk.

    With `owner` (the worker looking), conversations whose lease another owner holds, not
    run out, are left out unless that owner is dead (leases.owner_is_dead, asked once per
    owner): that worker is draining them. Without this, every worker took the same first
    conversations of the list, all but one lost each lease at once and looked again, and two
    workers sent half as fast as one (bench/README.md, "Worker processes"). Only a hint: the
    lease (leases.claim) still decides who drains a conversation.
    """
    return look(session, limit, owner).due


def look(
    session: Session,
    limit: int = DUE_LIMIT,
    owner: str | None = None,
    alive: dict[str, float] | None = None,
) -> Look:
    """due_conversations, whether the look was cut at `limit`, and whether urgent messages
    may be due. `alive`: owners found alive, with the time.monotonic() until which to take
    them so (ALIVE_SECONDS), kept by the caller from look to look and updated here."""
    now = utcnow()
    rows = session.execute(_DUE_CONVERSATIONS, {"now": now, "limit": limit}).all()
    clock = time.monotonic()
    known = alive if alive is not None else {}
    for gone in [holder for holder, until in known.items() if until <= clock]:
        del known[gone]
    dead: set[str] = set()  # asked once per look
    due = []
    orphaned = set()
    urgent = False
    for conversation_id, priority, most_urgent, holder, until in rows:
        urgent = urgent or most_urgent <= outbox.URGENT
        if priority is None:
            continue  # only urgent messages: claimed one by one, never drained
        if owner is not None and holder not in (None, owner) and until is not None and until >= now:
            if holder not in known and holder not in dead:
                if leases.owner_is_dead(session, holder):
                    dead.add(holder)
                else:
                    known[holder] = clock + ALIVE_SECONDS
            if holder not in dead:
                continue  # alive: that worker is draining it
            orphaned.add(conversation_id)
        due.append((conversation_id, priority))
    return Look(due, len(rows) >= limit, urgent, frozenset(orphaned))


class Worker:
    """Drains due conversations on a thread pool, one task per conversation at a time."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        # On PostgreSQL the worker's life is shown by a lock the database holds for it, so
        # that its leases are taken over at once when it dies, wherever it ran
        # (services/messaging/leases.py).
        on_database = leases.Presence.for_database(rt.db)
        self.owner = leases.new_owner(on_database)
        self.presence = leases.Presence(rt.db, self.owner) if on_database else None
        self.pool = ThreadPoolExecutor(rt.settings.worker_threads, thread_name_prefix="drain")
        self.urgent_pool = ThreadPoolExecutor(URGENT_THREADS, thread_name_prefix="urgent")
        self.urgent_inflight: set[int] = set()
        self.inflight: set[int] = set()
        self.bulk_inflight: set[int] = set()
        self.bulk_slots = max(1, rt.settings.worker_threads - RESERVED_FOR_REPLIES)
        # Other workers found alive, and until when to take them so (`look`, ALIVE_SECONDS).
        self.alive: dict[str, float] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        # Set by a wake-up from another process (WakeListener), by a drain that ends while
        # work was left waiting (`look_again`), and by stop(): the loop looks for work at
        # once instead of at its next poll.
        self.wakeups = threading.Event()
        # The last look left due work for later: bulk beyond its threads, or more than one
        # look returns. A drain that ends then looks again at once; otherwise the look would
        # find nothing new (new work wakes the workers by itself: the web app's and
        # scheduler's nudges, and this worker's own transactions below), and looking after
        # every drain cost a look a message (bench/README.md, "third session: what each
        # change did").
        self.look_again = False
        # Conversations a look found due while already in hand, with the time.monotonic()
        # by which the latest such look had read: work that came while the conversation was
        # drained, which its drain may have let go just before. Its drain, ending, looks
        # again unless it let the lease go in a transaction begun after that look had read
        # (then it took that work itself: processing.drain's return). Looking after every
        # such drain cost about a look a message, most of them for the very message the
        # drain was answering (bench/README.md, "sixth session").
        self.seen_in_hand: dict[int, float] = {}
        # A transaction of this worker's that wrote work its drain will not take up (an
        # urgent message, other conversations made due: wake.note_new_work) wakes the loop
        # as it commits, so the 999 guidance goes now, not at the next poll.
        event.listen(rt.db.sessions, "after_commit", self._after_commit)

    def _after_commit(self, session: Session) -> None:
        if wake.take_new_work(session):
            self.wakeups.set()

    def _drain(self, conversation_id: int, take_over: bool, looked_at: float) -> float | None:
        """processing.drain's answer: when the transaction that let the lease go began, or
        None (another worker has it, or an error)."""
        # The look's word that the lease was free holds for a moment only: a drain that
        # waited longer for a thread (every one held by a slow Rasa, say) asks whether the
        # lease's holder lives, as the look would (leases.claim's take_over).
        take_over = take_over or time.monotonic() - looked_at > ALIVE_SECONDS
        try:
            # Every line logged while this conversation is drained carries its id.
            with logs.bound(conversation=str(conversation_id)):
                return processing.drain(self.rt, conversation_id, self.owner, take_over=take_over)
        except Exception:
            log.exception("conversation %s: unexpected error; it will be retried", conversation_id)
            return None

    def _send_urgent(self, message_id: int) -> None:
        try:
            processing.send_urgent(self.rt, message_id, self.owner)
        except Exception:
            log.exception("urgent message %s: unexpected error; it will be retried", message_id)

    def _urgent_finished(self, message_id: int, _future: Future[None]) -> None:
        with self.lock:
            self.urgent_inflight.discard(message_id)

    def _finished(self, conversation_id: int, future: Future[float | None]) -> None:
        # Never raise here: the conversation must leave `inflight` whatever the drain did
        # (`_drain` catches Exception; SystemExit and the like still end up on the future).
        let_go_at = None
        if not future.cancelled() and future.exception() is None:
            let_go_at = future.result()
        with self.lock:
            self.inflight.discard(conversation_id)
            self.bulk_inflight.discard(conversation_id)
            seen = self.seen_in_hand.pop(conversation_id, None)
            # A look that had read before the transaction that let the lease go began saw
            # nothing that transaction did not see too, and it let go only with nothing due.
            missed = seen is not None and (let_go_at is None or seen >= let_go_at)
            look_again = self.look_again or missed
        if look_again and not self.stopping.is_set():
            # A thread is free and work was left for it: look now, not at the next poll.
            # Without this, a burst would start only `bulk_slots` conversations a second.
            self.wakeups.set()

    def dispatch(self) -> int:
        """Start a drain for each due conversation not already in hand; how many started.

        Conversations whose only due work is bulk take at most `bulk_slots` threads, so
        that some are always free for replies.
        """
        with self.lock:
            # Before the look: a drain that ends during it sees the flag this look sets.
            self.look_again = False
        # Reads alone: no transaction (two round trips fewer on PostgreSQL, where a NOTIFY
        # makes every worker look).
        with self.rt.db.reads() as session:
            found = look(session, DUE_LIMIT, self.owner, self.alive)
            urgent = outbox.due_urgent(session) if found.urgent else []
        looked_at = time.monotonic()
        due, cut = found.due, found.cut
        if cut:
            with self.lock:
                self.look_again = True  # more may be due than this look returned
        started = 0
        # Urgent messages first, each on its own, on threads that Rasa never holds.
        for message_id in urgent:
            with self.lock:
                if message_id in self.urgent_inflight:
                    continue
                self.urgent_inflight.add(message_id)
            future = self.urgent_pool.submit(self._send_urgent, message_id)
            future.add_done_callback(functools.partial(self._urgent_finished, message_id))
            started += 1
        for conversation_id, priority in due:
            with self.lock:
                if conversation_id in self.inflight:
                    # Its drain looks again when it ends, unless it took this work itself.
                    self.seen_in_hand[conversation_id] = max(
                        looked_at, self.seen_in_hand.get(conversation_id, looked_at)
                    )
                    continue
                if priority >= BULK_PRIORITY:
                    if len(self.bulk_inflight) >= self.bulk_slots:
                        self.look_again = True
                        continue
                    self.bulk_inflight.add(conversation_id)
                self.inflight.add(conversation_id)
            drained = self.pool.submit(
                self._drain, conversation_id, conversation_id in found.orphaned, looked_at
            )
            drained.add_done_callback(functools.partial(self._finished, conversation_id))
            started += 1
        return started

    def run(self) -> None:
        """Loop until stop() is called."""
        settings = self.rt.settings
        listener = WakeListener(settings.database_url, settings.worker_wake_addr, self.wakeups)
        last_beat = 0.0
        log.info("worker %s started", self.owner)
        try:
            while not self.stopping.is_set():
                if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                    try:
                        with self.rt.db.session() as session:
                            heartbeats.beat(session, heartbeats.WORKER, self.owner)
                    except Exception:
                        log.exception("heartbeat failed; trying again shortly")
                    last_beat = time.monotonic()
                # Cleared before this look, so a wake-up that comes during it is not lost:
                # the wait below then returns at once.
                self.wakeups.clear()
                # Without its presence lock, others would take this worker's leases as if
                # it were dead: it starts no new work until it holds it again.
                if self.presence is None or self.presence.hold():
                    try:
                        self.dispatch()
                    except Exception:
                        log.exception("looking for work failed; trying again shortly")
                self.wakeups.wait(POLL_SECONDS)
        finally:
            listener.close()
            self.urgent_pool.shutdown(wait=True, cancel_futures=True)
            self.pool.shutdown(wait=True, cancel_futures=True)
            event.remove(self.rt.db.sessions, "after_commit", self._after_commit)
            # Only once no drain runs: until then its leases must not look abandoned.
            if self.presence is not None:
                self.presence.close()
            log.info("worker %s stopped", self.owner)

    def stop(self) -> None:
        self.stopping.set()
        self.wakeups.set()


def main() -> None:
    """Entry point of `python -m workers` (any number may run)."""
    settings = Settings.from_env()
    logs.configure(settings.production)
    # A Victims' Code file that cannot be used stops the worker before it settles anything.
    notifications.load_victims_code(settings.victims_code_file)
    rt = Runtime(settings)
    worker = Worker(rt)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop())
    try:
        worker.run()
    finally:
        rt.close()
