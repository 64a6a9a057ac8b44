"""The port to the Rasa server: its REST channel, one message at a time."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import requests

from services.settings import Settings


class RasaUnavailable(Exception):
    """Rasa did not answer in time, or answered with an error: try again later."""


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

    def _failed(self, reason: str) -> RasaUnavailable:
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
        try:
            response = self._http().post(
                self.url,
                json={"sender": sender, "message": text, "metadata": metadata},
                timeout=(3.05, self.timeout),
            )
        except requests.RequestException as exc:
            raise self._failed(f"rasa unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise self._failed(f"rasa answered HTTP {response.status_code}")
        try:
            replies = response.json()
        except ValueError as exc:
            raise self._failed("rasa answered something that is not JSON") from exc
        if not isinstance(replies, list):
            raise self._failed("rasa answered JSON that is not a list")
        items = [r for r in replies if isinstance(r, dict)]
        return BotAnswer(
            texts=[r["text"] for r in items if r.get("text")],
            failed_actions=[
                str(r["custom"][ACTION_FAILED])
                for r in items
                if isinstance(r.get("custom"), dict) and r["custom"].get(ACTION_FAILED)
            ],
        )
