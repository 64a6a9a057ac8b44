"""The officer console: server-rendered pages under /console/, signed-in officers only.

Sign-in is Flask-Login's over sessions held on the server (services/console/sessions.py),
with a second factor; every POST carries a CSRF token
(Flask-WTF); what a role may do is models.officers.ROLE_PERMISSIONS, and a page a role may
not use answers 403.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

# Each view module adds its routes to the blueprint when imported.
from webhooks.console import (
    accounts,
    auth,
    cases,
    cli,
    conversations,
    duties,
    privacy,
    protection,
    queue,
    supervision,
)
from webhooks.console.blueprint import bp, csrf, login_manager

# The modules imported only for the routes they add.
VIEWS = (accounts, auth, cases, conversations, duties, privacy, protection, queue, supervision)


def init_app(app: Flask) -> None:
    """Sign-in, CSRF and the blueprint."""
    settings = runtime_settings(app)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("SESSION_COOKIE_SECURE", settings.production)
    # Only the console's forms are CSRF-checked (below): Twilio's webhooks are signed, and
    # the API takes a bearer token, neither from a browser session.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    # A token lives as long as the session; the idle timeout ends both.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "console.login"
    login_manager.login_message = "Please sign in."
    app.register_blueprint(bp)
    app.cli.add_command(cli.group)


def runtime_settings(app: Flask) -> Any:
    return app.extensions["runtime"].settings
