"""How many SMS segments a text takes: what carriers bill and what Twilio's rates count.

GSM-7 carries 160 characters in one segment and 153 in each of several; a text with any
character outside GSM-7 (Welsh's circumflexes among them, and emoji) goes as UCS-2, at 70 and
67. The outbox's rate limit counts segments, as Twilio does; the dev phone reports them.
"""

from __future__ import annotations

import math

# GSM 03.38: the basic set costs one septet a character, the extension set two (an escape
# first). Anything else (an emoji, or Welsh ŵ and ŷ) makes the whole message UCS-2.
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")


def segments(body: str) -> int:
    """How many SMS segments carry `body`: 160/153 septets in GSM-7, else 70/67 in UCS-2."""
    if all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in body):
        length, single, multi = len(body) + sum(ch in GSM_EXTENDED for ch in body), 160, 153
    else:
        # UCS-2 on the air is UTF-16: a character outside the BMP (most emoji) takes two units.
        length, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if length <= single else math.ceil(length / multi)
