"""The bench's load: every message it sends must be one the service answers through Rasa.

A text that one victim sends a fourth time within ten minutes is left to an officer
unanswered (the repeat rule, services/conversations/processing.py). The bench's plan once
gave the victims of some senders two texts turn and turn about, so a sixth of a long run
never reached Rasa and held its sender until the watcher noticed (bench/README.md).
"""

from __future__ import annotations

from collections import Counter

import pytest

from bench.pipeline import MAX_VICTIMS, MOST_PER_VICTIM, Victim, most_per_victim, plan
from services.conversations.processing import REPEAT_LIMIT


def _victims(count: int) -> list[Victim]:
    return [Victim(f"+447700{900100 + i}", i + 1) for i in range(count)]


@pytest.mark.parametrize(
    ("victims", "messages", "concurrency"),
    [(100, 300, 8), (100, 900, 8), (100, 1400, 8), (97, 1000, 6), (12, 150, 3), (4, 16, 4)],
)
def test_no_victim_sends_a_text_often_enough_to_be_left_unanswered(
    victims: int, messages: int, concurrency: int
) -> None:
    lanes = plan(_victims(victims), messages, concurrency)
    jobs = [job for lane in lanes for job in lane]
    assert len(jobs) == messages
    # No two senders share a victim: each victim's messages are answered in turn.
    owners = {job.handset: index for index, lane in enumerate(lanes) for job in lane}
    assert all(owners[job.handset] == index for index, lane in enumerate(lanes) for job in lane)
    sent = Counter((job.handset, job.body) for job in jobs)
    # The warm-up (plan(victims[:4], 16, 4)) may have sent each text once more.
    assert max(sent.values()) <= REPEAT_LIMIT - 1
    per_victim = Counter(job.handset for job in jobs)
    assert max(per_victim.values()) == most_per_victim(victims, messages, concurrency)


def test_a_plan_that_would_repeat_a_text_is_refused() -> None:
    too_many = MOST_PER_VICTIM * MAX_VICTIMS + 1
    assert most_per_victim(MAX_VICTIMS, too_many, 8) > MOST_PER_VICTIM
    with pytest.raises(ValueError, match="unanswered"):
        plan(_victims(MAX_VICTIMS), too_many, 8)
