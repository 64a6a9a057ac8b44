"""The processes `make run` and `make run-prod` start die with their supervisor, even when
it is killed with -9 (scripts/supervise.py). Real honcho, real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.processes import ROOT, base_env

SUPERVISOR = """
import sys
from scripts.supervise import manager
out = sys.argv[1]
supervisor = manager()
# A plain process, and one with a child of its own (as gunicorn and Sanic have).
supervisor.add_process("plain", f"echo $$ > {out}/plain; exec sleep 300")
supervisor.add_process(
    "parent", f"sleep 300 & echo $! > {out}/grandchild; echo $$ > {out}/parent; wait"
)
supervisor.loop()
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead, only not yet reaped (its parent, the relay, is gone too).
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _start(tmp_path: Path) -> tuple[subprocess.Popen[bytes], list[int]]:
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, str(tmp_path)],
        cwd=ROOT,
        env=base_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    names = ("plain", "parent", "grandchild")
    deadline = time.monotonic() + 20
    while not all((tmp_path / n).exists() and (tmp_path / n).read_text().strip() for n in names):
        assert time.monotonic() < deadline, "the supervised processes did not start"
        time.sleep(0.1)
    time.sleep(0.3)  # the relays ask for their signal as they start their process
    pids = [int((tmp_path / n).read_text()) for n in names]
    assert all(_alive(pid) for pid in pids)
    return supervisor, pids


def _wait_all_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [pid for pid in pids if _alive(pid)]
        if not left:
            return []
        time.sleep(0.2)
    return [pid for pid in pids if _alive(pid)]


def _cleanup(pids: list[int]) -> None:
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("what", ["the supervisor", "its process group"])
def test_children_die_when_the_supervisor_is_killed_with_9(tmp_path: Path, what: str) -> None:
    supervisor, pids = _start(tmp_path)
    try:
        if what == "the supervisor":
            supervisor.kill()
        else:
            os.killpg(supervisor.pid, signal.SIGKILL)
        supervisor.wait(10)
        left = _wait_all_gone(pids, timeout=15)
        assert not left, f"orphans left running: {left}"
    finally:
        _cleanup(pids)
