"""What every process holds for its lifetime: settings, the database, the outside world."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from typing import Any

from flask import current_app

from models.db import Database
from services.messaging import templates
from services.messaging.rasa import RasaClient
from services.messaging.ratelimit import RateLimiter, limiter_for
from services.messaging.templates import Templates
from services.messaging.twilio_gateway import TwilioGateway
from services.messaging.wake import Waker
from services.settings import Settings


class RuntimeClosed(RuntimeError):
    """The process is shutting down."""


class Runtime:
    """The settings and the long-lived clients built from them, each made on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Who this process is in heartbeats and logs (the scheduler sets it).
        self.owner_name = "unnamed"
        self.closed = False
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()

    def _open(self) -> None:
        # A thread that outlives its process's shutdown must not quietly open new
        # connections that nobody will close.
        if self.closed:
            raise RuntimeClosed("this runtime has been closed")

    @cached_property
    def db(self) -> Database:
        self._open()
        return Database(self.settings.database_url)

    @cached_property
    def twilio(self) -> TwilioGateway:
        self._open()
        return TwilioGateway(self.settings)

    @cached_property
    def rasa(self) -> RasaClient:
        self._open()
        return RasaClient(self.settings)

    @cached_property
    def waker(self) -> Waker:
        """Wakes the workers after a commit (NOTIFY on PostgreSQL, UDP on SQLite)."""
        self._open()
        return Waker(self.settings.database_url, self.settings.worker_wake_addr)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        settings = self.settings
        return limiter_for(
            settings.send_rate_per_second, settings.redis_url, settings.send_rate_without_redis
        )

    @cached_property
    def templates(self) -> Templates:
        return templates.load(self.settings.whatsapp_templates_file)

    def reset_clients(self) -> None:
        """Close the Rasa and Twilio clients so they are rebuilt from the current settings."""
        for name in ("rasa", "twilio"):
            client = self.__dict__.pop(name, None)
            if client is not None:
                client.close()

    def in_background(self, target: Callable[..., Any], *args: Any, name: str) -> threading.Thread:
        """Run `target` on a thread that close() waits for, so it never outlives its pools."""
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._threads_lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        return thread

    def wait_for_background(self, timeout: float = 15.0) -> None:
        """Wait up to `timeout` seconds for each thread started by `in_background`."""
        with self._threads_lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def close(self, timeout: float = 15.0) -> None:
        """Wait for background threads, then close the pools of the database, Rasa and Twilio
        and the waker's connection."""
        self.wait_for_background(timeout)
        self.closed = True
        self.reset_clients()
        waker = self.__dict__.pop("waker", None)
        if waker is not None:
            waker.close()
        db = self.__dict__.pop("db", None)
        if db is not None:
            db.dispose()


def runtime() -> Runtime:
    """The runtime of the current Flask app."""
    rt: Runtime = current_app.extensions["runtime"]
    return rt
