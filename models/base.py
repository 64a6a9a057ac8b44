"""Declarative base and the column types that recur across the models."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from typing import Annotated, Any

from sqlalchemy import DateTime, Dialect, Enum, MetaData, func
from sqlalchemy.orm import DeclarativeBase, mapped_column
from sqlalchemy.types import TypeDecorator


def _system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_clock: Callable[[], dt.datetime] = _system_clock


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC: the one clock every rule reads."""
    return _clock()


def set_clock(clock: Callable[[], dt.datetime] | None) -> None:
    """Replace the clock within this process (tests only; None restores the system clock).

    Deadlines, quiet hours and check-ins are days apart: tests move this clock instead of
    sleeping. Nothing outside tests calls this, and no setting or variable reaches it.
    """
    global _clock
    _clock = clock or _system_clock


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores aware datetimes as UTC and always hands back aware UTC datetimes.

    SQLite keeps no time zone, so without this a value written aware comes back naive,
    and comparisons between the two raise.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise ValueError("UTCDateTime needs a timezone-aware datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def enum_column(cls: type[enum.Enum]) -> Enum:
    # Store the enum's value (what the API speaks) as a plain string column, so adding a
    # member needs no ALTER TYPE on PostgreSQL.
    return Enum(
        cls,
        native_enum=False,
        length=40,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


Timestamp = Annotated[dt.datetime, mapped_column(UTCDateTime())]
CreatedAt = Annotated[
    dt.datetime, mapped_column(UTCDateTime(), default=utcnow, server_default=func.now())
]

# Constraint names fixed by convention, so Alembic migrations name them the same on
# SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model."""

    metadata = MetaData(naming_convention=NAMING)
