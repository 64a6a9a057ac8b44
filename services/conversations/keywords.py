"""Carrier keywords, matched before any NLU: opt-out, opt-in and help.

Two sources, one meaning. Our own list, matched on the whole message (whatever comes with
it: a photo captioned STOP is an opt-out too). And Twilio's Advanced Opt-Out, when a force
turns it on in its Messaging Service: Twilio then matches the message against the keywords
configured there, answers it itself with the confirmation configured there, and tells us in
the inbound webhook's `OptOutType` parameter (STOP, START or HELP). Twilio knows no Welsh
keywords by default; docs/SAFETY.md ("Opting out") lists what a force must add.
"""

from __future__ import annotations

import enum
import logging
import string

log = logging.getLogger(__name__)


class Keyword(enum.Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


# English: Twilio's defaults for long codes (STOP ... CANCEL; START, YES, UNSTOP; HELP, INFO).
# Welsh: STOPIO (stop), DECHRAU (start), CYMORTH (help), as our own texts tell victims, and
# the polite imperatives people also send, STOPIWCH and DECHREUWCH.
KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(
        ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"],
        Keyword.OPT_OUT,
    ),
    **dict.fromkeys(["STOPIO", "STOPIWCH"], Keyword.OPT_OUT),
    **dict.fromkeys(["START", "YES", "UNSTOP", "DECHRAU", "DECHREUWCH"], Keyword.OPT_IN),
    **dict.fromkeys(["HELP", "INFO", "CYMORTH"], Keyword.HELP),
}

# Twilio's OptOutType values (Advanced Opt-Out), and what each means here.
OPT_OUT_TYPES: dict[str, Keyword] = {
    "STOP": Keyword.OPT_OUT,
    "START": Keyword.OPT_IN,
    "HELP": Keyword.HELP,
}

_STRIP = string.whitespace + string.punctuation + "\u00a0“”‘’…"


def match(body: str) -> Keyword | None:
    """The keyword the whole message is, ignoring case and surrounding spaces and punctuation."""
    return KEYWORDS.get(body.strip(_STRIP).upper())


def from_opt_out_type(value: str | None) -> Keyword | None:
    """What Twilio's `OptOutType` says the message was, or None when it says nothing.

    A value Twilio may add later is logged and ignored, never refused: the message is stored
    and goes on as any other (refusing it would lose it).
    """
    if not value or not value.strip():
        return None
    keyword = OPT_OUT_TYPES.get(value.strip().upper())
    if keyword is None:
        log.warning("unknown OptOutType %r ignored", value[:20])
    return keyword
