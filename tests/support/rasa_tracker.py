"""Trackers written by Rasa's own SQL tracker store (Rasa 3.6, in its own venv), so that tests
of retention and erasure read and delete what Rasa really writes, in Rasa's schema."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from urllib.parse import unquote, urlsplit

from tests.support.processes import RASA

RASA_PYTHON = RASA.parent / "python"

SCRIPT = """
import asyncio, json, sys
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

job = json.loads(sys.argv[1])
store = SQLTrackerStore(Domain.empty(), **job["store"])
for sender in job["senders"]:
    at = sender["at"]
    events = [ActionExecuted("action_session_start", timestamp=at), SessionStarted(timestamp=at)]
    for i, text in enumerate(sender["texts"]):
        events.append(UserUttered(text, timestamp=at + i, metadata=sender["metadata"]))
        events.append(BotUttered("reply to " + text, timestamp=at + i + 0.5))
    tracker = DialogueStateTracker.from_events(sender["id"], events)
    asyncio.run(store.save(tracker))
print("saved")
"""


def _store(url: str) -> dict[str, object]:
    if url.startswith("sqlite"):
        return {"dialect": "sqlite", "db": url.split("///", 1)[1]}
    parts = urlsplit(url)
    store: dict[str, object] = {
        "dialect": "postgresql",
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "db": parts.path.lstrip("/"),
    }
    if parts.username:
        store["username"] = unquote(parts.username)
    if parts.password:
        store["password"] = unquote(parts.password)
    return store


def write(
    url: str,
    senders: dict[str, list[str]],
    at: dt.datetime,
    metadata: dict[str, object] | None = None,
) -> None:
    """Save a tracker per sender id (a session start, then each text and a bot reply),
    its events timed from `at`, with Rasa's SQLTrackerStore into the store at `url`."""
    job = {
        "store": _store(url),
        "senders": [
            {"id": sender, "texts": texts, "at": at.timestamp(), "metadata": metadata or {}}
            for sender, texts in senders.items()
        ],
    }
    done = subprocess.run(
        [str(RASA_PYTHON), "-W", "ignore", "-c", SCRIPT, json.dumps(job)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "saved" in done.stdout, done.stderr[-2000:]
