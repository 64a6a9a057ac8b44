"""The support services victims are told about: configurable data with Welsh-force defaults.

The list lives in config/support_services.yml; SUPPORT_SERVICES_FILE names another
file of the same shape, so a force can keep its own without a code change.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from models import Language

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "config" / "support_services.yml"


@dataclass(frozen=True)
class SupportService:
    key: str
    name: dict[Language, str]
    phone: str
    hours: dict[Language, str]
    referral: bool


def _both(value: object, field: str) -> dict[Language, str]:
    if not isinstance(value, dict) or not value.get("en") or not value.get("cy"):
        raise ValueError(f"support services: {field} needs an 'en' and a 'cy' text")
    return {Language.EN: str(value["en"]), Language.CY: str(value["cy"])}


@cache
def _load(path: str) -> tuple[SupportService, ...]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    services = tuple(
        SupportService(
            key=str(item["key"]),
            name=_both(item.get("name"), "name"),
            phone=str(item["phone"]),
            hours=_both(item.get("hours"), "hours"),
            referral=bool(item.get("referral", False)),
        )
        for item in data["services"]
    )
    if not services:
        raise ValueError(f"support services: {path} lists none")
    return services


def services() -> tuple[SupportService, ...]:
    """The configured services, in the order victims are told them."""
    return _load(os.environ.get("SUPPORT_SERVICES_FILE") or str(DEFAULT_FILE))


def referral_service() -> SupportService:
    """The service the assistant offers to refer victims to (the first marked so)."""
    marked = [s for s in services() if s.referral]
    return marked[0] if marked else services()[0]


def by_key(key: str) -> SupportService | None:
    return next((s for s in services() if s.key == key), None)


def listing(language: Language) -> str:
    """The services, one a line: name, number, hours."""
    return "\n".join(f"{s.name[language]}: {s.phone} ({s.hours[language]})" for s in services())
