"""The port to the assistant: Rasa's REST channel, one message at a time, and whether Rasa's
action server is there to run its actions."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from services.operations import metrics
from services.settings import Settings


class RasaUnavailable(Exception):
    """Rasa did not answer in time, or answered with an error, or its action server is not
    there: try again later."""


# How long the action server is taken to be there after it last said so. A message that
# reached Rasa while it was not would be answered wrongly (Rasa carries on without the
# action's events: a failed session start ends in "Sorry, I didn't understand"), so the
# worker asks first; at most this often while the answer is yes.
ACTIONS_CHECK_SECONDS = 2.0


# The custom payload our action server answers with when an action raised
# (bot/action_server.py), instead of Rasa's silence: {"action_failed": "<action name>"}.
ACTION_FAILED = "action_failed"


@dataclass(frozen=True)
class BotAnswer:
    """What Rasa's REST channel answered: the texts for the victim, in order, and the names of
    the actions that failed on the way (reported by our action server)."""

    texts: list[str]
    failed_actions: list[str] = field(default_factory=list)

    @property
    def silent(self) -> bool:
        """Nothing for the victim, or something broke: they must not be left with it."""
        return not self.texts or bool(self.failed_actions)


class RasaClient:
    """Sends a victim's message to Rasa's REST channel and returns the bot's texts."""

    def __init__(self, settings: Settings) -> None:
        self.url = f"{settings.rasa_url}/webhooks/rest/webhook"
        self.timeout = settings.rasa_timeout
        # Rasa's token on a call that runs nothing: 200 means the action server is up and
        # takes the token Rasa sends (bot/action_server.py).
        self.actions_url = f"{settings.action_server_url}/actions"
        self.action_token = settings.action_server_token
        self._actions_ok_until = 0.0
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self._failed_since_success = False

    def _http(self) -> requests.Session:
        # One connection pool per thread: requests' Session is not promised to be thread-safe.
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        """Close every thread's connections."""
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def recovered(self) -> bool:
        """True once after Rasa answers again following a failure seen by this process."""
        with self._lock:
            was_failing, self._failed_since_success = self._failed_since_success, False
        return was_failing

    def actions_ready(self) -> bool:
        """Whether the action server answers and takes the token; asked at most every
        ACTIONS_CHECK_SECONDS while it does, every time while it does not."""
        now = time.monotonic()
        with self._lock:
            if now < self._actions_ok_until:
                return True
        try:
            response = self._http().get(
                self.actions_url, params={"token": self.action_token}, timeout=(3.05, 5)
            )
        except requests.RequestException:
            return False
        if response.status_code != 200:
            return False
        with self._lock:
            self._actions_ok_until = now + ACTIONS_CHECK_SECONDS
        return True

    def _failed(self, reason: str, kind: str) -> RasaUnavailable:
        metrics.RASA_ERRORS.labels(kind).inc()
        with self._lock:
            self._failed_since_success = True
        return RasaUnavailable(reason)

    def send(self, sender: str, text: str, metadata: dict[str, Any]) -> BotAnswer:
        """The bot's replies to `text` from `sender`, in order.

        Rasa's REST channel answers 200 with an empty list when the action server is down or
        an action fails (it logs the error and carries on): that is a BotAnswer with no
        texts, not an error. Raises RasaUnavailable on a timeout, a refused connection, a
        non-200 status or a body that is not a JSON list.
        """
        started = time.monotonic()
        try:
            response = self._http().post(
                self.url,
                json={"sender": sender, "message": text, "metadata": metadata},
                timeout=(3.05, self.timeout),
            )
        except requests.Timeout as exc:
            raise self._failed(f"rasa timed out: {type(exc).__name__}", "timeout") from exc
        except requests.RequestException as exc:
            raise self._failed(f"rasa unreachable: {type(exc).__name__}", "unreachable") from exc
        finally:
            metrics.RASA_SECONDS.observe(time.monotonic() - started)
        if response.status_code != 200:
            raise self._failed(f"rasa answered HTTP {response.status_code}", "http_error")
        try:
            replies = response.json()
        except ValueError as exc:
            raise self._failed("rasa answered something that is not JSON", "bad_answer") from exc
        if not isinstance(replies, list):
            raise self._failed("rasa answered JSON that is not a list", "bad_answer")
        items = [r for r in replies if isinstance(r, dict)]
        return BotAnswer(
            texts=[r["text"] for r in items if r.get("text")],
            failed_actions=[
                str(r["custom"][ACTION_FAILED])
                for r in items
                if isinstance(r.get("custom"), dict) and r["custom"].get(ACTION_FAILED)
            ],
        )
