"""Conversation leases: one worker at a time handles a conversation, so order is kept."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from models import Conversation, utcnow
from models.db import rows_updated

HOST = socket.gethostname()


def new_owner() -> str:
    """A lease owner id for this process: host, pid and a random part."""
    return f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str) -> bool:
    """True when `owner` was a process on this host that no longer runs.

    A worker killed with -9 leaves its leases behind; waiting for them to run out would
    hold its conversations up for the whole lease, so a dead local owner is known at once.
    """
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != HOST or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim(session: Session, conversation_id: int, owner: str, seconds: float) -> bool:
    """Take the conversation's lease if it is free, expired, ours, or its owner died."""
    now = utcnow()
    until = now + dt.timedelta(seconds=seconds)
    taken = rows_updated(
        session,
        update(Conversation)
        .where(
            Conversation.id == conversation_id,
            or_(
                Conversation.lease_owner.is_(None),
                Conversation.lease_until < now,
                Conversation.lease_owner == owner,
            ),
        )
        .values(lease_owner=owner, lease_until=until),
    )
    if taken:
        return True
    holder = session.scalar(
        select(Conversation.lease_owner).where(Conversation.id == conversation_id)
    )
    if holder and owner_is_dead(holder):
        return bool(
            rows_updated(
                session,
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.lease_owner == holder)
                .values(lease_owner=owner, lease_until=until),
            )
        )
    return False


def renew(session: Session, conversation_id: int, owner: str, seconds: float) -> bool:
    """Extend our lease; False when it is no longer ours (then stop and write nothing)."""
    return bool(
        rows_updated(
            session,
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.lease_owner == owner)
            .values(lease_until=utcnow() + dt.timedelta(seconds=seconds)),
        )
    )


def release(session: Session, conversation_id: int, owner: str) -> None:
    """Give the lease up."""
    rows_updated(
        session,
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.lease_owner == owner)
        .values(lease_owner=None, lease_until=None),
    )
