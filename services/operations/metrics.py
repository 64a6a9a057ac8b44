"""Process counters for Prometheus: what only the process that saw it can count.

What the database knows (backlogs, notifications against their Code limit, handoffs
waiting, the scheduler's state) is read at scrape time instead (webhooks/metrics.py), so it
is right however many processes and nodes run. What is counted here happens in one process
and is written nowhere else: how long Rasa took and why it failed, and Twilio's refusals.

These are prometheus-client's own module-level metrics, its documented idiom; creating one
opens nothing. Web and worker processes are separate, so under `make run` and `make
run-prod` every process writes its samples to files in PROMETHEUS_MULTIPROC_DIR (the
library's multiprocess mode), which `/metrics` adds up: that variable must be set in a
process's environment before it starts.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Rasa's answer, from request to reply: most take 0.1-0.5 s; RASA_TIMEOUT_SECONDS is 30.
RASA_SECONDS = Histogram(
    "victimcare_rasa_request_seconds",
    "Time for Rasa's REST channel to answer one message (seconds), answered or not.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
RASA_ERRORS = Counter(
    "victimcare_rasa_errors",
    "Messages Rasa did not answer: unreachable, timeout, an HTTP error, or a bad answer.",
    ["reason"],
)
TWILIO_ERRORS = Counter(
    "victimcare_twilio_errors",
    "Twilio requests that failed, by Twilio's error code ('none' when it gave none: network).",
    ["code", "retry"],
)
SEND_PACE_FALLBACKS = Counter(
    "victimcare_send_pace_fallbacks",
    "Times a worker found Redis unreachable and began pacing sends on its own, slower.",
)
