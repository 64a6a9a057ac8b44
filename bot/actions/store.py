"""The app's database as the actions see it, and the conversation a tracker belongs to.

Actions read and write through the same models and services as the rest of the app. The
database is DATABASE_URL (as for the web app and the worker), opened on first use, never at
import; `configure` points a process at another one (the tests' database).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rasa_sdk import Tracker
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import Conversation, Language, Victim, utcnow
from models.db import Database
from services.settings import Settings

_database: Database | None = None


def configure(database_url: str) -> Database:
    """Use the database at `database_url` from now on (closing the one in use)."""
    global _database
    if _database is not None:
        _database.dispose()
    _database = Database(database_url)
    return _database


def database() -> Database:
    """The app's database, opened on first use from DATABASE_URL."""
    if _database is None:
        return configure(Settings.from_env().database_url)
    return _database


@dataclass
class Context:
    """What an action needs about the person it answers, in one transaction."""

    session: Session
    conversation: Conversation
    victim: Victim
    language: Language
    now: dt.datetime


def tracker_language(tracker: Tracker) -> Language:
    """The language the conversation is in (the `language` slot), English when unset."""
    return Language.CY if tracker.get_slot("language") == "cy" else Language.EN


@contextmanager
def context(tracker: Tracker) -> Iterator[Context | None]:
    """The tracker's conversation and victim (None when unknown), committed at the end.

    The sender id Rasa gets is the conversation's opaque public_id.
    """
    with database().session() as session:
        conversation = session.scalar(
            select(Conversation)
            .where(Conversation.public_id == tracker.sender_id)
            .options(joinedload(Conversation.victim))
        )
        if conversation is None or conversation.victim is None:
            yield None
            return
        yield Context(
            session=session,
            conversation=conversation,
            victim=conversation.victim,
            language=tracker_language(tracker),
            now=utcnow(),
        )
