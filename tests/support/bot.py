"""The assistant's own responses, read from the real domain, so tests never copy its text."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

DOMAIN = Path(__file__).resolve().parents[2] / "bot" / "domain.yml"


@cache
def _domain() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    return data


def response(name: str, language: str) -> str:
    """The text of response `name` in `language` ("en" or "cy")."""
    for variation in _domain()["responses"][name]:
        conditions = variation.get("condition") or []
        wanted = [c for c in conditions if c.get("name") == "language"]
        if (wanted and wanted[0]["value"] == language) or (not wanted and language == "en"):
            text: str = variation["text"]
            return text
    raise KeyError(f"{name} has no {language} variation")


def first_reply(name: str, language: str) -> str:
    """Response `name` as the assistant's first reply in a conversation: with the hint on
    how to switch language (services/processing.with_language_hint)."""
    from models import Language
    from services.language.texts import text

    return f"{response(name, language)}\n\n{text('language_hint', Language(language))}"
