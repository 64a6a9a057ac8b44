"""Saying a domain response in a chosen language.

Responses live in the domain with a Welsh variation (condition: language slot is cy) and an
English default. Rasa would pick the variation by the slot as it was before the action ran;
an action that has just switched the language must speak the new one, so actions render
responses here, from the domain they are given.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from models import Language


def render(domain: DomainDict, name: str, language: Language, **values: Any) -> str:
    """The text of response `name` in `language`, with `values` filled in."""
    default: str | None = None
    for variation in domain["responses"][name]:
        conditions = variation.get("condition") or []
        wanted = [c for c in conditions if c.get("name") == "language"]
        if wanted and wanted[0].get("value") == language.value:
            return str(variation["text"]).format(**values)
        if not wanted and default is None:
            default = str(variation["text"])
    if default is None:
        raise KeyError(f"response {name} has no variation for {language}")
    return default.format(**values)


def say(
    dispatcher: CollectingDispatcher,
    domain: DomainDict,
    name: str,
    language: Language,
    **values: Any,
) -> None:
    """Send response `name` in `language`."""
    dispatcher.utter_message(text=render(domain, name, language, **values))
