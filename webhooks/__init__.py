"""The Flask app: Twilio webhooks, the case data API, health, and the dev phone."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from services.conversations import safety
from services.runtime import Runtime
from services.settings import Settings
from webhooks import api, cli, console, devphone, health, metrics, twilio


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the app; nothing connects or starts until here."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, JSON_SORT_KEYS=False, **overrides)
    app.extensions["runtime"] = Runtime(settings)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic announces each of its plugins at INFO; that a migration ran is enough to say.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    # The safety net screens every inbound message in the webhook: compile it now (tens of
    # milliseconds), not in the first victim's request.
    safety.reader()
    app.register_blueprint(twilio.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    cli.init_app(app)
    # The officer console (/console/), its sign-in, CSRF, and `flask officers ...`.
    console.init_app(app)
    if settings.devphone_enabled:
        app.register_blueprint(devphone.bp)
    return app
