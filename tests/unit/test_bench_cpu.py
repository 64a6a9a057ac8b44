"""The bench's CPU accounting: the whole machine's busy time is shown beside the processes,
never added to them or to the service's own."""

from __future__ import annotations

import time

from bench.pipeline import MACHINE, CpuMeter, machine_busy_seconds, own


def test_the_machine_counts_this_process_s_work() -> None:
    before = machine_busy_seconds()
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    assert machine_busy_seconds() - before >= 0.25


def test_the_machine_is_reported_apart_from_the_processes() -> None:
    used = {"web": 2.0, "worker": 3.0, "rasa": 10.0, "bench client": 1.0, MACHINE: 25.0}
    assert own(used) == 5.0
    lines = CpuMeter.report(used)
    assert lines[0] == "  CPU per message (ms): web 2.0, worker 3.0, rasa 10.0, bench client 1.0"
    assert "the whole machine: 25.0 ms/message busy, of which the processes above 16.0" in lines[2]
    assert "stack total 15.0 ms/message" in lines[3]
