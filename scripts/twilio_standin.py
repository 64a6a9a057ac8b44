"""A stand-in for Twilio, for trying the production layout where real Twilio cannot be used.

Production never mounts the dev phone (APP_ENV=production turns it off). To exercise the
production layout on a machine with no Twilio account, `make run-prod` runs the dev phone
here instead, as a server of its own, and points TWILIO_API_BASE_URL at it: the service
then talks to it exactly as it would to Twilio (the twilio library, Basic auth, status
callbacks signed with the auth token), and its handset page sends signed webhooks to the
service's PUBLIC_BASE_URL. It keeps its messages in a SQLite file of its own, as Twilio
keeps them apart from ours.

Environment: STANDIN_DATABASE_URL (its SQLite file), STANDIN_PORT, SERVICE_URL (the
service's PUBLIC_BASE_URL), TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (the credentials the
service was given), TWILIO_SMS_FROM and TWILIO_WHATSAPP_FROM as the service has them.
Served by gunicorn: `gunicorn 'scripts.twilio_standin:create_app()'`.
"""

from __future__ import annotations

import os
import secrets

from flask import Flask

from models.migrate import upgrade
from services.settings import DEV_SMS_FROM, DEV_WHATSAPP_FROM, Settings
from webhooks import create_app as create_service_app


def standin_settings(env: dict[str, str] | os._Environ[str]) -> Settings:
    """The dev phone's settings, as a stand-in for Twilio with the service's credentials."""
    port = int(env["STANDIN_PORT"])
    own = f"http://127.0.0.1:{port}"
    return Settings(
        production=False,
        database_url=env["STANDIN_DATABASE_URL"],
        port=port,
        # The handset page posts the victim's texts, signed, to the service.
        public_base_url=env["SERVICE_URL"].rstrip("/"),
        rasa_url="http://127.0.0.1:9",  # never called: the stand-in runs no worker
        action_server_url="http://127.0.0.1:9",
        twilio_account_sid=env["TWILIO_ACCOUNT_SID"],
        twilio_auth_token=env["TWILIO_AUTH_TOKEN"],
        twilio_api_base_url=f"{own}/devphone",
        twilio_sms_from=env.get("TWILIO_SMS_FROM") or DEV_SMS_FROM,
        twilio_whatsapp_from=env.get("TWILIO_WHATSAPP_FROM") or DEV_WHATSAPP_FROM,
        # Nobody uses the stand-in's own API or console: unguessable, never printed.
        api_token=secrets.token_urlsafe(32),
        secret_key=secrets.token_urlsafe(32),
        # The stand-in runs no action server and calls none.
        action_server_token=secrets.token_urlsafe(32),
        redis_url=None,
        devphone_enabled=True,
        worker_wake_addr=("127.0.0.1", 9),
    )


def create_app() -> Flask:
    """The stand-in's app: its database migrated, the dev phone mounted."""
    settings = standin_settings(os.environ)
    upgrade(settings.database_url)
    return create_service_app(settings)
