"""The port to Twilio's REST API, through the twilio library, at TWILIO_API_BASE_URL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from models import Channel
from services.operations import metrics
from services.settings import Settings


@dataclass(frozen=True)
class Accepted:
    """Twilio took the message."""

    sid: str
    status: str
    # Found by a look-up (`find_sent`): the other messages at Twilio that match too, newest
    # first. The outbox takes the first that no other message of ours holds.
    also: tuple[Accepted, ...] = ()
    # Whether it came from a look-up: only then may another message of ours hold the SID (a
    # SID Twilio has just made for our request is new), so only then is that asked.
    found: bool = False


class SendFailed(Exception):
    """Twilio did not take the message.

    `retry` says whether trying again may help (429, 5xx, network); `ambiguous` says that
    Twilio may have taken it all the same (a timeout or a connection dropped mid-request),
    so it must be looked up before it is sent again. `attempted` is False when the message
    was never offered to Twilio (the look-up before a resend failed, or pacing did): such a
    failure is not one of the message's attempts and can never make it fail for good.
    """

    def __init__(
        self,
        message: str,
        code: int | None,
        retry: bool,
        ambiguous: bool = False,
        attempted: bool = True,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.retry = retry
        self.ambiguous = ambiguous
        self.attempted = attempted


def _failed(
    message: str, code: int | None, retry: bool, ambiguous: bool = False, attempted: bool = True
) -> SendFailed:
    """A SendFailed, counted for /metrics by Twilio's error code."""
    metrics.TWILIO_ERRORS.labels(str(code) if code else "none", str(retry).lower()).inc()
    return SendFailed(message, code, retry, ambiguous, attempted)


def sender_address(settings: Settings, channel: Channel) -> str:
    """Our From address on `channel` (WhatsApp's carries the prefix Twilio wants)."""
    if channel is Channel.WHATSAPP:
        return f"whatsapp:{settings.twilio_whatsapp_from}"
    return settings.twilio_sms_from


class TwilioGateway:
    """Sends messages and looks up sent ones."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.status_callback = f"{settings.public_base_url}/twilio/status"
        self._local = threading.local()
        self._http_clients: list[TwilioHttpClient] = []
        self._lock = threading.Lock()

    def _client(self, auth_token: str | None = None) -> Client:
        # A client per thread and token, since its HTTP session is not promised to be
        # thread-safe.
        token = auth_token or self.settings.twilio_auth_token
        clients: dict[str, Client] | None = getattr(self._local, "clients", None)
        if clients is None:
            clients = self._local.clients = {}
        client = clients.get(token)
        if client is None:
            http = TwilioHttpClient(timeout=self.settings.twilio_timeout)
            with self._lock:
                self._http_clients.append(http)
            client = Client(self.settings.twilio_account_sid, token, http_client=http)
            # The library has no setting for its base URL; the dev phone and any
            # Twilio-compatible endpoint are reached by pointing the API domain at it.
            client.api.base_url = self.settings.twilio_api_base_url
            clients[token] = client
        return client

    def _call[T](self, request: Callable[[Client], T]) -> T:
        """Make a REST request with the primary Auth Token; if Twilio refuses that token
        (401) and a secondary is set, once more with the secondary.

        Mid-rotation, once the secondary has been promoted at Twilio, the old primary no
        longer works until TWILIO_AUTH_TOKEN is changed: messages must not fail meanwhile.
        A 401 means Twilio took nothing, so asking again cannot send anything twice.
        """
        try:
            return request(self._client())
        except TwilioRestException as exc:
            secondary = self.settings.twilio_auth_token_secondary
            if exc.status != 401 or not secondary:
                raise
        return request(self._client(secondary))

    def close(self) -> None:
        """Close every thread's connections."""
        with self._lock:
            for http in self._http_clients:
                if http.session is not None:
                    http.session.close()
            self._http_clients.clear()

    def sender(self, channel: Channel) -> str:
        """Our From address on `channel`."""
        return sender_address(self.settings, channel)

    def send(
        self,
        to: str,
        channel: Channel,
        body: str,
        content_sid: str | None = None,
        content_variables: str | None = None,
    ) -> Accepted:
        """Hand one message to Twilio, with our status callback.

        With a ContentSid (a WhatsApp approved template) Twilio sends the template filled with
        ContentVariables, and no Body: the template is the text.
        """
        try:
            if content_sid:
                message = self._call(
                    lambda client: client.messages.create(
                        to=to,
                        from_=self.sender(channel),
                        content_sid=content_sid,
                        content_variables=content_variables,
                        status_callback=self.status_callback,
                    )
                )
            else:
                message = self._call(
                    lambda client: client.messages.create(
                        to=to,
                        from_=self.sender(channel),
                        body=body,
                        status_callback=self.status_callback,
                    )
                )
        except TwilioRestException as exc:
            transient = exc.status == 429 or exc.status >= 500
            # A 5xx may come after Twilio stored the message (a 429 comes before): ask it
            # before sending again, as after a timeout.
            raise _failed(
                f"twilio answered HTTP {exc.status}: {exc.msg}",
                exc.code,
                retry=transient,
                ambiguous=exc.status >= 500,
            ) from exc
        except (requests.RequestException, TwilioException) as exc:
            raise _failed(
                f"twilio unreachable: {type(exc).__name__}", None, retry=True, ambiguous=True
            ) from exc
        return Accepted(sid=message.sid or "", status=message.status or "queued")

    def find_sent(
        self, to: str, channel: Channel, body: str, since: dt.datetime
    ) -> Accepted | None:
        """A message Twilio already has with this body, to `to`, created since `since`
        (newest first), with every other that matches in `also`; None when there is none."""
        try:
            recent = self._call(
                lambda client: client.messages.list(to=to, from_=self.sender(channel), limit=50)
            )
        except TwilioRestException as exc:
            raise _failed(
                f"twilio look-up answered HTTP {exc.status}", exc.code, retry=True, attempted=False
            ) from exc
        except (requests.RequestException, TwilioException) as exc:
            raise _failed(
                f"twilio unreachable: {type(exc).__name__}", None, retry=True, attempted=False
            ) from exc
        found = [
            Accepted(sid=message.sid or "", status=message.status or "queued")
            for message in recent
            if message.body == body
            and (message.date_created is None or message.date_created >= since)
        ]
        if not found:
            return None
        return dataclasses.replace(found[0], also=tuple(found[1:]), found=True)
