"""The port to the Rasa server: its REST channel, one message at a time."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from services.operations import metrics
from services.settings import Settings


class RasaUnavailable(Exception):
    """Rasa did not answer in time, or answered with an error: try again later."""


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

    def _failed(self, reason: str, kind: str) -> RasaUnavailable:
        metrics.RASA_ERRORS.labels(kind).inc()
        with self._lock:
            self._failed_since_success = True
        return RasaUnavailable(reason)

    def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[str]:
        """The bot's replies to `text` from `sender`, in order.

        Raises RasaUnavailable when Rasa cannot be reached, takes longer than
        RASA_TIMEOUT_SECONDS, or answers anything but a JSON list with HTTP 200.
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
        return [r["text"] for r in replies if isinstance(r, dict) and r.get("text")]
