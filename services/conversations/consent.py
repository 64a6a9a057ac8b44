"""Opting out of messages and back in: one path for the STOP keyword and the assistant.

An opt-out silences every message to that number except its one confirmation, and every
notification to it is suppressed with the reason (services/casework/notifications.py). The victim
still has rights under the Code, so the officer in charge is told, through a normal-priority
handoff, to agree another way to keep them informed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from models import Conversation, HandoffPriority
from services.console import handoffs

OPTED_OUT_REASON = "opted out of texts: agree another way to keep them informed"


def opt_out(session: Session, conversation: Conversation, now: dt.datetime) -> bool:
    """Stop messages to this number; False when it had opted out already."""
    if conversation.opted_out_at is not None:
        return False
    conversation.opted_out_at = now
    # Whoever texts again after START must prove who they are again (docs/SAFETY.md).
    conversation.end_verification()
    if conversation.victim is not None:
        handoffs.open_handoff(session, conversation, HandoffPriority.NORMAL, OPTED_OUT_REASON)
    return True


def opt_in(conversation: Conversation) -> bool:
    """Messages to this number again; False when it had not opted out."""
    if conversation.opted_out_at is None:
        return False
    conversation.opted_out_at = None
    return True
