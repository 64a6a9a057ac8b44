"""Carrier keywords, matched before any NLU: opt-out, opt-in and help."""

from __future__ import annotations

import enum
import string


class Keyword(enum.Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(
        ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "STOPIO"],
        Keyword.OPT_OUT,
    ),
    **dict.fromkeys(["START", "YES", "UNSTOP", "DECHRAU"], Keyword.OPT_IN),
    **dict.fromkeys(["HELP", "INFO", "CYMORTH"], Keyword.HELP),
}

_STRIP = string.whitespace + string.punctuation + "\u00a0“”‘’…"


def match(body: str) -> Keyword | None:
    """The keyword the whole message is, ignoring case and surrounding spaces and punctuation."""
    return KEYWORDS.get(body.strip(_STRIP).upper())
