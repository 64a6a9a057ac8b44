"""CPU per inbound webhook in-process, and its cProfile (bench/README.md, "Profile").

Signed POSTs /twilio/messages through the Flask test client to a fresh migrated database,
from 50 victims' numbers (so their conversations exist after the warm-up, as in service):

    .venvs/app/bin/python -m bench.webhook [--database-url URL] [--count 500] [--top 40]

Prints the CPU time per webhook without and with the profiler, then the profile by
cumulative time. It includes the test client's own work (a few tenths of a ms), not
gunicorn's.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from services.settings import DEV_AUTH_TOKEN, Settings
from tests.support.factories import inbound_form, message_sid
from webhooks import create_app

BASE_URL = "http://127.0.0.1:1"
PATH = "/twilio/messages"


def signed(count: int) -> list[tuple[str, dict[str, str]]]:
    """`count` signed webhook bodies and headers, from +447700900100 to ...149 in turn."""
    validator = RequestValidator(DEV_AUTH_TOKEN)
    out = []
    for i in range(count):
        form = inbound_form(f"+4477009001{i % 50:02d}", "hello there", message_sid())
        signature = validator.compute_signature(BASE_URL + PATH, form)
        headers = {
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        out.append((urlencode(form), headers))
    return out


def post_all(client: FlaskClient, requests: list[tuple[str, dict[str, str]]]) -> float:
    """CPU seconds of this process per webhook."""
    start = time.process_time()
    for body, headers in requests:
        answer = client.post(PATH, data=body, headers=headers)
        if answer.status_code != 200:
            raise SystemExit(f"webhook answered {answer.status_code}: {answer.data!r}")
    return (time.process_time() - start) / len(requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp())}/app.db"
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
    )
    settings = dataclasses.replace(
        Settings.from_env(),
        database_url=url,
        public_base_url=BASE_URL,
        twilio_auth_token=DEV_AUTH_TOKEN,
        worker_wake_addr=("127.0.0.1", 9),
    )
    app = create_app(settings)
    client = app.test_client()
    post_all(client, signed(50))  # warm-up: creates the conversations
    plain = post_all(client, signed(args.count))
    profile = cProfile.Profile()
    profile.enable()
    profiled = post_all(client, signed(args.count))
    profile.disable()
    print(f"CPU per webhook: {plain * 1000:.3f} ms ({profiled * 1000:.3f} ms under cProfile)")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
    app.extensions["runtime"].close()


if __name__ == "__main__":
    main()
