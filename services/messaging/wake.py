"""Wake-ups: the web app and the scheduler tell the workers that new work is waiting.

Workers also poll (workers/worker.py), so a wake-up that is lost costs a little latency and
nothing else: sending one never waits on the database and never fails a webhook.

- **PostgreSQL**: `NOTIFY work_due`. The server hands it to every connection that has run
  `LISTEN work_due` on that database, wherever it runs: a web node on one host wakes the
  workers of another.
- **SQLite** (one host by nature): a UDP datagram to `WORKER_WAKE_ADDR` on the loopback.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import TupleRow
from sqlalchemy.orm import Session

from models.db import libpq_url

log = logging.getLogger(__name__)

# PostgreSQL's notification channel. NOTIFY's payload is left empty: several identical
# notifications sent before a listener reads are folded into one, which is all a wake-up needs.
CHANNEL = "work_due"
# How often the listening threads look up from waiting to see whether they are to stop.
_LOOK_UP_SECONDS = 0.5
# After the listening connection fails: wait this long before connecting again (the worker
# polls meanwhile, so nothing waits for it).
_RECONNECT_SECONDS = 2.0
_CONNECT_TIMEOUT_SECONDS = 5
# The nudging connection gives up quickly: on a connection left half-open (a failover, a
# dropped network) a NOTIFY would otherwise wait for TCP to give up, minutes, with the
# webhook that sent it. libpq's parameters: seconds, except tcp_user_timeout (ms).
_QUICK: dict[str, int] = {
    "connect_timeout": 2,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
    "tcp_user_timeout": 2000,
}


# The key, in a session's `info`, of a transaction that wrote work no drain in hand takes up
# by itself: an urgent message (only a worker's look sends those: outbox.claim_urgent), or
# other conversations' messages made due. The worker that commits it looks for work at once
# (workers.worker.Worker); a drain's own replies need no mark, since the drain goes on to
# send them.
NEW_WORK = "wake.new_work"


def note_new_work(session: Session) -> None:
    """Mark the session's transaction as one that wrote work a look must find."""
    session.info[NEW_WORK] = True


def take_new_work(session: Session) -> bool:
    """Whether the session's committed transaction wrote such work; the mark is cleared."""
    return bool(session.info.pop(NEW_WORK, False))


