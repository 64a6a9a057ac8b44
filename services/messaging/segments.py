"""The size of a text: its SMS segments, and Twilio's limit on one message body.

GSM-7 carries 160 septets in one segment and 153 in each of several (7 go to the header that
joins them, the UDH); a text with any character outside GSM-7 (Welsh's circumflexes among
them, and emoji) goes as UCS-2, at 70 and 67 UTF-16 code units. Once a text is split, a
character is never cut in two: a GSM-7 extension character (an escape, then its septet)
and a UCS-2 surrogate pair (most emoji) move whole to the next segment, which can cost one
segment more than dividing the length by 153 or 67 would say. That is how Twilio and the
handsets split them (GSM 03.38 and 03.40; Twilio's own segment calculator does the same).

The outbox's rate limit counts segments, as Twilio does, and so does the dev phone.
Twilio refuses a body longer than 1,600 characters (error 21617), so `split_body` cuts a
longer text into numbered parts that each fit, for the outbox to send in order.
"""

from __future__ import annotations

import unicodedata

# GSM 03.38: the basic set costs one septet a character, the extension set two (an escape
# first). Anything else (an emoji, or Welsh ŵ and ŷ) makes the whole message UCS-2.
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")

# Units one segment carries: alone, and when the text is split (the rest is the UDH).
GSM_SINGLE, GSM_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

# Twilio's limit on one message's Body, in characters (error 21617), for SMS and WhatsApp.
MAX_BODY = 1600


def is_gsm7(body: str) -> bool:
    """Whether every character of `body` is in the GSM-7 alphabet (basic or extension)."""
    return all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in body)


def _units(body: str) -> tuple[list[int], int, int]:
    """Each character's cost in the encoding `body` needs, with that encoding's sizes."""
    if is_gsm7(body):
        return [2 if ch in GSM_EXTENDED else 1 for ch in body], GSM_SINGLE, GSM_MULTI
    # UCS-2 on the air is UTF-16: a character outside the BMP takes two units.
    return [2 if ord(ch) > 0xFFFF else 1 for ch in body], UCS2_SINGLE, UCS2_MULTI


def segments(body: str) -> int:
    """How many SMS segments carry `body` (at least 1, as Twilio bills an empty text).

    160 septets in one GSM-7 segment, else 153 a segment; 70 UTF-16 units in one UCS-2
    segment, else 67. A two-unit character never straddles two segments.
    """
    costs, single, multi = _units(body)
    if sum(costs) <= single:
        return 1
    count, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            count, used = count + 1, 0
        used += cost
    return count


def _part_label(index: int, total: int) -> str:
    return f"({index}/{total}) "


def _cut(text: str, limit: int) -> int:
    """Where to end a part of at most `limit` characters: after a paragraph, a line, a
    sentence or a word if one ends in the second half of the part, else at `limit` (never
    between a letter and the accent that combines with it)."""
    if len(text) <= limit:
        return len(text)
    # One character past the limit may be looked at: every break ends in white space, which
    # the part loses when it is trimmed.
    window = text[: limit + 1]
    for breaker in ("\n\n", "\n", ". ", "? ", "! ", " "):
        at = window.rfind(breaker, limit // 2)
        if at != -1:
            return at + len(breaker)
    cut = limit
    while cut > 1 and _joins_previous(text[cut - 1], text[cut]):
        cut -= 1
    return cut


def _joins_previous(before: str, ch: str) -> bool:
    """Whether `ch` belongs with the character before it (an accent, an emoji's modifier)."""
    return bool(
        unicodedata.combining(ch)
        or ch in "\u200d\ufe0e\ufe0f"
        or "\U0001f3fb" <= ch <= "\U0001f3ff"
        or before == "\u200d"
    )


def split_body(body: str, limit: int = MAX_BODY) -> list[str]:
    """`body` as the message bodies that carry it, in order, each at most `limit` characters.

    A body that fits is returned as it is. A longer one is cut at paragraph, line, sentence
    or word ends, and each part starts "(1/3) ", "(2/3) "...: separate texts may reach a
    phone out of order, and the numbers let the reader put them back.
    """
    if len(body) <= limit:
        return [body]
    total = 2
    while True:
        parts: list[str] = []
        rest = body
        while rest:
            room = limit - len(_part_label(len(parts) + 1, total))
            cut = _cut(rest, room)
            parts.append(rest[:cut].rstrip())
            rest = rest[cut:].lstrip()
        if len(parts) <= total:
            return [_part_label(i, len(parts)) + part for i, part in enumerate(parts, 1)]
        total = len(parts)
