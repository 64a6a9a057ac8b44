"""A conversation with the assistant through the dev phone, one message at a time."""

from __future__ import annotations

from tests.support.handset import Handset


class Chat:
    """Sends a message and returns the replies it got (and only those)."""

    def __init__(self, handset: Handset) -> None:
        self.handset = handset
        self.seen = len(handset.received())

    def say(self, body: str, replies: int = 1, timeout: float = 60.0) -> list[str]:
        """Send `body`; wait for `replies` new messages and return their bodies."""
        self.handset.send(body)
        received = self.handset.wait_for(self.seen + replies, timeout)
        new = [m["body"] for m in received[self.seen :]]
        self.seen = len(received)
        return new
