"""Carrier keywords: what counts as one, and what does not."""

from __future__ import annotations

import pytest

from services.conversations.keywords import Keyword, match


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
        "\u00a0stop\u00a0",
        "“stop”",
    ],
)
def test_opt_out_words(body: str) -> None:
    assert match(body) is Keyword.OPT_OUT


@pytest.mark.parametrize("body", ["START", "yes", "Unstop", "dechrau!", " DECHRAU "])
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
