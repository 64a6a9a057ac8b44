"""The floor under the webhook acknowledgement: gunicorn and Flask answering an empty view.

    .venvs/app/bin/python -m bench.floor [--rounds 5] [--senders 100]

Starts gunicorn as `make run` starts the web app (the same worker class, processes and
threads: scripts/layout.py, WEB_WORKERS and WEB_THREADS), but serving only this module's
app: a view that reads the posted form and answers Twilio's empty TwiML, with no
signature check, no database and nothing else on the machine's CPUs. Then the burst of
bench.pipeline's acknowledgement phase: rounds of `--senders` signed-looking webhooks,
released together by a barrier, each on a new connection (bench.pipeline.post_webhook).
Prints the answer times of each round, and gunicorn's CPU ms a request (from /proc).

Whatever the service does in its webhook comes on top of this floor: if the floor's p99
is over issue 12's 50 ms, no webhook of ours can meet it on this machine with this server.
Exits 1 only when gunicorn does not start.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, Response, request

from bench.pipeline import (
    BURST_BODIES,
    WEBHOOK_PATH,
    BenchError,
    free_port,
    load,
    ms,
    percentile,
    post_webhook,
    proc_stats,
    say,
)
from scripts import layout
from tests.support.factories import inbound_form, message_sid
from tests.support.processes import APP_PY, Process, base_env
from webhooks.twilio import EMPTY_TWIML

FIRST_NUMBER = 900100


def create_app() -> Flask:
    """The empty webhook: the form read, the empty TwiML answered."""
    app = Flask(__name__)

    @app.get("/")
    def ready() -> str:
        return "ok"

    @app.post(WEBHOOK_PATH)
    def messages() -> Response:
        request.form.get("Body")
        return Response(EMPTY_TWIML, status=200, mimetype="text/xml")

    return app


def cpu_seconds(session_id: int) -> float:
    """CPU seconds of every process in the session (gunicorn's arbiter and workers)."""
    used: dict[int, float] = defaultdict(float)
    for sid, seconds in proc_stats().values():
        used[sid] += seconds
    return used[session_id]


def one_round(port: int, senders: int, text: str) -> list[float]:
    """`senders` POSTs released together; the seconds each took to be answered 200."""
    barrier = threading.Barrier(senders)
    answers: list[float | None] = [None] * senders

    def send(i: int) -> None:
        form = inbound_form(f"+447700{FIRST_NUMBER + i}", text, message_sid())
        body = urlencode(form).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": "not-checked-here",
        }
        barrier.wait()
        _, elapsed, status = post_webhook("127.0.0.1", port, body, headers)
        answers[i] = elapsed if status == "200" else None

    threads = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [a for a in answers if a is not None]


@dataclasses.dataclass(frozen=True)
class Floor:
    """What the empty webhook got: every answer time (seconds), and gunicorn's CPU a
    request (ms)."""

    latencies: list[float]
    cpu_ms: float
    workers: int
    threads: int


def measure_floor(rounds: int, senders: int, pause: float) -> Floor:
    """Start gunicorn on the empty app, send the bursts, stop it. BenchError when gunicorn
    does not start."""
    port = free_port()
    plan = layout.single_layout(
        port, free_port(), "http://127.0.0.1:9/webhook", Path("."), send_rate=0.0
    )
    command = [
        str(APP_PY.parent / "gunicorn"),
        "--workers",
        str(plan.web_workers),
        "--threads",
        str(plan.web_threads),
        "--bind",
        f"127.0.0.1:{port}",
        "bench.floor:create_app()",
    ]
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as work:
        web = Process("web", command, base_env(), Path(work))
        try:
            try:
                web.wait_http(f"http://127.0.0.1:{port}/", timeout=60)
            except RuntimeError as exc:
                raise BenchError(f"gunicorn did not start: {exc}") from exc
            say(f"gunicorn {plan.web_workers} x {plan.web_threads} threads; {load()}")
            one_round(port, 10, BURST_BODIES[0])  # warm-up: imports, first connections
            before = cpu_seconds(web.popen.pid)
            every: list[float] = []
            for number in range(rounds):
                answered = one_round(port, senders, BURST_BODIES[0])
                every += answered
                say(
                    f"round {number + 1}: p50 {ms(percentile(answered, 50))}, "
                    f"p99 {ms(percentile(answered, 99))}, max {ms(max(answered, default=0))}, "
                    f"{len(answered)}/{senders} answered 200"
                )
                if number + 1 < rounds:
                    time.sleep(pause)
            used = cpu_seconds(web.popen.pid) - before
        finally:
            web.stop()
    cpu_ms = used * 1000 / len(every) if every else float("nan")
    return Floor(every, cpu_ms, plan.web_workers, plan.web_threads)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.floor", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--senders", type=int, default=100)
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between rounds")
    args = parser.parse_args(argv)
    try:
        floor = measure_floor(args.rounds, args.senders, args.pause)
    except BenchError as exc:
        print(exc, file=sys.stderr)
        return 1
    every = floor.latencies
    print()
    print(
        f"  all rounds: p50 {ms(percentile(every, 50))}, p95 {ms(percentile(every, 95))}, "
        f"p99 {ms(percentile(every, 99))} (n={len(every)})"
    )
    print(f"  gunicorn CPU a request: {floor.cpu_ms:.2f} ms; {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
