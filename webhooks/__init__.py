"""The Flask app: Twilio webhooks, the case data API, health, and the dev phone."""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from services import logs
from services.casework import notifications
from services.conversations import safety
from services.privacy import retention
from services.runtime import Runtime, runtime
from services.settings import Settings
from webhooks import api, cli, console, devphone, health, metrics, twilio

# What a caller may send as its own X-Request-ID (a log shipper's or a proxy's): anything
# else is replaced by one of ours, so a header cannot smuggle text into the logs.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the app; nothing connects or starts until here.

    Fails closed: settings that production refuses (services/settings.py), and a retention
    or Victims' Code file that cannot be used, stop it here, before it serves anything.
    """
    settings = settings or Settings.from_env()
    logs.configure(settings.production)
    retention.load(settings.retention_file)
    notifications.load_victims_code(settings.victims_code_file)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        JSON_SORT_KEYS=False,
        # Twilio's webhooks and the API's JSON are a few kilobytes; nothing bigger is read.
        MAX_CONTENT_LENGTH=settings.max_content_length,
        **overrides,
    )
    app.extensions["runtime"] = Runtime(settings)
    if settings.proxy_hops:
        # The client's address (sign-in throttling, the audit trail) is the one the proxies
        # say, and only as many of them as are configured are believed.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops
        )
    app.before_request(_bind_request_id)
    app.after_request(_security_headers)
    app.teardown_request(_unbind_request_id)

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


def _bind_request_id() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    g.request_log = logs.bound(request=g.request_id)
    g.request_log.__enter__()


def _unbind_request_id(_exc: BaseException | None) -> None:
    bound = g.pop("request_log", None)
    if bound is not None:
        bound.__exit__(None, None, None)


# The console's pages: no framing (clickjacking), no script or style but our own files, no
# caching of pages with victims' data on a shared computer, no referrer to elsewhere.
CONSOLE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
# Everything else (the API's JSON, webhooks, health): not sniffed, not cached.
BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def _security_headers(response: Response) -> Response:
    headers = CONSOLE_HEADERS if request.path.startswith("/console") else BASE_HEADERS
    for name, value in headers.items():
        response.headers[name] = value
    if runtime().settings.production:
        # HTTPS only, for a year, once a browser has seen it (PUBLIC_BASE_URL is https).
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    if "request_id" in g:
        response.headers["X-Request-ID"] = g.request_id
    return response