def nudge(addr: tuple[str, int]) -> None:
    """Send one UDP wake-up to `addr` (the SQLite way; never raises)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"w", addr)
    except OSError:
        pass


def _on_postgresql(database_url: str) -> bool:
    return database_url.startswith("postgresql")


class Waker:
    """The sending end, one per process (Runtime.waker): `nudge()` after a commit.

    On PostgreSQL a thread of its own (one per process, started at the first nudge and again
    after a fork) sends the NOTIFYs, so that no request ever waits on the database for one:
    a nudge only marks that a commit waits for a NOTIFY sent after it. The thread takes the
    mark, then sends; a commit marked while a NOTIFY is in flight gets another. When a
    request sent its own NOTIFY, one that found another thread's in flight left its commit
    to it, which may have gone before that commit (the 999 guidance then waited for the
    workers' poll); and a request could be held for as long as NOTIFYs took.

    At exit (`close`, which `atexit` calls too) the thread sends what is still marked and
    closes its connection; only it ever uses that connection.
    """

    def __init__(self, database_url: str, addr: tuple[str, int]) -> None:
        self.addr = addr
        self.conninfo = libpq_url(database_url) if _on_postgresql(database_url) else None
        self._conn: psycopg.Connection[TupleRow] | None = None
        self._state = threading.Condition()
        self._pending = False  # a commit waits for a NOTIFY sent after it
        self._closing = False
        self._thread: threading.Thread | None = None
        self._thread_pid = 0

    def nudge(self) -> None:
        """Wake the workers: every worker of the database on PostgreSQL, one worker of this
        host on SQLite. Never raises, and while the process runs never waits on the
        database (only after close, or as the interpreter exits, does a request send its
        own NOTIFY): a lost wake-up only waits for the workers' poll."""
        if self.conninfo is None:
            nudge(self.addr)
            return
        with self._state:
            # After close (an exit handler, a request the graceful timeout outlived) no
            # thread sends for it; nor while the interpreter exits, when none can start.
            # This commit is made and must be announced: the request sends its own then.
            send_own = self._closing
            if not send_own:
                self._pending = True
                self._state.notify()
                if self._thread_pid != os.getpid():
                    # Never the connection of the process this one was forked from.
                    self._conn = None
                    thread = threading.Thread(target=self._run, name="wake-notify", daemon=True)
                    try:
                        thread.start()
                    except RuntimeError:
                        send_own = True
                    else:
                        self._thread, self._thread_pid = thread, os.getpid()
                        # Request threads are joined at exit before atexit runs: what they
                        # marked is sent.
                        atexit.register(self.close)
        if send_own:
            self._notify_once()

    def _run(self) -> None:
        try:
            while True:
                with self._state:
                    while not self._pending and not self._closing:
                        self._state.wait()
                    if not self._pending:
                        return  # closing, and nothing marked
                    # Taken before the NOTIFY: every commit marked before this line is covered
                    # by it, and one marked after makes the loop send again.
                    self._pending = False
                try:
                    self._notify()
                except Exception:  # noqa: BLE001 - the thread must outlive any fault
                    log.exception("waking the workers failed; they will find the work by polling")
        finally:
            self._close()

    def _notify(self) -> None:
        """One NOTIFY on the kept connection; once more on a new one if the kept one had been
        closed by the server (a restart, a failover, an idle timeout), which psycopg learns
        only by using it. Only the thread calls it."""
        assert self.conninfo is not None
        for _ in range(2):
            kept = self._conn is not None and not self._conn.closed
            try:
                if self._conn is None or self._conn.closed:
                    quick = make_conninfo(self.conninfo, **_QUICK)
                    self._conn = psycopg.connect(quick, autocommit=True)
                self._conn.execute(f"NOTIFY {CHANNEL}")
                return
            except psycopg.Error as exc:
                self._close()
                if kept:
                    continue
                log.warning(
                    "could not wake the workers (%s); they will find the work by polling",
                    type(exc).__name__,
                )
                return

    def _notify_once(self) -> None:
        """One NOTIFY on a connection opened and closed for it (never raises)."""
        assert self.conninfo is not None
        try:
            quick = make_conninfo(self.conninfo, **_QUICK)
            with psycopg.connect(quick, autocommit=True) as conn:
                conn.execute(f"NOTIFY {CHANNEL}")
        except psycopg.Error as exc:
            log.warning(
                "could not wake the workers (%s); they will find the work by polling",
                type(exc).__name__,
            )

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
        self._conn = None

    def close(self) -> None:
        """Send what is still marked, then stop the thread, which closes its connection.
        Waits up to a NOTIFY's worst (about 10 s: connect, send, the keepalives)."""
        with self._state:
            self._closing = True
            self._state.notify()
            thread = self._thread if self._thread_pid == os.getpid() else None
        atexit.unregister(self.close)
        if thread is not None:
            thread.join(_LOOK_UP_SECONDS * 2 + _CONNECT_TIMEOUT_SECONDS * 2)


class WakeListener:
    """The worker's end: a thread that sets `wakeups` on each wake-up from another process.

    It reads UDP datagrams at `addr` on every database (WORKER_WAKE_ADDR is a contract:
    anything on the host may wake the workers there; several workers may bind one port, and
    the kernel hands each datagram to one of them). On PostgreSQL it also LISTENs on its own
    connection (reconnecting after a failure), which is how the service's own processes wake
    it, from any host. The worker sets `wakeups` itself for work it finds it can start now
    (a thread came free).
    """

    def __init__(self, database_url: str, addr: tuple[str, int], wakeups: threading.Event) -> None:
        self.wakeups = wakeups
        self.stopping = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self.sock.bind(addr)
        self.sock.settimeout(_LOOK_UP_SECONDS)
        self.conninfo = libpq_url(database_url) if _on_postgresql(database_url) else None
        self.listening = threading.Event()
        self.threads = [threading.Thread(target=self._read_datagrams, name="wake-udp", daemon=True)]
        if self.conninfo is not None:
            self.threads.append(
                threading.Thread(target=self._listen, name="wake-listen", daemon=True)
            )
        for thread in self.threads:
            thread.start()

    def _read_datagrams(self) -> None:
        if self.conninfo is None:
            self.listening.set()  # on PostgreSQL, once LISTEN has been run
        while not self.stopping.is_set():
            try:
                self.sock.recv(16)
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            self.wakeups.set()

    def _listen(self) -> None:
        assert self.conninfo is not None
        while not self.stopping.is_set():
            try:
                with psycopg.connect(
                    self.conninfo, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_SECONDS
                ) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    # Whatever was committed while not listening is found by the poll that
                    # follows this wake-up.
                    self.wakeups.set()
                    while not self.stopping.is_set():
                        for _ in conn.notifies(timeout=_LOOK_UP_SECONDS, stop_after=1):
                            self.wakeups.set()
            except psycopg.Error as exc:
                self.listening.clear()
                log.warning(
                    "listening for wake-ups failed (%s); connecting again shortly",
                    type(exc).__name__,
                )
                self.stopping.wait(_RECONNECT_SECONDS)

    def close(self) -> None:
        """Stop the thread (within about half a second)."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(_LOOK_UP_SECONDS * 4 + _CONNECT_TIMEOUT_SECONDS)
        self.sock.close()
