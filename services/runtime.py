"""What every process holds for its lifetime: settings, the database, the outside world."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from flask import current_app

from models.db import Database
from services.settings import Settings

if TYPE_CHECKING:
    from services.rasa import RasaClient
    from services.twilio_gateway import TwilioGateway


class Runtime:
    """The settings and the long-lived clients built from them, each made on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.database_url)

    @cached_property
    def twilio(self) -> TwilioGateway:
        from services.twilio_gateway import TwilioGateway

        return TwilioGateway(self.settings)

    @cached_property
    def rasa(self) -> RasaClient:
        from services.rasa import RasaClient

        return RasaClient(self.settings)

    def close(self) -> None:
        """Close whatever was opened: connection pools of the database, Rasa and Twilio."""
        for name in ("rasa", "twilio"):
            client = self.__dict__.pop(name, None)
            if client is not None:
                client.close()
        db = self.__dict__.pop("db", None)
        if db is not None:
            db.dispose()


def runtime() -> Runtime:
    """The runtime of the current Flask app."""
    rt: Runtime = current_app.extensions["runtime"]
    return rt
