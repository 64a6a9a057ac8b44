"""`GET /metrics` (contract): Prometheus text, behind the API's bearer token.

Two sources, chosen by what each figure is:

- what the database knows (messages by status, the oldest waiting, Code notifications
  against their limit, handoffs waiting, the scheduler's and workers' heartbeats) is read
  at each scrape, so every node answers the same and nothing is lost with a process;
- what only a process saw (Rasa's latency and errors, Twilio's errors by code:
  services/operations/metrics.py) comes from prometheus-client: in multiprocess mode, the
  files every process of this node writes in PROMETHEUS_MULTIPROC_DIR, when it is set
  (`make run`, `make run-prod`); otherwise this process's own.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from models import utcnow
from services.casework import reports
from services.console import handoffs
from services.messaging import backlog
from services.operations import heartbeats
from services.runtime import Runtime, runtime
from webhooks import bearer

log = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)
# A token with the metrics:read scope (webhooks/bearer.py). Scrapes are not audited: they
# read counts, never a victim's data, and would fill the trail every 15 seconds.
bp.before_request(bearer.authenticate)

# How each Code notification counts, by (outcome, sent): the names alerts use.
CODE_STATES = {
    (reports.Outcome.OPEN, False): "due",
    (reports.Outcome.LATE, False): "overdue",
    (reports.Outcome.WITHIN, True): "sent_within",
    (reports.Outcome.LATE, True): "sent_late",
    (reports.Outcome.SUPPRESSED, False): "suppressed",
    (reports.Outcome.EXCLUDED, False): "excluded",
}


def _gauge(name: str, text: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"victimcare_{name}", text, labels=labels)


class DatabaseCollector:
    """The gauges read from the database at scrape time (see the module docstring)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def collect(self) -> Iterator[Metric]:
        up = _gauge("database_up", "1 when /metrics could read the database, else 0.")
        try:
            families = list(self._read())
        except Exception:  # noqa: BLE001 - the scrape still answers, saying the database is down
            log.exception("metrics: the database could not be read")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> Iterator[Metric]:
        now = utcnow()
        stale = dt.timedelta(seconds=self.rt.settings.heartbeat_stale_seconds)
        with self.rt.db.session() as session:
            messages = backlog.read(session)
            code_outcomes = reports.outcome_counts(session, now)
            waiting = handoffs.waiting_by_priority(session, now)
            scheduler_beat = heartbeats.last_beat(session, heartbeats.SCHEDULER)
            worker_beat = heartbeats.last_beat(session, heartbeats.WORKER)
            standbys = heartbeats.fresh_count(session, heartbeats.SCHEDULER_STANDBY, stale)

        counts = _gauge(
            "messages",
            "Messages stored, by direction, the conversation's channel, and status.",
            ["direction", "channel", "status"],
        )
        for (direction, channel, status), count in sorted(messages.counts.items()):
            counts.add_metric([direction.value, channel.value, status.value], count)
        yield counts
        errors = _gauge(
            "message_errors",
            "Outbound messages whose last word from Twilio was an error, by Twilio's error "
            "code and the message's status.",
            ["code", "status"],
        )
        for (error_code, status), count in sorted(messages.errors.items()):
            errors.add_metric([str(error_code), status.value], count)
        yield errors
        inbound = _gauge(
            "oldest_unprocessed_inbound_seconds",
            "Age of the oldest inbound message not yet processed (seconds; 0 when none).",
        )
        inbound.add_metric([], messages.oldest_unprocessed_seconds)
        yield inbound
        outbound = _gauge(
            "oldest_unsent_outbound_seconds",
            "Age of the oldest outbound message Twilio has not yet taken (seconds; 0 when none).",
        )
        outbound.add_metric([], messages.oldest_unsent_seconds)
        yield outbound

        notifications = _gauge(
            "code_notifications",
            "Notifications with a Victims' Code limit (due_by), by state: due (unsent, limit "
            "ahead), overdue (unsent, limit passed), sent_within, sent_late, suppressed "
            "(opted out), excluded (cancelled).",
            ["state"],
        )
        by_state = dict.fromkeys(CODE_STATES.values(), 0)
        for key, count in code_outcomes.items():
            by_state[CODE_STATES[key]] += count
        for state, count in by_state.items():
            notifications.add_metric([state], count)
        yield notifications

        handoff_count = _gauge(
            "handoffs_waiting", "Open handoffs no officer has claimed, by priority.", ["priority"]
        )
        handoff_age = _gauge(
            "handoff_oldest_wait_seconds",
            "How long the oldest unclaimed handoff of each priority has waited (seconds).",
            ["priority"],
        )
        for priority, (count, age) in waiting.items():
            handoff_count.add_metric([priority.value], count)
            handoff_age.add_metric([priority.value], age)
        yield handoff_count
        yield handoff_age

        active = _gauge(
            "scheduler_active",
            "1 when the active scheduler's heartbeat is fresh (HEARTBEAT_STALE 30 s), else 0.",
        )
        active.add_metric([], int(_fresh(scheduler_beat, now, stale)))
        yield active
        standby = _gauge("scheduler_standby", "Standby schedulers with a fresh heartbeat.")
        standby.add_metric([], standbys)
        yield standby
        worker = _gauge("worker_alive", "1 when some worker's heartbeat is fresh, else 0.")
        worker.add_metric([], int(_fresh(worker_beat, now, stale)))
        yield worker


def _fresh(beat: dt.datetime | None, now: dt.datetime, stale: dt.timedelta) -> bool:
    return beat is not None and now - beat <= stale


class _ThisProcess:
    """prometheus-client's default registry (this process's counters), as one collector."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def registry(rt: Runtime) -> CollectorRegistry:
    """A registry for one scrape: the node's process counters and the database's gauges."""
    scrape = CollectorRegistry()
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        MultiProcessCollector(scrape, path=directory)
    else:
        scrape.register(_ThisProcess())
    scrape.register(DatabaseCollector(rt))
    return scrape


@bp.get("/metrics")
@bearer.requires_scope("metrics:read")
def metrics() -> Response:
    return Response(generate_latest(registry(runtime())), content_type=CONTENT_TYPE_LATEST)
