"""What the contract tests see of the dev phone's Twilio API: each request and its answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Exchange:
    """One request the dev phone's Twilio API received, and its answer."""

    method: str
    path: str
    form: list[tuple[str, str]]
    query: list[tuple[str, str]]
    status: int
    body: Any
