"""Carrier keywords: what counts as one, and what does not."""

from __future__ import annotations

import pytest

from services.conversations.keywords import Keyword, from_opt_out_type, match


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        " Stop. ",
        "STOP!!",
        "stopall",
        "Unsubscribe",
        "cancel",
        "END",
        "quit",
        "optout",
        "revoke",
        "STOPIO",
        "stopio.",
        "Stopiwch",
        "\u00a0stop\u00a0",
        "“stop”",
    ],
)
def test_opt_out_words(body: str) -> None:
    assert match(body) is Keyword.OPT_OUT


@pytest.mark.parametrize("body", ["START", "yes", "Unstop", "dechrau!", " DECHRAU ", "Dechreuwch"])
def test_opt_in_words(body: str) -> None:
    assert match(body) is Keyword.OPT_IN


@pytest.mark.parametrize("body", ["HELP", "info?", "Cymorth", "cymorth."])
def test_help_words(body: str) -> None:
    assert match(body) is Keyword.HELP


@pytest.mark.parametrize(
    "body",
    [
        "please stop him",
        "stop it now he is here",
        "help me",
        "I need help",
        "stopped",
        "",
        "s t o p",
        "STOP 👋",
    ],
)
def test_sentences_are_not_keywords(body: str) -> None:
    # A sentence that contains a keyword is for the assistant (and its danger safety net).
    assert match(body) is None


@pytest.mark.parametrize(
    ("value", "keyword"),
    [
        ("STOP", Keyword.OPT_OUT),
        ("START", Keyword.OPT_IN),
        ("HELP", Keyword.HELP),
        ("stop", Keyword.OPT_OUT),
        (" HELP ", Keyword.HELP),
        (None, None),
        ("", None),
        # A value Twilio may add one day: ignored, never a refusal that loses the message.
        ("PAUSE", None),
    ],
)
def test_twilio_opt_out_type(value: str | None, keyword: Keyword | None) -> None:
    assert from_opt_out_type(value) is keyword
