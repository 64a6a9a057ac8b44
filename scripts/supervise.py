"""honcho, with children that die with their supervisor.

honcho starts each process in a session of its own, behind a small forked Python process
that relays its output. Killed with -9, the supervisor can tell nobody: the web app, the
workers, Rasa and the action server would run on as orphans, holding their ports, and the
next start would fail or talk to them. So (Linux, `prctl(PR_SET_PDEATHSIG)`):

- each relay leaves the supervisor's process group, so that a kill -9 of that group (what
  a container runtime or an impatient operator does) reaches the supervisor only, and asks
  the kernel for SIGUSR1 when the supervisor dies; it then stops its process's whole
  group, SIGTERM first (workers finish what they hold), SIGKILL after GRACE_SECONDS;
- each process asks for SIGTERM when its relay dies, in case the relay is killed too.

Ctrl-C still stops everything: the terminal signals the supervisor, which tells each
process (honcho's own way).
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import sys
import time
from typing import Any

from honcho.manager import Manager
from honcho.printer import Printer
from honcho.process import Popen, Process

PR_SET_PDEATHSIG = 1
GRACE_SECONDS = 10.0


def die_with_parent(sig: int) -> None:
    """Ask the kernel to send `sig` to this process when its parent dies (Linux only).

    Raises OSError where prctl is refused; does nothing off Linux, where nothing can.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def _child_setup() -> None:
    # Runs in the child between fork and exec; the setting survives the exec.
    die_with_parent(signal.SIGTERM)


class LifelineProcess(Process):
    """honcho's relay for one process, which takes its process down with the supervisor."""

    def run(self, events: Any = None, ignore_signals: bool = False) -> None:
        supervisor = os.getppid()
        os.setpgid(0, 0)
        self._child_ctor = functools.partial(Popen, preexec_fn=_child_setup)
        signal.signal(signal.SIGUSR1, self._supervisor_gone)
        die_with_parent(signal.SIGUSR1)
        if os.getppid() != supervisor:  # it died before we asked
            self._supervisor_gone(signal.SIGUSR1, None)
        super().run(events, ignore_signals)

    def _supervisor_gone(self, _signum: int, _frame: Any) -> None:
        child = self._child
        if child is not None and child.poll() is None:
            _stop_group(child.pid, child)
        os._exit(1)


def _stop_group(pgid: int, child: Popen) -> None:
    """SIGTERM to the process group, then SIGKILL to whatever is left after the grace."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + GRACE_SECONDS
    while child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        os.killpg(pgid, signal.SIGKILL)  # the leader's own children, too
    except ProcessLookupError:
        pass


def manager() -> Manager:
    """A honcho Manager printing to stdout whose processes die with it."""
    supervisor = Manager(Printer(sys.stdout))
    supervisor._process_ctor = LifelineProcess
    return supervisor
