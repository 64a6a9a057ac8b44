"""The SQL statements a piece of code sends: how the hot paths' statement counts are held
(bench/README.md, "Profile")."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event


@contextmanager
def recorded(engine: Engine, kind: str = "") -> Iterator[list[str]]:
    """The statements `engine` sends while the block runs, in order, as their SQL text;
    with `kind` ("SELECT", "UPDATE", ...), only those that begin with it."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith(kind):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def verbs(statements: list[str]) -> list[str]:
    """The first word of each statement, upper case: ["SELECT", "UPDATE", ...]."""
    return [statement.split()[0].upper() for statement in statements]
