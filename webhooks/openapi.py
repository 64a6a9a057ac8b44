"""The API's OpenAPI 3.1 description: `webhooks/openapi.yml`, with the models' enums filled in.

The YAML is the one place an endpoint of `/api` is described (DEVELOPERS.md, "API
description"); the members of each enum come from the model's `enum.Enum`, so that a new
event type or status is written once.
"""

from __future__ import annotations

import copy
import enum
import functools
from pathlib import Path
from typing import Any

import yaml

from models import (
    CaseStatus,
    Channel,
    EventType,
    HandoffPriority,
    Language,
    NotificationKind,
    NotificationStatus,
)

SOURCE = Path(__file__).with_name("openapi.yml")

# components.schemas name -> the enum whose values it takes.
ENUMS: dict[str, type[enum.Enum]] = {
    "CaseStatus": CaseStatus,
    "Channel": Channel,
    "EventType": EventType,
    "HandoffPriority": HandoffPriority,
    "Language": Language,
    "NotificationKind": NotificationKind,
    "NotificationStatus": NotificationStatus,
}


@functools.cache
def _document() -> dict[str, Any]:
    with SOURCE.open(encoding="utf-8") as source:
        document: dict[str, Any] = yaml.safe_load(source)
    schemas = document["components"]["schemas"]
    for name, members in ENUMS.items():
        schemas[name]["enum"] = [member.value for member in members]
    return document


def document() -> dict[str, Any]:
    """The OpenAPI document as a JSON-ready dict (a copy: callers may change it).

    Raises OSError or yaml.YAMLError when the YAML is missing or malformed, and KeyError
    when it lacks a schema named in ENUMS; tests/integration/test_openapi.py catches all
    three before a release.
    """
    return copy.deepcopy(_document())
