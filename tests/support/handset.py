"""A victim's phone, played through the dev phone's HTTP endpoints."""

from __future__ import annotations

import time
from typing import Any

import requests


class Handset:
    """Sends as a number on a channel and reads what that number was sent.

    `number` is a drama number, or on SMS an alphanumeric sender ID or a short code.
    """

    def __init__(self, base_url: str, number: str, channel: str = "sms") -> None:
        self.base_url = base_url
        self.number = number
        self.channel = channel

    def send(
        self,
        body: str,
        sid: str | None = None,
        num_media: int = 0,
        fields: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send `body` through the dev phone, which posts Twilio's signed webhook form to
        the service; `fields` are added to that form (MessageType, Latitude, ButtonText...).
        """
        payload: dict[str, Any] = {
            "handset": self.number,
            "channel": self.channel,
            "body": body,
            "num_media": num_media,
        }
        if sid:
            payload["sid"] = sid
        if fields:
            payload["fields"] = fields
        response = requests.post(f"{self.base_url}/devphone/send", json=payload, timeout=30)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def thread(self) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.base_url}/devphone/thread",
            params={"handset": self.number, "channel": self.channel},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()
        return messages

    def received(self) -> list[dict[str, Any]]:
        """What the service has sent to this handset, oldest first."""
        return [m for m in self.thread() if m["direction"] == "to_handset"]

    def wait_for(self, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Wait until at least `count` messages have reached the handset; return them all."""
        deadline = time.monotonic() + timeout
        while True:
            received = self.received()
            if len(received) >= count or time.monotonic() > deadline:
                return received
            time.sleep(0.1)

    def settle(self, quiet: float = 2.0, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Wait until nothing new has arrived for `quiet` seconds; return all received."""
        deadline = time.monotonic() + timeout
        last = self.received()
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.2)
            now = self.received()
            if len(now) != len(last):
                last, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                break
        return last
