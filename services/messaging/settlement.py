"""The hook through which messaging says how an outbound message ended.

Messaging knows nothing of what a message carries. When an outbound message's fate is
known (Twilio took it, refused it for good, a status callback reports it failed or
undelivered, or it was suppressed after an opt-out), the function that learns it calls the
`on_settled` hook its caller passed. Every process passes
`services.casework.notifications.settle`, so that a notification that WhatsApp could not
deliver goes again by SMS, and one that cannot go at all finds an officer.

An explicit, required parameter rather than a registry filled at import time: a caller
cannot forget it without mypy saying so, and the dependency runs one way, casework on
messaging.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from models import Message

OnSettled = Callable[[Session, Message], None]
"""Called in the caller's transaction with the message whose fate is now known."""
