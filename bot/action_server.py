"""`python -m bot.action_server`: Rasa's action server (rasa_sdk) on our terms.

rasa_sdk's own entry point listens on every interface (0.0.0.0) and takes any call. The
action server reads and writes the victims' database, so ours:

- listens on ACTION_SERVER_HOST, the loopback unless a deployment says otherwise, at the
  port of ACTION_SERVER_URL (the contract: `make run` starts it where that points);
- accepts a call to anything but /health only when it carries ACTION_SERVER_TOKEN, which
  Rasa sends with every call as the `token` query parameter (Rasa 3.6's endpoint config,
  `rasa/utils/endpoints.py`: `params[token_name] = token`, token_name "token"). Without it,
  or with another, the answer is 401 and no action runs. The token is generated once per dev
  install (var/dev-secrets.json) and required in production (services/settings.py);
- answers for an action that raised with a message Rasa passes on, `{"custom":
  {"action_failed": name}}` (services/messaging/rasa.ACTION_FAILED), instead of the 500
  after which Rasa carries on in silence: the worker then sends the victim a holding reply
  and asks an officer to read the message.

Usage: python -m bot.action_server [--port N] [--host H] [--actions bot.actions]
"""

from __future__ import annotations

import argparse
import hmac
import logging
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from rasa_sdk import endpoint
from rasa_sdk.executor import ActionExecutor, ActionExecutorRunResult, CollectingDispatcher
from rasa_sdk.interfaces import (
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
)
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.worker.loader import AppLoader

from services.messaging.rasa import ACTION_FAILED
from services.settings import Settings

log = logging.getLogger(__name__)

ACTIONS = "bot.actions"
# Paths anyone may call: the health check (make run's banner, /healthz) says nothing.
OPEN_PATHS = frozenset({"/health"})


class ReportingExecutor(ActionExecutor):
    """Runs actions as rasa_sdk does, but reports one that raised instead of failing the call.

    Rasa's own outcomes (a form's rejection, an unknown action, a missing domain) are
    rasa_sdk's to answer and pass through unchanged.
    """

    async def run(self, action_call: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().run(action_call, *args, **kwargs)
        except (ActionExecutionRejection, ActionNotFoundException, ActionMissingDomainException):
            raise
        except Exception:
            name = str(action_call.get("next_action") or "unknown")
            log.exception("action %s raised; the victim gets a holding reply", name)
            dispatcher = CollectingDispatcher()
            dispatcher.utter_message(json_message={ACTION_FAILED: name})
            return ActionExecutorRunResult(events=[], responses=dispatcher.messages)


def token_ok(given: str | None, token: str) -> bool:
    """Whether a call carries the token (compared in constant time)."""
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def create_app(token: str, actions: str = ACTIONS) -> Sanic:
    """rasa_sdk's app with our executor, behind the token check. Built in each Sanic worker."""
    if not token:
        raise ValueError("the action server needs a token (ACTION_SERVER_TOKEN)")
    executor = ReportingExecutor()
    executor.register_package(actions)
    app = endpoint.create_app_for_serve(executor, cors_origins=[])

    @app.on_request
    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or token_ok(request.args.get("token"), token):
            return None
        log.warning("refused a call to %s without the right token", request.path)
        return response.json({"error": "unauthorised"}, status=401)

    return app


def address(settings_url: str, host: str | None, port: int | None) -> tuple[str, int]:
    """Where to listen: --host/--port, else ACTION_SERVER_HOST and ACTION_SERVER_URL's port."""
    return host or "127.0.0.1", port or urlsplit(settings_url).port or 5055


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Rasa's action server, on our terms")
    parser.add_argument("--host", help="interface to listen on (default ACTION_SERVER_HOST)")
    parser.add_argument("--port", type=int, help="port (default: ACTION_SERVER_URL's)")
    parser.add_argument("--actions", default=ACTIONS, help="package of actions")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings.from_env()
    host, port = address(
        settings.action_server_url, args.host or settings.action_server_host, args.port
    )
    loader = AppLoader(factory=partial(create_app, settings.action_server_token, args.actions))
    app = loader.load()
    log.info("action server on %s:%s (token required)", host, port)
    # No access log: a request line would carry the token in its query string.
    app.prepare(host=host, port=port, workers=1, access_log=False)
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
