"""Backoff timing, phone number normalisation and the bilingual fallback texts."""

from __future__ import annotations

import pytest

from models import Channel, Language
from services.language.texts import TEXTS, text
from services.messaging import phones
from services.messaging.retry import backoff


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    for attempts, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (10, 60.0)]:
        waits = [backoff(attempts, base=2.0, cap=60.0).total_seconds() for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len({round(w, 3) for w in waits}) > 1  # jittered, not one fixed step


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("07700 900123", "+447700900123"),
        ("+44 7700 900999", "+447700900999"),
        ("(07700) 900-000", "+447700900000"),
        ("+442920123456", "+442920123456"),
    ],
)
def test_normalise(raw: str, e164: str) -> None:
    assert phones.normalise(raw) == e164


@pytest.mark.parametrize("raw", ["", "12", "not a number", "+44 7700 9001234", "07000 00000"])
def test_normalise_refuses(raw: str) -> None:
    assert phones.normalise(raw) is None


def test_addresses_and_redaction() -> None:
    assert phones.split_address("whatsapp:+447700900123") == (Channel.WHATSAPP, "+447700900123")
    assert phones.split_address("+447700900123") == (Channel.SMS, "+447700900123")
    assert phones.redact("+447700900123") == "…123"


def test_every_text_exists_in_both_languages_and_fits_a_message() -> None:
    for key, versions in TEXTS.items():
        assert set(versions) == {Language.EN, Language.CY}, key
        for body in versions.values():
            assert len(body) <= 320, key
    both = text("unregistered", None)
    assert TEXTS["unregistered"][Language.CY] in both and TEXTS["unregistered"][Language.EN] in both
    assert "999" in both and "101" in both
