"""Fixtures for the contract tests: the spec, the gateway against the live dev phone, a tap."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, request, request_finished
from flask.testing import FlaskClient

from services.messaging.twilio_gateway import TwilioGateway
from services.settings import Settings
from tests.conftest import LiveServer
from tests.contract.tap import Exchange
from webhooks.devphone import openapi


@pytest.fixture(autouse=True)
def spec_installed() -> None:
    """Fail, never skip, when Twilio's OpenAPI description is not installed."""
    if not openapi.SPEC_PATH.is_file():
        pytest.fail(
            f"Twilio's OpenAPI description is missing ({openapi.SPEC_PATH}): run `make` "
            "(scripts/fetch_twilio_oai.sh) first",
            pytrace=False,
        )


@pytest.fixture
def exchanges(app: Flask) -> Iterator[list[Exchange]]:
    """Every request to the dev phone's Twilio API during the test, as it was received."""
    seen: list[Exchange] = []

    def record(sender: Flask, response: Response, **_: Any) -> None:
        if "/devphone/2010-04-01/" in request.path:
            seen.append(
                Exchange(
                    method=request.method,
                    path=request.path,
                    form=list(request.form.items(multi=True)),
                    query=list(request.args.items(multi=True)),
                    status=response.status_code,
                    body=response.get_json(silent=True),
                )
            )

    request_finished.connect(record, app)
    yield seen
    request_finished.disconnect(record, app)


@pytest.fixture
def quick_callbacks(client: FlaskClient) -> None:
    """Status callbacks a few milliseconds apart, so tests need not wait for them."""
    assert client.put("/devphone/control", json={"callback_interval": 0.02}).status_code == 200


@pytest.fixture
def gateway(settings: Settings, live_server: LiveServer, quick_callbacks: None) -> TwilioGateway:
    """The app's own Twilio port, pointed at the dev phone served over real HTTP."""
    return TwilioGateway(settings)
